# No query selects link decisions by record, child, other child or model, and none of
# those is ever deleted: their indexes were a third of the table's bytes
# (docs/adr/0013-lean-registry-layout.md, tests/unit/registry/test_indexes.py).

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("linkage", "0004_model_figures"),
        ("registry", "0011_drop_unused_indexes"),
    ]

    operations = [
        migrations.AlterField(
            model_name="linkdecision",
            name="child",
            field=models.ForeignKey(
                db_index=False,
                null=True,
                on_delete=django.db.models.deletion.SET_NULL,
                related_name="+",
                to="registry.child",
            ),
        ),
        migrations.AlterField(
            model_name="linkdecision",
            name="model",
            field=models.ForeignKey(
                db_index=False,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="linkage.linkagemodel",
            ),
        ),
        migrations.AlterField(
            model_name="linkdecision",
            name="other_child",
            field=models.ForeignKey(
                db_index=False,
                null=True,
                on_delete=django.db.models.deletion.SET_NULL,
                related_name="+",
                to="registry.child",
            ),
        ),
        migrations.AlterField(
            model_name="linkdecision",
            name="source_record",
            field=models.ForeignKey(
                db_index=False,
                null=True,
                on_delete=django.db.models.deletion.SET_NULL,
                related_name="+",
                to="registry.sourcerecord",
            ),
        ),
    ]
