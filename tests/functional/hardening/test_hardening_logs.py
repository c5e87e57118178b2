"""The access log holds no API client id (gunicorn logs the HTTP Basic user by default)."""

from __future__ import annotations

import urllib.error
import urllib.request
from pathlib import Path

import pytest

from contactpoint.access.permissions import Role
from tests.support.actors import Actors
from tests.support.api import TOKEN_URL, basic, machine
from tests.support.cli import serving

pytestmark = pytest.mark.django_db(databases=["default", "keys"], transaction=True)


def grant(url: str, client_id: str, secret: str) -> int:
    request = urllib.request.Request(
        url + TOKEN_URL,
        data=b"grant_type=client_credentials",
        headers={
            "Authorization": basic(client_id, secret),
            "Content-Type": "application/x-www-form-urlencoded",
        },
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return int(response.status)
    except urllib.error.HTTPError as exc:
        return exc.code


def test_the_access_log_holds_no_client_id(actors: Actors, tmp_path: Path) -> None:
    school = machine(actors, actors.school_a, Role.PRACTITIONER)
    log = tmp_path / "server.log"
    with serving(log=log) as url:
        assert grant(url, school.id, school.secret) == 200
        assert grant(url, school.id, "a wrong secret") == 401
    text = log.read_text(encoding="utf-8")
    assert f'"POST {TOKEN_URL} HTTP/1.1" 200' in text
    assert f'"POST {TOKEN_URL} HTTP/1.1" 401' in text
    assert school.id not in text
