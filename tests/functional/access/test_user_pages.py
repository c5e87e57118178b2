"""The local index team's pages for users and organisations, through HTTP as each actor."""

from __future__ import annotations

import datetime as dt
import re
import time
from urllib.parse import parse_qs, urlsplit

import pytest
from django.core import mail
from django.http.response import HttpResponseBase
from django.test import Client

from contactpoint.access.middleware import FACTOR_AT
from contactpoint.access.models import Accreditation, ResetRequest, User
from contactpoint.access.permissions import Role
from tests.support.actors import Actors, signed_in

pytestmark = pytest.mark.django_db(databases=["default", "keys"], transaction=True)


def date_fields(name: str, day: dt.date) -> dict[str, str]:
    return {
        f"{name}-day": str(day.day),
        f"{name}-month": str(day.month),
        f"{name}-year": str(day.year),
    }


def new_user(actors: Actors, email: str = "new@school-a.example") -> User:
    """A user added to school A and not yet enabled."""
    return User.objects.create(
        email=email, name="Nina New", organisation=actors.school_a, role=Role.PRACTITIONER.value
    )


def action(user: User, name: str) -> str:
    return f"/users/{user.id}/{name}"


def sent_to(response: HttpResponseBase, path: str, next_path: str) -> bool:
    """Whether the response redirects to `path?next=<next_path>` (however it is quoted)."""
    if response.status_code != 302:
        return False
    location = urlsplit(response["Location"])
    return location.path == path and parse_qs(location.query) == {"next": [next_path]}


# The list ---------------------------------------------------------------------------------


def test_the_index_team_lists_the_users_of_its_area_only(actors: Actors) -> None:
    page = signed_in(actors.ian).get("/users").text
    for user in (actors.alice, actors.bob, actors.petra, actors.ian):
        assert user.email in page
    for user in (actors.charlie, actors.isla, actors.nadia):
        assert user.email not in page
    assert 'href="/users/new"' in page and 'href="/organisations"' in page


def test_the_other_areas_index_team_lists_area_b(actors: Actors) -> None:
    page = signed_in(actors.isla).get("/users").text
    assert actors.charlie.email in page and actors.isla.email in page
    assert actors.alice.email not in page and actors.ian.email not in page


def test_a_privacy_officer_lists_their_organisations_users_only(actors: Actors) -> None:
    page = signed_in(actors.petra).get("/users").text
    for user in (actors.alice, actors.bob, actors.petra):
        assert user.email in page
    for user in (actors.ian, actors.charlie, actors.isla, actors.nadia):
        assert user.email not in page
    assert 'href="/users/new"' not in page and 'href="/organisations"' not in page


def test_the_list_shows_who_is_suspended_and_why(actors: Actors) -> None:
    new_user(actors)
    page = signed_in(actors.ian).get("/users").text
    assert "Not yet enabled" in page and "Not enabled by an authoriser" in page
    assert "Active" in page


@pytest.mark.parametrize("path", ["/users", "/users/new", "/organisations"])
def test_a_practitioner_is_refused_the_index_teams_pages(actors: Actors, path: str) -> None:
    assert signed_in(actors.alice).get(path).status_code == 403


def test_open_password_reset_requests_are_shown_to_the_index_team(actors: Actors) -> None:
    ResetRequest.objects.create(user=actors.bob)
    page = signed_in(actors.ian).get("/users").text
    assert "Password reset requests" in page
    assert f'href="/users/{actors.bob.id}">Bob Brown</a> asked' in page
    assert "Password reset requests" not in signed_in(actors.petra).get("/users").text


# Adding a user ----------------------------------------------------------------------------


def test_the_index_team_adds_a_user_who_is_emailed_a_link_and_sees_no_password(
    actors: Actors,
) -> None:
    ian = signed_in(actors.ian)
    form = {
        "email": "Dan@School-A.example",
        "name": "Dan Dale",
        "organisation": actors.school_a.code,
        "role": Role.PRACTITIONER.value,
    }
    response = ian.post("/users/new", form)
    assert response.status_code == 200
    assert "first-password" not in response.text and 'id="link-sent"' in response.text
    dan = User.objects.get(email="dan@school-a.example")
    assert not dan.has_usable_password() and not dan.enabled and dan.created_by == actors.ian
    (sent,) = mail.outbox
    assert sent.to == [dan.email] and "/activate/" in str(sent.body)


