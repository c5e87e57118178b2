# The five fact tables go: a source record's facts are its sealed payload, what the golden
# record takes from it its `preferred` bits, its earlier addresses its sealed `history`
# (filled by 0014). Going back makes the tables again, empty.

from __future__ import annotations

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("registry", "0016_facts_from_fact_tables"),
    ]

    operations = [
        migrations.DeleteModel(name="Carer"),
        migrations.DeleteModel(name="ChildAddress"),
        migrations.DeleteModel(name="ChildDemographic"),
        migrations.DeleteModel(name="ChildIdentifier"),
        migrations.DeleteModel(name="ChildName"),
    ]
