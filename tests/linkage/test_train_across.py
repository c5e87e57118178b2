"""A load of a source the model was not trained with trains across sources before it links.

Two local systems' exports of the same 300 children (the independent corruptor, no NHS
number or UPN): file A founds children with the bootstrap model; loading file B trains
a model on pairs across A and B, checks it (linkage/adoption.py) and links B with it
only when every check passes. The checks themselves are tried on hand-made models.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest

from contactpoint.corrupt.export import Written, write_independent
from contactpoint.ingest.loader import LocalSource, load_local
from contactpoint.ingest.mapping import read_mapping
from contactpoint.linkage import adoption, store
from contactpoint.linkage.models import LinkageModel, LinkDecision
from contactpoint.linkage.records import as_table, from_canonical
from contactpoint.linkage.thresholds import Bin, Chosen
from contactpoint.linkage.training import Trained
from tests.support.cli import run_cli

PEOPLE = 300
SEED = 20261207
DB = pytest.mark.django_db(databases=["default", "keys"], transaction=True)


def load(written: Written, lines: list[str]) -> None:
    for source in written.sources:
        mapping = read_mapping(source.mapping)
        local = LocalSource(source.code, source.code)
        load_local(local, [source.csv], mapping.reader(), lines.append)


@pytest.mark.slow
@DB
def test_a_second_system_trains_across_both_and_a_model_failing_a_check_is_not_adopted(
    tmp_path: Path,
) -> None:
    """On 300 children EM has too few pairs across the two files: the model is stored
    with its figures and verdict, and file B is linked with the bootstrap model."""
    written = write_independent(tmp_path / "files", PEOPLE, SEED)
    lines: list[str] = []
    load(written, lines)
    kept = LinkageModel.objects.get(version=1)
    codes = sorted(s.code for s in written.sources)
    assert kept.figures["sources"] == codes
    assert kept.figures["link_type"] == "link_only"
    assert kept.figures["twins_within_sources"] > 0  # these children have twins
    assert kept.figures["twin_rule"] is True
    verdict = kept.figures["adoption"]
    assert verdict["adopted"] is False
    assert "em: EM on given_phonetic+family_phonetic did not converge" in verdict["failures"]
    assert not kept.active and store.active().version == 0
    assert any("not adopted, linking with v0" in line for line in lines)
    versions = LinkDecision.objects.filter(decided_by=LinkDecision.AUTOMATIC)
    assert set(versions.values_list("model__version", flat=True)) == {0}
    shown = run_cli("linkage", "model").stdout
    assert "newest: v1, trained and not adopted: em: EM on given_phonetic" in shown
    # Loading again does not train again for the same sources.
    load(written, lines)
    assert LinkageModel.objects.count() == 2


def chosen(upper: float = 5.0, lower: float = -4.0, precision: float = 0.9995) -> Chosen:
    return Chosen(upper, lower, 0.999, precision, 0.99, 0.999, 0.01, 1000, 1000, 0, None)


def trained_like(model: dict[str, Any], prior: float = 2e-3) -> Trained:
    return Trained({**model, "probability_two_random_records_match": prior}, {}, 1000, {})


SIZES = [500, 500]  # 250,000 pairs across: a prior of 2e-3 implies 500 matches


@DB
def test_the_bootstrap_model_passes_every_check_where_the_records_hold_no_twins() -> None:
    trained, bins = trained_like(store.bootstrap_model()), [Bin(10.0, 450, 449.9)]
    verdict = adoption.check(trained, chosen(), bins, SIZES, twin_rule=False)
    assert verdict.adopted, verdict.failures
    # It leaves twins to the twin rule: among records with twins, it would not be adopted.
    with_twins = adoption.check(trained, chosen(), bins, SIZES, twin_rule=True)
    assert [f for f in with_twins.failures if f.startswith("household: twins")]


@DB
def test_a_model_that_takes_an_address_for_identity_fails_the_household_check() -> None:
    model = copy.deepcopy(store.bootstrap_model())
    for comparison in model["comparisons"]:
        if comparison["output_column_name"] == "postcode":
            exact = comparison["comparison_levels"][1]
            exact["m_probability"], exact["u_probability"] = 0.9, 1e-7  # +23 bits
    verdict = adoption.check(trained_like(model), chosen(), [Bin(10.0, 450, 449.9)], SIZES)
    assert not verdict.adopted
    assert any(f.startswith("household: brothers") for f in verdict.failures), verdict.failures


@DB
def test_implausible_priors_estimates_and_directions_fail() -> None:
    model = copy.deepcopy(store.bootstrap_model())
    given = next(c for c in model["comparisons"] if c["output_column_name"] == "given_name")
    agreeing = given["comparison_levels"][1]
    agreeing["m_probability"], agreeing["u_probability"] = 1e-3, 1e-2  # weighs against
    verdict = adoption.check(
        trained_like(model, prior=0.01),  # 2,500 matches among 500 and 500 records
        chosen(precision=0.99),
        [Bin(10.0, 900, 899.0)],  # 899 expected matches for 500 records
        SIZES,
    )
    failures = " | ".join(verdict.failures)
    assert "prior: implies 2,500 matches" in failures
    assert "estimate: precision 0.9900" in failures
    assert "estimate: 899 expected matches" in failures
    assert "direction: given_name agreeing weighs against" in failures


@DB
def test_twins_within_one_source_are_counted_and_across_sources_are_not() -> None:
    home = {"family_name": "Okafor", "postcode": "M14 5RT", "date_of_birth": "2016-05-01"}
    ada = from_canonical("1", {**home, "given_name": "Chidi"})
    obi = from_canonical("2", {**home, "given_name": "Nneka"})
    misspelt = from_canonical("3", {**home, "given_name": "Chidu"})
    assert adoption.twins_within([as_table([ada, obi])]) == 1
    assert adoption.twins_within([as_table([ada, misspelt])]) == 0  # one child, a typo
    assert adoption.twins_within([as_table([ada]), as_table([obi])]) == 0
