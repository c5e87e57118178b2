# A source record no longer says in clear which source sent it (ADR 0010): `source_id`
# beside `child_id` told a thief with the database that youth offending, a council's social
# care or a local clinic knows the child. Each record's source is sealed under its owner's
# data key (its child's, or its own while it waits) as `origin` (registry/origins.py), and
# records are unique on `record_ref` alone: its HMAC input already holds the source's code.
#
# The data step seals the source of every record, a thousand at a time, then the clear
# column and the old unique constraint are dropped. A record whose owner's key is gone (a
# purged child) keeps no origin: nothing could open it.

from __future__ import annotations

import struct
from typing import Any

import django.db.models.deletion
from django.db import migrations, models

import contactpoint.registry.fields

BATCH = 1000
LAYOUT = struct.Struct(">I")  # as contactpoint.registry.origins


def _each_chunk(apps: Any, schema_editor: Any, column: str, convert: Any) -> None:
    """`convert(model, record, cipher)` for every record (`cipher` None where its owner's
    key is gone), a thousand records at a time, each chunk's `column` then saved."""
    from contactpoint.keystore import service as keys
    from contactpoint.registry.cipher import ChildCipher

    record_model = apps.get_model("registry", "SourceRecord")
    rows = record_model.objects.using(schema_editor.connection.alias).order_by("id")
    last = None
    while True:
        page = rows if last is None else rows.filter(id__gt=last)
        chunk = list(page.only("id", "child_id", "source_id", "origin")[:BATCH])
        if not chunk:
            return
        last = chunk[-1].pk
        owners = {sr.child_id or sr.pk for sr in chunk}
        ciphers = {o: ChildCipher(o, k) for o, k in keys.data_keys(owners).items()}
        for sr in chunk:
            convert(record_model, sr, ciphers.get(sr.child_id or sr.pk))
        rows.bulk_update(chunk, [column], batch_size=500)


def _seal(record_model: Any, sr: Any, cipher: Any) -> None:
    if cipher is not None:
        value = LAYOUT.pack(sr.source_id)
        sr.origin = cipher.seal_bytes(record_model, "origin", sr.pk, value)


def seal_origins(apps: Any, schema_editor: Any) -> None:
    _each_chunk(apps, schema_editor, "origin", _seal)


def clear_sources(apps: Any, schema_editor: Any) -> None:
    """Back: the clear source of every record, opened from its origin. A record whose key
    is gone (a purged child) has none that can be known again: it takes the first source's
    id, which the old layout needs (not null); nothing can read such a record anyway."""
    source_model = apps.get_model("registry", "Source")
    first = source_model.objects.using(schema_editor.connection.alias).order_by("id").first()

    def opened(record_model: Any, sr: Any, cipher: Any) -> None:
        if cipher is not None and sr.origin is not None:
            value = cipher.open_bytes(record_model, "origin", sr.pk, bytes(sr.origin))
            (sr.source_id,) = LAYOUT.unpack(value)
        else:
            sr.source_id = first.pk

    _each_chunk(apps, schema_editor, "source", opened)


class Migration(migrations.Migration):
    dependencies = [
        ("registry", "0024_blind_index_values_32_bits"),
    ]

    operations = [
        migrations.AddField(
            model_name="sourcerecord",
            name="origin",
            field=contactpoint.registry.fields.Sealed(blank=True, editable=False, null=True),
        ),
        # Nullable first, so that going back adds it nullable, fills it, then requires it.
        migrations.AlterField(
            model_name="sourcerecord",
            name="source",
            field=models.ForeignKey(
                db_index=False,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                to="registry.source",
            ),
        ),
        migrations.RunPython(seal_origins, clear_sources, elidable=False),
        migrations.RemoveConstraint(model_name="sourcerecord", name="one_record_per_ref"),
        migrations.RemoveField(model_name="sourcerecord", name="source"),
        migrations.AddConstraint(
            model_name="sourcerecord",
            constraint=models.UniqueConstraint(fields=("record_ref",), name="one_record_per_ref"),
        ),
    ]
