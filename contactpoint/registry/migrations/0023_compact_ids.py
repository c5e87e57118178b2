# The ids of children, source records and involvements as 16 bytes on SQLite, in every
# column that holds one (their own and every foreign key to them, in any app), instead of 32
# hexadecimal characters (docs/adr/0013-lean-registry-layout.md). PostgreSQL's native
# `uuid` already is 16 bytes: there nothing changes.
#
# On SQLite the AlterFields rebuild each table and the tables whose foreign keys point at
# it, copying the values as they were (text); `convert` then turns each text value into its
# 16 bytes, in SQL, only where it is still text, so a rerun ends the same. Going back turns
# the bytes into lower-case hexadecimal again, as Django's UUIDField writes it.

from __future__ import annotations

import uuid
from typing import Any

from django.db import migrations

import contactpoint.registry.fields

COMPACT = [("registry", "Child"), ("registry", "SourceRecord"), ("registry", "Involvement")]


def _columns(apps: Any) -> list[tuple[str, str]]:
    """Every (table, column) holding the id of a child, a source record or an involvement."""
    targets = {apps.get_model(app, name) for app, name in COMPACT}
    found = []
    for model in apps.get_models():
        for field in model._meta.concrete_fields:
            own = field.primary_key and model in targets
            if own or (field.is_relation and field.related_model in targets):
                found.append((model._meta.db_table, field.column))
    return sorted(found)


def _unhex(text: str | None) -> bytes | None:
    return None if text is None else uuid.UUID(text).bytes


def _convert(apps: Any, schema_editor: Any, sql: str) -> None:
    connection = schema_editor.connection
    if connection.vendor != "sqlite":
        return
    connection.ensure_connection()
    connection.connection.create_function("cp_unhex", 1, _unhex, deterministic=True)
    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        for table, column in _columns(apps):
            cursor.execute(sql.format(table=quote(table), column=quote(column)))


def convert(apps: Any, schema_editor: Any) -> None:
    _convert(
        apps,
        schema_editor,
        "UPDATE {table} SET {column} = cp_unhex({column}) WHERE typeof({column}) = 'text'",
    )


def back(apps: Any, schema_editor: Any) -> None:
    _convert(
        apps,
        schema_editor,
        "UPDATE {table} SET {column} = lower(hex({column})) WHERE typeof({column}) = 'blob'",
    )


def _compact() -> contactpoint.registry.fields.CompactUUIDField[uuid.UUID | str, uuid.UUID]:
    return contactpoint.registry.fields.CompactUUIDField(
        default=uuid.uuid4, editable=False, primary_key=True, serialize=False
    )


class Migration(migrations.Migration):
    dependencies = [
        ("registry", "0022_waiting_records_look_alike"),
    ]

    operations = [
        migrations.AlterField(model_name="child", name="id", field=_compact()),
        migrations.AlterField(model_name="sourcerecord", name="id", field=_compact()),
        migrations.AlterField(model_name="involvement", name="id", field=_compact()),
        migrations.RunPython(convert, back, elidable=False),
    ]
