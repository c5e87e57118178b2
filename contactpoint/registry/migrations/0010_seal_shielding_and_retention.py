# A stolen database says neither which children are shielded nor why, nor an archive day
# or a retention extension (ADR 0010):
# - `child.shielded` becomes a ShieldTag row per shielded child (a keyed digest of its id);
# - a shielding decision names its child by a keyed digest (`child_tag`) and a sealed id
#   (`child_ref`, under a key derived from the index key), and its reason is sealed under
#   the child's key at a fixed length;
# - `archived_on` becomes the quarter in clear (`archived_quarter`) and the day sealed
#   (`archived_day`); `retention_extension` is sealed (`extension`) for every child, empty
#   or not, so its presence says nothing.
#
# The data step converts an existing registry a thousand children at a time, then drops
# the clear columns. A child whose data key is gone (purged) keeps no day, extension or
# reason: those clear values are dropped unsealed.

from __future__ import annotations

import uuid
from typing import Any

from django.db import migrations, models

import contactpoint.registry.fields

BATCH = 1000
# As contactpoint.registry.shield_tags and retention_facts.
SHIELDED_KEY = "child-shielded/v1"
DECISION_CHILD_KEY = "shielding-child/v1"
DECISION_REF_KEY = "shielding-ref/v1"
REASON_SIZE = 16
EXTENSION_SIZE = 12
DAY_SIZE = 10


def _quarter(day: Any) -> Any:
    return day.replace(month=3 * ((day.month - 1) // 3) + 1, day=1)


def seal_existing(apps: Any, schema_editor: Any) -> None:
    from contactpoint.keystore import service as keys
    from contactpoint.keystore.index_key import derived_key
    from contactpoint.lib import crypto
    from contactpoint.registry.cipher import ChildCipher

    Child = apps.get_model("registry", "Child")
    ShieldTag = apps.get_model("registry", "ShieldTag")
    ShieldingDecision = apps.get_model("registry", "ShieldingDecision")
    db = schema_editor.connection.alias
    if not Child.objects.using(db).exists():
        return
    shielded_key = derived_key(SHIELDED_KEY)
    after: uuid.UUID | None = None
    while True:
        rows = Child.objects.using(db).order_by("id")
        if after is not None:
            rows = rows.filter(id__gt=after)
        chunk = list(rows.only("id", "shielded", "archived_on", "retention_extension")[:BATCH])
        if not chunk:
            break
        after = chunk[-1].pk
        ciphers = {c: ChildCipher(c, k) for c, k in keys.data_keys([c.pk for c in chunk]).items()}
        tags = [
            ShieldTag(tag=crypto.keyed_digest(shielded_key, c.pk.bytes)[:16])
            for c in chunk
            if c.shielded
        ]
        ShieldTag.objects.using(db).bulk_create(tags, ignore_conflicts=True)
        for child in chunk:
            cipher = ciphers.get(child.pk)
            if child.archived_on is not None:
                child.archived_quarter = _quarter(child.archived_on)
            if cipher is None:
                continue
            child.extension = cipher.seal_fixed(
                Child, "extension", child.pk, child.retention_extension, EXTENSION_SIZE
            )
            if child.archived_on is not None:
                day = child.archived_on.isoformat()
                child.archived_day = cipher.seal_fixed(
                    Child, "archived_day", child.pk, day, DAY_SIZE
                )
        fields = ["archived_quarter", "archived_day", "extension"]
        Child.objects.using(db).bulk_update(chunk, fields, batch_size=500)
    _seal_decisions(ShieldingDecision, db)


def _seal_decisions(decision_model: Any, db: str) -> None:
    from contactpoint.keystore import service as keys
    from contactpoint.keystore.index_key import derived_key
    from contactpoint.lib import crypto
    from contactpoint.registry.cipher import ChildCipher, associated_data

    decisions = list(decision_model.objects.using(db).all())
    if not decisions:
        return
    tag_key, ref_key = derived_key(DECISION_CHILD_KEY), derived_key(DECISION_REF_KEY)
    data_keys = keys.data_keys(list({d.child_id for d in decisions}))
    for d in decisions:
        d.child_tag = crypto.keyed_digest(tag_key, d.child_id.bytes)[:16]
        ad = associated_data(decision_model, "child_ref", d.pk)
        d.child_ref = crypto.seal(ref_key, d.child_id.bytes, ad)
        if d.child_id in data_keys:
            cipher = ChildCipher(d.child_id, data_keys[d.child_id])
            d.reason = cipher.seal_fixed(
                decision_model, "reason", d.pk, d.reason_clear, REASON_SIZE
            )
    fields = ["child_tag", "child_ref", "reason"]
    decision_model.objects.using(db).bulk_update(decisions, fields, batch_size=500)


class Migration(migrations.Migration):
    dependencies = [
        ("registry", "0009_seal_organisation_links"),
    ]

    operations = [
        migrations.CreateModel(
            name="ShieldTag",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("tag", models.BinaryField(max_length=16, unique=True)),
            ],
        ),
        migrations.AddField(
            model_name="child", name="archived_quarter", field=models.DateField(null=True)
        ),
        migrations.AddField(
            model_name="child",
            name="archived_day",
            field=contactpoint.registry.fields.Sealed(blank=True, editable=False, null=True),
        ),
        migrations.AddField(
            model_name="child",
            name="extension",
            field=contactpoint.registry.fields.Sealed(blank=True, editable=False, null=True),
        ),
        migrations.RemoveConstraint(
            model_name="shieldingdecision", name="one_open_shielding_request"
        ),
        migrations.RenameField(
            model_name="shieldingdecision", old_name="reason", new_name="reason_clear"
        ),
        migrations.AddField(
            model_name="shieldingdecision",
            name="reason",
            field=contactpoint.registry.fields.Sealed(blank=True, editable=False, null=True),
        ),
        migrations.AddField(
            model_name="shieldingdecision",
            name="child_tag",
            field=models.BinaryField(max_length=16, null=True),
        ),
        migrations.AddField(
            model_name="shieldingdecision",
            name="child_ref",
            field=contactpoint.registry.fields.Sealed(blank=True, editable=False, null=True),
        ),
        migrations.RunPython(seal_existing, migrations.RunPython.noop, elidable=False),
        migrations.RemoveField(model_name="child", name="shielded"),
        migrations.RemoveField(model_name="child", name="archived_on"),
        migrations.RemoveField(model_name="child", name="retention_extension"),
        migrations.RemoveField(model_name="shieldingdecision", name="child"),
        migrations.RemoveField(model_name="shieldingdecision", name="reason_clear"),
        migrations.AlterField(
            model_name="shieldingdecision",
            name="child_tag",
            field=models.BinaryField(db_index=True, max_length=16),
        ),
        migrations.AddConstraint(
            model_name="shieldingdecision",
            constraint=models.UniqueConstraint(
                condition=models.Q(("status", "requested")),
                fields=("child_tag",),
                name="one_open_shielding_request",
            ),
        ),
    ]
