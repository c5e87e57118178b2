"""A locked or read-only database: every page answers 503 with the service's own page and
the API 503 JSON, within the worker's time; `/health` says when the audit log cannot be
written and publishes no counts; a bad Host header gets a 400 with the security headers."""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from django.db import connection
from django.test import Client

from contactpoint import config
from contactpoint.access.permissions import Role
from contactpoint.registry.models import Child
from tests.support.actors import PASSWORD, Actors, signed_in
from tests.support.api import FORM, TOKEN_URL, Caller, basic, machine
from tests.support.audit import audit_store_broken
from tests.support.children import load_children
from tests.support.cli import serving
from tests.support.database import database_locked
from tests.support.pages import AMELIA

pytestmark = pytest.mark.django_db(databases=["default", "keys"], transaction=True)

UNAVAILABLE = "Sorry, the service is unavailable"


@pytest.fixture
def children(feeds: Path) -> dict[str, Child]:
    return load_children(feeds)


@contextmanager
def read_only() -> Iterator[None]:
    """The registry database refuses every write on this process's connection, as a
    read-only mount, a replica promoted wrongly or a revoked grant would."""
    sqlite = connection.vendor == "sqlite"
    with connection.cursor() as cursor:
        cursor.execute(
            "PRAGMA query_only=ON" if sqlite else "SET default_transaction_read_only = on"
        )
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute(
                "PRAGMA query_only=OFF" if sqlite else "SET default_transaction_read_only = off"
            )


def grant(cid: str, secret: str) -> Any:
    """A token grant, answered as a server answers it (no exception re-raised)."""
    return Client(raise_request_exception=False).post(
        TOKEN_URL,
        "grant_type=client_credentials",
        content_type=FORM,
        headers={"Authorization": basic(cid, secret)},
    )


def assert_service_page(response: Any) -> None:
    assert response.status_code == 503, response.status_code
    assert UNAVAILABLE in response.content.decode()
    assert response["Content-Security-Policy"].startswith("default-src 'self'")
    assert response["Cache-Control"] == "no-store"


def test_a_read_only_database_answers_503_with_the_service_page_everywhere(
    children: dict[str, Child], actors: Actors
) -> None:
    alice = signed_in(actors.alice)
    alice.raise_request_exception = False  # answer as a server does, not re-raise
    assert alice.post("/search", AMELIA).status_code == 303  # found: to the results
    record = f"/children/{children['amelia'].cpid}"
    with read_only():
        anonymous = Client(raise_request_exception=False)
        assert_service_page(anonymous.post("/sign-in", {"email": "a@b.example", "password": "x"}))
        assert_service_page(
            anonymous.post("/sign-in", {"email": actors.bob.email, "password": PASSWORD})
        )
        for response in (alice.get("/account"), alice.post("/search", AMELIA), alice.get(record)):
            assert_service_page(response)
            assert "Hartley" not in response.content.decode()


def test_a_read_only_database_answers_503_json_to_token_grants_and_api_calls(
    children: dict[str, Child], actors: Actors
) -> None:
    school = machine(actors, actors.school_a, Role.PRACTITIONER)
    caller = Caller(school)
    caller.http.raise_request_exception = False
    with read_only():
        for response in (
            grant(school.id, school.secret),
            grant(school.id, "a wrong secret"),
            caller.post(
                "/children/search",
                {
                    "purpose": "starting_work",
                    "family_name": "Hartley",
                    "given_name": "Amelia",
                    "date_of_birth": "2015-03-04",
                },
            ),
        ):
            assert response.status_code == 503, response.content
            assert response["Content-Type"].startswith("application/json")
            assert response.json()["detail"]
            assert "Hartley" not in response.content.decode()


def test_the_database_wait_is_shorter_than_the_worker_timeout() -> None:
    from django.conf import settings

    from contactpoint import gunicorn_conf

    timeout = int(gunicorn_conf.timeout)
    db = settings.DATABASES["default"]
    if connection.vendor == "sqlite":
        init = db["OPTIONS"]["init_command"]
        busy_ms = int(init.split("busy_timeout=")[1].split(";")[0])
        assert busy_ms < timeout * 1000
    else:
        options = db["OPTIONS"]["options"]
        lock_ms = int(options.split("lock_timeout=")[1].split()[0])
        assert lock_ms < timeout * 1000
    assert config.db_wait_seconds() < timeout


def post_form(url: str, data: dict[str, str], headers: dict[str, str]) -> tuple[int, str]:
    body = "&".join(f"{k}={v}" for k, v in data.items()).encode()
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return int(response.status), response.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()


def test_a_locked_database_answers_503_before_the_worker_is_killed(actors: Actors) -> None:
    school = machine(actors, actors.school_a, Role.PRACTITIONER)
    headers = {
        "Authorization": basic(school.id, school.secret),
        "Content-Type": "application/x-www-form-urlencoded",
    }
    # 20 s: a cold worker's first request imports the whole application, slow on a busy host.
    env = {"CONTACTPOINT_DB_WAIT_SECONDS": "2", "CONTACTPOINT_WORKER_TIMEOUT_SECONDS": "20"}
    with serving(env) as url:
        assert post_form(url + TOKEN_URL, {"grant_type": "client_credentials"}, headers)[0] == 200
        with database_locked():
            started = time.monotonic()
            try:
                status, body = post_form(
                    url + TOKEN_URL, {"grant_type": "client_credentials"}, headers
                )
            except (ConnectionError, urllib.error.URLError) as exc:  # the worker was killed
                status, body = 0, repr(exc)
            waited = time.monotonic() - started
    assert status == 503, (status, body, waited)
    assert "try again" in json.loads(body)["detail"]
    assert waited < 20


def test_health_says_503_when_the_audit_log_cannot_be_written(actors: Actors) -> None:
    assert Client().get("/health").status_code == 200
    with audit_store_broken():
        answer = Client().get("/health")
    assert answer.status_code == 503
    assert answer.json()["status"] == "unavailable"


def test_health_publishes_no_registry_counts(children: dict[str, Child]) -> None:
    answer = Client().get("/health").json()
    assert answer == {"status": "ok"}


def test_a_bad_host_header_gets_a_400_with_the_security_headers() -> None:
    answer = Client().get("/sign-in", headers={"Host": "evil.example"})
    assert answer.status_code == 400
    assert answer["Content-Security-Policy"].startswith("default-src 'self'")
    assert answer["Strict-Transport-Security"].startswith("max-age=")
    assert answer["X-Content-Type-Options"] == "nosniff"
    assert answer["X-Frame-Options"] == "DENY"
    assert answer["Cache-Control"] == "no-store"
    assert "problem with the request" in answer.content.decode()
