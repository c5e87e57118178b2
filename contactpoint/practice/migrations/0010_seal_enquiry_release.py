# A stolen database no longer says which principal made a child protection enquiry about
# which child, and on which day (ADR 0010): a release names its enquiry only by `enquiry`,
# HMAC of child id, principal and day under `enquiry-release/v1`
# (contactpoint.practice.families.subject_access_history.enquiry_tag), unique.
#
# The data step converts existing rows a thousand at a time, then drops the clear columns.

from __future__ import annotations

from typing import Any

from django.db import migrations, models

BATCH = 1000
RELEASE_KEY = "enquiry-release/v1"  # as subject_access_history.RELEASE_KEY


def tag_existing(apps: Any, schema_editor: Any) -> None:
    from contactpoint.keystore.index_key import derived_key
    from contactpoint.lib import crypto

    EnquiryRelease = apps.get_model("practice", "EnquiryRelease")
    db = schema_editor.connection.alias
    if not EnquiryRelease.objects.using(db).exists():
        return
    key = derived_key(RELEASE_KEY)
    after = None
    while True:
        rows = EnquiryRelease.objects.using(db).order_by("id")
        if after is not None:
            rows = rows.filter(id__gt=after)
        chunk = list(rows[:BATCH])
        if not chunk:
            break
        after = chunk[-1].pk
        for release in chunk:
            message = f"{release.child_id}\x1f{release.principal}\x1f{release.day.isoformat()}"
            release.enquiry = crypto.keyed_digest(key, message.encode())[:16]
        EnquiryRelease.objects.using(db).bulk_update(chunk, ["enquiry"])


class Migration(migrations.Migration):
    dependencies = [
        ("practice", "0009_seal_emergency_access_child"),
    ]

    operations = [
        migrations.RemoveConstraint(model_name="enquiryrelease", name="one_release_per_enquiry"),
        migrations.AddField(
            model_name="enquiryrelease",
            name="enquiry",
            field=models.BinaryField(max_length=16, null=True),
        ),
        migrations.RunPython(tag_existing, migrations.RunPython.noop, elidable=False),
        migrations.RemoveField(model_name="enquiryrelease", name="principal"),
        migrations.RemoveField(model_name="enquiryrelease", name="child"),
        migrations.RemoveField(model_name="enquiryrelease", name="day"),
        migrations.AlterField(
            model_name="enquiryrelease",
            name="enquiry",
            field=models.BinaryField(max_length=16, unique=True),
        ),
    ]