def test_adding_a_user_shows_each_mistake_at_its_field(actors: Actors) -> None:
    response = signed_in(actors.ian).post(
        "/users/new",
        {"email": actors.bob.email, "name": "Bob Again", "organisation": "", "role": ""},
    )
    page = response.text
    assert response.status_code == 400 and page.count("govuk-error-message") == 2
    assert 'href="#organisation"' in page and 'href="#role"' in page
    assert "<title>Error: Add a user" in page


def test_an_organisation_outside_the_area_cannot_be_chosen(actors: Actors) -> None:
    ian = signed_in(actors.ian)
    assert actors.council_b.code not in ian.get("/users/new").text
    form = {"email": "x@b.example", "name": "X", "organisation": actors.council_b.code}
    response = ian.post("/users/new", {**form, "role": Role.PRACTITIONER.value})
    assert response.status_code == 400 and "Select the user&#39;s organisation" in response.text
    assert not User.objects.filter(email="x@b.example").exists()


def test_the_index_team_cannot_give_the_national_admin_role(actors: Actors) -> None:
    ian = signed_in(actors.ian)
    assert 'value="practitioner"' in ian.get("/users/new").text
    offered = ian.get("/users/new").text
    assert 'value="national_admin"' not in offered
    # Nor any role at or above its own: another index team member, a privacy officer.
    assert 'value="index_team"' not in offered and 'value="privacy_officer"' not in offered
    assert 'value="national_admin"' not in ian.get(f"/users/{actors.bob.id}").text
    form = {"email": "x@a.example", "name": "X", "organisation": actors.school_a.code}
    forged = ian.post("/users/new", {**form, "role": Role.NATIONAL_ADMIN.value})
    assert forged.status_code == 403
    assert not User.objects.filter(email="x@a.example").exists()
    forged = ian.post(action(actors.bob, "role"), {"role": Role.NATIONAL_ADMIN.value})
    assert forged.status_code == 403
    actors.bob.refresh_from_db()
    assert actors.bob.role_enum is Role.PRACTITIONER


def test_the_national_admin_adds_a_user_anywhere_with_any_role_below_their_own(
    actors: Actors,
) -> None:
    nadia = signed_in(actors.nadia)
    page = nadia.get("/users/new").text
    assert actors.council_b.code in page and 'value="index_team"' in page
    assert 'value="national_admin"' not in page  # made only at the server (bootstrap)
    form = {"email": "i2@council-b.example", "name": "Nell", "organisation": actors.council_b.code}
    response = nadia.post("/users/new", {**form, "role": Role.INDEX_TEAM.value})
    assert response.status_code == 200
    assert User.objects.get(email="i2@council-b.example").role_enum is Role.INDEX_TEAM
    forged = nadia.post("/users/new", {**form, "email": "n2@x.example", "role": "national_admin"})
    assert forged.status_code == 403


# Actions on a user ------------------------------------------------------------------------


def test_enabling_records_the_dates_and_who_authorised(actors: Actors) -> None:
    nina, ian = new_user(actors), signed_in(actors.ian)
    today = dt.date.today()
    vetted, trained = today - dt.timedelta(days=10), today - dt.timedelta(days=3)
    form = {**date_fields("vetting", vetted), **date_fields("training", trained)}
    response = ian.post(action(nina, "enable"), form)
    assert response.status_code == 302 and response["Location"] == f"/users/{nina.id}"
    nina.refresh_from_db()
    assert nina.enabled and nina.vetting_checked_on == vetted
    assert nina.training_completed_on == trained and nina.authorised_by == actors.ian
    assert nina.suspensions() == []
    page = ian.get(f"/users/{nina.id}").text
    assert "govuk-notification-banner--success" in page and "Nina New is enabled" in page


def test_a_future_vetting_date_is_refused_at_its_field(actors: Actors) -> None:
    nina = new_user(actors)
    today = dt.date.today()
    form = {
        **date_fields("vetting", today + dt.timedelta(days=1)),
        **date_fields("training", today),
    }
    response = signed_in(actors.ian).post(action(nina, "enable"), form)
    page = response.text
    assert response.status_code == 400
    assert 'href="#vetting-day"' in page and 'id="vetting-error"' in page
    assert "Date of the enhanced vetting check must be today or in the past" in page
    assert "<title>Error: Nina New" in page
    nina.refresh_from_db()
    assert not nina.enabled and nina.vetting_checked_on is None


