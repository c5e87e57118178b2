"""Guessing at sign-in: every attempt audited, per-account limits across addresses,
sliding windows, the user and their privacy officer told of repeated wrong codes after a
right password, and the nightly misuse rule that sees it."""

from __future__ import annotations

import datetime as dt
import json
import re
import time
from typing import Any

import pytest
from django.core import mail
from django.db.models import F
from django.test import Client
from django.utils import timezone

from contactpoint.access import throttle
from contactpoint.access.models import User
from contactpoint.audit.models import Event
from contactpoint.oversight import activity, detection
from contactpoint.oversight.models import MisuseAlert
from contactpoint.web.views.signin import CODE_THROTTLED, THROTTLED, WRONG_CODE
from tests.support.actors import PASSWORD, Actors, signed_in
from tests.support.events import details_of

pytestmark = pytest.mark.django_db(databases=["default", "keys"], transaction=True)

PASSWORD_STEP, CODE_STEP = "access:sign-in:password", "access:sign-in:code"


def password_step(client: Client, email: str, password: str = PASSWORD) -> Any:
    return client.post("/sign-in", {"email": email, "password": password})


def code_step(client: Client, code: str) -> Any:
    return client.post("/sign-in/second-factor", {"code": code})


def sign_in_events(user: User | None = None) -> list[tuple[str, str, object]]:
    """(action, outcome, the attempt's kind) of each sign-in event, oldest first."""
    events = Event.objects.filter(action__startswith="access:sign-in:").order_by("index")
    if user is not None:
        events = events.filter(principal=f"user:{user.id}")
    return [(e.action, e.outcome, details_of(e).get("attempt")) for e in events]


def without_tokens(html: str) -> str:
    return re.sub(r'value="[^"]*"', 'value=""', html)


def test_every_password_and_code_attempt_is_audited_never_what_was_typed(
    actors: Actors,
) -> None:
    client = Client()
    password_step(client, actors.alice.email, "not the password")
    password_step(client, actors.alice.email)
    code_step(client, "000000")
    code_step(client, actors.code(actors.alice))
    assert sign_in_events(actors.alice) == [
        (PASSWORD_STEP, "refused", "wrong"),
        (PASSWORD_STEP, "allowed", "right"),
        (CODE_STEP, "refused", "wrong"),
        (CODE_STEP, "allowed", "right"),
        ("access:sign-in:complete", "allowed", None),
    ]
    for event in Event.objects.filter(action__startswith="access:sign-in:"):
        opened = json.dumps(details_of(event))
        assert "not the password" not in opened and PASSWORD not in opened
        assert "000000" not in opened and actors.alice.email not in opened


def test_a_throttled_code_is_audited_and_so_is_every_step_up_attempt(actors: Actors) -> None:
    client = Client()
    password_step(client, actors.alice.email)
    for _ in range(5):
        code_step(client, "123456")
    held = code_step(client, actors.code(actors.alice))
    assert held.status_code == 429 and CODE_THROTTLED in held.content.decode()
    codes = [e for e in sign_in_events(actors.alice) if e[0] == CODE_STEP]
    assert codes == [(CODE_STEP, "refused", "wrong")] * 5 + [(CODE_STEP, "refused", "throttled")]
    bob = signed_in(actors.bob)
    bob.post("/sign-in/confirm", {"code": "000000", "next": "/account"})
    bob.post("/sign-in/confirm", {"code": actors.code(actors.bob), "next": "/account"})
    assert sign_in_events(actors.bob) == [
        (CODE_STEP, "refused", "wrong"),
        (CODE_STEP, "allowed", "right"),
    ]
    # A step-up held after five wrong codes answers 429, as signing in does.
    for _ in range(5):
        bob.post("/sign-in/confirm", {"code": "000000", "next": "/account"})
    held = bob.post("/sign-in/confirm", {"code": actors.code(actors.bob), "next": "/account"})
    assert held.status_code == 429 and CODE_THROTTLED in held.content.decode()


def test_an_expired_code_and_a_used_code_are_told_apart_from_a_wrong_one(
    actors: Actors,
) -> None:
    from contactpoint.web.views.signin import EXPIRED_CODE, USED_CODE  # new messages

    client = Client()
    password_step(client, actors.alice.email)
    expired = code_step(client, actors.code(actors.alice, at=time.time() - 150))
    assert expired.status_code == 200 and EXPIRED_CODE in expired.content.decode()
    assert WRONG_CODE not in expired.content.decode()
    code = actors.code(actors.alice)
    assert code_step(client, code).status_code == 302
    again = Client()
    password_step(again, actors.alice.email)
    used = code_step(again, code)
    assert used.status_code == 200 and USED_CODE in used.content.decode()
    kinds = [e[2] for e in sign_in_events(actors.alice) if e[0] == CODE_STEP]
    assert kinds == ["expired", "right", "used"]  # each counted as a failed attempt too


