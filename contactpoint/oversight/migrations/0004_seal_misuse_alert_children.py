# A stolen database does not say which children a user was suspected of looking up (ADR
# 0012): a misuse alert's evidence, the children's internal ids, is sealed under the
# alert's own data key (where its review note already is), and the clear list is dropped.

from __future__ import annotations

import json
from typing import Any

from django.db import migrations

import contactpoint.registry.fields

BATCH = 1000


def seal_existing(apps: Any, schema_editor: Any) -> None:
    from contactpoint.keystore import service as keys
    from contactpoint.registry.cipher import ChildCipher

    MisuseAlert = apps.get_model("oversight", "MisuseAlert")
    db = schema_editor.connection.alias
    rows = list(MisuseAlert.objects.using(db).only("id", "child_ids"))
    for start in range(0, len(rows), BATCH):
        chunk = rows[start : start + BATCH]
        made = keys.ensure_data_keys([a.pk for a in chunk])
        for alert in chunk:
            text = json.dumps(sorted(str(i) for i in alert.child_ids or []))
            cipher = ChildCipher(alert.pk, made[alert.pk])
            alert.children = cipher.seal(MisuseAlert, "children", alert.pk, text)
        MisuseAlert.objects.using(db).bulk_update(chunk, ["children"])


class Migration(migrations.Migration):
    dependencies = [
        ("oversight", "0003_misuse_registration_kinds"),
    ]

    operations = [
        migrations.AddField(
            model_name="misusealert",
            name="children",
            field=contactpoint.registry.fields.Sealed(),
        ),
        migrations.RunPython(seal_existing, migrations.RunPython.noop, elidable=False),
        migrations.RemoveField(model_name="misusealert", name="child_ids"),
    ]
