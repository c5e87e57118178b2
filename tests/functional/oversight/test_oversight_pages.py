"""The privacy officer's workspace through HTTP: the misuse alert queue and its reviews, a
user's and a child's access history, suspending a user, and every user's home postcode.

Petra is school A's privacy officer: she oversees Alice and Bob (school A), never Charlie
(council B). Alerts are made as the nightly detection would leave them.
"""

from __future__ import annotations

import datetime as dt
import time
import uuid
from urllib.parse import urlsplit

import pytest
from django.test import Client
from django.utils import timezone

from contactpoint.access.middleware import FACTOR_AT
from contactpoint.access.models import User
from contactpoint.access.users import Actor
from contactpoint.audit import log as audit_log
from contactpoint.audit.models import Event
from contactpoint.audit.verify import verify
from contactpoint.lib.identifiers import new_cpid
from contactpoint.oversight import declarations, workspace
from contactpoint.oversight.models import HomePostcode, MisuseAlert
from contactpoint.oversight.rules import Kind
from contactpoint.registry.children import create_children
from contactpoint.registry.models import Child
from tests.support.actors import Actors, signed_in
from tests.support.audit import audit_store_broken

pytestmark = pytest.mark.django_db(databases=["default", "keys"], transaction=True)

NOTE = "Spoke to the user: the child is her niece, advice given"
REASON = "Looked at a relative's record, see the alert of today"


def children(count: int) -> list[Child]:
    return [child for child, _ in create_children([uuid.uuid4() for _ in range(count)])]


def raise_alert(
    user: User, kind: Kind = Kind.SAME_SURNAME_OR_ADDRESS, **fields: object
) -> MisuseAlert:
    """An alert as the nightly detection leaves it, about `user`."""
    day = dt.date.today() - dt.timedelta(days=1)
    values: dict[str, object] = {
        "kind": kind.value,
        "principal": f"user:{user.pk}",
        "organisation_id": user.organisation_id,
        "first_day": day,
        "last_day": day,
        "raised_at": timezone.now(),
        "reason": "2 children with the user's surname",
        "child_ids": [],
        "count": 2,
        **fields,
    }
    return MisuseAlert.objects.create(**values)


def looked_at(
    user: User, child: Child | None, action: str = "child:record:view", **fields: str
) -> int:
    """Append an audit event of `user`'s, as the practitioner's pages write it."""
    principal = user.principal(second_factor=True)
    child_id = child.pk if child else None
    return audit_log.append(audit_log.entry(principal, action, child_id=child_id, **fields))


def html(client: Client, path: str, status: int = 200) -> str:
    response = client.get(path)
    assert response.status_code == status, (path, response.status_code)
    return str(response.content.decode())


def redirects_to(response: object, path: str) -> bool:
    status = getattr(response, "status_code", 0)
    return status == 302 and urlsplit(response["Location"]).path == path  # type: ignore[index]


def actions_of(user: User) -> list[tuple[str, str]]:
    events = Event.objects.filter(principal=f"user:{user.pk}").order_by("index")
    return [(e.action, e.outcome) for e in events]


# The alert queue and reviews ---------------------------------------------------------------


def test_the_queue_shows_only_the_organisations_alerts_oldest_first(actors: Actors) -> None:
    older = raise_alert(
        actors.bob, Kind.OUT_OF_HOURS, raised_at=timezone.now() - dt.timedelta(days=2)
    )
    newer = raise_alert(actors.alice)
    theirs = raise_alert(actors.charlie, Kind.UNUSUAL_VOLUME, reason="Charlie's own")
    page = html(signed_in(actors.petra), "/oversight")
    waiting = page[page.index('id="waiting"') :]
    assert waiting.index(f"alert-{older.pk}") < waiting.index(f"alert-{newer.pk}")
    assert "Looked at children outside working hours" in waiting and "Bob Brown" in waiting
    assert "Looked at a child with their surname or home postcode" in waiting
    assert (
        "alice@school-a.example" in waiting and "2 children with the user&#39;s surname" in waiting
    )
    assert f'href="/oversight/alerts/{newer.pk}"' in waiting
    assert str(theirs.pk) not in page and "Charlie" not in page and "Charlie&#39;s own" not in page
    assert actions_of(actors.petra) == [("oversight:misuse-alerts:read", "allowed")]
    html(signed_in(actors.alice), "/oversight", 403)