def test_a_date_that_does_not_exist_is_refused(actors: Actors) -> None:
    nina = new_user(actors)
    form = {"vetting-day": "31", "vetting-month": "2", "vetting-year": "2024"}
    form |= date_fields("training", dt.date.today())
    page = signed_in(actors.ian).post(action(nina, "enable"), form).text
    assert "Date of the enhanced vetting check must be a real date" in page


def test_disabling_a_user_ends_their_existing_session(actors: Actors) -> None:
    bob = signed_in(actors.bob)
    assert bob.get("/users").status_code == 403  # signed in, and refused as a practitioner
    response = signed_in(actors.ian).post(action(actors.bob, "disable"))
    assert response.status_code == 302 and response["Location"] == f"/users/{actors.bob.id}"
    assert sent_to(bob.get("/users"), "/sign-in", "/users")
    actors.bob.refresh_from_db()
    assert not actors.bob.enabled


def test_recertifying_moves_the_date_and_the_authoriser(actors: Actors) -> None:
    User.objects.filter(pk=actors.bob.pk).update(certified_on=dt.date.today() - dt.timedelta(50))
    response = signed_in(actors.ian).post(action(actors.bob, "recertify"))
    assert response.status_code == 302
    actors.bob.refresh_from_db()
    assert actors.bob.certified_on == dt.date.today() and actors.bob.authorised_by == actors.ian


def test_recertifying_a_user_not_enabled_says_so_at_the_form(actors: Actors) -> None:
    response = signed_in(actors.ian).post(action(new_user(actors), "recertify"))
    assert response.status_code == 400 and 'href="#recertify"' in response.text
    assert "Enable the user first" in response.text


def test_changing_a_role_ends_the_users_sessions(actors: Actors) -> None:
    bob = signed_in(actors.bob)
    # Above the index team's own role: refused to it, given by the national team.
    promoted = {"role": Role.PRIVACY_OFFICER.value}
    assert signed_in(actors.ian).post(action(actors.bob, "role"), promoted).status_code == 403
    response = signed_in(actors.nadia).post(action(actors.bob, "role"), promoted)
    assert response.status_code == 302
    actors.bob.refresh_from_db()
    assert actors.bob.role_enum is Role.PRIVACY_OFFICER
    assert sent_to(bob.get("/users"), "/sign-in", "/users")


def test_resetting_a_password_emails_the_user_a_link_and_shows_no_password(
    actors: Actors,
) -> None:
    ResetRequest.objects.create(user=actors.bob)
    ian = signed_in(actors.ian)
    response = ian.post(action(actors.bob, "reset-password"))
    assert response.status_code == 200 and 'id="link-sent"' in response.text
    assert "new-password" not in response.text
    actors.bob.refresh_from_db()
    assert not actors.bob.has_usable_password()
    assert not ResetRequest.objects.filter(handled_at=None).exists()
    (sent,) = mail.outbox
    assert sent.to == [actors.bob.email] and "/activate/" in str(sent.body)


def test_nobody_changes_their_own_account_here(actors: Actors) -> None:
    ian = signed_in(actors.ian)
    assert "Recertify user" not in ian.get(f"/users/{actors.ian.id}").text
    assert ian.post(action(actors.ian, "recertify")).status_code == 403


# Reach ------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["enable", "recertify", "disable", "role", "reset-password"])
def test_a_user_in_another_area_is_not_found(actors: Actors, name: str) -> None:
    ian = signed_in(actors.ian)
    assert ian.get(f"/users/{actors.charlie.id}").status_code == 404
    form = {**date_fields("vetting", dt.date.today()), **date_fields("training", dt.date.today())}
    response = ian.post(action(actors.charlie, name), {**form, "role": "practitioner"})
    assert response.status_code == 404
    before = actors.charlie.password
    actors.charlie.refresh_from_db()
    assert actors.charlie.enabled and actors.charlie.password == before


def test_a_privacy_officer_sees_a_colleague_but_cannot_change_them(actors: Actors) -> None:
    petra = signed_in(actors.petra)
    page = petra.get(f"/users/{actors.bob.id}").text
    assert actors.bob.email in page and "Disable user" not in page
    assert petra.get(f"/users/{actors.ian.id}").status_code == 404
    assert petra.post(action(actors.bob, "disable")).status_code == 403


# Step-up and CSRF -------------------------------------------------------------------------


