"""The practitioner journey's services on real data: search, the record's three views,
registration and match alerts, emergency access, sensitive services, lead professional,
shielding and expiry. Pages and the API are tested in their own files."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from django.core import mail
from django.test import override_settings
from django.utils import timezone

from contactpoint.access.users import Actor, Invalid, Refused
from contactpoint.practice import involvements
from contactpoint.practice.involvements import Details, emergency, expiry
from contactpoint.practice.models import Alert, EmergencyAccess, Finding
from contactpoint.practice.record import View, may_open, record_for
from contactpoint.registry import shield_tags
from contactpoint.registry.lookup import NotFound
from contactpoint.registry.models import Child, Involvement
from contactpoint.search import service
from contactpoint.search.criteria import Asked, check
from tests.support.actors import Actors
from tests.support.alerts import naming, of_kind
from tests.support.children import PEOPLE, at, found, load_children

pytestmark = pytest.mark.django_db(databases=["default", "keys"], transaction=True)

TODAY = dt.date(2026, 11, 26)


@pytest.fixture
def children(feeds: Path) -> dict[str, Child]:
    return load_children(feeds)


def register(actor: Actor, child: Child, details: Details) -> Involvement:
    found(actor, child)
    return involvements.register(actor, child, details)


def open_emergency(actor: Actor, child: Child, reason: str, text: str) -> EmergencyAccess:
    found(actor, child)
    return emergency.open_access(actor, child, reason, text)


def criteria(born: str, **fields: str) -> Asked:
    return Asked(purpose="starting_work", date_of_birth=dt.date.fromisoformat(born), **fields)


def test_search_finds_a_child_despite_a_typo_and_a_swapped_date(children: dict[str, Child]) -> None:
    found = service.find(
        check(criteria("2015-04-03", family_name="Hartley", given_name="Amelai"), TODAY)
    )
    assert [c.child_id for c in found.candidates] == [children["amelia"].pk]
    (best,) = found.candidates
    assert (best.given_name, best.family_name, best.birth_year, best.district) == (
        "Amelia",
        "Hartley",
        2015,
        "NW1",
    )
    assert found.message is None


def test_search_finds_a_double_barrelled_name_by_one_part_and_a_district(
    children: dict[str, Child],
) -> None:
    found = service.find(check(criteria("2014-11-09", family_name="Jones", postcode="NW5"), TODAY))
    assert [c.child_id for c in found.candidates] == [children["oliver"].pk]


def test_a_weak_match_says_add_a_detail_and_shows_no_one(children: dict[str, Child]) -> None:
    found = service.find(
        check(criteria("2016-03-04", family_name="Hartley", given_name="Amelia"), TODAY)
    )
    assert found.candidates == ()
    assert found.message == service.NO_MATCH


def test_search_by_nhs_number_and_date_of_birth(children: dict[str, Child]) -> None:
    number = involvements_number(children["maya"])
    found = service.find(check(criteria("2017-06-21", nhs_number=number), TODAY))
    assert [c.child_id for c in found.candidates] == [children["maya"].pk]


def involvements_number(child: Child) -> str:
    from contactpoint.registry.golden import golden_record

    record = golden_record(child.pk)
    assert record is not None and record.nhs_number is not None
    return record.nhs_number.value


@override_settings(CONTACTPOINT_SEARCHES_PER_HOUR=2)
def test_the_hourly_quota_stops_the_third_search(
    children: dict[str, Child], actors: Actors
) -> None:
    asked = check(criteria("2012-01-15", family_name="Wright", given_name="Jacob"), TODAY)
    for _ in range(2):
        assert service.search(actors.alice.principal(second_factor=True), asked).candidates
    with pytest.raises(service.QuotaExceeded):
        service.search(actors.alice.principal(second_factor=True), asked)
    assert service.search(
        actors.bob.principal(second_factor=True), asked
    ).candidates  # bob's own quota


def test_contacts_only_after_registering_and_everyone_involved_is_told(
    children: dict[str, Child], actors: Actors
) -> None:
    child = children["amelia"]
    alice, charlie = Actor.of(actors.alice), Actor.of(actors.charlie)
    first = record_for(alice.principal, child)
    assert first.view is View.IDENTITY
    assert first.address is None and first.involvements == () and first.carers == ()
    assert first.services_involved == 2  # the GP and the school, from the feeds

    register(charlie, child, Details("social_worker", "Social worker", "0207 1"))
    mail.outbox.clear()
    joined = register(alice, child, Details("school_nurse", "School nurse", "0207 2"))

    full = record_for(alice.principal, child)
    assert full.view is View.FULL
    assert full.postcode is not None and full.postcode.value == "NW1 3AB"
    assert {i.role for i in full.involvements} == {
        "GP practice",
        "School",
        "Social worker",
        "School nurse",
    }
    mine = next(i for i in full.involvements if i.mine)
    assert (mine.practitioner, mine.phone, mine.kept_by) == (
        actors.alice.name,
        "0207 2",
        "Registered in contactpoint",
    )
    ((_, told),) = of_kind(Alert.Kind.JOINED, recipient=actors.charlie)
    assert told.involvement_id == joined.pk
    assert not Alert.objects.filter(recipient=actors.alice).exists()
    (sent,) = [m for m in mail.outbox if actors.charlie.email in m.to]
    for secret in ("Amelia", "Hartley", "2015", "NW1", child.cpid, actors.alice.name):
        assert secret not in f"{sent.subject} {sent.body}"

    with pytest.raises(Invalid, match="already registered"):
        register(alice, child, Details("school_nurse", "Nurse", "0207 2"))


def test_emergency_access_is_timed_alerts_the_privacy_officer_and_waits_for_review(
    children: dict[str, Child], actors: Actors
) -> None:
    child = children["maya"]
    alice = Actor.of(actors.alice)
    with pytest.raises(Invalid, match="at least"):
        open_emergency(alice, child, "immediate_risk", "too short")
    access = open_emergency(
        alice, child, "immediate_risk", "Police called about the child at the address tonight"
    )
    assert record_for(alice.principal, child).view is View.FULL
    assert record_for(alice.principal, child).emergency_until == access.expires_at
    assert naming(access.pk, recipient=actors.petra)
    assert emergency.explanations_of([access])[access.pk].startswith("Police called")
    petra = Actor.of(actors.petra)
    assert list(emergency.to_review(petra)) == [access]
    with pytest.raises(Refused):
        emergency.review(Actor.of(actors.ian), access.pk, "justified")
    emergency.review(petra, access.pk, "justified")
    assert list(emergency.to_review(petra)) == []

    EmergencyAccess.objects.filter(pk=access.pk).update(expires_at=access.granted_at)
    assert record_for(alice.principal, child).view is View.IDENTITY


def test_a_shielded_child_is_withheld_from_all_but_its_local_index_team(
    children: dict[str, Child], actors: Actors
) -> None:
    child = children["jacob"]
    register(Actor.of(actors.alice), child, Details("school_nurse", "Nurse", "1"))
    shield_tags.shield([child.pk])
    child.refresh_from_db()
    withheld = record_for(actors.alice.principal(second_factor=True), child)
    assert withheld.view is View.WITHHELD
    assert (withheld.address, withheld.postcode, withheld.carers, withheld.involvements) == (
        None,
        None,
        (),
        (),
    )
    assert withheld.given_name is not None and withheld.date_of_birth is not None
    # Camden's index team (the school and GP are in Camden) sees it; Hackney's does not.
    assert record_for(actors.ian.principal(second_factor=True), child).view is View.FULL
    assert record_for(actors.isla.principal(second_factor=True), child).view is View.WITHHELD
    for who in (actors.charlie, actors.bob):
        with pytest.raises(Refused, match="shielded"):
            register(Actor.of(who), child, Details("social_worker", "SW", "1"))
        with pytest.raises(Refused, match="shielded"):
            open_emergency(Actor.of(who), child, "missing", "x" * 30)
    found = service.find(
        check(criteria("2012-01-15", family_name="Wright", given_name="Jacob"), TODAY)
    )
    (candidate,) = found.candidates
    assert candidate.shielded and candidate.district is None


def test_a_sensitive_service_shows_to_others_only_as_an_additional_service(
    children: dict[str, Child], actors: Actors
) -> None:
    child = children["oliver"]
    charlie, alice = Actor.of(actors.charlie), Actor.of(actors.alice)
    with pytest.raises(Invalid, match="consent"):
        register(
            charlie,
            child,
            Details("health_service", "CAMHS worker", "1", sensitive_category="mental_health"),
        )
    sensitive = register(
        charlie,
        child,
        Details(
            "health_service",
            "CAMHS worker",
            "0208 1",
            sensitive_category="mental_health",
            consent_basis="young_person_consent",
        ),
    )
    register(alice, child, Details("school_nurse", "Nurse", "0207 2"))
    assert not of_kind(Alert.Kind.JOINED, recipient=actors.alice)
    seen = record_for(alice.principal, child)
    hidden = next(i for i in seen.involvements if i.id == sensitive.pk)
    assert hidden.sensitive and hidden.organisation == "" and hidden.practitioner == ""
    own = next(i for i in record_for(charlie.principal, child).involvements if i.id == sensitive.pk)
    assert own.organisation == actors.council_b.name
    request = involvements.request_contact(alice, sensitive.pk)
    assert naming(request.pk, recipient=actors.charlie)
    involvements.answer_contact(charlie, request.pk, contacted=True)


def test_lead_professional_is_one_per_child_and_moves_by_agreement(
    children: dict[str, Child], actors: Actors
) -> None:
    child = children["amelia"]
    alice, charlie = Actor.of(actors.alice), Actor.of(actors.charlie)
    mine = register(alice, child, Details("school_nurse", "Nurse", "1"))
    theirs = register(charlie, child, Details("social_worker", "SW", "2"))
    assert involvements.become_lead(alice, mine.pk) is None
    handover = involvements.become_lead(charlie, theirs.pk)
    assert handover is not None
    with pytest.raises(Refused):
        involvements.decide_handover(charlie, handover.pk, agree=True)
    involvements.decide_handover(alice, handover.pk, agree=True)
    lead = Involvement.objects.get(child=child, lead_professional=True, end_date__isnull=True)
    assert lead.pk == theirs.pk
    with pytest.raises(Refused):
        involvements.end(alice, theirs.pk)
    involvements.record_caf(charlie, theirs.pk, exists=True)
    assert record_for(alice.principal, child).caf


def test_unconfirmed_involvements_are_reminded_then_expire(
    children: dict[str, Child], actors: Actors
) -> None:
    child = children["maya"]
    mine = register(Actor.of(actors.alice), child, Details("school_nurse", "N", "1"))
    Involvement.objects.filter(pk=mine.pk).update(last_confirmed=dt.date(2024, 12, 1))
    today = dt.date(2026, 11, 2)  # 23 months on
    assert expiry.run(today, dry_run=True).reminded >= 1
    assert not of_kind(Alert.Kind.CONFIRM_DUE)
    first = expiry.run(today)
    assert first.reminded >= 1
    assert expiry.run(today).reminded == 0  # reminded once
    assert len(of_kind(Alert.Kind.CONFIRM_DUE, recipient=actors.alice)) == 1
    expiry.run(dt.date(2026, 12, 1))
    mine.refresh_from_db()
    assert (mine.end_date, mine.ending) == (dt.date(2026, 12, 1), "expired")
    assert record_for(actors.alice.principal(second_factor=True), child).view is View.IDENTITY


def test_every_made_up_child_is_searchable(children: dict[str, Child]) -> None:
    for key, (given, family, born, _, _postcode) in PEOPLE.items():
        asked = check(criteria(born, family_name=family, given_name=given), TODAY)
        assert [c.child_id for c in service.find(asked).candidates] == [children[key].pk]


def test_registering_and_emergency_access_need_the_child_found_first(
    children: dict[str, Child], actors: Actors
) -> None:
    alice, child = Actor.of(actors.alice), children["maya"]
    with pytest.raises(NotFound):
        involvements.register(alice, child, Details("school_nurse", "Nurse", "1"))
    with pytest.raises(NotFound):
        emergency.open_access(alice, child, "missing", "x" * 30)
    assert not at(actors.school_a)
    assert not EmergencyAccess.objects.exists() and not Alert.objects.exists()


def test_a_record_opens_only_after_finding_the_child_or_for_those_involved(
    children: dict[str, Child], actors: Actors
) -> None:
    child = children["oliver"]
    alice = actors.alice.principal(second_factor=True)
    bob = actors.bob.principal(second_factor=True)
    assert not may_open(alice, child)  # no browsing by contactpoint ID
    asked = check(criteria("2014-11-09", family_name="Smith-Jones", given_name="Oliver"), TODAY)
    service.search(alice, asked)
    assert may_open(alice, child)
    assert not may_open(bob, child)  # what alice found is hers
    Finding.objects.update(found_at=timezone.now() - dt.timedelta(hours=11))
    assert not may_open(alice, child)
    register(Actor.of(actors.bob), child, Details("school_nurse", "Nurse", "1"))
    assert may_open(alice, child)  # bob's registration involves their organisation


def test_a_search_cannot_confirm_a_guessed_address_of_a_shielded_child(
    children: dict[str, Child],
) -> None:
    def answer(postcode: str) -> tuple[object, ...]:
        asked = criteria("2012-01-15", family_name="Wright", postcode=postcode)
        return tuple(c.child_id for c in service.find(check(asked, TODAY)).candidates)

    right, wrong = answer("N16 7AB"), answer("E1 6AN")
    assert right != wrong  # not shielded: the postcode counts
    shield_tags.shield([children["jacob"].pk])
    assert answer("N16 7AB") == answer("E1 6AN") == answer("N16")


@pytest.mark.parametrize("postcode", ["NW1 3AB", "NW1"])
def test_a_misspelt_family_name_with_a_postcode_finds_the_child(
    children: dict[str, Child], postcode: str
) -> None:
    # "Harltey": the letters swapped change the phonetic key, so only the place finds her.
    asked = criteria("2015-03-04", family_name="Harltey", postcode=postcode)
    found = service.find(check(asked, TODAY))
    assert [c.child_id for c in found.candidates] == [children["amelia"].pk]


def test_indexes_rebuild_restores_every_entry(children: dict[str, Child]) -> None:
    from contactpoint.registry.models import BlindIndexEntry
    from tests.support.cli import run_cli

    before = set(BlindIndexEntry.objects.values_list("child_id", "index", "value"))
    BlindIndexEntry.objects.filter(index=6).delete()  # as loaded before index 6 existed
    out = run_cli("indexes", "rebuild").stdout
    assert "rebuilt the blind-index entries of 4 children" in out
    assert set(BlindIndexEntry.objects.values_list("child_id", "index", "value")) == before
    assert sum(1 for _, index, _ in before if index == 6) == 4


def test_a_made_up_family_name_lists_no_one(children: dict[str, Child]) -> None:
    """A real given name and date of birth with a family name no child has: no one, even
    though the given name and date agree (that would be browsing by date of birth)."""
    real = check(criteria("2015-03-04", family_name="Hartley", given_name="Amelia"), TODAY)
    made_up = check(criteria("2015-03-04", family_name="Quarrington", given_name="Amelia"), TODAY)
    assert service.find(real).candidates
    assert service.scored(made_up).ranked == []
    assert service.find(made_up).candidates == ()
