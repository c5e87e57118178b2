"""A real Chromium (Debian's) driven by Playwright, against `contactpoint serve`.

Without Chromium these tests skip, except under CI (`CONTACTPOINT_REQUIRE_BROWSER=1`, set
by .ci/run), where a missing browser is a failure.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from typing import Any

import pytest

from tests.support.browser import AXE

# Playwright's sync API keeps an event loop on this thread; Django's guard against async
# database access would then refuse the test database's setup and flush. The browser runs
# in another process, so nothing here is actually concurrent.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM_FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def _chromium() -> str:
    path = shutil.which("chromium")
    if path is None or not AXE.exists():
        message = "Debian's chromium and node_modules/axe-core are needed for browser tests"
        if os.environ.get("CONTACTPOINT_REQUIRE_BROWSER") == "1":
            pytest.fail(message)
        pytest.skip(message)
    return path


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    executable = _chromium()
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_FLAGS)
        yield chromium
        chromium.close()


@pytest.fixture(scope="module")
def served(django_db_setup: None) -> Iterator[str]:
    """`contactpoint serve` shared by a module's tests (each makes its own data in the test
    databases, which the server reads): one start instead of one a test."""
    from tests.support.cli import serving

    with serving() as url:
        yield url
