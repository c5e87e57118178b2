# A stolen database reveals no special-category fact (ADR 0010): an involvement's role,
# sensitive category and consent basis become one fixed-size value sealed under the
# child's data key (`facts`), with a keyed digest (`slot`) keeping one open involvement per
# child, organisation and role; a carer's relationship is sealed, padded, the same way.
#
# The data step seals what an existing registry holds in clear, a thousand children at a
# time, then the clear columns are dropped. A child whose data key is gone (purged) keeps
# nothing: its clear values are dropped unsealed.

from __future__ import annotations

import json
from typing import Any

from django.db import migrations, models

import contactpoint.registry.fields

BATCH = 1000
FACTS_SIZE = 96  # as contactpoint.registry.involvement_facts.FACTS_SIZE
RELATIONSHIP_SIZE = 20  # as contactpoint.registry.children.RELATIONSHIP_SIZE
SLOT_KEY = "involvement-slot/v1"


def seal_existing(apps: Any, schema_editor: Any) -> None:
    from contactpoint.keystore import service as keys
    from contactpoint.keystore.index_key import derived_key
    from contactpoint.lib import crypto
    from contactpoint.registry.cipher import ChildCipher

    Involvement = apps.get_model("registry", "Involvement")
    Carer = apps.get_model("registry", "Carer")
    db = schema_editor.connection.alias
    children = sorted(
        set(Involvement.objects.using(db).values_list("child_id", flat=True))
        | set(Carer.objects.using(db).values_list("child_id", flat=True)),
        key=str,
    )
    slot_key = derived_key(SLOT_KEY) if children else b""
    for start in range(0, len(children), BATCH):
        chunk = children[start : start + BATCH]
        ciphers = {c: ChildCipher(c, k) for c, k in keys.data_keys(chunk).items()}
        rows = list(Involvement.objects.using(db).filter(child_id__in=chunk))
        for inv in rows:
            message = f"{inv.child_id}\x1f{inv.organisation_id}\x1f{inv.role}".encode()
            inv.slot = crypto.keyed_digest(slot_key, message)[:16]
            cipher = ciphers.get(inv.child_id)
            if cipher is not None:
                facts = [inv.role, inv.sensitive_category, inv.consent_basis]
                document = json.dumps(facts, separators=(",", ":"))
                inv.facts = cipher.seal_fixed(Involvement, "facts", inv.pk, document, FACTS_SIZE)
        Involvement.objects.using(db).bulk_update(rows, ["slot", "facts"], batch_size=500)
        carers = list(Carer.objects.using(db).filter(child_id__in=chunk))
        for carer in carers:
            cipher = ciphers.get(carer.child_id)
            if cipher is not None:
                carer.relationship = cipher.seal_fixed(
                    Carer, "relationship", carer.pk, carer.relationship_clear, RELATIONSHIP_SIZE
                )
        Carer.objects.using(db).bulk_update(carers, ["relationship"], batch_size=500)


class Migration(migrations.Migration):
    dependencies = [
        ("registry", "0007_child_purged_status"),
    ]

    operations = [
        migrations.RenameField(
            model_name="carer", old_name="relationship", new_name="relationship_clear"
        ),
        migrations.AddField(
            model_name="carer",
            name="relationship",
            field=contactpoint.registry.fields.Sealed(blank=True, editable=False, null=True),
        ),
        migrations.RemoveConstraint(
            model_name="involvement", name="sensitive_service_needs_consent_basis"
        ),
        migrations.RemoveConstraint(model_name="involvement", name="one_open_involvement_per_role"),
        migrations.AddField(
            model_name="involvement",
            name="facts",
            field=contactpoint.registry.fields.Sealed(blank=True, editable=False, null=True),
        ),
        migrations.AddField(
            model_name="involvement",
            name="slot",
            field=models.BinaryField(max_length=16, null=True),
        ),
        migrations.RunPython(seal_existing, migrations.RunPython.noop, elidable=False),
        migrations.RemoveField(model_name="carer", name="relationship_clear"),
        migrations.RemoveField(model_name="involvement", name="role"),
        migrations.RemoveField(model_name="involvement", name="sensitive_category"),
        migrations.RemoveField(model_name="involvement", name="consent_basis"),
        migrations.AlterField(
            model_name="involvement",
            name="slot",
            field=models.BinaryField(max_length=16),
        ),
        migrations.AddConstraint(
            model_name="involvement",
            constraint=models.UniqueConstraint(
                condition=models.Q(("end_date__isnull", True)),
                fields=("slot",),
                name="one_open_involvement_per_slot",
            ),
        ),
    ]
