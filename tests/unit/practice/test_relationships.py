"""The relationship rule against real involvements: open, ended, another organisation."""

from __future__ import annotations

import datetime as dt

import pytest

from contactpoint.practice.relationships import contacts_decision
from tests.support.actors import Actors
from tests.support.children import a_child, an_involvement

pytestmark = pytest.mark.django_db(databases=["default", "keys"], transaction=True)


def test_contacts_follow_an_open_involvement_of_the_users_organisation(actors: Actors) -> None:
    at_school_a, ended, elsewhere = a_child(1), a_child(2), a_child(3)
    today = dt.date.today()
    an_involvement(at_school_a, actors.school_a, "school", last_confirmed=today)
    an_involvement(ended, actors.school_a, "school", last_confirmed=today, end_date=today)
    an_involvement(elsewhere, actors.council_b, "social_worker", last_confirmed=today)
    alice = actors.alice.principal(second_factor=True)
    charlie = actors.charlie.principal(second_factor=True)
    assert contacts_decision(alice, at_school_a.id)
    assert not contacts_decision(alice, ended.id)
    assert not contacts_decision(alice, elsewhere.id)
    assert contacts_decision(charlie, elsewhere.id)
    # Bob works at school A too: the relationship is his organisation's, not Alice's own.
    assert contacts_decision(actors.bob.principal(second_factor=True), at_school_a.id)
    # A privacy officer at school A is not a practitioner: the role does not hold it.
    assert not contacts_decision(actors.petra.principal(second_factor=True), at_school_a.id)
    # Without a second factor, or suspended, nothing.
    assert not contacts_decision(actors.alice.principal(second_factor=False), at_school_a.id)
