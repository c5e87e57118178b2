# A stolen database no longer says who asked for a child's record (the young person
# themself, a parent, a representative) nor how the local index team checked them (which
# tells the relationship apart): both are sealed under the child's data key, padded to 16
# and 20 bytes (contactpoint.practice.families.subject_access). A request whose child's
# key is gone (purged) keeps neither.
#
# The data step converts existing rows a thousand at a time, then drops the clear columns.

from __future__ import annotations

from typing import Any

from django.db import migrations

import contactpoint.registry.fields

BATCH = 1000
RELATIONSHIP_SIZE = 16  # as subject_access.RELATIONSHIP_SIZE
CHECK_SIZE = 20  # as subject_access.CHECK_SIZE


def seal_existing(apps: Any, schema_editor: Any) -> None:
    from contactpoint.keystore import service as keys
    from contactpoint.registry.cipher import associated_data, seal_padded

    SubjectAccessRequest = apps.get_model("practice", "SubjectAccessRequest")
    db = schema_editor.connection.alias
    after = None
    while True:
        rows = SubjectAccessRequest.objects.using(db).order_by("id")
        if after is not None:
            rows = rows.filter(id__gt=after)
        chunk = list(rows[:BATCH])
        if not chunk:
            break
        after = chunk[-1].pk
        data_keys = keys.data_keys(list({r.child_id for r in chunk}))
        for request in chunk:
            key = data_keys.get(request.child_id)
            if key is None:
                continue
            for column, value, size in (
                ("relationship", request.relationship, RELATIONSHIP_SIZE),
                ("identity_check", request.identity_check, CHECK_SIZE),
            ):
                # The associated data names the column the value ends up in.
                ad = associated_data(SubjectAccessRequest, column, request.pk)
                sealed = seal_padded(key, value, size, ad, column)
                setattr(request, f"sealed_{column}", sealed)
        SubjectAccessRequest.objects.using(db).bulk_update(
            chunk, ["sealed_relationship", "sealed_identity_check"]
        )


class Migration(migrations.Migration):
    dependencies = [
        ("practice", "0010_seal_enquiry_release"),
    ]

    operations = [
        migrations.AddField(
            model_name="subjectaccessrequest",
            name="sealed_relationship",
            field=contactpoint.registry.fields.Sealed(blank=True, editable=False, null=True),
        ),
        migrations.AddField(
            model_name="subjectaccessrequest",
            name="sealed_identity_check",
            field=contactpoint.registry.fields.Sealed(blank=True, editable=False, null=True),
        ),
        migrations.RunPython(seal_existing, migrations.RunPython.noop, elidable=False),
        migrations.RemoveField(model_name="subjectaccessrequest", name="relationship"),
        migrations.RemoveField(model_name="subjectaccessrequest", name="identity_check"),
        migrations.RenameField(
            model_name="subjectaccessrequest",
            old_name="sealed_relationship",
            new_name="relationship",
        ),
        migrations.RenameField(
            model_name="subjectaccessrequest",
            old_name="sealed_identity_check",
            new_name="identity_check",
        ),
    ]
