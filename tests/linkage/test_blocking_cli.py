"""`contactpoint linkage blocking --truth`: blocking recall against a synthetic truth."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from contactpoint.linkage import bulk
from contactpoint.linkage.evaluate import read_truth
from contactpoint.linkage.inputs import feed_records
from contactpoint.synth.generate import generate
from tests.support.cli import run_cli

pytestmark = pytest.mark.django_db(databases=["default", "keys"], transaction=True)


def test_blocking_prints_recall_against_the_truth(tmp_path: Path) -> None:
    folder = tmp_path / "feeds"
    generate(children=300, seed=4, out=folder, workers=1, shard_size=300)
    out = run_cli("linkage", "blocking", "--feeds", str(folder), "--truth", str(folder / "truth"))
    found = re.search(
        r"blocking recall (\d\.\d{4}) \(([\d,]+) true pairs never scored\)", out.stdout
    )
    assert found, out.stdout
    truth = {f"{s}:{r}": c for (s, r), c in read_truth(folder / "truth").items()}
    expected = bulk.blocking_recall(feed_records(folder), truth)
    assert float(found.group(1)) == round(expected.recall, 4) > 0.99
    assert int(found.group(2).replace(",", "")) == expected.true_pairs - expected.reached


def test_blocking_refuses_a_truth_without_feeds() -> None:
    out = run_cli("linkage", "blocking", "--truth", "anywhere", check=False)
    assert out.returncode != 0 and "--truth needs --feeds" in out.stderr
