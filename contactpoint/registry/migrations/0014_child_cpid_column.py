# A child's contactpoint ID is a column of the child, unique, and no longer a reference to
# a separate table of every ID issued (docs/adr/0013-lean-registry-layout.md). That table
# repeated `registry_child.cpid` row for row: a child is never deleted (a purge destroys
# its data key and keeps the row, a merge keeps the merged child's row, and
# `Child.delete` refuses), so the unique column alone keeps an ID from being issued twice.
# The column keeps its name and type: only the foreign key goes. An issued ID with no
# child is refused rather than forgotten, since forgetting it would let it be issued again.

from __future__ import annotations

from typing import Any

from django.db import migrations, models


def refuse_orphans(apps: Any, schema_editor: Any) -> None:
    issued = apps.get_model("registry", "IssuedCpid")
    child = apps.get_model("registry", "Child")
    db = schema_editor.connection.alias
    held = child.objects.using(db).values("cpid")
    orphans = issued.objects.using(db).exclude(cpid__in=held).count()
    if orphans:
        raise RuntimeError(
            f"{orphans} contactpoint ID(s) were issued to no child still in the registry: "
            "folding the issued IDs into registry_child would let them be issued again"
        )


def issue_again(apps: Any, schema_editor: Any) -> None:
    issued = apps.get_model("registry", "IssuedCpid")
    child = apps.get_model("registry", "Child")
    db = schema_editor.connection.alias
    cpids = child.objects.using(db).values_list("cpid", flat=True).iterator(chunk_size=5000)
    issued.objects.using(db).bulk_create(
        (issued(cpid=c) for c in cpids), batch_size=5000, ignore_conflicts=True
    )


class Migration(migrations.Migration):
    dependencies = [
        ("registry", "0013_blind_index_entries_keyed"),
    ]

    operations = [
        migrations.RunPython(refuse_orphans, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="child",
            name="cpid",
            field=models.CharField(max_length=20, unique=True),
        ),
        # Going back, the table is made and filled before the column refers to it again.
        migrations.RunPython(migrations.RunPython.noop, issue_again),
        migrations.DeleteModel(name="IssuedCpid"),
    ]
