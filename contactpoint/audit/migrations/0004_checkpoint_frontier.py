from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("audit", "0003_event_signals"),
    ]

    operations = [
        migrations.AddField(
            model_name="checkpoint",
            name="frontier",
            field=models.BinaryField(null=True),
        ),
    ]
