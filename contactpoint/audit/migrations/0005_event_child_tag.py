# A stolen database does not say which child an audit event was about (ADR 0012): the
# event names its child by `child_tag`, a keyed digest of the child's internal id under a
# key derived from the index root key, and the id moves into the event's sealed body (with
# the salt and the details, under the month's audit key, bound to the event's index).
#
# The data step converts an existing log a thousand events at a time, then drops the clear
# column. Every event with a child gets its tag. An event whose month's key is gone
# (crypto-shredded) cannot be re-sealed: its clear id is dropped, and its proofs still hold
# (the leaf, its commitment, is stored and unchanged: the canonical form it commits to
# names the child by id, wherever the id is kept).

from __future__ import annotations

import json
import uuid
from typing import Any

from django.db import migrations, models

BATCH = 1000
CHILD_KEY = "audit-child/v1"  # as contactpoint.audit.log
TAG_BYTES = 16
_PERIOD_NAMESPACE = uuid.UUID("5b0c6d8e-7f3a-4c1e-9a52-3d7c0f1e2a94")


def _context(index: int) -> bytes:
    return f"contactpoint/audit/v1|{index}".encode()


def tag_and_seal(apps: Any, schema_editor: Any) -> None:
    from contactpoint.keystore import service as keys
    from contactpoint.keystore.index_key import derived_key
    from contactpoint.lib import crypto

    Event = apps.get_model("audit", "Event")
    db = schema_editor.connection.alias
    named = Event.objects.using(db).filter(child_id__isnull=False)
    if not named.exists():
        return
    tag_key = derived_key(CHILD_KEY)
    period_keys: dict[str, bytes | None] = {}
    after = -1
    while True:
        chunk = list(
            named.filter(index__gt=after)
            .order_by("index")
            .only("index", "period", "child_id", "sealed")[:BATCH]
        )
        if not chunk:
            break
        after = chunk[-1].index
        for period in {e.period for e in chunk} - set(period_keys):
            owner = uuid.uuid5(_PERIOD_NAMESPACE, f"audit-period:{period}")
            period_keys[period] = keys.data_keys([owner]).get(owner)
        for event in chunk:
            event.child_tag = crypto.keyed_digest(tag_key, event.child_id.bytes)[:TAG_BYTES]
            key = period_keys[event.period]
            if key is None or event.sealed is None:
                continue  # shredded: the clear id goes, unsealed
            context = _context(event.index)
            try:
                body = json.loads(crypto.open_sealed(key, bytes(event.sealed), context))
            except (crypto.DecryptionError, ValueError):
                continue  # forged or moved: left as found, for `audit verify` to report
            body["child"] = str(event.child_id)
            event.sealed = crypto.seal(key, json.dumps(body).encode(), context)
        Event.objects.using(db).bulk_update(chunk, ["child_tag", "sealed"])


class Migration(migrations.Migration):
    dependencies = [
        ("audit", "0004_checkpoint_frontier"),
    ]

    operations = [
        migrations.AddField(
            model_name="event",
            name="child_tag",
            field=models.BinaryField(db_index=True, max_length=16, null=True),
        ),
        migrations.RunPython(tag_and_seal, migrations.RunPython.noop, elidable=False),
        migrations.RemoveField(model_name="event", name="child_id"),
    ]
