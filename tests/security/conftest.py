"""What the security suite measured, printed at the end of the run (`pytest -s` not needed).

Tests record figures with `report(line)`; the terminal summary lists them, so CI's log
shows how many generated cases ran and how many children each role could open.
"""

from __future__ import annotations

import pytest

_FIGURES: list[str] = []


def report(line: str) -> None:
    """Keep a measured figure for the summary (never a child's data)."""
    _FIGURES.append(line)
    print(line)


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if _FIGURES:
        terminalreporter.section("security figures")
        for line in _FIGURES:
            terminalreporter.write_line(line)
