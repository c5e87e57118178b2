# Retention (docs/retention.md): a purged child keeps its row (its contactpoint ID is never reused)
# with status "purged"; its data key is destroyed.

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("registry", "0006_child_retention"),
    ]

    operations = [
        migrations.AlterField(
            model_name="child",
            name="status",
            field=models.CharField(
                choices=[
                    ("active", "Active"),
                    ("archived", "Archived"),
                    ("deceased", "Deceased"),
                    ("sealed", "Sealed after an identity change"),
                    ("merged", "Merged into another child"),
                    ("purged", "Purged: its data key destroyed"),
                ],
                default="active",
                max_length=10,
            ),
        ),
    ]
