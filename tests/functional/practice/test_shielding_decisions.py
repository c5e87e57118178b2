"""Shielding decided by two people (docs/shielding.md): the service's rules, its audit
events, the review reminder and its command, and the index team's pages.

Ian and Ivan are two members of area A's (Camden's) local index team; the made-up
children's GP and school are in Camden, so it is their local index team. Isla is area B's
index team, Alice a practitioner at school A.
"""

from __future__ import annotations

import datetime as dt
import html
import json
from pathlib import Path

import pytest
from django.core import mail
from django.test import Client
from django.utils import timezone

from contactpoint.access.models import User
from contactpoint.access.permissions import Role
from contactpoint.access.standing import add_months
from contactpoint.access.users import Actor, Invalid, Refused
from contactpoint.audit.log import AuditUnavailable
from contactpoint.audit.models import Event
from contactpoint.audit.verify import verify
from contactpoint.practice import shielding
from contactpoint.registry import shield_tags
from contactpoint.registry.golden import golden_record
from contactpoint.registry.models import Child, ShieldingDecision
from tests.support.actors import Actors, signed_in, user
from tests.support.alerts import of_kind
from tests.support.audit import audit_store_broken
from tests.support.children import found, load_children
from tests.support.cli import run_cli
from tests.support.events import details_of

pytestmark = pytest.mark.django_db(databases=["default", "keys"], transaction=True)

WHY = "Mother and child have fled a violent partner who is looking for them"
WHY_NOT = "The court order has ended and the family asks to be found by services"


@pytest.fixture
def children(feeds: Path) -> dict[str, Child]:
    return load_children(feeds)


@pytest.fixture
def ivan(actors: Actors) -> User:
    """A second member of area A's local index team."""
    return user("ivan@council-a.example", "Ivan Ives", actors.council_a, Role.INDEX_TEAM, {})


def fresh(child: Child) -> Child:
    return Child.objects.get(pk=child.pk)


def shield(ian: Actor, ivan: Actor, child: Child, **asked: object) -> ShieldingDecision:
    decision = shielding.request(ian, child, "shield", "domestic_abuse", WHY, **asked)  # type: ignore[arg-type]
    return shielding.approve(ivan, decision.pk)


# The service ---------------------------------------------------------------------------


def test_shielding_takes_a_request_and_a_second_persons_approval(
    children: dict[str, Child], actors: Actors, ivan: User
) -> None:
    amelia = children["amelia"]
    ian = Actor.of(actors.ian)
    asked = shielding.request(ian, amelia, "shield", "domestic_abuse", WHY)
    assert not fresh(amelia).shielded  # one person is not enough
    assert asked.status == "requested" and asked.area_code == actors.area_a.code
    assert asked.review_on == add_months(timezone.localdate(), 12)
    assert WHY.encode() not in bytes(asked.explanation or b"")  # sealed
    assert shielding.explanation_of(asked) == WHY
    approved = shielding.approve(Actor.of(ivan), asked.pk)
    assert fresh(amelia).shielded
    assert (approved.status, approved.decided_by_id) == ("approved", ivan.pk)
    assert shielding.current(fresh(amelia)) == approved
    assert not shielding.shielded_by_feed(fresh(amelia))


