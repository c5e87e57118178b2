# Cut each source record's `record_ref` and `digest` to their first 128 bits, as
# `registry.sources.record_ref` and `ingest.batch.content_digest` now compute them
# (docs/adr/0013-lean-registry-layout.md), a thousand records a transaction. A record
# already cut is left alone, so an interrupted migration simply runs again. The model's
# `max_length` changes in the migration state only: the column types stay (BLOB, bytea).
#
# Going back cannot give the cut bits back: it leaves the 128-bit values, which the code
# of before would not recognise (a record sent again would be a new record); a registry
# is restored from its backup instead.

from __future__ import annotations

from typing import Any

from django.db import migrations, models, transaction

BATCH = 1000
BYTES = 16


def cut(apps: Any, schema_editor: Any) -> None:
    connection = schema_editor.connection
    table = schema_editor.quote_name("registry_sourcerecord")
    while True:
        with transaction.atomic(using=connection.alias), connection.cursor() as cursor:
            cursor.execute(
                f"UPDATE {table} SET record_ref = substr(record_ref, 1, %s),"  # noqa: S608
                f" digest = substr(digest, 1, %s) WHERE id IN (SELECT id FROM {table}"
                " WHERE length(record_ref) > %s OR length(digest) > %s LIMIT %s)",
                [BYTES, BYTES, BYTES, BYTES, BATCH],
            )
            if cursor.rowcount == 0:
                break


class Migration(migrations.Migration):
    atomic = False  # a transaction a batch: an interrupted run keeps what it did

    dependencies = [
        ("registry", "0017_drop_fact_tables"),
    ]

    operations = [
        migrations.RunPython(cut, migrations.RunPython.noop),
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="sourcerecord",
                    name="record_ref",
                    field=models.BinaryField(max_length=16),
                ),
                migrations.AlterField(
                    model_name="sourcerecord",
                    name="digest",
                    field=models.BinaryField(max_length=16),
                ),
            ]
        ),
    ]
