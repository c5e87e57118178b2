"""Signing in through HTTP: password, second factor, throttles, sessions and headers."""

from __future__ import annotations

import datetime as dt
import re
import time
from typing import Any

import pyotp
import pytest
from django.contrib.sessions.models import Session
from django.test import Client
from django.utils import timezone

from contactpoint.access.middleware import FACTOR_AT, SIGNED_IN_AT
from contactpoint.access.models import Accreditation, ResetRequest, TotpDevice, User
from contactpoint.web.views.signin import CODE_THROTTLED, THROTTLED, USED_CODE, WRONG, WRONG_CODE
from tests.support.actors import PASSWORD, Actors, signed_in

pytestmark = pytest.mark.django_db(databases=["default", "keys"], transaction=True)


def password_step(client: Client, email: str, password: str = PASSWORD) -> Any:
    return client.post("/sign-in", {"email": email, "password": password})


def sign_in(client: Client, actors: Actors, user: User) -> None:
    assert password_step(client, user.email)["Location"].startswith("/sign-in/second-factor")
    response = client.post("/sign-in/second-factor", {"code": actors.code(user)})
    assert response.status_code == 302 and response["Location"] == "/"


def without_tokens(html: str) -> str:
    return re.sub(r'value="[^"]*"', 'value=""', html)


def test_password_then_code_signs_in_and_each_step_gets_a_new_session_id(actors: Actors) -> None:
    client = Client()
    client.get("/sign-in")
    assert client.get("/account")["Location"].startswith("/sign-in?next=/account")
    before = client.session.session_key
    response = password_step(client, actors.alice.email)
    assert response["Location"] == "/sign-in/second-factor?next=/"
    middle = client.session.session_key
    assert client.get("/account")["Location"].startswith("/sign-in")  # not signed in yet
    response = client.post("/sign-in/second-factor", {"code": actors.code(actors.alice)})
    assert response["Location"] == "/"
    after = client.session.session_key
    assert len({before, middle, after}) == 3
    page = client.get("/account")
    assert page.status_code == 200 and "Alice Adams" in page.content.decode()


def test_a_wrong_password_and_an_unknown_user_get_the_same_answer(actors: Actors) -> None:
    wrong = password_step(Client(), actors.alice.email, "not the password")
    unknown = password_step(Client(), "nobody@school-a.example", "not the password")
    assert wrong.status_code == unknown.status_code == 200
    assert WRONG in wrong.content.decode()
    assert without_tokens(wrong.content.decode()) == without_tokens(unknown.content.decode())


def test_a_wrong_code_is_refused_and_a_code_is_never_accepted_twice(actors: Actors) -> None:
    client = Client()
    password_step(client, actors.alice.email)
    response = client.post("/sign-in/second-factor", {"code": "000000"})
    assert response.status_code == 200 and WRONG_CODE in response.content.decode()
    code = actors.code(actors.alice)
    assert client.post("/sign-in/second-factor", {"code": code}).status_code == 302
    again = Client()
    password_step(again, actors.alice.email)
    response = again.post("/sign-in/second-factor", {"code": code})
    assert response.status_code == 200 and USED_CODE in response.content.decode()


def test_guessing_passwords_is_throttled_but_the_real_user_elsewhere_is_not(
    actors: Actors,
) -> None:
    attacker = Client(REMOTE_ADDR="203.0.113.9")
    for _ in range(5):
        password_step(attacker, actors.alice.email, "guess")
    response = password_step(attacker, actors.alice.email)  # even the right one, now
    assert response.status_code == 429 and THROTTLED in response.content.decode()
    unknown = password_step(attacker, "nobody@example.org", "guess")
    assert unknown.status_code == 200  # a throttle per e-mail and address, not per address
    office = Client(REMOTE_ADDR="198.51.100.7")
    assert password_step(office, actors.alice.email).status_code == 302


def test_guessing_codes_is_throttled(actors: Actors) -> None:
    client = Client()
    password_step(client, actors.alice.email)
    for _ in range(5):
        client.post("/sign-in/second-factor", {"code": "123456"})
    response = client.post("/sign-in/second-factor", {"code": actors.code(actors.alice)})
    assert response.status_code == 429 and CODE_THROTTLED in response.content.decode()


def test_a_first_sign_in_sets_up_an_authenticator_app_before_anything_else(
    actors: Actors,
) -> None:
    TotpDevice.objects.filter(user=actors.bob).delete()
    client = Client()
    assert password_step(client, actors.bob.email)["Location"].startswith("/sign-in/set-up")
    assert client.get("/sign-in/second-factor")["Location"] == "/sign-in/set-up"
    page = client.get("/sign-in/set-up").content.decode()
    assert 'src="data:image/svg+xml' in page
    secret = re.search(r'id="totp-secret">([A-Z2-7 ]+)<', page)
    assert secret is not None
    code = pyotp.TOTP(secret.group(1).replace(" ", "")).now()
    assert client.post("/sign-in/set-up", {"code": "111111"}).status_code == 200
    assert client.post("/sign-in/set-up", {"code": code})["Location"] == "/"
    assert TotpDevice.objects.filter(user=actors.bob, confirmed=True).count() == 1