def test_each_step_is_audited_with_codes_and_dates_and_nothing_identifying(
    children: dict[str, Child], actors: Actors, ivan: User
) -> None:
    amelia = children["amelia"]
    ian, second = Actor.of(actors.ian), Actor.of(ivan)
    decision = shield(ian, second, amelia)
    shielding.keep(ian, decision.pk, timezone.localdate() + dt.timedelta(days=100))
    asked = shielding.request(second, fresh(amelia), "unshield", "risk_ended", WHY_NOT)
    shielding.reject(ian, asked.pk)
    again = shielding.request(second, fresh(amelia), "unshield", "mistake", WHY_NOT)
    shielding.withdraw(second, again.pk)
    events = list(Event.objects.filter(action__startswith="child:shielding:").order_by("index"))
    assert [(e.action, e.principal) for e in events] == [
        ("child:shielding:request", f"user:{actors.ian.pk}"),
        ("child:shielding:approve", f"user:{ivan.pk}"),
        ("child:shielding:review", f"user:{actors.ian.pk}"),
        ("child:shielding:request", f"user:{ivan.pk}"),
        ("child:shielding:reject", f"user:{actors.ian.pk}"),
        ("child:shielding:request", f"user:{ivan.pk}"),
        ("child:shielding:withdraw", f"user:{ivan.pk}"),
    ]
    assert all(e.child_id == amelia.pk and e.outcome == "allowed" for e in events)
    first = details_of(events[0])
    assert first["decision"] == str(decision.pk)
    assert (first["action"], first["reason"]) == ("shield", "domestic_abuse")
    assert first["review_on"] == add_months(timezone.localdate(), 12).isoformat()
    gold = golden_record(amelia.pk)
    assert gold is not None and gold.nhs_number is not None
    identifying = [WHY, WHY_NOT, "Amelia", "Hartley", "2015-03-04", "NW1", gold.nhs_number.value]
    for event in events:
        text = json.dumps(details_of(event))
        assert not [value for value in identifying if value in text], event.action
    assert verify().ok


def test_the_requester_may_not_approve_or_reject_their_own_request(
    children: dict[str, Child], actors: Actors, ivan: User
) -> None:
    amelia = children["amelia"]
    ian = Actor.of(actors.ian)
    asked = shielding.request(ian, amelia, "shield", "protection", WHY)
    with pytest.raises(Refused, match="someone else"):
        shielding.approve(ian, asked.pk)
    with pytest.raises(Refused, match="withdraw your own request"):
        shielding.reject(ian, asked.pk)
    with pytest.raises(Refused, match="only the person who asked"):
        shielding.withdraw(Actor.of(ivan), asked.pk)
    assert not fresh(amelia).shielded
    assert ShieldingDecision.objects.get().status == "requested"
    assert not Event.objects.filter(action="child:shielding:approve").exists()
    shielding.withdraw(ian, asked.pk)
    with pytest.raises(Invalid, match="no longer waiting"):
        shielding.approve(Actor.of(ivan), asked.pk)
    assert not fresh(amelia).shielded


def test_a_second_account_the_requester_vouched_for_cannot_approve(
    children: dict[str, Child], actors: Actors
) -> None:
    """One person with a second account they enabled (a sock-puppet) is not two people."""
    amelia = children["amelia"]
    puppet = user(
        "puppet@council-a.example",
        "Pat Puppet",
        actors.council_a,
        Role.INDEX_TEAM,
        {},
        enabled_by=actors.ian,
    )
    asked = shielding.request(Actor.of(actors.ian), amelia, "shield", "protection", WHY)
    with pytest.raises(Refused, match="neither enabled the requester"):
        shielding.approve(Actor.of(puppet), asked.pk)
    assert not fresh(amelia).shielded


def test_deciders_are_enabled_by_a_third_party_and_settled_in_the_role(
    children: dict[str, Child], actors: Actors, ivan: User
) -> None:
    amelia = children["amelia"]
    asked = shielding.request(Actor.of(actors.ian), amelia, "shield", "protection", WHY)
    User.objects.filter(pk=ivan.pk).update(enabled_by=ivan)  # enabled themselves
    with pytest.raises(Refused, match="someone else enabled"):
        shielding.approve(Actor.of(User.objects.get(pk=ivan.pk)), asked.pk)
    User.objects.filter(pk=ivan.pk).update(enabled_by=None)  # nobody recorded
    with pytest.raises(Refused, match="someone else enabled"):
        shielding.approve(Actor.of(User.objects.get(pk=ivan.pk)), asked.pk)
    # Held the role six days: a fresh account, or one just promoted, waits a week.
    six_days = timezone.now() - dt.timedelta(days=6)
    User.objects.filter(pk=ivan.pk).update(enabled_by=actors.nadia, role_since=six_days)
    with pytest.raises(Refused, match="held their role for 7 days"):
        shielding.approve(Actor.of(User.objects.get(pk=ivan.pk)), asked.pk)
    # The requester is held to the same: a requester who is no longer settled cannot be
    # approved for.
    User.objects.filter(pk=ivan.pk).update(role_since=six_days - dt.timedelta(days=2))
    User.objects.filter(pk=actors.ian.pk).update(role_since=six_days)
    with pytest.raises(Refused, match="held their role for 7 days"):
        shielding.approve(Actor.of(User.objects.get(pk=ivan.pk)), asked.pk)
    assert not fresh(amelia).shielded
    assert not Event.objects.filter(action="child:shielding:approve").exists()


