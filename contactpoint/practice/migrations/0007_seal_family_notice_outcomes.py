# A stolen database no longer says which families were not told because telling them would
# put the child at risk, nor why (ADR 0010): a family notice's status, risk code, the
# team's reason for not sending it, how it was sent, by whom and when become `outcome`,
# JSON padded to 160 bytes and sealed under the child's data key for every notice; only
# `due` (the team's queue) stays in clear.
#
# The data step converts existing notices a thousand at a time, then drops the clear
# columns. A notice whose child's data key is gone (purged) keeps no outcome.

from __future__ import annotations

import json
from typing import Any

from django.db import migrations, models

import contactpoint.registry.fields

BATCH = 1000
OUTCOME_SIZE = 160  # as contactpoint.practice.families.family_notices


def seal_existing(apps: Any, schema_editor: Any) -> None:
    from contactpoint.keystore import service as keys
    from contactpoint.registry.cipher import ChildCipher

    FamilyNotice = apps.get_model("practice", "FamilyNotice")
    db = schema_editor.connection.alias
    after = None
    while True:
        rows = FamilyNotice.objects.using(db).order_by("id")
        if after is not None:
            rows = rows.filter(id__gt=after)
        chunk = list(rows[:BATCH])
        if not chunk:
            return
        after = chunk[-1].pk
        data_keys = keys.data_keys(list({n.child_id for n in chunk}))
        for notice in chunk:
            notice.due = notice.status == "due"
            if notice.child_id not in data_keys:
                continue
            at_registration = notice.risk and notice.sent_by_id is None
            by = notice.risk_recorded_by_id if at_registration else notice.sent_by_id
            at = notice.created_at if at_registration else notice.sent_at
            document = [
                notice.status,
                notice.risk,
                notice.not_sent_reason,
                notice.sent_how,
                str(by) if by else None,
                at.isoformat() if at and notice.status != "due" else None,
            ]
            text = json.dumps(document, separators=(",", ":"))
            cipher = ChildCipher(notice.child_id, data_keys[notice.child_id])
            notice.outcome = cipher.seal_fixed(
                FamilyNotice, "outcome", notice.pk, text, OUTCOME_SIZE
            )
        FamilyNotice.objects.using(db).bulk_update(chunk, ["due", "outcome"], batch_size=500)


class Migration(migrations.Migration):
    dependencies = [
        ("practice", "0006_seal_alert_kinds_and_access_reasons"),
    ]

    operations = [
        migrations.RemoveIndex(model_name="familynotice", name="family_notice_queue"),
        migrations.AddField(
            model_name="familynotice", name="due", field=models.BooleanField(default=True)
        ),
        migrations.AddField(
            model_name="familynotice",
            name="outcome",
            field=contactpoint.registry.fields.Sealed(blank=True, editable=False, null=True),
        ),
        migrations.RunPython(seal_existing, migrations.RunPython.noop, elidable=False),
        migrations.RemoveField(model_name="familynotice", name="status"),
        migrations.RemoveField(model_name="familynotice", name="risk"),
        migrations.RemoveField(model_name="familynotice", name="risk_recorded_by"),
        migrations.RemoveField(model_name="familynotice", name="sent_at"),
        migrations.RemoveField(model_name="familynotice", name="sent_by"),
        migrations.RemoveField(model_name="familynotice", name="sent_how"),
        migrations.RemoveField(model_name="familynotice", name="not_sent_reason"),
        migrations.AddIndex(
            model_name="familynotice",
            index=models.Index(fields=["area", "due"], name="family_notice_queue"),
        ),
    ]
