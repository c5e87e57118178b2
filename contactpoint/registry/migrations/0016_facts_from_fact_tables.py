# Fill each linked source record's `preferred` bits and address `history` from the fact
# tables (docs/adr/0013-lean-registry-layout.md), a thousand records a transaction, in the
# order of their ids. Each batch is computed from the fact tables alone and overwrites what
# an earlier run wrote, so an interrupted migration simply runs again (the tables are
# dropped only by 0015, once every batch is done).
#
# - `preferred`: a bit (registry/record_facts.Kind) for each preferred fact the record
#   supplied: date of birth and sex, current name, current address, NHS number, UPN.
# - `history`: the record's previous addresses (ChildAddress of kind "previous"), opened
#   under its child's key and sealed again as one value on the record, oldest first. Those
#   of a purged child, whose key is gone, cannot be opened: its history stays empty.
#
# Going back clears both columns; the fact tables are not written again (0015's reverse
# makes them again, empty): `contactpoint indexes rebuild` does not need them.

from __future__ import annotations

import uuid
from typing import Any

from django.db import migrations, transaction

BATCH = 1000


def fill(apps: Any, schema_editor: Any) -> None:
    from contactpoint.keystore import service as keys
    from contactpoint.registry.cipher import ChildCipher
    from contactpoint.registry.record_facts import Kind, PreviousAddress, seal_history

    get = apps.get_model
    record_model, address = get("registry", "SourceRecord"), get("registry", "ChildAddress")
    bits_of: tuple[tuple[Any, dict[str, str], Kind], ...] = (
        (get("registry", "ChildDemographic"), {}, Kind.BIRTH),
        (get("registry", "ChildName"), {"kind": "current"}, Kind.NAME),
        (address, {"kind": "current"}, Kind.ADDRESS),
        (get("registry", "ChildIdentifier"), {"scheme": "nhs_number"}, Kind.NHS_NUMBER),
        (get("registry", "ChildIdentifier"), {"scheme": "upn"}, Kind.UPN),
    )
    db = schema_editor.connection.alias
    after: uuid.UUID | None = None
    while True:
        rows = record_model.objects.using(db).filter(child__isnull=False).order_by("id")
        if after is not None:
            rows = rows.filter(id__gt=after)
        chunk = list(rows.values_list("id", "child_id", "as_at")[:BATCH])
        if not chunk:
            break
        after = chunk[-1][0]
        ids = [pk for pk, _, _ in chunk]
        bits = dict.fromkeys(ids, 0)
        for model, filters, kind in bits_of:
            for record in (
                model.objects.using(db)
                .filter(source_record_id__in=ids, preferred=True, **filters)
                .values_list("source_record_id", flat=True)
            ):
                bits[record] |= kind
        previous = list(address.objects.using(db).filter(source_record_id__in=ids, kind="previous"))
        owners = {a.child_id for a in previous} | {c for _, c, _ in chunk}
        ciphers = {o: ChildCipher(o, k) for o, k in keys.data_keys(owners).items()}
        earlier: dict[uuid.UUID, list[PreviousAddress]] = {}
        as_at = {pk: day for pk, _, day in chunk}
        for a in previous:
            if (cipher := ciphers.get(a.child_id)) is None:
                continue
            line1, line2, town, postcode = (
                cipher.open_field(a, c) or "" for c in ("line1", "line2", "town", "postcode")
            )
            ended = a.ended_on or as_at[a.source_record_id]
            earlier.setdefault(a.source_record_id, []).append(
                PreviousAddress(line1, line2, town, postcode, ended)
            )
        history = {
            pk: seal_history(ciphers[child], pk, sorted(earlier[pk], key=lambda h: h.ended_on))
            for pk, child, _ in chunk
            if pk in earlier and child in ciphers
        }
        _update(schema_editor, record_model, [(bits[i], history.get(i), i) for i in ids])


def clear(apps: Any, schema_editor: Any) -> None:
    record_model = apps.get_model("registry", "SourceRecord")
    record_model.objects.using(schema_editor.connection.alias).update(preferred=0, history=None)


def _update(schema_editor: Any, record_model: Any, rows: list[tuple[int, Any, uuid.UUID]]) -> None:
    """One statement executed for each record, in its own transaction (bulk_update would
    build a CASE of every row)."""
    connection = schema_editor.connection
    table = schema_editor.quote_name(record_model._meta.db_table)
    id_field = record_model._meta.pk
    prepared = [(b, h, id_field.get_db_prep_value(pk, connection)) for b, h, pk in rows]
    with transaction.atomic(using=connection.alias), connection.cursor() as cursor:
        cursor.executemany(
            f"UPDATE {table} SET preferred = %s, history = %s WHERE id = %s",  # noqa: S608
            prepared,
        )


class Migration(migrations.Migration):
    atomic = False  # a transaction a batch: an interrupted run keeps what it did

    dependencies = [
        ("registry", "0015_source_record_preferred_history"),
    ]

    operations = [
        migrations.RunPython(fill, clear),
    ]
