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
from tests.conftest import serving

pytestmark = pytest.mark.django_db(databases=["default", "keys"], transaction=True)


def get(url: str) -> int:
    request = urllib.request.Request(url)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return int(response.status)
    except urllib.error.HTTPError as exc:
        return exc.code


def test_the_servers_logs_never_hold_a_contactpoint_id(tmp_path: Path) -> None:
    cpid = new_cpid()
    log = tmp_path / "server.log"
    with serving(log=log) as url:
        statuses = [
            get(f"{url}/children/{cpid}"),  # redirected to the sign-in page
            get(f"{url}/children/{cpid.lower()}/emergency-access"),
            get(f"{url}/api/v1/children/{cpid}"),  # 401 without a token
            get(f"{url}/no-such-page/{cpid}"),  # Django's "Not Found" warning
        ]
    text = log.read_text(encoding="utf-8")
    assert statuses == [200, 200, 401, 404]  # redirected to sign-in (?next= holds the ID)
    assert text.count(MARK) >= 4, text  # the lines are there, redacted
    assert cpid not in text.upper()
    compact = cpid.replace("-", "")
    assert compact not in text.upper().replace("-", "")


def test_the_filter_redacts_formatted_arguments() -> None:
    record = logging.LogRecord(
        "x", logging.INFO, __file__, 1, "GET %s -> %d", ("/children/CP-AB12-CD34-EF56-G", 200), None
    )
    assert Redact().filter(record)
    assert record.getMessage() == f"GET /children/{MARK} -> 200"
