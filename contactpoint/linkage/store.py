"""Keep trained models in the registry and hand out a scorer for the active one.

A model is versioned JSON (Splink's own format), with the figures it was trained on and
the thresholds chosen for it. Term frequencies are stored by a keyed digest of the value,
so the table says how common some value is, never which. Until a model has been trained
on the registry, the bootstrap model shipped in data/ is used: it was trained on a
synthetic population and holds no data. A first load into an empty registry trains a
model on its own records before it links them (`active_or_trained`).
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from dataclasses import dataclass
from importlib import resources
from typing import Any

import pyarrow as pa
from django.conf import settings
from django.db import transaction

from contactpoint.keystore.index_key import derived_key
from contactpoint.lib import crypto
from contactpoint.linkage import adoption, thresholds, training
from contactpoint.linkage.models import LinkageModel, LinkDecision, TermFrequency
from contactpoint.linkage.scorer import Scorer
from contactpoint.linkage.training import Progress, Trained
from contactpoint.registry.models import Source, SourceRecord

# The bootstrap model's match weights, chosen on the truth of the synthetic population it
# was trained on (docs/linkage.md#thresholds): from 5 up, 0.999 of the pairs real-time
# matching may link are one child; below -4, one in twenty is.
DEFAULT_UPPER = 5.0
DEFAULT_LOWER = -4.0
# What thresholds are chosen for when a model is trained: the precision wanted at the link
# threshold, and the most pairs for review as a share of records.
TARGET_PRECISION = 0.999
REVIEW_BUDGET = 0.01
# A first load trains only on at least this many records: on fewer, EM has too few pairs
# of one child to learn from, and the bootstrap model does better.
FIRST_TRAINING_MIN = 5000
# A load of a source the model was not trained with trains across sources when the source
# and the rest of the registry each have at least this many records (trained_for_source).
ACROSS_MIN = 200


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

    @property
    def twin_rule(self) -> bool:
        """Whether real-time matching keeps twin-like pairs for a person (realtime.
        twin_like): always, but for a model trained across sources none of which holds
        twins (trained_for_source)."""
        return (self.record.figures or {}).get("twin_rule", True) is not False


def bootstrap_model() -> dict[str, Any]:
    text = resources.files("contactpoint.linkage").joinpath("data/bootstrap-model.json")
    model: dict[str, Any] = json.loads(text.read_text(encoding="utf-8"))
    return model


def save(
    trained: Trained,
    upper: float = DEFAULT_UPPER,
    lower: float = DEFAULT_LOWER,
    chosen: thresholds.Chosen | None = None,
    adopt: bool = True,
    extra: dict[str, Any] | None = None,
) -> LinkageModel:
    """Store a newly trained model as the next version and make it the active one (unless
    not `adopt`: kept, inactive, for its figures), with its thresholds (`chosen`'s when
    given, which also go into its figures) and any `extra` figures."""
    if chosen is not None:
        upper, lower = chosen.upper, chosen.lower
    figures = {**trained.figures, "thresholds": chosen.as_dict() if chosen else None}
    figures.update(extra or {})
    with transaction.atomic():
        last = LinkageModel.objects.select_for_update().order_by("-version").first()
        if adopt:
            LinkageModel.objects.filter(active=True).update(active=False)
        record = LinkageModel.objects.create(
            version=(last.version + 1) if last else 1,
            model=trained.model,
            records_trained=trained.records,
            figures=figures,
            upper_weight=upper,
            lower_weight=lower,
            active=adopt,
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


def set_thresholds(record: LinkageModel, chosen: thresholds.Chosen) -> None:
    """Give a stored version new thresholds, and its figures how they were chosen."""
    record.upper_weight, record.lower_weight = chosen.upper, chosen.lower
    record.figures = {**record.figures, "thresholds": chosen.as_dict()}
    record.save(update_fields=["upper_weight", "lower_weight", "figures"])
    _cache.clear()


def labelled_decisions() -> list[tuple[float, bool]]:
    """People's standing decisions on review candidates: (the model's weight, same child)."""
    rows = (
        LinkDecision.objects.filter(
            action__in=[LinkDecision.Action.LINK, LinkDecision.Action.NOT_A_MATCH],
            weight__isnull=False,
            reversed_by__isnull=True,
        )
        .exclude(decided_by=LinkDecision.AUTOMATIC)
        .values_list("weight", "action")
    )
    return [(float(w), action == LinkDecision.Action.LINK) for w, action in rows if w is not None]


def choose_thresholds(
    table: pa.Table,
    model: dict[str, Any],
    target: float = TARGET_PRECISION,
    budget: float = REVIEW_BUDGET,
) -> thresholds.Chosen:
    """Thresholds for `model` on these records and people's decisions (thresholds.py)."""
    bins = thresholds.histogram(table, model)
    return thresholds.choose(bins, table.num_rows, target, budget, labelled_decisions())