def test_an_alert_lists_its_children_by_contactpoint_id_and_links_the_histories(
    actors: Actors,
) -> None:
    first, second = children(2)
    alert = raise_alert(actors.alice, child_ids=[str(first.pk), str(second.pk)])
    page = html(signed_in(actors.petra), f"/oversight/alerts/{alert.pk}")
    assert f'href="/oversight/children?cpid={first.cpid}"' in page
    assert f'href="/oversight/children?cpid={second.cpid}"' in page
    assert f'href="/oversight/users/{actors.alice.pk}"' in page and "Alice Adams" in page
    assert str(first.pk) not in page  # internal ids stay inside
    read = Event.objects.get(action="oversight:misuse-alert:read")
    assert read.principal == f"user:{actors.petra.pk}" and read.outcome == "allowed"


def test_reviewing_records_the_outcome_a_sealed_note_the_reviewer_and_an_audit_event(
    actors: Actors,
) -> None:
    alert = raise_alert(actors.alice)
    petra = signed_in(actors.petra)
    path = f"/oversight/alerts/{alert.pk}"
    missing = petra.post(path, {"note": "short"})
    body = missing.content.decode()
    assert missing.status_code == 400
    assert '<a href="#outcome">Select the outcome of your review' in body
    assert '<a href="#note">Write a note of at least 10 characters' in body
    assert redirects_to(petra.post(path, {"outcome": "advice", "note": NOTE}), "/oversight")
    alert.refresh_from_db()
    assert (alert.status, alert.outcome, alert.reviewed_by_id) == (
        "reviewed",
        "advice",
        actors.petra.pk,
    )
    assert alert.reviewed_at is not None
    raw = MisuseAlert.objects.filter(pk=alert.pk).values_list("note", flat=True).get()
    stored = bytes(raw or b"")
    assert b"niece" not in stored and NOTE.encode() not in stored and len(stored) > len(NOTE)
    assert workspace.alert(Actor.of(actors.petra), alert.pk).note == NOTE
    event = Event.objects.get(action="oversight:misuse-alert:review")
    assert (event.principal, event.outcome, event.child_id) == (
        f"user:{actors.petra.pk}",
        "allowed",
        None,
    )
    shown = html(petra, path)
    assert NOTE in shown and "Advice given to the user" in shown and "Petra Price" in shown
    assert 'id="review"' in shown and 'name="note"' not in shown
    queue = html(petra, "/oversight")
    assert 'id="none-waiting"' in queue and f"alert-{alert.pk}" in queue
    again = petra.post(path, {"outcome": "no_concern", "note": NOTE})
    assert again.status_code == 400 and "reviewed already" in again.content.decode()
    assert verify().ok


def test_another_organisations_alert_is_not_found_and_the_attempt_is_audited(
    actors: Actors,
) -> None:
    theirs = raise_alert(actors.charlie)
    petra = signed_in(actors.petra)
    path = f"/oversight/alerts/{theirs.pk}"
    assert petra.get(path).status_code == 404
    assert petra.post(path, {"outcome": "advice", "note": NOTE}).status_code == 404
    assert petra.get(f"/oversight/alerts/{uuid.uuid4()}").status_code == 404
    theirs.refresh_from_db()
    assert theirs.status == "open" and theirs.note is None
    assert actions_of(actors.petra) == [
        ("oversight:misuse-alert:read", "refused"),
        ("oversight:misuse-alert:review", "refused"),
        ("oversight:misuse-alert:read", "refused"),
    ]


def test_an_alert_about_the_officer_is_reviewed_by_another(actors: Actors) -> None:
    mine = raise_alert(actors.petra)
    petra = signed_in(actors.petra)
    path = f"/oversight/alerts/{mine.pk}"
    assert 'id="about-me"' in html(petra, path)
    assert petra.post(path, {"outcome": "no_concern", "note": NOTE}).status_code == 403
    mine.refresh_from_db()
    assert mine.status == "open"


def test_recording_a_review_asks_for_the_second_factor_again(actors: Actors) -> None:
    alert = raise_alert(actors.alice)
    petra = signed_in(actors.petra)
    session = petra.session
    session[FACTOR_AT] = time.time() - 3600
    session.save()
    path = f"/oversight/alerts/{alert.pk}"
    assert petra.get(path).status_code == 200  # reading needs no step-up
    response = petra.post(path, {"outcome": "advice", "note": NOTE})
    assert redirects_to(response, "/sign-in/confirm")
    alert.refresh_from_db()
    assert alert.status == "open"


# Access histories --------------------------------------------------------------------------


