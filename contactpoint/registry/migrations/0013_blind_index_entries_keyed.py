# A blind index entry is keyed by (index, value, child), a composite primary key, and
# loses its surrogate id and the unique constraint on those same columns
# (docs/adr/0013-lean-registry-layout.md). Django cannot alter a table's primary key into
# a composite one, so the entries move to a new table, which then takes the old one's
# name: create it, copy every entry, drop the old table, rename.

from __future__ import annotations

from typing import Any

import django.db.models.deletion
from django.db import migrations, models

OLD, NEW = "registry_blindindexentry", "registry_blindindexentrykeyed"


def _copy(schema_editor: Any, source: str, target: str) -> None:
    quote = schema_editor.quote_name
    columns = ", ".join(quote(c) for c in ("index", "value", "child_id"))
    # Names from this module, quoted; no value goes in.
    schema_editor.execute(
        f"INSERT INTO {quote(target)} ({columns}) SELECT {columns} FROM {quote(source)}"  # noqa: S608
    )


def forwards(apps: Any, schema_editor: Any) -> None:
    _copy(schema_editor, OLD, NEW)


def backwards(apps: Any, schema_editor: Any) -> None:
    _copy(schema_editor, NEW, OLD)


class Migration(migrations.Migration):
    dependencies = [
        ("registry", "0012_compact_payloads"),
    ]

    operations = [
        migrations.CreateModel(
            name="BlindIndexEntryKeyed",
            fields=[
                ("pk", models.CompositePrimaryKey("index", "value", "child", serialize=False)),
                ("index", models.PositiveSmallIntegerField()),
                ("value", models.BigIntegerField()),
                (
                    "child",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="+",
                        to="registry.child",
                    ),
                ),
            ],
        ),
        migrations.RunPython(forwards, backwards),
        migrations.DeleteModel(name="BlindIndexEntry"),
        migrations.RenameModel(old_name="BlindIndexEntryKeyed", new_name="BlindIndexEntry"),
    ]