def test_every_shielding_step_is_told_to_the_areas_privacy_officers_without_child_data(
    children: dict[str, Child], actors: Actors, ivan: User
) -> None:
    amelia = children["amelia"]
    ian, second = Actor.of(actors.ian), Actor.of(ivan)
    mail.outbox.clear()
    decision = shield(ian, second, amelia)
    shielding.keep(ian, decision.pk)
    asked = shielding.request(second, fresh(amelia), "unshield", "risk_ended", WHY_NOT)
    shielding.reject(ian, asked.pk)
    again = shielding.request(second, fresh(amelia), "unshield", "mistake", WHY_NOT)
    shielding.approve(ian, again.pk)
    told = [m for m in mail.outbox if m.to == [actors.petra.email]]
    bodies = [str(m.body) for m in told]
    assert len(told) == 7  # request, approve, keep; request, reject; request, approve
    assert "asked to shield" in bodies[0] and "approved a request to shield" in bodies[1]
    assert "kept it" in bodies[2] and "rejected a request to stop shielding" in bodies[4]
    assert "approved a request to stop shielding" in bodies[-1]
    gold = golden_record(amelia.pk)
    assert gold is not None and gold.nhs_number is not None
    identifying = [WHY, WHY_NOT, "Amelia", "Hartley", "2015-03-04", "NW1", amelia.cpid]
    for body in bodies:
        assert not [value for value in [*identifying, gold.nhs_number.value] if value in body]
    # Only area A's privacy officers: nobody else gets these e-mails.
    told_anyone = {tuple(m.to) for m in mail.outbox if m.subject.startswith("A shielding")}
    assert told_anyone == {(actors.petra.email,)}


def test_another_areas_index_team_and_a_practitioner_are_refused(
    children: dict[str, Child], actors: Actors
) -> None:
    amelia = children["amelia"]
    for outsider in (actors.isla, actors.alice, actors.petra, actors.nadia):
        with pytest.raises(Refused):
            shielding.request(Actor.of(outsider), amelia, "shield", "other", WHY)
    asked = shielding.request(Actor.of(actors.ian), amelia, "shield", "other", WHY)
    for outsider in (actors.isla, actors.alice):
        for step in (shielding.approve, shielding.reject, shielding.withdraw):
            with pytest.raises(Refused):
                step(Actor.of(outsider), asked.pk)
    assert not fresh(amelia).shielded and ShieldingDecision.objects.get().status == "requested"
    assert not shielding.may_decide(actors.isla.principal(second_factor=True), amelia.pk)
    assert shielding.may_decide(actors.ian.principal(second_factor=True), amelia.pk)


