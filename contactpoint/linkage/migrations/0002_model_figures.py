from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("linkage", "0001_initial"),
    ]

    operations = [
        migrations.AddField(
            model_name="linkagemodel",
            name="figures",
            field=models.JSONField(default=dict),
        ),
    ]
