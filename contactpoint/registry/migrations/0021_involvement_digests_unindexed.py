# `member` and `area_member` hold the child's id in their HMAC: every query comparing one
# names the child, and the index on `child` finds its few involvements
# (docs/adr/0013-lean-registry-layout.md, tests/unit/registry/test_indexes.py).

from __future__ import annotations

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("registry", "0020_drop_involvement_link_start_date"),
    ]

    operations = [
        migrations.RemoveIndex(model_name="involvement", name="involvement_member"),
        migrations.RemoveIndex(model_name="involvement", name="involvement_area_member"),
    ]