def test_a_request_must_be_complete_and_only_one_may_wait_per_child(
    children: dict[str, Child], actors: Actors
) -> None:
    amelia, ian = children["amelia"], Actor.of(actors.ian)
    today = timezone.localdate()
    wrong = [
        (("shield", "risk_ended", WHY), {}, "select the reason"),
        (("shield", "other", "too short"), {}, "at least 20 characters"),
        (("unshield", "risk_ended", WHY), {}, "not shielded"),
        (("hide", "other", WHY), {}, "select whether"),
        (("shield", "other", WHY), {"review_on": today}, "in the future"),
        (("shield", "other", WHY), {"review_on": add_months(today, 25)}, "within 24 months"),
    ]
    for args, more, message in wrong:
        with pytest.raises(Invalid, match=message):
            shielding.request(ian, amelia, *args, **more)  # type: ignore[arg-type]
    assert not ShieldingDecision.objects.exists() and not Event.objects.exists()
    longest = add_months(today, 24)
    asked = shielding.request(ian, amelia, "shield", "adoption", WHY, review_on=longest)
    assert asked.review_on == longest
    with pytest.raises(Invalid, match="already waiting"):
        shielding.request(ian, amelia, "shield", "other", WHY)


def test_unshielding_a_child_a_feed_flag_shielded_takes_the_same_two_steps(
    children: dict[str, Child], actors: Actors, ivan: User
) -> None:
    oliver = children["oliver"]
    shield_tags.shield([oliver.pk])  # as a sensitive record does
    oliver = fresh(oliver)
    assert shielding.shielded_by_feed(oliver) and shielding.current(oliver) is None
    asked = shielding.request(Actor.of(ivan), oliver, "unshield", "mistake", WHY_NOT)
    assert asked.review_on is None and fresh(oliver).shielded
    event = Event.objects.get(action="child:shielding:request")
    assert details_of(event)["shielded_by_feed"] is True
    with pytest.raises(Refused):
        shielding.approve(Actor.of(ivan), asked.pk)
    shielding.approve(Actor.of(actors.ian), asked.pk)
    assert not fresh(oliver).shielded
    assert not shielding.due_for_review(add_months(timezone.localdate(), 30)).exists()


def test_a_step_the_audit_log_cannot_record_changes_nothing(
    children: dict[str, Child], actors: Actors, ivan: User
) -> None:
    amelia, ian = children["amelia"], Actor.of(actors.ian)
    with audit_store_broken(), pytest.raises(AuditUnavailable):
        shielding.request(ian, amelia, "shield", "domestic_abuse", WHY)
    assert not ShieldingDecision.objects.exists()
    asked = shielding.request(ian, amelia, "shield", "domestic_abuse", WHY)
    for step in (shielding.approve, shielding.reject):
        with audit_store_broken(), pytest.raises(AuditUnavailable):
            step(Actor.of(ivan), asked.pk)
    assert not fresh(amelia).shielded
    assert ShieldingDecision.objects.get().status == "requested"
    shielding.approve(Actor.of(ivan), asked.pk)
    review_on = ShieldingDecision.objects.get().review_on
    with audit_store_broken(), pytest.raises(AuditUnavailable):
        shielding.keep(ian, asked.pk, timezone.localdate() + dt.timedelta(days=30))
    assert ShieldingDecision.objects.get().review_on == review_on
    assert verify().ok


def test_the_review_is_reminded_once_and_keeping_it_sets_the_next_one(
    children: dict[str, Child], actors: Actors, ivan: User
) -> None:
    amelia, ian = children["amelia"], Actor.of(actors.ian)
    decision = shield(ian, Actor.of(ivan), amelia)
    due = decision.review_on
    assert due is not None
    assert shielding.remind(due - dt.timedelta(days=1)) == 0
    mail.outbox.clear()
    assert shielding.remind(due) == 1
    assert shielding.remind(due) == 0 and shielding.remind(due + dt.timedelta(days=3)) == 0
    told = of_kind("shielding_review_due")
    assert {a.recipient_id for a, _ in told} == {actors.ian.pk, ivan.pk}  # not Isla, not Alice
    # The child is only in the sealed `about`: no clear column ties it to shielding.
    assert all(o.child_id == amelia.pk for _, o in told)
    assert sorted(m.to[0] for m in mail.outbox) == sorted([actors.ian.email, ivan.email])
    for message in mail.outbox:
        assert "Amelia" not in message.body and amelia.cpid not in message.body
    later = add_months(timezone.localdate(), 18)
    kept = shielding.keep(ian, decision.pk, later)  # one person is enough to keep it
    assert kept.review_on == later
    assert kept.reviewed_by_id == actors.ian.pk and kept.reminded_at is None
    assert not shielding.due_for_review(due).exists()
    assert shielding.remind(later) == 1
    assert len(of_kind("shielding_review_due")) == 4


