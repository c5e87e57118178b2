"""The start page for someone signed out, the home for each role after signing in, and
the words for a user not yet enabled."""

from __future__ import annotations

import pyotp
import pytest
from django.test import Client

from contactpoint.access.models import User
from contactpoint.access.permissions import Role
from contactpoint.oversight import declarations
from tests.support.actors import PASSWORD, Actors, signed_in, user

pytestmark = pytest.mark.django_db(databases=["default", "keys"], transaction=True)


def text(client: Client, path: str, status: int = 200) -> str:
    response = client.get(path)
    assert response.status_code == status, (path, response.status_code)
    return str(response.content.decode())


def test_the_start_page_offers_sign_in_and_no_registry_counts(actors: Actors) -> None:
    page = text(Client(), "/")
    assert 'href="/sign-in"' in page and "Find who else works with a child" in page
    assert "Children in the index" not in page and "Source records" not in page
    assert "Sign out" not in page and 'aria-label="Menu"' not in page
    assert "call 999" in page


def test_signing_in_lands_on_the_home_page_with_the_menu_and_sign_out(actors: Actors) -> None:
    client = Client()
    client.post("/sign-in", {"email": actors.alice.email, "password": PASSWORD})
    response = client.post("/sign-in/second-factor", {"code": actors.code(actors.alice)})
    assert response.status_code == 302 and response["Location"] == "/"
    page = text(client, "/")
    assert 'aria-label="Menu"' in page and 'href="/search"' in page and "Sign out" in page
    assert '<a href="/" class="govuk-header__link govuk-header__service-name">' in page


def test_the_practitioner_home_asks_for_the_home_postcode_in_plain_words(actors: Actors) -> None:
    page = text(signed_in(actors.alice), "/")
    assert 'id="find-a-child"' in page and 'href="/account/home-postcode"' in page
    assert "Find a child by their details" in page and "child:records:search" not in page
    assert "No new alerts" in page
    assert "Children in the index" not in page  # counts only to the operators
    declarations.declare_home_postcode(actors.alice, "NW1 3AB")
    assert 'id="first-steps"' not in text(signed_in(actors.alice), "/")


def test_each_team_sees_its_queues_and_the_operators_the_counts(actors: Actors) -> None:
    index_team = text(signed_in(actors.ian), "/")
    for href in ("/family-notices", "/rectification", "/shielding", "/linkage/review"):
        assert f'href="{href}"' in index_team
    assert "0 waiting" in index_team and "Children in the index" not in index_team
    privacy = text(signed_in(actors.petra), "/")
    assert 'href="/emergency-access"' in privacy and 'href="/oversight"' in privacy
    assert 'href="/family-notices"' not in privacy and 'id="find-a-child"' not in privacy
    national = text(signed_in(actors.nadia), "/")
    assert "Children in the index" in national


def test_the_menu_is_short_and_leads_to_the_teams_pages_grouped_on_the_home_page(
    actors: Actors,
) -> None:
    index_team = text(signed_in(actors.ian), "/")
    menu = index_team[index_team.index('aria-label="Menu"') : index_team.index("</nav>")]
    assert menu.count("<li") == 5 and 'href="/#team-work"' in menu  # home, find, alerts, ...
    assert 'href="/linkage/review"' not in menu
    queues = index_team[index_team.index('id="team-work"') :]
    for group, href in (
        ("Local index team", "/linkage/review"),
        ("Administration", "/users"),
    ):
        assert f">{group}</h3>" in queues and f'href="{href}"' in queues
    assert queues.index("Local index team") < queues.index("Administration")
    practitioner = text(signed_in(actors.alice), "/")
    menu = practitioner[practitioner.index('aria-label="Menu"') : practitioner.index("</nav>")]
    assert "Your team&#39;s work" not in menu and 'id="team-work"' not in practitioner
    officer = text(signed_in(actors.petra), "/")
    assert ">Reviews</h3>" in officer and "Your team&#39;s work" in officer


def test_the_account_page_shows_plain_permissions_and_long_dates(actors: Actors) -> None:
    page = text(signed_in(actors.alice), "/account")
    assert "Find a child by their details" in page and "<code>" not in page
    certified = actors.alice.certified_on
    assert certified is not None
    assert f"{certified.day} {certified:%B %Y}" in page and certified.isoformat() not in page


def test_a_user_not_yet_enabled_is_told_so_and_whom_to_ask(actors: Actors) -> None:
    secrets: dict[str, str] = {}
    new = user("nat@school-a.example", "Nat New", actors.school_a, Role.PRACTITIONER, secrets)
    User.objects.filter(pk=new.pk).update(enabled=False, certified_on=None)
    page = text(signed_in(new), "/")
    assert "Your account is not enabled yet" in page and "local index team" in page
    assert "suspended" not in page.lower()
    client = Client()
    client.post("/sign-in", {"email": new.email, "password": PASSWORD})
    code = pyotp.TOTP(secrets[new.email]).now()
    signing_in = client.post("/sign-in/second-factor", {"code": code})
    assert signing_in.status_code == 403
    assert "Your account is not enabled yet" in signing_in.content.decode()
    listed = text(signed_in(actors.ian), "/users")
    assert "Not yet enabled" in listed
    bob = actors.bob
    User.objects.filter(pk=bob.pk).update(enabled=False)  # suspended after being enabled
    assert "Your access is suspended" in text(signed_in(bob), "/")


def test_help_contact_accessibility_and_privacy_pages_are_in_every_footer(
    actors: Actors,
) -> None:
    for client in (Client(), signed_in(actors.alice)):
        start = text(client, "/")
        for path, heading in (
            ("/help", "Help using contactpoint"),
            ("/contact", "Contact"),
            ("/accessibility", "Accessibility statement"),
            ("/privacy", "Privacy notice"),
        ):
            assert f'href="{path}"' in start
            assert f'<h1 class="govuk-heading-l">{heading}</h1>' in text(client, path)
