"""Keep trained models in the registry and hand out a scorer for the active one.

A model is versioned JSON (Splink's own format). Term frequencies are stored by a keyed
digest of the value, so the table says how common some value is, never which. Until a
model has been trained on the registry, the bootstrap model shipped in data/ is used: it
was trained on a synthetic population and holds no data.
"""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass
from importlib import resources
from typing import Any

from django.db import transaction

from contactpoint.keystore.index_key import derived_key
from contactpoint.lib import crypto
from contactpoint.linkage.models import LinkageModel, TermFrequency
from contactpoint.linkage.scorer import Scorer
from contactpoint.linkage.training import Trained

# Match weights, set by evaluation on the synthetic population (docs/linkage.md): re-set
# them on real data with a labelled sample before trusting them.
DEFAULT_UPPER = 3.0
DEFAULT_LOWER = -4.0


def tf_key(column: str, value: str) -> int:
    """The keyed digest a value's term frequency is stored under (62 bits: fits a bigint)."""
    return crypto.truncated_mac(derived_key("linkage-tf/v1"), f"{column}\x1f{value}".encode(), 62)


@dataclass(frozen=True)
class ActiveModel:
    record: LinkageModel
    scorer: Scorer
    upper: float
    lower: float

    @property
    def version(self) -> int:
        return self.record.version


def bootstrap_model() -> dict[str, Any]:
    text = resources.files("contactpoint.linkage").joinpath("data/bootstrap-model.json")
    model: dict[str, Any] = json.loads(text.read_text(encoding="utf-8"))
    return model


def save(
    trained: Trained, upper: float = DEFAULT_UPPER, lower: float = DEFAULT_LOWER
) -> LinkageModel:
    """Store a newly trained model as the next version and make it the active one."""
    with transaction.atomic():
        last = LinkageModel.objects.select_for_update().order_by("-version").first()
        LinkageModel.objects.filter(active=True).update(active=False)
        record = LinkageModel.objects.create(
            version=(last.version + 1) if last else 1,
            model=trained.model,
            records_trained=trained.records,
            upper_weight=upper,
            lower_weight=lower,
            active=True,
        )
        TermFrequency.objects.bulk_create(
            (
                TermFrequency(model=record, column=column, key=tf_key(column, value), frequency=f)
                for column, values in trained.term_frequencies.items()
                for value, f in values.items()
            ),
            batch_size=2000,
        )
    _cache.clear()
    return record


_cache: dict[int, ActiveModel] = {}


def active() -> ActiveModel:
    """The active model, loaded once per process (a new version is picked up by its id).

    A registry with no model yet gets the bootstrap model as version 0.
    """
    record = LinkageModel.objects.filter(active=True).only("id").first()
    if record is None:
        record, _ = LinkageModel.objects.get_or_create(
            version=0,
            defaults={
                "model": bootstrap_model(),
                "upper_weight": DEFAULT_UPPER,
                "lower_weight": DEFAULT_LOWER,
                "active": True,
            },
        )
    if record.pk not in _cache:
        _cache.clear()
        _cache[record.pk] = _load(record.pk)
    return _cache[record.pk]


def _load(pk: int) -> ActiveModel:
    record = LinkageModel.objects.get(pk=pk)
    table = {
        (column, key): f
        for column, key, f in TermFrequency.objects.filter(model=record).values_list(
            "column", "key", "frequency"
        )
    }

    def tf(column: str, value: str) -> float | None:
        return table.get((column, tf_key(column, value)))

    return ActiveModel(record, Scorer(record.model, tf), record.upper_weight, record.lower_weight)


def splink_model(model: ActiveModel) -> dict[str, Any]:
    """The active model as Splink is to apply it: as real-time matching applies it.

    A model stored without term frequencies (the bootstrap model) is scored in real time
    with no frequency adjustment; Splink would compute frequencies from the records being
    loaded instead, and on a small load every name looks common (a child's own records
    repeat it), which would split children real-time matching joins.
    """
    stored: dict[str, Any] = model.record.model
    if TermFrequency.objects.filter(model=model.record).exists():
        return stored
    plain: dict[str, Any] = copy.deepcopy(stored)
    for comparison in plain["comparisons"]:
        for level in comparison["comparison_levels"]:
            for key in [k for k in level if k.startswith("tf_")]:
                del level[key]
    return plain
