# A `hold` decision no longer keeps its weight in clear (ADR 0010): a held record's weight
# may lie above the upper threshold, where nothing but a shielded child near it leaves a
# record waiting. Every hold's weight becomes null, whatever the reason; the candidates'
# weights are in the sealed review item. Existing decisions a thousand at a time.

from __future__ import annotations

from typing import Any

from django.db import migrations

BATCH = 1000


def holds_without_weight(apps: Any, schema_editor: Any) -> None:
    decision_model = apps.get_model("linkage", "LinkDecision")
    rows = decision_model.objects.using(schema_editor.connection.alias)
    held = rows.filter(action="hold", weight__isnull=False)
    while True:
        chunk = list(held.order_by("id").values_list("id", flat=True)[:BATCH])
        if not chunk:
            return
        rows.filter(id__in=chunk).update(weight=None)


class Migration(migrations.Migration):
    dependencies = [
        ("linkage", "0006_seal_review_items"),
    ]

    operations = [
        migrations.RunPython(holds_without_weight, migrations.RunPython.noop, elidable=False),
    ]
