"""The in-process scorer gives Splink's own match weights, to 1e-9, on every level.

The fixture is a small synthetic population: every pair Splink's blocking finds, plus
pairs made by changing one field of a record (or a few that go together, as an address
does) so that every level of every comparison is scored at least once, with
term-frequency adjustments on.
"""

from __future__ import annotations

import pathlib
from collections import Counter
from typing import Any

import pytest
from splink import DuckDBAPI, Linker

from contactpoint.linkage import comparisons, training
from contactpoint.linkage.inputs import feed_records
from contactpoint.linkage.records import LinkRecord, as_table, from_canonical
from contactpoint.linkage.scorer import Scorer
from contactpoint.synth.generate import generate

TOLERANCE = 1e-9


@pytest.fixture(scope="module")
def records(tmp_path_factory: pytest.TempPathFactory) -> list[LinkRecord]:
    out: pathlib.Path = tmp_path_factory.mktemp("parity")
    generate(children=1500, seed=11, out=out / "feeds", workers=1)
    return list(feed_records(out / "feeds"))


@pytest.fixture(scope="module")
def trained(records: list[LinkRecord]) -> training.Trained:
    return training.train(records, seed=3)


def _linker(trained: training.Trained, records: list[LinkRecord]) -> Linker:
    db_api = DuckDBAPI(training.connect())
    frame = db_api.register(as_table(records), dataset_display_name="records")
    linker = Linker(frame, trained.model, log_level=None)
    for column in comparisons.TF_COLUMNS:
        linker.table_management.compute_tf_table(column)
    return linker


def _scorer(trained: training.Trained) -> Scorer:
    return Scorer(trained.model, lambda c, v: trained.term_frequencies.get(c, {}).get(v))


BASE: dict[str, Any] = {
    "given_name": "Josephine",
    "middle_names": "Rose",
    "family_name": "Stephenson",
    "former_family_name": "",
    "date_of_birth": "2015-03-07",
    "sex": "F",
    "postcode": "LS1 4AB",
    "nhs_number": "4010232137",
    "upn": "Z801234567890",
    "address_line1": "Flat 2, 12 High St",
    "address_line2": "",
    "town": "Leeds",
    "identifiers": {"camden-lapid": "P123"},
}
# One field changed at a time, each written to reach one level of one comparison.
CHANGES: dict[str, dict[str, Any]] = {
    "same": {},
    "given nickname": {"given_name": "Josie"},
    "given one edit": {"given_name": "Josephina"},
    "given phonetic": {"given_name": "Josefine"},
    "given other": {"given_name": "Amelia"},
    "given placeholder": {"given_name": "Baby"},
    "names swapped": {"given_name": "Stephenson", "family_name": "Josephine"},
    "names swapped, one slipped": {"given_name": "Stephesnon", "family_name": "Josephine"},
    "given is middle": {"given_name": "Rose", "middle_names": ""},
    "family token": {"family_name": "Stephenson-Jones"},
    "family one edit": {"family_name": "Stephensen"},
    "family phonetic": {"family_name": "Stevenson"},
    "family other": {"family_name": "Brown"},
    "family placeholder": {"family_name": "Unknown"},
    "dob missing": {"date_of_birth": ""},
    "dob swapped": {"date_of_birth": "2015-07-03"},
    "dob one digit": {"date_of_birth": "2015-03-08"},
    "dob year": {"date_of_birth": "2015-11-20"},
    "dob other": {"date_of_birth": "2012-06-01"},
    "postcode sector": {"postcode": "LS1 4ZZ"},
    "postcode district": {"postcode": "LS1 9ZZ"},
    "postcode other": {"postcode": "M1 1AA"},
    "postcode missing": {"postcode": ""},
    "sex other": {"sex": "M"},
    "sex unknown": {"sex": "U"},
    "identifiers other": {"nhs_number": "4010232145", "upn": "L802345678901"},
    "identifiers missing": {"nhs_number": "", "upn": ""},
    "house number other": {"address_line1": "14 High Street"},
    "address moved": {"postcode": "M1 1AA", "address_line1": "3 Mill Lane", "town": "Wigan"},
    "address two edits": {"postcode": "M1 1AA", "address_line1": "12 Hgih Steet"},
    "address words": {
        "postcode": "M1 1AA",
        "address_line1": "Rose Court",
        "address_line2": "High St",
    },
    "address missing": {"postcode": "M1 1AA", "address_line1": "", "town": ""},
    "town one edit": {"postcode": "M1 1AA", "town": "Leds"},
    "local id other": {"identifiers": {"camden-lapid": "P999"}},
    "local id other scheme": {"identifiers": {"leeds-pid": "P123"}},
    "local id none": {"identifiers": {}},
}


def _hand_made() -> list[LinkRecord]:
    return [from_canonical(f"hand~{name}", {**BASE, **change}) for name, change in CHANGES.items()]


def _splink_weights(
    linker: Linker, left: list[LinkRecord], right: list[LinkRecord]
) -> dict[tuple[str, str], float]:
    rows: list[dict[str, Any]] = linker.inference.score_pairs(
        [r.as_row() for r in left], [r.as_row() for r in right]
    ).as_record_list()
    return {(r["unique_id_l"], r["unique_id_r"]): float(r["match_weight"]) for r in rows}


def test_the_scorer_gives_splinks_weights_on_every_blocked_pair(
    records: list[LinkRecord], trained: training.Trained
) -> None:
    linker = _linker(trained, records)
    predicted = linker.inference.predict().as_record_list()
    by_id = {r.unique_id: r for r in records}
    scorer = _scorer(trained)
    assert len(predicted) > 1000
    worst = max(
        abs(
            scorer.score(by_id[p["unique_id_l"]], by_id[p["unique_id_r"]]).weight
            - p["match_weight"]
        )
        for p in predicted
    )
    assert worst < TOLERANCE


def test_the_scorer_gives_splinks_weights_on_every_level(
    records: list[LinkRecord], trained: training.Trained
) -> None:
    linker = _linker(trained, records)
    scorer = _scorer(trained)
    hand = _hand_made()
    sample = hand + records[:60]
    splink = _splink_weights(linker, sample, hand)
    hit: Counter[tuple[str, str]] = Counter()
    for left in sample:
        for right in hand:
            score = scorer.score(left, right)
            assert abs(score.weight - splink[(left.unique_id, right.unique_id)]) < TOLERANCE
            hit.update((c.comparison, c.level) for c in score.contributions)
    every_level = {(c.name, lv.label) for c in comparisons.COMPARISONS for lv in c.levels}
    assert every_level - set(hit) == set()
