# A source record says what the golden record takes from it (`preferred`, a bit per kind of
# fact) and keeps the addresses it stated before (`history`, sealed): its facts are its
# sealed payload (docs/adr/0013-lean-registry-layout.md). 0014 fills both from the fact
# tables, 0015 drops them.

from __future__ import annotations

from django.db import migrations, models

import contactpoint.registry.fields


class Migration(migrations.Migration):
    dependencies = [
        ("registry", "0014_child_cpid_column"),
    ]

    operations = [
        migrations.AddField(
            model_name="sourcerecord",
            name="history",
            field=contactpoint.registry.fields.Sealed(blank=True, null=True),
        ),
        migrations.AddField(
            model_name="sourcerecord",
            name="preferred",
            field=models.PositiveSmallIntegerField(default=0, db_default=0),
        ),
    ]
