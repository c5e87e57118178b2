"""The progress lines a load prints: rate, and with a known total, the time left."""

from __future__ import annotations

import time

from contactpoint.ingest.loader import Meter


def started_ten_seconds_ago(total: int | None) -> tuple[Meter, list[str]]:
    lines: list[str] = []
    meter = Meter("bulk write", 0, lines.append, total)
    meter.started = time.monotonic() - 10.0
    meter.last = float("-inf")  # due a line at once
    return meter, lines


def test_a_phase_with_a_known_total_says_how_far_it_is_and_the_time_left() -> None:
    meter, lines = started_ten_seconds_ago(100)
    meter.tick(25)
    assert lines == ["load: bulk write: 25 rows, 10 s, 2 rows/s, 25% of 100, about 30 s left"]


def test_a_phase_without_a_total_says_only_its_rate() -> None:
    meter, lines = started_ten_seconds_ago(None)
    meter.tick(25)
    assert lines == ["load: bulk write: 25 rows, 10 s, 2 rows/s"]
