# A source record's payload is sealed in its compact form (contactpoint.registry.payloads,
# docs/adr/0013-lean-registry-layout.md): the same values without the field names, about
# 224 bytes of plaintext a record instead of 542. Each payload is opened under its owner's
# key (its child's, or its own while it waits) and sealed again, a thousand records at a
# time; one whose key is gone (a purged child) cannot be opened and stays as it is. Going
# back seals the canonical JSON again. Payloads of either form open the same, so a
# registry half converted (an interrupted migration) reads correctly.

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

from django.db import migrations

BATCH = 1000


def _reseal(apps: Any, schema_editor: Any, form: Callable[[str], str]) -> None:
    from contactpoint.keystore import service as keys
    from contactpoint.registry.cipher import ChildCipher

    record_model = apps.get_model("registry", "SourceRecord")
    db = schema_editor.connection.alias
    after: uuid.UUID | None = None
    while True:
        rows = record_model.objects.using(db).order_by("id")
        if after is not None:
            rows = rows.filter(id__gt=after)
        chunk = list(rows.only("id", "child_id", "payload")[:BATCH])
        if not chunk:
            break
        after = chunk[-1].pk
        owners = {sr.child_id or sr.pk for sr in chunk}
        ciphers = {o: ChildCipher(o, k) for o, k in keys.data_keys(list(owners)).items()}
        changed = []
        for sr in chunk:
            cipher = ciphers.get(sr.child_id or sr.pk)
            if cipher is None or sr.payload is None:
                continue
            text = cipher.open(record_model, "payload", sr.pk, bytes(sr.payload))
            if text is None:
                continue
            wanted = form(text)
            if wanted != text:
                sr.payload = cipher.seal(record_model, "payload", sr.pk, wanted)
                changed.append(sr)
        _update(schema_editor, record_model, changed)


def _update(schema_editor: Any, record_model: Any, changed: list[Any]) -> None:
    """Write the new payloads, one statement executed many times (Django's bulk_update
    builds a CASE of every row: minutes for a registry of 20,000 children)."""
    connection = schema_editor.connection
    table = schema_editor.quote_name(record_model._meta.db_table)
    id_field = record_model._meta.pk
    rows = [(sr.payload, id_field.get_db_prep_value(sr.pk, connection)) for sr in changed]
    with connection.cursor() as cursor:
        cursor.executemany(f"UPDATE {table} SET payload = %s WHERE id = %s", rows)  # noqa: S608


def compact_payloads(apps: Any, schema_editor: Any) -> None:
    from contactpoint.registry.payloads import canonical, compact

    _reseal(apps, schema_editor, lambda text: compact(canonical(text)))


def canonical_payloads(apps: Any, schema_editor: Any) -> None:
    from contactpoint.registry.payloads import canonical

    _reseal(apps, schema_editor, canonical)


class Migration(migrations.Migration):
    dependencies = [
        ("registry", "0011_drop_unused_indexes"),
    ]

    operations = [
        migrations.RunPython(compact_payloads, canonical_payloads),
    ]