def test_a_users_history_shows_their_events_in_plain_words(actors: Actors) -> None:
    child, other = children(2)
    looked_at(actors.alice, None, "child:records:search", purpose="safeguarding")
    looked_at(actors.alice, child, signals="involved,same_surname")
    looked_at(actors.alice, other, "child:record:open", outcome="refused")
    looked_at(actors.bob, other)
    page = html(signed_in(actors.petra), f"/oversight/users/{actors.alice.pk}")
    table = page[page.index('id="history"') :]
    assert "Searched for a child" in table
    assert "A concern about the child&#39;s safety or welfare" in table
    assert "Viewed a child&#39;s record" in table and child.cpid in table
    assert "Their organisation is involved; the child shares their surname" in table
    assert "Opened a record by its contactpoint ID" in table and "Refused" in table
    assert table.count('id="event-') == 3  # not Bob's
    assert table.index("Opened a record") < table.index("Viewed a child")  # newest first
    read = Event.objects.filter(action="oversight:user-history:read").get()
    assert read.principal == f"user:{actors.petra.pk}" and read.outcome == "allowed"


def test_a_history_pages_back_through_older_events(actors: Actors) -> None:
    child = children(1)[0]
    indexes = [looked_at(actors.alice, child) for _ in range(5)]
    petra = Actor.of(actors.petra)
    _, first = workspace.user_history(petra, actors.alice.pk, limit=2)
    assert [e.index for e in first.events] == [indexes[4], indexes[3]]
    assert first.before == indexes[3]
    _, second = workspace.user_history(petra, actors.alice.pk, before=first.before, limit=2)
    _, last = workspace.user_history(petra, actors.alice.pk, before=second.before, limit=2)
    assert [e.index for e in second.events] == [indexes[2], indexes[1]]
    assert [e.index for e in last.events] == [indexes[0]] and last.before is None
    page = html(signed_in(actors.petra), f"/oversight/users/{actors.alice.pk}?before={indexes[2]}")
    assert page.count('id="event-') == 2 and "Newest events" in page


def test_only_the_organisations_users_histories_are_shown(actors: Actors) -> None:
    looked_at(actors.charlie, children(1)[0])
    petra = signed_in(actors.petra)
    assert petra.get(f"/oversight/users/{actors.charlie.pk}").status_code == 404
    assert petra.get(f"/oversight/users/{uuid.uuid4()}").status_code == 404
    assert actions_of(actors.petra) == [("oversight:user-history:read", "refused")] * 2
    html(signed_in(actors.alice), f"/oversight/users/{actors.bob.pk}", 403)


def test_a_childs_history_shows_only_the_organisations_users(actors: Actors) -> None:
    child, other = children(2)
    looked_at(actors.alice, child, signals="involved")
    looked_at(actors.charlie, child, signals="outside_area")
    looked_at(actors.bob, other)
    petra = signed_in(actors.petra)
    assert 'name="cpid"' in html(petra, "/oversight/children")
    page = html(petra, f"/oversight/children?cpid={child.cpid.lower()}")
    table = page[page.index('id="history"') :]
    assert "Alice Adams" in table and f'href="/oversight/users/{actors.alice.pk}"' in table
    assert "Charlie" not in page and "outside their area" not in page and "Bob" not in table
    # Alice's view, and this very reading, newest first: the officer's look is audited too.
    assert table.count('id="event-') == 2
    assert table.index("Read a child&#39;s access history") < table.index("Viewed a child")
    read = Event.objects.get(action="oversight:child-history:read", outcome="allowed")
    assert read.child_id == child.pk and read.principal == f"user:{actors.petra.pk}"


def test_an_unknown_or_malformed_contactpoint_id_gets_one_answer(actors: Actors) -> None:
    petra = signed_in(actors.petra)
    for typed in ("CP-NOT-AN-ID", new_cpid()):
        response = petra.get("/oversight/children", {"cpid": typed})
        body = response.content.decode()
        assert response.status_code == 404
        assert '<a href="#cpid">No record has this ID' in body and 'id="history"' not in body
    refused = Event.objects.filter(action="oversight:child-history:read", outcome="refused")
    assert refused.count() == 2 and all(e.child_id is None for e in refused)


# Suspending a user -------------------------------------------------------------------------


def test_suspending_a_user_ends_their_sessions_at_once_and_is_audited(actors: Actors) -> None:
    alice = signed_in(actors.alice)
    assert alice.get("/account").status_code == 200
    petra = signed_in(actors.petra)
    history = f"/oversight/users/{actors.alice.pk}"
    assert "Suspend this user" in html(petra, history)
    short = petra.post(f"{history}/suspend", {"reason": "bad"})
    assert short.status_code == 400
    assert '<a href="#reason">Write a reason of at least 10 characters' in short.content.decode()
    assert redirects_to(petra.post(f"{history}/suspend", {"reason": REASON}), history)
    page = html(petra, history)
    assert "Alice Adams is suspended" in page and "Suspend this user" not in page
    suspended = User.objects.get(pk=actors.alice.pk)
    assert not suspended.enabled and suspended.session_epoch == actors.alice.session_epoch + 1
    assert redirects_to(alice.get("/account"), "/sign-in")  # signed out on their next request
    event = Event.objects.get(action="oversight:user:suspend")
    assert (event.principal, event.outcome) == (f"user:{actors.petra.pk}", "allowed")
    assert verify().ok