def needs_training() -> bool:
    """Whether a load must train a model first: asked for (CONTACTPOINT_LINKAGE_TRAIN_FIRST_LOAD
    =1), the registry is empty (no source record) and has never had a model trained on it
    (only the bootstrap, version 0)."""
    return (
        settings.LINKAGE_TRAIN_FIRST_LOAD
        and not LinkageModel.objects.filter(version__gte=1).exists()
        and not SourceRecord.objects.exists()
    )


def active_or_trained(
    records: Callable[[], pa.Table], progress: Progress | None = None
) -> ActiveModel:
    """The active model, after training one on `records` (a table of records.SCHEMA)
    when needs_training() and there are at least FIRST_TRAINING_MIN of them: a first
    load into an empty registry trains before it links."""
    if needs_training():
        table = records()
        if table.num_rows >= FIRST_TRAINING_MIN:
            try:
                trained = training.train_table(table, progress=progress)
            except training.TooLittleToTrain as exc:
                if progress:
                    progress(f"linkage: no model trained ({exc}); linking with the active one")
                return active()
            chosen = choose_thresholds(table, trained.model)
            saved = save(trained, chosen=chosen)
            if progress:
                progress(f"linkage: model v{saved.version} trained on {table.num_rows:,} records")
    return active()


def trained_for_source(
    code: str,
    incoming: Callable[[], pa.Table],
    registry: Callable[[], dict[str, pa.Table]],
    progress: Progress | None = None,
) -> ActiveModel:
    """The model to load source `code` with: trained first, across sources, when the
    active model was not trained with that source and the registry holds another's.

    The incoming records are staged (read and standardised, not written) and, with the
    registry's, grouped by source; the model is trained on pairs across sources
    (training.train_across), its thresholds chosen for TARGET_PRECISION among those pairs,
    and it is stored as the next version with its figures and the adoption checks'
    verdict (adoption.py). It becomes the active model only when every check passes;
    otherwise it is kept inactive, and the load links with the model it had.

    Args:
        code: the source being loaded.
        incoming: its records as the load will take them (a table of records.SCHEMA).
        registry: the registry's records, a table per source code (read only when due).
        progress: called with a line for people, including whether the model was adopted.
    """
    current = active()
    say = progress or (lambda line: None)
    if code in (current.record.figures or {}).get("sources", ()):
        return current
    # The sources the registry holds records of, from the loads' own bookkeeping (a file
    # that loaded rows): no record says which source sent it (registry/origins.py).
    held = set(Source.objects.filter(loadedfile__rows_loaded__gt=0).values_list("code", flat=True))
    if not held - {code}:
        return active_or_trained(incoming, progress)
    sources = sorted({*held, code})
    last = LinkageModel.objects.order_by("-version").first()
    if last is not None and (last.figures or {}).get("sources") == sources:
        return current  # trained for these sources already, and not adopted: said then
    staged = incoming()
    tables = registry()
    if code in tables:
        staged = pa.concat_tables([tables.pop(code), staged])
    others = sum(t.num_rows for t in tables.values())
    if staged.num_rows < ACROSS_MIN or others < ACROSS_MIN:
        say(f"linkage: too few records to train across sources; linking with v{current.version}")
        return current
    sides = [*tables.values(), staged]
    try:
        trained = training.train_across(sides, progress=progress)
    except training.TooLittleToTrain as exc:
        say(f"linkage: no model trained across sources ({exc}); linking with v{current.version}")
        return current
    bins = thresholds.histogram_across(sides, trained.model)
    everything = sum(t.num_rows for t in sides)
    chosen = thresholds.choose(
        bins, everything, TARGET_PRECISION, REVIEW_BUDGET, labelled_decisions()
    )
    twins = adoption.twins_within(sides)
    twin_rule = twins > 0 or min(t.num_rows for t in sides) < adoption.TWIN_EVIDENCE_MIN
    verdict = adoption.check(trained, chosen, bins, [t.num_rows for t in sides], twin_rule)
    extra = {
        "sources": sources,
        "adoption": verdict.as_dict(),
        "twins_within_sources": twins,
        "twin_rule": twin_rule,
    }
    saved = save(trained, chosen=chosen, adopt=verdict.adopted, extra=extra)
    if verdict.adopted:
        say(
            f"linkage: model v{saved.version} trained across {', '.join(sources)} "
            f"({everything:,} records) passed its checks and is adopted"
        )
        return active()
    say(
        f"linkage: model v{saved.version} trained across {', '.join(sources)} failed "
        f"{'; '.join(verdict.failures)}: not adopted, linking with v{current.version}"
    )
    return current


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
