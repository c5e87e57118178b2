# A stolen database does not say which organisations work with a child (ADR 0010): an
# involvement's organisation and practitioner become one fixed-size value sealed under the
# child's data key (`link`), with keyed digests of child and organisation (`member`) for
# "is this organisation involved with this child", and of child and the organisation's
# council area (`area_member`) for "is this index team local to this child".
#
# The data step seals what an existing registry holds in clear, a thousand children at a
# time, then the clear foreign keys are dropped. A child whose data key is gone (purged)
# keeps its digest but not its link: nothing can open it any more.

from __future__ import annotations

import json
from typing import Any

from django.db import migrations, models

import contactpoint.registry.fields

BATCH = 1000
LINK_SIZE = 48  # as contactpoint.registry.involvement_facts.LINK_SIZE
MEMBER_KEY = "involvement-member/v1"
AREA_KEY = "involvement-area/v1"


def seal_existing(apps: Any, schema_editor: Any) -> None:
    from contactpoint.keystore import service as keys
    from contactpoint.keystore.index_key import derived_key
    from contactpoint.lib import crypto
    from contactpoint.registry.cipher import ChildCipher

    Involvement = apps.get_model("registry", "Involvement")
    Organisation = apps.get_model("registry", "Organisation")
    db = schema_editor.connection.alias
    areas = dict(Organisation.objects.using(db).values_list("pk", "council_area__code"))
    children = sorted(
        set(Involvement.objects.using(db).values_list("child_id", flat=True)), key=str
    )
    member_key = derived_key(MEMBER_KEY) if children else b""
    area_key = derived_key(AREA_KEY) if children else b""
    for start in range(0, len(children), BATCH):
        chunk = children[start : start + BATCH]
        ciphers = {c: ChildCipher(c, k) for c, k in keys.data_keys(chunk).items()}
        rows = list(Involvement.objects.using(db).filter(child_id__in=chunk))
        for inv in rows:
            message = f"{inv.child_id}\x1f{inv.organisation_id}".encode()
            inv.member = crypto.keyed_digest(member_key, message)[:16]
            area = f"{inv.child_id}\x1f{areas[inv.organisation_id] or ''}".encode()
            inv.area_member = crypto.keyed_digest(area_key, area)[:16]
            cipher = ciphers.get(inv.child_id)
            if cipher is not None:
                ids = json.dumps([inv.organisation_id, inv.practitioner_id], separators=(",", ":"))
                inv.link = cipher.seal_fixed(Involvement, "link", inv.pk, ids, LINK_SIZE)
        Involvement.objects.using(db).bulk_update(
            rows, ["member", "area_member", "link"], batch_size=500
        )


class Migration(migrations.Migration):
    dependencies = [
        ("registry", "0008_seal_special_category_facts"),
    ]

    operations = [
        migrations.AddField(
            model_name="involvement",
            name="link",
            field=contactpoint.registry.fields.Sealed(blank=True, editable=False, null=True),
        ),
        migrations.AddField(
            model_name="involvement",
            name="member",
            field=models.BinaryField(max_length=16, null=True),
        ),
        migrations.AddField(
            model_name="involvement",
            name="area_member",
            field=models.BinaryField(max_length=16, null=True),
        ),
        migrations.RunPython(seal_existing, migrations.RunPython.noop, elidable=False),
        migrations.RemoveField(model_name="involvement", name="organisation"),
        migrations.RemoveField(model_name="involvement", name="practitioner"),
        migrations.AlterField(
            model_name="involvement",
            name="member",
            field=models.BinaryField(max_length=16),
        ),
        migrations.AlterField(
            model_name="involvement",
            name="area_member",
            field=models.BinaryField(max_length=16),
        ),
        migrations.AddIndex(
            model_name="involvement",
            index=models.Index(fields=["member"], name="involvement_member"),
        ),
        migrations.AddIndex(
            model_name="involvement",
            index=models.Index(fields=["area_member"], name="involvement_area_member"),
        ),
    ]