def test_an_officer_suspends_neither_themselves_nor_another_organisations_user(
    actors: Actors,
) -> None:
    petra = signed_in(actors.petra)
    mine = petra.post(f"/oversight/users/{actors.petra.pk}/suspend", {"reason": REASON})
    assert mine.status_code == 403 and "You cannot suspend yourself" in mine.content.decode()
    theirs = petra.post(f"/oversight/users/{actors.charlie.pk}/suspend", {"reason": REASON})
    assert theirs.status_code == 404
    assert User.objects.filter(enabled=True).count() == len(actors.all())
    ian = signed_in(actors.ian)  # another organisation's role: refused by the rule
    assert (
        ian.post(f"/oversight/users/{actors.alice.pk}/suspend", {"reason": REASON}).status_code
        == 403
    )


def test_suspending_asks_for_the_second_factor_again(actors: Actors) -> None:
    petra = signed_in(actors.petra)
    session = petra.session
    session[FACTOR_AT] = time.time() - 3600
    session.save()
    response = petra.post(f"/oversight/users/{actors.alice.pk}/suspend", {"reason": REASON})
    assert redirects_to(response, "/sign-in/confirm")
    assert User.objects.get(pk=actors.alice.pk).enabled


# Fail-closed -------------------------------------------------------------------------------


def test_nothing_is_shown_or_changed_when_the_audit_log_cannot_be_written(
    actors: Actors,
) -> None:
    child = children(1)[0]
    alert = raise_alert(actors.alice, child_ids=[str(child.pk)])
    looked_at(actors.alice, child)
    before = Event.objects.count()
    petra, alice = signed_in(actors.petra), signed_in(actors.alice)
    user = f"/oversight/users/{actors.alice.pk}"
    with audit_store_broken():
        for path in ("/oversight", f"/oversight/alerts/{alert.pk}", user):
            response = petra.get(path)
            assert response.status_code == 503, path
            assert "Alice" not in response.content.decode()
        shown = petra.get("/oversight/children", {"cpid": child.cpid})
        assert shown.status_code == 503 and child.cpid not in shown.content.decode()
        review = {"outcome": "referred", "note": NOTE}
        assert petra.post(f"/oversight/alerts/{alert.pk}", review).status_code == 503
        assert petra.post(f"{user}/suspend", {"reason": REASON}).status_code == 503
        assert alice.post("/account/home-postcode", {"postcode": "NW1 4NP"}).status_code == 503
    alert.refresh_from_db()
    assert (alert.status, alert.outcome, alert.note, alert.reviewed_by_id) == (
        "open",
        "",
        None,
        None,
    )
    assert Event.objects.count() == before
    assert User.objects.get(pk=actors.alice.pk).enabled
    assert alice.get("/account").status_code == 200  # still signed in
    assert not HomePostcode.objects.exists()
    assert verify().ok


# The home postcode -------------------------------------------------------------------------


def test_every_user_declares_a_home_postcode_kept_sealed(actors: Actors) -> None:
    alice = signed_in(actors.alice)
    assert "Not declared yet" in html(alice, "/account")
    assert 'name="postcode"' in html(alice, "/account/home-postcode")
    wrong = alice.post("/account/home-postcode", {"postcode": "NW1 4N"})
    assert wrong.status_code == 400
    assert '<a href="#postcode">Enter a real UK postcode' in wrong.content.decode()
    assert not HomePostcode.objects.exists()
    done = alice.post("/account/home-postcode", {"postcode": " nw14np "})
    assert redirects_to(done, "/account")
    assert declarations.home_postcode(actors.alice) == "NW1 4NP"
    assert declarations.home_postcode(actors.bob) is None
    stored = bytes(HomePostcode.objects.get(user=actors.alice).postcode or b"")
    assert b"NW1" not in stored and b"4NP" not in stored and stored
    page = html(alice, "/account?done=postcode")
    assert "Your home postcode has been recorded" in page and "NW1 4NP" in page
    assert 'value="NW1 4NP"' in html(alice, "/account/home-postcode")
    assert redirects_to(alice.post("/account/home-postcode", {"postcode": "N16 7AB"}), "/account")
    assert declarations.home_postcode(actors.alice) == "N16 7AB"
    assert HomePostcode.objects.count() == 1
    declared = Event.objects.filter(action="access:home-postcode:declare")
    assert [e.principal for e in declared] == [f"user:{actors.alice.pk}"] * 2
    assert verify().ok
