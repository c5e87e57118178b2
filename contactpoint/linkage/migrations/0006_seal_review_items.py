# A stolen database no longer tells a review item held because its record might be a
# shielded child from any other (ADR 0010): its reason and its candidates (child id,
# weight, contributions) become `about`, one JSON document compressed, padded to a
# multiple of 2,048 bytes and sealed under a key derived from the index key
# (`review-about/v1`; contactpoint.linkage.review_items). The clear `reason` and the
# candidates' table go.
#
# The data step seals every item, open and decided, a thousand at a time.

from __future__ import annotations

import base64
import json
import zlib
from typing import Any

from django.db import migrations

import contactpoint.registry.fields

BATCH = 1000
# As contactpoint.linkage.review_items.
ABOUT_KEY = "review-about/v1"
ABOUT_SIZE = 2048


def _document(reason: str, candidates: list[Any]) -> str:
    rows = [[str(c.child_id), c.weight, c.contributions] for c in candidates]
    raw = json.dumps([reason, rows], separators=(",", ":")).encode()
    return base64.b64encode(zlib.compress(raw, 9)).decode()


def seal_items(apps: Any, schema_editor: Any) -> None:
    from contactpoint.keystore.index_key import derived_key
    from contactpoint.registry.cipher import associated_data, seal_padded

    item_model = apps.get_model("linkage", "ReviewItem")
    candidate_model = apps.get_model("linkage", "ReviewCandidate")
    db = schema_editor.connection.alias
    if not item_model.objects.using(db).exists():
        return
    key = derived_key(ABOUT_KEY)
    after = None
    while True:
        rows = item_model.objects.using(db).order_by("id")
        chunk = list((rows.filter(id__gt=after) if after is not None else rows)[:BATCH])
        if not chunk:
            return
        after = chunk[-1].pk
        listed: dict[Any, list[Any]] = {i.pk: [] for i in chunk}
        found = candidate_model.objects.using(db).filter(item_id__in=list(listed))
        for c in found.order_by("-weight", "id"):
            listed[c.item_id].append(c)
        for item in chunk:
            document = _document(item.reason, listed[item.pk])
            size = ABOUT_SIZE * max(1, -(-len(document) // ABOUT_SIZE))
            ad = associated_data(item_model, "about", item.pk)
            item.about = seal_padded(key, document, size, ad, "review item")
        item_model.objects.using(db).bulk_update(chunk, ["about"], batch_size=500)


class Migration(migrations.Migration):
    dependencies = [
        ("linkage", "0005_decisions_unindexed_foreign_keys"),
    ]

    operations = [
        migrations.AddField(
            model_name="reviewitem",
            name="about",
            field=contactpoint.registry.fields.Sealed(blank=True, editable=False, null=True),
        ),
        migrations.RunPython(seal_items, migrations.RunPython.noop, elidable=False),
        migrations.RemoveField(model_name="reviewitem", name="reason"),
        migrations.DeleteModel(name="ReviewCandidate"),
    ]
