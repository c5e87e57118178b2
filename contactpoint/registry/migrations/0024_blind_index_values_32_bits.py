# A blind index value has at most 22 bits (registry/blind_index.py SPECS): a 32-bit integer,
# 4 bytes fewer than a bigint in each row and each primary key entry on PostgreSQL
# (docs/adr/0013-lean-registry-layout.md). SQLite stores an integer in as few bytes as its
# value needs either way. PostgreSQL rewrites the table and its indexes.

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("registry", "0023_compact_ids"),
    ]

    operations = [
        migrations.AlterField(
            model_name="blindindexentry",
            name="value",
            field=models.IntegerField(),
        ),
    ]