def test_the_reminder_command_reminds_once_and_says_how_many(
    children: dict[str, Child], actors: Actors, ivan: User
) -> None:
    decision = shield(Actor.of(actors.ian), Actor.of(ivan), children["maya"])
    assert decision.review_on is not None
    day = decision.review_on.isoformat()
    first = run_cli("shielding", "remind", "--today", day)
    assert "1 shielding(s) due for review were reminded" in first.stdout
    again = run_cli("shielding", "remind", "--today", day)
    assert "0 shielding(s)" in again.stdout
    assert len(of_kind("shielding_review_due")) == 2
    wrong = run_cli("shielding", "remind", "--today", "31/12/2030", check=False)
    assert wrong.returncode == 2 and "YYYY-MM-DD" in wrong.stderr


# The pages -----------------------------------------------------------------------------


def text(client: Client, path: str, status: int = 200) -> str:
    response = client.get(path)
    assert response.status_code == status, (path, response.status_code)
    return html.unescape(response.content.decode())


def test_the_index_team_asks_and_a_second_member_approves_through_the_pages(
    children: dict[str, Child], actors: Actors, ivan: User
) -> None:
    amelia = children["amelia"]
    record = f"/children/{amelia.cpid}"
    ian, second = signed_in(actors.ian), signed_in(ivan)
    found(Actor.of(actors.ian), amelia)
    assert f'href="{record}/shielding"' in text(ian, record)
    form = text(ian, f"{record}/shielding")
    assert "Ask to shield this child" in form and "Amelia" not in form
    incomplete = ian.post(f"{record}/shielding", {"reason": "domestic_abuse"})
    assert incomplete.status_code == 400 and "at least 20 characters" in incomplete.content.decode()
    asked = ian.post(f"{record}/shielding", {"reason": "domestic_abuse", "explanation": WHY})
    assert asked.status_code == 302 and asked["Location"] == "/shielding"
    decision = ShieldingDecision.objects.get()
    mine = text(ian, "/shielding")
    assert "Withdraw your request" in mine and "Approve" not in mine
    queue = text(second, "/shielding")
    assert amelia.cpid in queue and WHY in queue and "Find the child by a search" in queue
    for hidden in ("Amelia", "Hartley", "NW1"):
        assert hidden not in queue
    steps = f"/shielding/{decision.pk}"
    assert second.post(steps, {"decision": "approve"}).status_code == 404  # not found yet
    found(Actor.of(ivan), amelia)
    assert ">Approve" in text(second, "/shielding")
    approved = second.post(steps, {"decision": "approve"})
    assert approved.status_code == 302 and fresh(amelia).shielded
    assert "approved the request" in text(second, "/shielding")
    assert second.get(steps)["Location"] == "/shielding"


def test_the_pages_refuse_whoever_may_not_decide(
    children: dict[str, Child], actors: Actors, ivan: User
) -> None:
    amelia = children["amelia"]
    ask = f"/children/{amelia.cpid}/shielding"
    for outsider in (actors.isla, actors.alice):
        found(Actor.of(outsider), amelia)
    assert signed_in(actors.isla).get(ask).status_code == 403  # another area's team
    assert f'href="{ask}"' not in text(signed_in(actors.alice), f"/children/{amelia.cpid}")
    for outsider in (actors.alice, actors.petra, actors.nadia):
        assert signed_in(outsider).get("/shielding").status_code == 403
        assert signed_in(outsider).get(ask).status_code == 403
    ian = signed_in(actors.ian)
    assert ian.get(ask).status_code == 404  # not found by a search: no opening by ID
    assert ian.get("/children/CP-0000-0000-0000-0/shielding").status_code == 404
    asked = shielding.request(Actor.of(actors.ian), amelia, "shield", "other", WHY)
    isla = signed_in(actors.isla)
    assert isla.post(f"/shielding/{asked.pk}", {"decision": "approve"}).status_code == 403
    found(Actor.of(actors.ian), amelia)
    own = ian.post(f"/shielding/{asked.pk}", {"decision": "approve"})
    assert own.status_code == 403 and "someone else" in own.content.decode().lower()
    assert not fresh(amelia).shielded


