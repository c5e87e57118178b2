# Retention (docs/retention.md): the local index team's recorded, time-limited access to a record
# archived more than a year ago.

import uuid

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

import contactpoint.registry.fields


class Migration(migrations.Migration):
    dependencies = [
        ("practice", "0002_shielding_review_due_alert"),
        ("registry", "0007_child_purged_status"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="StatutoryAccess",
            fields=[
                (
                    "id",
                    models.UUIDField(
                        default=uuid.uuid4, editable=False, primary_key=True, serialize=False
                    ),
                ),
                (
                    "reason",
                    models.CharField(
                        choices=[
                            (
                                "child_protection_enquiry",
                                "A child protection enquiry (Children Act 1989, section 47)",
                            ),
                            ("serious_case_review", "A serious case review"),
                            ("child_death_review", "A child death review"),
                        ],
                        max_length=24,
                    ),
                ),
                ("explanation", contactpoint.registry.fields.Sealed()),
                ("granted_at", models.DateTimeField()),
                ("expires_at", models.DateTimeField()),
                (
                    "child",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="+",
                        to="registry.child",
                    ),
                ),
                (
                    "organisation",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to="registry.organisation",
                    ),
                ),
                (
                    "user",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
            ],
        ),
    ]
