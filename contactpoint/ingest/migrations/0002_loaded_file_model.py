# A bulk load's automatic decisions are its records' own columns
# (docs/adr/0013-lean-registry-layout.md): a record it linked or founded a child with has
# no LinkDecision, its `method` and `confidence` say what the model decided, and the model
# version is on the load's files. Converting a registry deletes each automatic `auto_link`
# and `new_child` decision that repeats its record (same child, the method the action
# means, no weight: written by a bulk load or for a record with no candidate at all) and
# that nothing else names (not reversed, reversing nothing, no note, no link block). The
# model they name goes on the files, when it is one model. Going back writes a decision
# for each linked record of those methods that has none.

from __future__ import annotations

from typing import Any

import django.db.models.deletion
from django.db import migrations, models
from django.db.models import Exists, F, OuterRef, Q

AUTOMATIC = "contactpoint"
BATCH = 5000
METHOD = {"auto_link": "model", "new_child": "new_child"}


def _repeating(apps: Any, db: str) -> Any:
    decision = apps.get_model("linkage", "LinkDecision")
    block = apps.get_model("linkage", "LinkBlock")
    same = Q()
    for action, method in METHOD.items():
        same |= Q(action=action, source_record__method=method)
    # NOT EXISTS rather than a left join: SQLite scanned the whole table for the reversal.
    reversal = decision.objects.using(db).filter(reverses_id=OuterRef("pk"))
    return (
        decision.objects.using(db)
        .filter(same, decided_by=AUTOMATIC, weight__isnull=True, reverses__isnull=True)
        .filter(source_record__child_id=F("child_id"), note__isnull=True)
        .exclude(Exists(reversal))
        .exclude(Exists(block.objects.using(db).filter(decision_id=OuterRef("pk"))))
    )


def fold(apps: Any, schema_editor: Any) -> None:
    db = schema_editor.connection.alias
    repeating = _repeating(apps, db)
    chosen = set(repeating.values_list("model_id", flat=True).distinct())
    if len(chosen) == 1:
        loaded = apps.get_model("ingest", "LoadedFile")
        loaded.objects.using(db).filter(model=None).update(model_id=chosen.pop())
    decision = apps.get_model("linkage", "LinkDecision")
    while ids := list(repeating.values_list("pk", flat=True)[:BATCH]):
        decision.objects.using(db).filter(pk__in=ids).delete()


def unfold(apps: Any, schema_editor: Any) -> None:
    db = schema_editor.connection.alias
    decision = apps.get_model("linkage", "LinkDecision")
    record = apps.get_model("registry", "SourceRecord")
    models_used = set(
        apps.get_model("ingest", "LoadedFile")
        .objects.using(db)
        .exclude(model=None)
        .values_list("model_id", flat=True)
    )
    model_id = models_used.pop() if len(models_used) == 1 else None
    undecided = (
        record.objects.using(db)
        .filter(child__isnull=False, method__in=list(METHOD.values()))
        .exclude(Exists(decision.objects.using(db).filter(source_record_id=OuterRef("pk"))))
        .values_list("pk", "child_id", "method")
    )
    action = {method: action for action, method in METHOD.items()}
    decision.objects.using(db).bulk_create(
        (
            decision(
                action=action[method],
                source_record_id=pk,
                child_id=child,
                model_id=model_id,
                decided_by=AUTOMATIC,
            )
            for pk, child, method in undecided.iterator(chunk_size=BATCH)
        ),
        batch_size=BATCH,
    )


class Migration(migrations.Migration):
    dependencies = [
        ("ingest", "0001_initial"),
        ("linkage", "0005_decisions_unindexed_foreign_keys"),
    ]

    operations = [
        migrations.AddField(
            model_name="loadedfile",
            name="model",
            field=models.ForeignKey(
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="linkage.linkagemodel",
            ),
        ),
        migrations.RunPython(fold, unfold),
    ]