def test_keeping_a_shielding_due_for_review_through_the_queue(
    children: dict[str, Child], actors: Actors, ivan: User
) -> None:
    amelia = children["amelia"]
    decision = shield(Actor.of(actors.ian), Actor.of(ivan), amelia)
    ShieldingDecision.objects.filter(pk=decision.pk).update(review_on=timezone.localdate())
    ian = signed_in(actors.ian)
    queue = text(ian, "/shielding")
    assert f'id="due-{decision.pk}"' in queue and "Keep shielding" in queue
    steps = f"/shielding/{decision.pk}"
    far = add_months(timezone.localdate(), 30)
    field = f"review-{decision.pk}"
    wrong = ian.post(
        steps,
        {"decision": "keep", f"{field}-day": str(far.day), f"{field}-month": str(far.month)}
        | {f"{field}-year": str(far.year)},
    )
    assert wrong.status_code == 400 and "within 24 months" in wrong.content.decode()
    assert ian.post(steps, {"decision": "keep"}).status_code == 302
    kept = ShieldingDecision.objects.get()
    assert kept.review_on == add_months(timezone.localdate(), 12)
    assert "No shielding is due for review" in text(ian, "/shielding")
    assert Event.objects.filter(action="child:shielding:review").count() == 1


def test_a_shielded_childs_details_never_reach_anyone_who_may_not_see_them(
    children: dict[str, Child], actors: Actors, ivan: User
) -> None:
    """The explanation and the child's identifying data, read from every page the shielding
    work touches, as everyone but the child's local index team."""
    amelia = children["amelia"]
    gold = golden_record(amelia.pk)
    assert gold is not None and gold.nhs_number is not None
    secrets = [WHY, WHY_NOT, "1 Test Road", "NW1 3AB", gold.nhs_number.value, "Elm Tree"]
    ian_actor = Actor.of(actors.ian)
    decision = shield(ian_actor, Actor.of(ivan), amelia)
    ShieldingDecision.objects.filter(pk=decision.pk).update(review_on=timezone.localdate())
    shielding.remind(timezone.localdate())
    waiting = shielding.request(ian_actor, fresh(amelia), "unshield", "risk_ended", WHY_NOT)
    paths = ["/shielding", f"/children/{amelia.cpid}/shielding", "/alerts"]
    paths.append(f"/children/{amelia.cpid}")
    third = user("iona@school-a.example", "Iona Ide", actors.school_a, Role.PRACTITIONER, {})
    for outsider in (actors.alice, actors.isla, actors.petra, actors.nadia, third):
        client = signed_in(outsider)
        found(Actor.of(outsider), amelia)
        seen = [html.unescape(client.get(p, follow=True).content.decode()) for p in paths]
        for pk in (decision.pk, waiting.pk):
            for step in ("approve", "reject", "withdraw", "keep"):
                answer = client.post(f"/shielding/{pk}", {"decision": step}, follow=True)
                seen.append(html.unescape(answer.content.decode()))
        leaked = [s for s in secrets for page in seen if s in page]
        assert leaked == [], outsider.email
    # Control: the same checks find them on the local index team's pages.
    ian = signed_in(actors.ian)
    assert WHY_NOT in text(ian, "/shielding")
    assert "NW1 3AB" in text(ian, f"/children/{amelia.cpid}")
    assert fresh(amelia).shielded and ShieldingDecision.objects.get(pk=waiting.pk).status == (
        "requested"
    )
