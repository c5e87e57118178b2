"""No contactpoint ID in any log line: the running server's access and error logs, and
Django's own request logging."""

from __future__ import annotations

import logging
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from contactpoint.lib.identifiers import new_cpid
from contactpoint.lib.logs import MARK, Redact
from tests.support.cli import serving

pytestmark = pytest.mark.django_db(databases=["default", "keys"], transaction=True)


def get(url: str) -> int:
    request = urllib.request.Request(url)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return int(response.status)
    except urllib.error.HTTPError as exc:
        return exc.code


def cpid_ending(symbol: str) -> str:
    """A real-looking contactpoint ID whose check symbol is `symbol`."""
    while not (cpid := new_cpid()).endswith(symbol):
        pass
    return cpid


def test_the_servers_logs_never_hold_a_contactpoint_id(tmp_path: Path) -> None:
    # Check symbols a URL encodes (=) or may not (* ~ $), and a plain one.
    cpids = [cpid_ending(s) for s in ("=", "*", "~", "$")] + [new_cpid()]
    log = tmp_path / "server.log"
    with serving(log=log) as url:
        statuses = [
            status
            for cpid in cpids
            for status in (
                get(f"{url}/children/{cpid}"),  # redirected to the sign-in page
                get(f"{url}/children/{cpid.lower()}/emergency-access"),
                get(f"{url}/api/v1/children/{cpid}"),  # 401 without a token
                get(f"{url}/no-such-page/{cpid}"),  # Django's "Not Found" warning
            )
        ]
    text = log.read_text(encoding="utf-8").upper().replace("-", "")
    # Redirected to sign-in (its ?next= holds the ID), 401 without a token, 404.
    assert statuses == [200, 200, 401, 404] * len(cpids)
    assert text.count(MARK.upper().replace("-", "")) >= 4 * len(cpids), text
    for cpid in cpids:
        body = cpid.replace("-", "")[2:-1]  # the 12 characters that identify the child
        assert body not in text, cpid


def test_the_filter_redacts_formatted_arguments() -> None:
    record = logging.LogRecord(
        "x", logging.INFO, __file__, 1, "GET %s -> %d", ("/children/CP-AB12-CD34-EF56-G", 200), None
    )
    assert Redact().filter(record)
    assert record.getMessage() == f"GET /children/{MARK} -> 200"
