# A waiting source record no longer says in clear why it waits (ADR 0010): `method`
# `near_shielded` ("Held: might be a shielded child") said that a pending record is near a
# shielded child, so every waiting record's method becomes `review`, whatever it waits for
# (`none`, `ambiguous`, `near_shielded` or `review`); the reason is in its sealed review
# item. The data step converts existing records a thousand at a time.

from __future__ import annotations

from typing import Any

from django.db import migrations, models

BATCH = 1000
OLD = ("none", "ambiguous", "near_shielded")


def waiting_as_review(apps: Any, schema_editor: Any) -> None:
    record_model = apps.get_model("registry", "SourceRecord")
    rows = record_model.objects.using(schema_editor.connection.alias)
    while True:
        chunk = list(
            rows.filter(method__in=OLD).order_by("id").values_list("id", flat=True)[:BATCH]
        )
        if not chunk:
            return
        rows.filter(id__in=chunk).update(method="review")


class Migration(migrations.Migration):
    dependencies = [
        ("registry", "0021_involvement_digests_unindexed"),
    ]

    operations = [
        migrations.RunPython(waiting_as_review, migrations.RunPython.noop, elidable=False),
        migrations.AlterField(
            model_name="sourcerecord",
            name="method",
            field=models.CharField(
                choices=[
                    ("nhs_number", "Same NHS number"),
                    ("upn", "Same UPN"),
                    ("demographics", "Same name and date of birth, no conflicting identifier"),
                    ("model", "Linked by the model's match weight"),
                    ("person", "Linked by a person in review"),
                    ("new_child", "New child"),
                    ("review", "Waiting for a person"),
                ],
                max_length=20,
            ),
        ),
    ]
