"""`contactpoint linkage train|thresholds|model` on records with no NHS number or UPN, and
the first load's training (store.active_or_trained)."""

from __future__ import annotations

import csv
import re
import shutil
from pathlib import Path

import pytest
from django.conf import settings

from contactpoint.linkage import store
from contactpoint.linkage.inputs import feed_table
from contactpoint.linkage.models import LinkageModel
from tests.support.cli import run_cli

pytestmark = [
    pytest.mark.slow,
    pytest.mark.django_db(databases=["default", "keys"], transaction=True),
]


def _without_national_identifiers(population: Path, out: Path) -> Path:
    """The population's feeds with every NHS number and UPN blanked."""
    shutil.copytree(population, out, ignore=shutil.ignore_patterns("truth"))
    for path in out.glob("*/*.csv"):
        with path.open(newline="", encoding="utf-8") as handle:
            rows = list(csv.DictReader(handle))
        if not rows or "nhs_number" not in rows[0]:
            continue
        with path.open("w", newline="", encoding="utf-8") as handle:
            writer = csv.DictWriter(handle, list(rows[0]), lineterminator="\n")
            writer.writeheader()
            writer.writerows({**r, "nhs_number": "", "upn": ""} for r in rows)
    return out


def test_train_needs_no_nhs_number_or_upn(population: Path, tmp_path: Path) -> None:
    feeds = _without_national_identifiers(population, tmp_path / "feeds")
    out = run_cli("linkage", "train", "--feeds", str(feeds), "--min-records", "500").stdout
    assert "linkage model v1 trained on" in out
    assert "expected precision at link:" in out and "expected review share:" in out
    saved = LinkageModel.objects.get(version=1)
    prior = saved.figures["prior"]
    assert prior["rule_pairs"]["nhs_number"] == prior["rule_pairs"]["upn"] == 0
    assert prior["rule_pairs"]["given_name+family_name+dob"] > 100
    assert 0 < prior["probability"] < 1
    assert set(saved.figures["em"]) == {"dob", "given_phonetic+family_phonetic"}
    chosen = saved.figures["thresholds"]
    assert (saved.upper_weight, saved.lower_weight) == (chosen["upper"], chosen["lower"])
    assert chosen["precision"] >= 0.999 and saved.lower_weight <= saved.upper_weight

    shown = run_cli("linkage", "model", "--chart", str(tmp_path / "charts")).stdout
    assert "given and family names swapped" in shown and "frequency-adjusted" in shown
    assert "prior from deterministic rules" in shown
    html = (tmp_path / "charts" / "match-weights.html").read_text(encoding="utf-8")
    assert "vega" in html and "given_name" in html
    assert (tmp_path / "charts" / "m-u-parameters.html").exists()


def test_thresholds_for_a_stricter_target_link_higher(population: Path) -> None:
    def link_at(precision: str) -> float:
        out = run_cli("linkage", "thresholds", "--feeds", str(population), "--precision", precision)
        found = re.search(r"link at (-?[\d.]+),", out.stdout)
        assert found is not None
        return float(found.group(1))

    loose, strict = link_at("0.9"), link_at("0.9999")
    assert loose < strict
    assert LinkageModel.objects.get(active=True).upper_weight == pytest.approx(strict)


def test_a_first_load_into_an_empty_registry_trains_first(
    population: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(store, "FIRST_TRAINING_MIN", 500)
    assert not store.needs_training()  # off unless asked
    monkeypatch.setattr(settings, "LINKAGE_TRAIN_FIRST_LOAD", True)
    assert store.needs_training()
    model = store.active_or_trained(lambda: feed_table(population, workers=1))
    assert model.version == 1 and model.record.records_trained > 1000
    assert model.upper == model.record.figures["thresholds"]["upper"]
    assert not store.needs_training()
    assert store.active_or_trained(lambda: feed_table(population, workers=1)).version == 1


def test_too_few_records_keep_the_bootstrap_model(
    population: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(store, "FIRST_TRAINING_MIN", 10**6)
    monkeypatch.setattr(settings, "LINKAGE_TRAIN_FIRST_LOAD", True)
    assert store.active_or_trained(lambda: feed_table(population, workers=1)).version == 0
