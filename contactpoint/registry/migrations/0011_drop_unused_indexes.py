# Only the indexes a query uses (docs/adr/0013-lean-registry-layout.md,
# tests/unit/registry/test_indexes.py):
# - a source record's source is not indexed alone: the unique (source, record_ref) index
#   starts with it;
# - on PostgreSQL, the `varchar_pattern_ops` copies Django adds beside the unique index of
#   a child's contactpoint ID and of the issued IDs serve only LIKE queries, which nothing
#   makes (55 bytes a child each).

from __future__ import annotations

from typing import Any

import django.db.models.deletion
from django.db import migrations, models

LIKE = ("registry_child", "registry_issuedcpid")


def _like_indexes(cursor: Any) -> list[tuple[str, str]]:
    cursor.execute(
        "SELECT tablename, indexname FROM pg_indexes WHERE schemaname = current_schema() "
        "AND tablename = ANY(%s) AND indexdef LIKE %s",
        [list(LIKE), "%varchar_pattern_ops%"],
    )
    return list(cursor.fetchall())


def drop_like(apps: Any, schema_editor: Any) -> None:
    if schema_editor.connection.vendor != "postgresql":
        return
    with schema_editor.connection.cursor() as cursor:
        for _, name in _like_indexes(cursor):
            schema_editor.execute(f"DROP INDEX {schema_editor.quote_name(name)}")


def restore_like(apps: Any, schema_editor: Any) -> None:
    if schema_editor.connection.vendor != "postgresql":
        return
    for table in LIKE:
        name = schema_editor.quote_name(f"{table}_cpid_like")
        schema_editor.execute(
            f"CREATE INDEX {name} ON {schema_editor.quote_name(table)} (cpid varchar_pattern_ops)"
        )


class Migration(migrations.Migration):
    dependencies = [
        ("registry", "0010_seal_shielding_and_retention"),
    ]

    operations = [
        migrations.AlterField(
            model_name="sourcerecord",
            name="source",
            field=models.ForeignKey(
                db_index=False,
                on_delete=django.db.models.deletion.PROTECT,
                to="registry.source",
            ),
        ),
        migrations.RunPython(drop_like, restore_like),
    ]