def test_set_up_is_not_open_to_someone_who_only_knows_the_password(actors: Actors) -> None:
    client = Client()
    password_step(client, actors.alice.email)  # alice already has an app
    assert client.get("/sign-in/set-up")["Location"] == "/sign-in/second-factor"
    assert TotpDevice.objects.filter(user=actors.alice).count() == 1


def test_a_user_of_a_lapsed_organisation_cannot_sign_in(actors: Actors) -> None:
    Accreditation.objects.filter(organisation=actors.school_a).update(
        expires_on=dt.date.today() - dt.timedelta(days=1)
    )
    client = Client()
    password_step(client, actors.alice.email)
    response = client.post("/sign-in/second-factor", {"code": actors.code(actors.alice)})
    assert response.status_code == 403
    assert "accreditation lapsed" in response.content.decode()
    assert client.get("/account").status_code == 302


def test_an_idle_session_ends_on_the_server(actors: Actors) -> None:
    client = signed_in(actors.alice)
    assert client.get("/account").status_code == 200
    Session.objects.filter(session_key=client.session.session_key).update(
        expire_date=timezone.now() - dt.timedelta(seconds=1)
    )
    assert client.get("/account")["Location"].startswith("/sign-in")


def test_a_session_ends_after_ten_hours_however_busy(actors: Actors) -> None:
    client = signed_in(actors.alice)
    session = client.session
    session[SIGNED_IN_AT] = time.time() - 10 * 3600 - 1
    session.save()
    assert client.get("/account")["Location"].startswith("/sign-in")


def test_a_sensitive_action_asks_for_the_second_factor_again(actors: Actors) -> None:
    client = signed_in(actors.alice)
    session = client.session
    session[FACTOR_AT] = time.time() - 301
    session.save()
    before = client.session.session_key
    response = client.get("/account/password")
    assert response["Location"] == "/sign-in/confirm?next=/account/password"
    wrong = client.post("/sign-in/confirm", {"code": "000000", "next": "/account/password"})
    assert wrong.status_code == 200 and WRONG_CODE in wrong.content.decode()
    response = client.post(
        "/sign-in/confirm", {"code": actors.code(actors.alice), "next": "/account/password"}
    )
    assert response["Location"] == "/account/password"
    assert client.session.session_key != before
    assert client.get("/account/password").status_code == 200


def test_sign_out_ends_the_session_on_the_server(actors: Actors) -> None:
    client = signed_in(actors.alice)
    key = client.session.session_key
    assert client.post("/sign-out").status_code == 200
    assert not Session.objects.filter(session_key=key).exists()
    assert client.get("/account").status_code == 302


def test_a_forgotten_password_answers_the_same_for_anyone(actors: Actors) -> None:
    known = Client().post("/sign-in/forgotten-password", {"email": actors.alice.email})
    unknown = Client().post("/sign-in/forgotten-password", {"email": "nobody@example.org"})
    assert known.status_code == unknown.status_code == 200
    assert without_tokens(known.content.decode()) == without_tokens(unknown.content.decode())
    assert ResetRequest.objects.filter(user=actors.alice, handled_at=None).count() == 1


def test_the_next_address_cannot_send_a_user_elsewhere(actors: Actors) -> None:
    client = Client()
    client.post(
        "/sign-in", {"email": actors.alice.email, "password": PASSWORD, "next": "//evil.example/"}
    )
    response = client.post("/sign-in/second-factor", {"code": actors.code(actors.alice)})
    assert response["Location"] == "/"


def test_cookies_are_host_prefixed_secure_httponly_and_strict(actors: Actors) -> None:
    client = Client()
    client.get("/sign-in")
    response = password_step(client, actors.alice.email)
    for name in ("__Host-session", "__Host-csrftoken"):
        morsel = client.cookies[name]
        assert morsel["secure"] and morsel["httponly"] and morsel["path"] == "/"
        assert morsel["samesite"] == "Strict" and not morsel["domain"]
    assert "__Host-session" in response.cookies


@pytest.mark.parametrize("url", ["/", "/sign-in", "/no-such-page", "/account"])
def test_every_response_carries_the_security_headers(url: str) -> None:
    response = Client().get(url)
    csp = response["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in csp and "script-src 'self'" in csp
    assert "unsafe-inline" not in csp
    assert response["Strict-Transport-Security"].startswith("max-age=31536000")
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"
    assert response["Cache-Control"] == "no-store"
    assert response["X-Frame-Options"] == "DENY"
