# A stolen database no longer says which source or organisation supplied a field of a
# child's record that a family asked to correct (a youth offending team's system, a clinic:
# who holds a record of the child), nor which field (ADR 0010): a rectification request's
# field, source, source's as-at date and organisation are one value, `about`, the JSON
# `[field, source id, as-at date, organisation id]` padded to 64 bytes and sealed under the
# child's data key (contactpoint.practice.families.rectification.About). A request whose
# child's key is gone (purged) keeps none of them.
#
# The data step converts existing rows a thousand at a time, then drops the clear columns;
# going back opens them again (a request whose child's key is gone gets an empty field).

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from django.db import migrations, models

import contactpoint.registry.fields

BATCH = 1000
ABOUT_SIZE = 64  # as rectification.ABOUT_SIZE


def _batches(model: Any, db: str) -> Iterator[list[Any]]:
    after = None
    while True:
        rows = model.objects.using(db).order_by("id")
        if after is not None:
            rows = rows.filter(id__gt=after)
        chunk = list(rows[:BATCH])
        if not chunk:
            return
        after = chunk[-1].pk
        yield chunk


def seal_existing(apps: Any, schema_editor: Any) -> None:
    from contactpoint.keystore import service as keys
    from contactpoint.registry.cipher import associated_data, seal_padded

    RectificationRequest = apps.get_model("practice", "RectificationRequest")
    db = schema_editor.connection.alias
    for chunk in _batches(RectificationRequest, db):
        data_keys = keys.data_keys(list({r.child_id for r in chunk}))
        for request in chunk:
            key = data_keys.get(request.child_id)
            if key is None:
                continue
            as_at = request.source_as_at.isoformat() if request.source_as_at else None
            text = json.dumps(
                [request.field, request.source_id, as_at, request.organisation_id],
                separators=(",", ":"),
            )
            ad = associated_data(RectificationRequest, "about", request.pk)
            request.about = seal_padded(key, text, ABOUT_SIZE, ad, "about")
        RectificationRequest.objects.using(db).bulk_update(chunk, ["about"])


def open_existing(apps: Any, schema_editor: Any) -> None:
    import datetime as dt

    from contactpoint.keystore import service as keys
    from contactpoint.registry.cipher import associated_data, open_padded

    RectificationRequest = apps.get_model("practice", "RectificationRequest")
    db = schema_editor.connection.alias
    for chunk in _batches(RectificationRequest, db):
        data_keys = keys.data_keys(list({r.child_id for r in chunk}))
        for request in chunk:
            key = data_keys.get(request.child_id)
            request.field = ""
            if key is None or request.about is None:
                continue
            ad = associated_data(RectificationRequest, "about", request.pk)
            field, source, as_at, organisation = json.loads(open_padded(key, request.about, ad))
            request.field, request.source_id, request.organisation_id = field, source, organisation
            request.source_as_at = dt.date.fromisoformat(as_at) if as_at else None
        RectificationRequest.objects.using(db).bulk_update(
            chunk, ["field", "source", "source_as_at", "organisation"]
        )


class Migration(migrations.Migration):
    dependencies = [
        ("practice", "0013_name_findings_and_statutory_by_holder"),
    ]

    operations = [
        migrations.AddField(
            model_name="rectificationrequest",
            name="about",
            field=contactpoint.registry.fields.Sealed(blank=True, editable=False, null=True),
        ),
        # Nullable first, so that going back can add it again before it is opened.
        migrations.AlterField(
            model_name="rectificationrequest",
            name="field",
            field=models.CharField(max_length=16, null=True),
        ),
        migrations.RunPython(seal_existing, open_existing, elidable=False),
        migrations.RemoveField(model_name="rectificationrequest", name="field"),
        migrations.RemoveField(model_name="rectificationrequest", name="source"),
        migrations.RemoveField(model_name="rectificationrequest", name="source_as_at"),
        migrations.RemoveField(model_name="rectificationrequest", name="organisation"),
    ]
