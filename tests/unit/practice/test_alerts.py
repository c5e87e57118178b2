"""Alerts: whom an involvement's alert goes to, one alert per person, an e-mail that holds
no child data, and an inbox only its owner can mark read."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core import mail

from contactpoint.practice.involvements import alerts
from contactpoint.practice.models import Alert
from contactpoint.registry.involvement_facts import with_links
from contactpoint.registry.models import Involvement, Practitioner
from tests.support.actors import Actors
from tests.support.alerts import naming
from tests.support.children import a_child, an_involvement

pytestmark = pytest.mark.django_db(databases=["default", "keys"], transaction=True)

TODAY = dt.date.today()


def test_an_involvement_without_a_named_user_alerts_its_organisations_practitioners(
    actors: Actors,
) -> None:
    involvement = an_involvement(a_child(1), actors.school_a, "school", last_confirmed=TODAY)
    (opened,) = with_links([involvement])
    assert {u.email for u in alerts.people_of(opened)} == {actors.alice.email, actors.bob.email}
    actors.bob.enabled = False
    actors.bob.save(update_fields=["enabled"])
    assert [u.email for u in alerts.people_of(opened)] == [actors.alice.email]


def test_an_involvement_with_a_named_user_alerts_them_alone(actors: Actors) -> None:
    named = Practitioner.objects.create(
        organisation=actors.school_a, user=actors.bob, name="Bob Brown"
    )
    involvement = an_involvement(
        a_child(2), actors.school_a, "school", last_confirmed=TODAY, practitioner=named
    )
    (opened,) = with_links(Involvement.objects.filter(pk=involvement.pk))
    assert [u.email for u in alerts.people_of(opened)] == [actors.bob.email]


def test_each_recipient_gets_one_alert_and_one_mail_without_child_data(
    actors: Actors,
) -> None:
    child = a_child(3)
    raised = alerts.raise_alert(
        [actors.alice, actors.bob, actors.alice], Alert.Kind.CONFIRM_DUE, child=child
    )
    assert sorted(a.recipient.email for a in raised) == [actors.alice.email, actors.bob.email]
    assert len(naming(child.pk)) == 2
    assert sorted(m.to[0] for m in mail.outbox) == [actors.alice.email, actors.bob.email]
    for message in mail.outbox:
        assert "an involvement needs confirming" in message.body
        assert str(child.pk) not in message.body
        assert child.cpid not in message.body


def test_only_the_recipient_marks_an_alert_read(actors: Actors) -> None:
    (alert,) = alerts.raise_alert([actors.alice], Alert.Kind.JOINED, child=a_child(4))
    assert alerts.unread(actors.alice) == 1
    alerts.mark_read(actors.bob, alert.pk)
    assert alerts.unread(actors.alice) == 1
    alerts.mark_read(actors.alice, alert.pk)
    assert alerts.unread(actors.alice) == 0
    assert [a.pk for a in alerts.inbox(actors.alice)] == [alert.pk]
    assert list(alerts.inbox(actors.bob)) == []
