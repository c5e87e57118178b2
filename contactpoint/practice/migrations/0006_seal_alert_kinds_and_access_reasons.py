# A stolen database says neither what an alert is about nor why an emergency or statutory
# access was opened (ADR 0010):
# - `alert.kind` becomes `about`: the kind, child and involvement as JSON padded to 112
#   bytes and sealed under a key derived from the index key (`alert-about/v1`); an alert
#   that says its child is shielded (`shielded_joined`, `shielding_review_due`) keeps its
#   child and involvement only there, its clear columns emptied;
# - an emergency access's and a statutory access's reason code is sealed under the child's
#   data key, padded to 16 and 24 bytes.
#
# The data step converts existing rows a thousand at a time, then drops the clear columns.
# An access whose child's data key is gone (purged) keeps no reason: it is dropped unsealed.

from __future__ import annotations

import json
from typing import Any

from django.db import migrations

import contactpoint.registry.fields

BATCH = 1000
# As contactpoint.practice.involvements.alerts, emergency and archived.
ABOUT_KEY = "alert-about/v1"
ABOUT_SIZE = 112
UNNAMED = {"shielded_joined", "shielding_review_due"}
EMERGENCY_REASON_SIZE = 16
STATUTORY_REASON_SIZE = 24


def _batches(model: Any, db: str) -> Any:
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


def seal_alerts(apps: Any, schema_editor: Any) -> None:
    from contactpoint.keystore.index_key import derived_key
    from contactpoint.registry.cipher import associated_data, seal_padded

    Alert = apps.get_model("practice", "Alert")
    db = schema_editor.connection.alias
    if not Alert.objects.using(db).exists():
        return
    key = derived_key(ABOUT_KEY)
    for chunk in _batches(Alert, db):
        for alert in chunk:
            ids = [str(i) if i else None for i in (alert.child_id, alert.involvement_id)]
            document = json.dumps([alert.kind, *ids], separators=(",", ":"))
            ad = associated_data(Alert, "about", alert.pk)
            alert.about = seal_padded(key, document, ABOUT_SIZE, ad, "about")
            if alert.kind in UNNAMED:
                alert.child_id, alert.involvement_id = None, None
        fields = ["about", "child", "involvement"]
        Alert.objects.using(db).bulk_update(chunk, fields, batch_size=500)


def seal_reasons(apps: Any, schema_editor: Any) -> None:
    from contactpoint.keystore import service as keys
    from contactpoint.registry.cipher import ChildCipher

    db = schema_editor.connection.alias
    for name, size in (
        ("EmergencyAccess", EMERGENCY_REASON_SIZE),
        ("StatutoryAccess", STATUTORY_REASON_SIZE),
    ):
        model = apps.get_model("practice", name)
        for chunk in _batches(model, db):
            data_keys = keys.data_keys(list({a.child_id for a in chunk}))
            for access in chunk:
                if access.child_id not in data_keys:
                    continue
                cipher = ChildCipher(access.child_id, data_keys[access.child_id])
                access.reason = cipher.seal_fixed(
                    model, "reason", access.pk, access.reason_clear, size
                )
            model.objects.using(db).bulk_update(chunk, ["reason"], batch_size=500)


def seal_existing(apps: Any, schema_editor: Any) -> None:
    seal_alerts(apps, schema_editor)
    seal_reasons(apps, schema_editor)


class Migration(migrations.Migration):
    dependencies = [
        ("practice", "0005_rectification_and_notices"),
        ("registry", "0010_seal_shielding_and_retention"),
    ]

    operations = [
        migrations.AddField(
            model_name="alert",
            name="about",
            field=contactpoint.registry.fields.Sealed(blank=True, editable=False, null=True),
        ),
        migrations.RenameField(
            model_name="emergencyaccess", old_name="reason", new_name="reason_clear"
        ),
        migrations.AddField(
            model_name="emergencyaccess",
            name="reason",
            field=contactpoint.registry.fields.Sealed(blank=True, editable=False, null=True),
        ),
        migrations.RenameField(
            model_name="statutoryaccess", old_name="reason", new_name="reason_clear"
        ),
        migrations.AddField(
            model_name="statutoryaccess",
            name="reason",
            field=contactpoint.registry.fields.Sealed(blank=True, editable=False, null=True),
        ),
        migrations.RunPython(seal_existing, migrations.RunPython.noop, elidable=False),
        migrations.RemoveField(model_name="alert", name="kind"),
        migrations.RemoveField(model_name="emergencyaccess", name="reason_clear"),
        migrations.RemoveField(model_name="statutoryaccess", name="reason_clear"),
    ]