def test_repeated_wrong_codes_tell_the_user_and_their_privacy_officer_once(
    actors: Actors,
) -> None:
    client = Client(REMOTE_ADDR="203.0.113.9")
    password_step(client, actors.alice.email)
    code_step(client, "111111")
    code_step(client, "222222")
    assert mail.outbox == []  # two slips are not news
    code_step(client, "333333")
    told = {m.to[0]: m.body for m in mail.outbox}
    assert set(told) == {actors.alice.email, actors.petra.email}  # petra: school A's officer
    assert "3 wrong second-factor codes" in told[actors.alice.email]
    assert "change it now" in told[actors.alice.email]
    assert actors.alice.name in told[actors.petra.email]
    for body in told.values():
        assert "333333" not in body and "203.0.113.9" not in body
    elsewhere = Client(REMOTE_ADDR="198.51.100.7")  # the same guesser, another address
    password_step(elsewhere, actors.alice.email)
    code_step(elsewhere, "444444")
    code_step(elsewhere, "555555")
    held = code_step(elsewhere, actors.code(actors.alice))
    assert held.status_code == 429  # the code limit is the account's, from any address
    assert len(mail.outbox) == 2  # told once an hour, not at every guess
    told_events = Event.objects.filter(action="access:sign-in:guessing-told")
    assert [details_of(e) for e in told_events] == [{"failures": 3, "officers": 1}]


def test_guessing_one_password_from_many_addresses_is_held_for_the_account(
    actors: Actors,
) -> None:
    # 19 failures already, each from another address (the per-address limits never trip).
    for _ in range(19):
        throttle.record_failure(throttle.SIGNIN_PER_ACCOUNT, actors.alice.email)
        throttle.record_failure(throttle.SIGNIN_PER_ACCOUNT, "nobody@school-a.example")
    password_step(Client(REMOTE_ADDR="192.0.2.20"), actors.alice.email, "the 20th guess")
    password_step(Client(REMOTE_ADDR="192.0.2.20"), "nobody@school-a.example", "the 20th guess")
    known = password_step(Client(REMOTE_ADDR="192.0.2.21"), actors.alice.email)
    unknown = password_step(Client(REMOTE_ADDR="192.0.2.21"), "nobody@school-a.example")
    assert known.status_code == unknown.status_code == 429
    assert THROTTLED in known.content.decode()
    assert without_tokens(known.content.decode()) == without_tokens(unknown.content.decode())
    held = Event.objects.filter(action=PASSWORD_STEP, principal=f"user:{actors.alice.id}")
    assert details_of(held.order_by("-index")[0]) == {
        "attempt": "throttled",
        "limits": ["signin-account"],
    }


def test_the_window_slides_so_waiting_for_a_boundary_buys_no_second_burst(
    actors: Actors,
) -> None:
    from contactpoint.access.models import ThrottleAttempt  # one row an attempt

    guesser = Client(REMOTE_ADDR="203.0.113.50")
    for _ in range(4):
        password_step(guesser, actors.alice.email, "guess")
    # Those four were 14 minutes ago: one more now fills the 15 minutes.
    ThrottleAttempt.objects.update(at=F("at") - dt.timedelta(minutes=14))
    password_step(guesser, actors.alice.email, "guess")
    assert password_step(guesser, actors.alice.email, "guess").status_code == 429
    # Two minutes on, the four have left the window but the fifth has not: four more
    # guesses, not five (a fixed window would have started afresh and allowed five).
    ThrottleAttempt.objects.update(at=F("at") - dt.timedelta(minutes=2))
    answers = [password_step(guesser, actors.alice.email, "guess").status_code for _ in range(5)]
    assert answers == [200, 200, 200, 200, 429]


def test_the_nightly_job_raises_second_factor_guessing_for_the_privacy_officer(
    actors: Actors,
) -> None:
    client = Client()
    password_step(client, actors.alice.email)
    for code in ("111111", "222222", "333333"):
        code_step(client, code)
    bob = Client()
    password_step(bob, actors.bob.email)
    code_step(bob, "111111")  # one slip
    code_step(bob, actors.code(actors.bob))
    mail.outbox.clear()
    today = timezone.now().astimezone(activity.LONDON).date()
    after = dt.datetime.combine(today + dt.timedelta(days=1), dt.time(3), activity.LONDON)
    detection.run(now=after, day=today)
    alerts = MisuseAlert.objects.filter(kind="second_factor_guessing")
    assert [(a.principal, a.organisation_id, a.count) for a in alerts] == [
        (f"user:{actors.alice.id}", actors.school_a.id, 3)
    ]
    assert "3 second factors refused after the right password" in alerts[0].reason
    assert [m.to for m in mail.outbox] == [[actors.petra.email]]
    petra = signed_in(actors.petra)
    queue = petra.get("/oversight").content.decode()
    assert "Wrong second factors after the right password" in queue
    history = petra.get(f"/oversight/users/{actors.alice.id}").content.decode()
    assert "Gave their second factor" in history
    assert "Was e-mailed about wrong second factors" in history


def test_attempts_older_than_a_week_are_pruned_whatever_their_key(actors: Actors) -> None:
    from contactpoint.access.models import Throttle, ThrottleAttempt

    throttle.record_failure(throttle.SIGNIN_PER_ACCOUNT, "one-off@example.org")
    throttle.record_failure(throttle.SIGNIN_PER_ACCOUNT, "twice@example.org")
    ThrottleAttempt.objects.update(at=F("at") - throttle.KEPT)
    throttle.record_failure(throttle.SIGNIN_PER_ACCOUNT, "twice@example.org")
    assert ThrottleAttempt.objects.count() == 1  # both old rows went, whatever their key
    assert Throttle.objects.count() == 1  # and the one-off e-mail's lock row with them
    throttle.record_failure(throttle.CODE_PER_USER, str(actors.alice.id))
    assert Throttle.objects.count() == 2  # a key that still has attempts keeps its lock row
    with pytest.raises(ValueError, match="at most"):
        throttle.Limit("too-long", 1, throttle.KEPT + dt.timedelta(seconds=1))
