from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("linkage", "0003_review_insufficient"),
    ]

    operations = [
        migrations.AddField(
            model_name="linkagemodel",
            name="figures",
            field=models.JSONField(default=dict),
        ),
    ]
