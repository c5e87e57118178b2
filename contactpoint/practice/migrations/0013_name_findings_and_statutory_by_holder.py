# A stolen database no longer says who searched for which child, nor which team's staff
# read which child's archived record (ADR 0010): a finding names child and principal only
# by `holder` (HMAC of child id and principal under `finding-holder/v1`, what the record's
# access rule looks up); a statutory access names its child by `holder` (HMAC of child id
# and user id under `statutory-holder/v1`) and `child_ref` (the child's id sealed under
# `statutory-child/v1`).
#
# The data step converts existing rows a thousand at a time, then drops the clear columns.
# Going back deletes the findings (a digest cannot be turned back into its principal and
# child; a finding opens a record for ten hours only) and opens each statutory access's
# sealed child.

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import django.db.models.deletion
from django.db import migrations, models

import contactpoint.registry.fields

BATCH = 1000
# As contactpoint.practice.holders.
FINDING_KEY = "finding-holder/v1"
STATUTORY_HOLDER_KEY = "statutory-holder/v1"
STATUTORY_CHILD_KEY = "statutory-child/v1"
TAG_BYTES = 16


def _batches(model: Any, db: str) -> Iterator[list[Any]]:
    after = None
    while True:
        rows = model.objects.using(db).order_by("id")
        if after is not None:
            rows = rows.filter(id__gt=after)
        chunk = list(rows[:BATCH])
        if not chunk:
            return
        after = chunk[-1].pk
        yield chunk


def seal_existing(apps: Any, schema_editor: Any) -> None:
    from contactpoint.keystore.index_key import derived_key
    from contactpoint.lib import crypto
    from contactpoint.registry.cipher import associated_data

    Finding = apps.get_model("practice", "Finding")
    StatutoryAccess = apps.get_model("practice", "StatutoryAccess")
    db = schema_editor.connection.alias
    if Finding.objects.using(db).exists():
        key = derived_key(FINDING_KEY)
        for chunk in _batches(Finding, db):
            for row in chunk:
                message = f"{row.child_id}\x1f{row.principal}".encode()
                row.holder = crypto.keyed_digest(key, message)[:TAG_BYTES]
            Finding.objects.using(db).bulk_update(chunk, ["holder"])
    if StatutoryAccess.objects.using(db).exists():
        holder_key, child_key = derived_key(STATUTORY_HOLDER_KEY), derived_key(STATUTORY_CHILD_KEY)
        for chunk in _batches(StatutoryAccess, db):
            for access in chunk:
                message = f"{access.child_id}\x1f{access.user_id}".encode()
                access.holder = crypto.keyed_digest(holder_key, message)[:TAG_BYTES]
                ad = associated_data(StatutoryAccess, "child_ref", access.pk)
                access.child_ref = crypto.seal(child_key, access.child_id.bytes, ad)
            StatutoryAccess.objects.using(db).bulk_update(chunk, ["holder", "child_ref"])


def restore(apps: Any, schema_editor: Any) -> None:
    from contactpoint.keystore.index_key import derived_key
    from contactpoint.lib import crypto
    from contactpoint.registry.cipher import associated_data

    Finding = apps.get_model("practice", "Finding")
    StatutoryAccess = apps.get_model("practice", "StatutoryAccess")
    db = schema_editor.connection.alias
    Finding.objects.using(db).all().delete()
    if not StatutoryAccess.objects.using(db).exists():
        return
    child_key = derived_key(STATUTORY_CHILD_KEY)
    for chunk in _batches(StatutoryAccess, db):
        for access in chunk:
            ad = associated_data(StatutoryAccess, "child_ref", access.pk)
            opened = crypto.open_sealed(child_key, bytes(access.child_ref), ad)
            access.child_id = uuid.UUID(bytes=opened)
        StatutoryAccess.objects.using(db).bulk_update(chunk, ["child"])


def _nullable_child(model_name: str) -> migrations.AlterField:
    return migrations.AlterField(
        model_name=model_name,
        name="child",
        field=models.ForeignKey(
            null=True,
            on_delete=django.db.models.deletion.CASCADE,
            related_name="+",
            to="registry.child",
        ),
    )


class Migration(migrations.Migration):
    dependencies = [
        ("practice", "0012_seal_alert_and_handover_refs"),
    ]

    operations = [
        migrations.AddField(
            model_name="finding",
            name="holder",
            field=models.BinaryField(max_length=16, null=True),
        ),
        migrations.AddField(
            model_name="statutoryaccess",
            name="holder",
            field=models.BinaryField(max_length=16, null=True),
        ),
        migrations.AddField(
            model_name="statutoryaccess",
            name="child_ref",
            field=contactpoint.registry.fields.Sealed(blank=True, editable=False, null=True),
        ),
        # Nullable first, so that going back can add them again before `restore` runs.
        _nullable_child("finding"),
        _nullable_child("statutoryaccess"),
        migrations.AlterField(
            model_name="finding", name="principal", field=models.CharField(max_length=64, null=True)
        ),
        migrations.RunPython(seal_existing, restore, elidable=False),
        migrations.RemoveIndex(model_name="finding", name="finding_lookup"),
        migrations.RemoveField(model_name="finding", name="principal"),
        migrations.RemoveField(model_name="finding", name="child"),
        migrations.AlterField(
            model_name="finding",
            name="holder",
            field=models.BinaryField(max_length=16),
        ),
        migrations.AddIndex(
            model_name="finding",
            index=models.Index(fields=["holder", "found_at"], name="finding_holder"),
        ),
        migrations.RemoveField(model_name="statutoryaccess", name="child"),
        migrations.AlterField(
            model_name="statutoryaccess",
            name="holder",
            field=models.BinaryField(db_index=True, max_length=16),
        ),
    ]