def test_a_change_after_the_step_up_window_asks_for_the_second_factor(actors: Actors) -> None:
    ian = signed_in(actors.ian)
    session = ian.session
    session[FACTOR_AT] = time.time() - 3600
    session.save()
    path = action(actors.bob, "disable")
    assert sent_to(ian.post(path), "/sign-in/confirm", path)
    actors.bob.refresh_from_db()
    assert actors.bob.enabled


def test_back_from_the_step_up_page_an_action_goes_to_the_users_page(actors: Actors) -> None:
    response = signed_in(actors.ian).get(action(actors.bob, "disable"))
    assert response.status_code == 302 and response["Location"] == f"/users/{actors.bob.id}"
    actors.bob.refresh_from_db()
    assert actors.bob.enabled


def test_a_change_without_the_csrf_token_is_refused(actors: Actors) -> None:
    client = Client(enforce_csrf_checks=True)
    client.cookies = signed_in(actors.ian).cookies
    assert client.post(action(actors.bob, "disable")).status_code == 403
    actors.bob.refresh_from_db()
    assert actors.bob.enabled
    page = client.get(f"/users/{actors.bob.id}").text
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page)
    assert token is not None
    response = client.post(action(actors.bob, "disable"), {"csrfmiddlewaretoken": token.group(1)})
    assert response.status_code == 302
    actors.bob.refresh_from_db()
    assert not actors.bob.enabled


# Organisations ----------------------------------------------------------------------------


def test_the_index_team_lists_its_areas_organisations(actors: Actors) -> None:
    page = signed_in(actors.ian).get("/organisations").text
    assert "Parkside Primary School" in page and "Camden Children" in page
    assert "Hackney" not in page and "national team" not in page
    assert "Accredited" in page


def test_only_the_national_team_sets_an_accreditations_expiry(actors: Actors) -> None:
    expires = dt.date.today() + dt.timedelta(days=90)
    path = f"/organisations/{actors.school_a.code}/accreditation"
    before = Accreditation.objects.get(organisation=actors.school_a).expires_on
    ian = signed_in(actors.ian)
    assert "Save accreditation" not in ian.get(path).text  # not offered to the index team
    refused = ian.post(path, date_fields("expires", expires))
    assert refused.status_code == 403  # councils do not certify themselves
    assert Accreditation.objects.get(organisation=actors.school_a).expires_on == before
    response = signed_in(actors.nadia).post(path, date_fields("expires", expires))
    assert response.status_code == 302 and response["Location"] == "/organisations"
    assert Accreditation.objects.get(organisation=actors.school_a).expires_on == expires


def test_an_expiry_in_the_past_is_refused_at_its_field(actors: Actors) -> None:
    path = f"/organisations/{actors.school_a.code}/accreditation"
    past = dt.date.today() - dt.timedelta(days=1)
    response = signed_in(actors.nadia).post(path, date_fields("expires", past))
    assert response.status_code == 400 and 'href="#expires-day"' in response.text
    assert Accreditation.objects.get(organisation=actors.school_a).expires_on > past


def test_withdrawing_accreditation_ends_the_organisations_sessions(actors: Actors) -> None:
    alice = signed_in(actors.alice)
    assert alice.get("/users").status_code == 403  # signed in, and refused as a practitioner
    path = f"/organisations/{actors.school_a.code}/accreditation"
    # School A has a privacy officer, whom the index team may not stop: the national team
    # withdraws it.
    assert signed_in(actors.ian).post(path, {"decision": "withdraw"}).status_code == 403
    response = signed_in(actors.nadia).post(path, {"decision": "withdraw"})
    assert response.status_code == 302
    assert sent_to(alice.get("/users"), "/sign-in", "/users")
    alice_now = User.objects.get(pk=actors.alice.pk)
    assert "organisation not accredited" in alice_now.suspensions()
    assert "Withdrawn" in signed_in(actors.ian).get("/organisations").text


def test_another_areas_organisation_is_not_found(actors: Actors) -> None:
    path = f"/organisations/{actors.council_b.code}/accreditation"
    ian = signed_in(actors.ian)
    assert ian.get(path).status_code == 404
    assert ian.post(path, {"decision": "withdraw"}).status_code == 404
    accreditation = Accreditation.objects.get(organisation=actors.council_b)
    assert accreditation.status == Accreditation.Status.ACCREDITED
