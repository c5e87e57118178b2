"""Load shedding: a serving process over its requests in progress answers the next request
503 at once, with Retry-After, the service's page or the API's JSON, and no audit event;
under the limit everything answers as before, and the limit frees when requests end."""

from __future__ import annotations

import json
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import pytest
from django.http import HttpRequest, HttpResponse
from django.test import RequestFactory

from contactpoint.access.permissions import Role
from contactpoint.audit.models import Event
from contactpoint.web.shedding import LoadShedding
from tests.support.actors import Actors
from tests.support.api import TOKEN_URL, basic, machine
from tests.support.cli import serving
from tests.support.database import database_locked

pytestmark = pytest.mark.django_db(databases=["default", "keys"], transaction=True)

# One request in progress (so two threads) in one worker; a request held by the locked
# database waits for it well within the test.
SHED_ONE = {"CONTACTPOINT_REQUESTS_IN_PROGRESS": "1", "CONTACTPOINT_DB_WAIT_SECONDS": "20"}
GRANT = b"grant_type=client_credentials"


@dataclass
class Answer:
    status: int
    headers: dict[str, str]
    body: str
    seconds: float


def call(url: str, path: str, auth: str | None = None) -> Answer:
    """GET `path`, or with `auth` a token grant to it."""
    headers = {}
    if auth:
        headers = {"Authorization": auth, "Content-Type": "application/x-www-form-urlencoded"}
    request = urllib.request.Request(url + path, data=GRANT if auth else None, headers=headers)
    started = time.monotonic()
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            status, head, body = response.status, response.headers, response.read()
    except urllib.error.HTTPError as exc:
        status, head, body = exc.code, exc.headers, exc.read()
    return Answer(status, dict(head.items()), body.decode(), time.monotonic() - started)


def test_over_the_limit_the_next_request_is_shed_at_once(actors: Actors, tmp_path: Path) -> None:
    school = machine(actors, actors.school_a, Role.PRACTITIONER)
    auth = basic(school.id, school.secret)
    log = tmp_path / "server.log"
    with serving(env_extra=SHED_ONE, log=log) as url:
        # Under the limit, everything answers as before.
        assert call(url, "/").status == 200
        assert call(url, TOKEN_URL, auth).status == 200
        before = Event.objects.count()

        held: list[Answer] = []
        with database_locked():
            # A token grant writes, so it waits for the lock: one request in progress.
            grant = threading.Thread(target=lambda: held.append(call(url, TOKEN_URL, auth)))
            grant.start()
            for _ in range(100):
                page = call(url, "/")
                if page.status == 503:
                    break
                time.sleep(0.1)
            api = call(url, TOKEN_URL, auth)
            assert grant.is_alive()  # still held: the shed requests did not wait for it
        grant.join(30)

        assert page.status == 503
        assert page.headers["Retry-After"] == "5"
        assert "Sorry, the service is unavailable" in page.body
        assert "more requests than it can answer" in page.body
        assert page.headers["Content-Security-Policy"]  # the security headers, as always
        assert "X-Request-ID" not in page.headers  # it never reached the audited layers
        assert "Set-Cookie" not in page.headers  # nor the session
        assert page.seconds < 2
        assert api.status == 503
        assert api.headers["Retry-After"] == "5"
        assert json.loads(api.body)["detail"].startswith("the service is busy")
        assert api.seconds < 2
        assert [answer.status for answer in held] == [200]  # the held request was unharmed
        # The shed requests wrote nothing: the held grant wrote what a grant writes.
        during = Event.objects.count()
        assert call(url, TOKEN_URL, auth).status == 200
        assert during - before == Event.objects.count() - during

        # The limit freed when the held request ended: everything answers again.
        assert call(url, "/").status == 200
        assert call(url, TOKEN_URL, auth).status == 200
    text = log.read_text(encoding="utf-8")
    shed_lines = [line for line in text.splitlines() if "request shed:" in line]
    assert shed_lines
    assert "1 in progress, limit 1" in shed_lines[0]
    assert not any(school.id in line or TOKEN_URL in line for line in shed_lines)


def test_the_readiness_check_is_never_shed_and_places_free_as_requests_end() -> None:
    release = threading.Event()

    def view(request: HttpRequest) -> HttpResponse:
        if request.path != "/health":
            release.wait(30)
        return HttpResponse("answered")

    shedding = LoadShedding(view)
    factory = RequestFactory()
    working = [
        threading.Thread(target=shedding, args=(factory.get("/start"),))
        for _ in range(shedding.limit)
    ]
    for thread in working:
        thread.start()
    for _ in range(300):
        if shedding.in_progress == shedding.limit:
            break
        time.sleep(0.01)
    assert shedding.in_progress == shedding.limit
    assert shedding(factory.get("/health")).status_code == 200
    shed = shedding(factory.get("/api/v1/children/search"))
    assert shed.status_code == 503
    assert shed["Retry-After"] == "5"
    assert shedding.shed == 1
    release.set()
    for thread in working:
        thread.join(30)
    assert shedding.in_progress == 0
    assert shedding(factory.get("/start")).status_code == 200


def test_a_request_that_raises_frees_its_place() -> None:
    calls: list[str] = []

    def fails(request: HttpRequest) -> HttpResponse:
        calls.append(request.path)
        raise RuntimeError("a fault in the view")

    shedding = LoadShedding(fails)
    request = RequestFactory().get("/start")
    for _ in range(shedding.limit + 2):
        with pytest.raises(RuntimeError):
            shedding(request)
    assert shedding.in_progress == 0
    assert len(calls) == shedding.limit + 2  # none was shed: each place was given back
    assert shedding.shed == 0
