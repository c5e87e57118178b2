# The involvement's link and start day are in its one sealed value (0019).

from __future__ import annotations

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("registry", "0019_involvement_one_sealed_value"),
    ]

    operations = [
        migrations.RemoveField(model_name="involvement", name="link"),
        migrations.RemoveField(model_name="involvement", name="start_date"),
    ]
