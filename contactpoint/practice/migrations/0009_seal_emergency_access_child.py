# A stolen database no longer says which child had an emergency access, nor which
# organisation's staff looked at it (ADR 0010): an emergency access names its child by
# `holder` (HMAC of child id and user id under `emergency-holder/v1`, what the record's
# access rule looks up) and `child_ref` (the child's id sealed under `emergency-child/v1`),
# and its `emergency_access` alerts keep their child only in their sealed `about`, their
# clear child and involvement columns emptied.
#
# The data step converts existing rows a thousand at a time, then drops the clear column.

from __future__ import annotations

from typing import Any

from django.db import migrations, models

import contactpoint.registry.fields

BATCH = 1000
# As contactpoint.practice.emergency_refs.
HOLDER_KEY = "emergency-holder/v1"
CHILD_KEY = "emergency-child/v1"
TAG_BYTES = 16


def seal_existing(apps: Any, schema_editor: Any) -> None:
    from contactpoint.keystore.index_key import derived_key
    from contactpoint.lib import crypto
    from contactpoint.registry.cipher import associated_data

    EmergencyAccess = apps.get_model("practice", "EmergencyAccess")
    Alert = apps.get_model("practice", "Alert")
    db = schema_editor.connection.alias
    if not EmergencyAccess.objects.using(db).exists():
        return
    holder_key, child_key = derived_key(HOLDER_KEY), derived_key(CHILD_KEY)
    after = None
    while True:
        rows = EmergencyAccess.objects.using(db).order_by("id")
        if after is not None:
            rows = rows.filter(id__gt=after)
        chunk = list(rows[:BATCH])
        if not chunk:
            break
        after = chunk[-1].pk
        for access in chunk:
            message = f"{access.child_id}\x1f{access.user_id}".encode()
            access.holder = crypto.keyed_digest(holder_key, message)[:TAG_BYTES]
            ad = associated_data(EmergencyAccess, "child_ref", access.pk)
            access.child_ref = crypto.seal(child_key, access.child_id.bytes, ad)
        EmergencyAccess.objects.using(db).bulk_update(chunk, ["holder", "child_ref"])
    # An emergency's alert names its child only in `about` (sealed when it was written).
    Alert.objects.using(db).filter(emergency__isnull=False).update(child=None, involvement=None)


class Migration(migrations.Migration):
    dependencies = [
        ("practice", "0008_seal_contact_request_involvement"),
    ]

    operations = [
        migrations.AddField(
            model_name="emergencyaccess",
            name="holder",
            field=models.BinaryField(max_length=16, null=True),
        ),
        migrations.AddField(
            model_name="emergencyaccess",
            name="child_ref",
            field=contactpoint.registry.fields.Sealed(blank=True, editable=False, null=True),
        ),
        migrations.RunPython(seal_existing, migrations.RunPython.noop, elidable=False),
        migrations.RemoveField(model_name="emergencyaccess", name="child"),
        migrations.AlterField(
            model_name="emergencyaccess",
            name="holder",
            field=models.BinaryField(db_index=True, max_length=16),
        ),
    ]
