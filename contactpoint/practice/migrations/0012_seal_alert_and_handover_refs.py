# A stolen database no longer says which organisation's users were told about which child,
# nor which services of a child hand over the lead (ADR 0010):
# - an alert keeps its child, involvement and emergency access, contact request or handover
#   only in its sealed `about` (now JSON of kind and three ids, padded to 144 bytes, under
#   `alert-about/v1`), and names its child by `child_tag` (HMAC of the child's id under
#   `alert-child-tag/v1`, first 16 bytes); its clear foreign keys are dropped;
# - a handover names its child by `child_tag` (HMAC under `handover-child-tag/v1`), on
#   which the one-open-handover rule now holds, and keeps its child and both involvements
#   only in `about` (their ids sealed under `handover-about/v1`).
#
# The data step converts existing rows a thousand at a time, then drops the clear columns.

from __future__ import annotations

import json
import uuid
from typing import Any

from django.db import migrations, models

import contactpoint.registry.fields

BATCH = 1000
# As contactpoint.practice.involvements.alerts and .handovers.
ALERT_ABOUT_KEY = "alert-about/v1"
ALERT_TAG_KEY = "alert-child-tag/v1"
ABOUT_SIZE = 144
HANDOVER_TAG_KEY = "handover-child-tag/v1"
HANDOVER_ABOUT_KEY = "handover-about/v1"
TAG_BYTES = 16


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


def seal_handovers(apps: Any, schema_editor: Any) -> None:
    from contactpoint.keystore.index_key import derived_key
    from contactpoint.lib import crypto
    from contactpoint.registry.cipher import associated_data

    Handover = apps.get_model("practice", "Handover")
    db = schema_editor.connection.alias
    if not Handover.objects.using(db).exists():
        return
    tag_key, about_key = derived_key(HANDOVER_TAG_KEY), derived_key(HANDOVER_ABOUT_KEY)
    for chunk in _batches(Handover, db):
        for handover in chunk:
            ids = (handover.child_id, handover.from_involvement_id, handover.to_involvement_id)
            handover.child_tag = crypto.keyed_digest(tag_key, ids[0].bytes)[:TAG_BYTES]
            ad = associated_data(Handover, "about", handover.pk)
            handover.about = crypto.seal(about_key, b"".join(i.bytes for i in ids), ad)
        Handover.objects.using(db).bulk_update(chunk, ["child_tag", "about"])


def seal_alerts(apps: Any, schema_editor: Any) -> None:
    from contactpoint.keystore.index_key import derived_key
    from contactpoint.lib import crypto
    from contactpoint.registry.cipher import associated_data, open_padded, seal_padded

    Alert = apps.get_model("practice", "Alert")
    db = schema_editor.connection.alias
    if not Alert.objects.using(db).exists():
        return
    about_key, tag_key = derived_key(ALERT_ABOUT_KEY), derived_key(ALERT_TAG_KEY)
    for chunk in _batches(Alert, db):
        for alert in chunk:
            ad = associated_data(Alert, "about", alert.pk)
            # [kind, child, involvement] as 0006 sealed it; the clear columns fill gaps.
            kind, child, involvement, *sealed = json.loads(open_padded(about_key, alert.about, ad))
            child = child or (str(alert.child_id) if alert.child_id else None)
            involvement = involvement or (
                str(alert.involvement_id) if alert.involvement_id else None
            )
            ref = (sealed or [None])[0] or (
                alert.emergency_id or alert.contact_request_id or alert.handover_id
            )
            document = json.dumps(
                [kind, child, involvement, str(ref) if ref else None], separators=(",", ":")
            )
            alert.about = seal_padded(about_key, document, ABOUT_SIZE, ad, "about")
            message = uuid.UUID(child).bytes if child else b"none"
            alert.child_tag = crypto.keyed_digest(tag_key, message)[:TAG_BYTES]
        Alert.objects.using(db).bulk_update(chunk, ["about", "child_tag"])


class Migration(migrations.Migration):
    dependencies = [
        ("practice", "0011_seal_subject_access_relationship"),
    ]

    operations = [
        migrations.AddField(
            model_name="alert",
            name="child_tag",
            field=models.BinaryField(max_length=16, null=True),
        ),
        migrations.AddField(
            model_name="handover",
            name="child_tag",
            field=models.BinaryField(max_length=16, null=True),
        ),
        migrations.AddField(
            model_name="handover",
            name="about",
            field=contactpoint.registry.fields.Sealed(blank=True, null=True),
        ),
        migrations.RunPython(seal_handovers, migrations.RunPython.noop, elidable=False),
        migrations.RunPython(seal_alerts, migrations.RunPython.noop, elidable=False),
        migrations.RemoveConstraint(model_name="handover", name="one_open_handover"),
        migrations.RemoveField(model_name="alert", name="child"),
        migrations.RemoveField(model_name="alert", name="involvement"),
        migrations.RemoveField(model_name="alert", name="emergency"),
        migrations.RemoveField(model_name="alert", name="contact_request"),
        migrations.RemoveField(model_name="alert", name="handover"),
        migrations.RemoveField(model_name="handover", name="child"),
        migrations.RemoveField(model_name="handover", name="from_involvement"),
        migrations.RemoveField(model_name="handover", name="to_involvement"),
        migrations.AlterField(
            model_name="alert",
            name="child_tag",
            field=models.BinaryField(db_index=True, max_length=16),
        ),
        migrations.AlterField(
            model_name="handover",
            name="child_tag",
            field=models.BinaryField(db_index=True, max_length=16),
        ),
        migrations.AddConstraint(
            model_name="handover",
            constraint=models.UniqueConstraint(
                condition=models.Q(("status", "proposed")),
                fields=("child_tag",),
                name="one_open_handover",
            ),
        ),
    ]
