# A stolen database no longer says which child has a sensitive service through its
# contact requests (ADR 0010): a request names its involvement by `involvement_tag`
# (HMAC of the involvement's id under `contact-request-tag/v1`, what the one-open-request
# rule compares) and a sealed id (`involvement_sealed`, under
# `contact-request-involvement/v1`), and its `contact_request` alerts keep their child only
# in their sealed `about`, their clear child and involvement columns emptied.
#
# The data step converts existing rows a thousand at a time, then drops the clear column.

from __future__ import annotations

from typing import Any

from django.db import migrations, models

import contactpoint.registry.fields

BATCH = 1000
# As contactpoint.practice.involvements.contact_requests.
TAG_KEY = "contact-request-tag/v1"
SEAL_KEY = "contact-request-involvement/v1"
TAG_BYTES = 16
ID_SIZE = 36


def seal_existing(apps: Any, schema_editor: Any) -> None:
    from contactpoint.keystore.index_key import derived_key
    from contactpoint.lib import crypto
    from contactpoint.registry.cipher import associated_data, seal_padded

    ContactRequest = apps.get_model("practice", "ContactRequest")
    Alert = apps.get_model("practice", "Alert")
    db = schema_editor.connection.alias
    if not ContactRequest.objects.using(db).exists():
        return
    tag_key, seal_key = derived_key(TAG_KEY), derived_key(SEAL_KEY)
    after = None
    while True:
        rows = ContactRequest.objects.using(db).order_by("id")
        if after is not None:
            rows = rows.filter(id__gt=after)
        chunk = list(rows[:BATCH])
        if not chunk:
            break
        after = chunk[-1].pk
        for request in chunk:
            involvement = request.involvement_id
            request.involvement_tag = crypto.keyed_digest(tag_key, involvement.bytes)[:TAG_BYTES]
            ad = associated_data(ContactRequest, "involvement_sealed", request.pk)
            request.involvement_sealed = seal_padded(
                seal_key, str(involvement), ID_SIZE, ad, "involvement"
            )
        ContactRequest.objects.using(db).bulk_update(
            chunk, ["involvement_tag", "involvement_sealed"]
        )
    # A request's alert names its child only in `about` (sealed when it was written).
    Alert.objects.using(db).filter(contact_request__isnull=False).update(
        child=None, involvement=None
    )


class Migration(migrations.Migration):
    dependencies = [
        ("practice", "0007_seal_family_notice_outcomes"),
    ]

    operations = [
        migrations.RemoveConstraint(model_name="contactrequest", name="one_open_contact_request"),
        migrations.AddField(
            model_name="contactrequest",
            name="involvement_tag",
            field=models.BinaryField(max_length=16, null=True),
        ),
        migrations.AddField(
            model_name="contactrequest",
            name="involvement_sealed",
            field=contactpoint.registry.fields.Sealed(blank=True, editable=False, null=True),
        ),
        migrations.RunPython(seal_existing, migrations.RunPython.noop, elidable=False),
        migrations.RemoveField(model_name="contactrequest", name="involvement"),
        migrations.AlterField(
            model_name="contactrequest",
            name="involvement_tag",
            field=models.BinaryField(max_length=16),
        ),
        migrations.AddConstraint(
            model_name="contactrequest",
            constraint=models.UniqueConstraint(
                condition=models.Q(("status", "open")),
                fields=("requester", "involvement_tag"),
                name="one_open_contact_request",
            ),
        ),
    ]
