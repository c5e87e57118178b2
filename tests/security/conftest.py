"""What the security suite measured, printed at the end of the run (`pytest -s` not needed).

Tests record figures with `report(line)` (tests/support/security.py); the terminal summary
lists them, so CI's log shows how many generated cases ran and how many children each role
could open.
"""

from __future__ import annotations

import pytest

from tests.support.security import FIGURES


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if FIGURES:
        terminalreporter.section("security figures")
        for line in FIGURES:
            terminalreporter.write_line(line)
