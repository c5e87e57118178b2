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
    """`convert(record, cipher)` for every record whose owner's key is there, a thousand
    records at a time, each chunk's `column` then saved."""
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
            cipher = ciphers.get(sr.child_id or sr.pk)
            if cipher is not None:
                convert(record_model, sr, cipher)
        rows.bulk_update(chunk, [column], batch_size=500)


def _seal(record_model: Any, sr: Any, cipher: Any) -> None:
    if sr.source_id is not None:
        value = LAYOUT.pack(sr.source_id)
        sr.origin = cipher.seal_bytes(record_model, "origin", sr.pk, value)


def _open(record_model: Any, sr: Any, cipher: Any) -> None:
    if sr.origin is not None:
        opened = cipher.open_bytes(record_model, "origin", sr.pk, bytes(sr.origin))
        (sr.source_id,) = LAYOUT.unpack(opened)


def seal_origins(apps: Any, schema_editor: Any) -> None:
    _each_chunk(apps, schema_editor, "origin", _seal)


def clear_sources(apps: Any, schema_editor: Any) -> None:
    """Back: the clear source of every record whose key is there."""
    _each_chunk(apps, schema_editor, "source", _open)


class SourceMayBeNull(migrations.AlterField):
    """The clear source becomes nullable before it goes. Going back leaves it nullable:
    the source of a record whose key is gone (a purged child) cannot be known again."""

    def database_backwards(self, *args: Any, **kwargs: Any) -> None:
        return


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
        SourceMayBeNull(
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
