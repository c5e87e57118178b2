"""A security key, registered and then used to sign in, with Chromium's virtual authenticator
(the DevTools WebAuthn domain: a real CTAP2 authenticator in software)."""

from __future__ import annotations

from typing import Any

import pytest

from contactpoint.access.models import SecurityKey
from tests.support.actors import PASSWORD, make_actors
from tests.support.browser import enter_credentials

pytestmark = pytest.mark.django_db(databases=["default", "keys"], transaction=True)


def virtual_authenticator(page: Any) -> Any:
    cdp = page.context.new_cdp_session(page)
    cdp.send("WebAuthn.enable")
    cdp.send(
        "WebAuthn.addVirtualAuthenticator",
        {
            "options": {
                "protocol": "ctap2",
                "transport": "usb",
                "hasResidentKey": True,
                "hasUserVerification": True,
                "isUserVerified": True,
                "automaticPresenceSimulation": True,
            }
        },
    )
    return cdp


def test_a_user_adds_a_security_key_and_signs_in_with_it(browser: Any, server: str) -> None:
    actors = make_actors()
    page = browser.new_context().new_page()
    virtual_authenticator(page)
    enter_credentials(page, server, actors, actors.alice)
    page.wait_for_url(server + "/")  # the home page
    page.goto(server + "/account/security-key")
    page.fill("#key_name", "Blue key")
    page.click("button:has-text('Add security key')")
    page.wait_for_url("**/account?done=key")
    assert "Your security key has been added." in page.locator("main").inner_text()
    assert SecurityKey.objects.filter(user=actors.alice, name="Blue key").count() == 1

    page.click("button:has-text('Sign out')")
    page.goto(server + "/sign-in")
    page.fill("#email", actors.alice.email)
    page.fill("#password", PASSWORD)
    page.click("button:has-text('Continue')")
    page.wait_for_url("**/sign-in/second-factor**")
    page.click("button:has-text('Use your security key')")
    page.wait_for_url(server + "/")
    page.goto(server + "/account")
    assert page.locator("#account-name").inner_text() == "Alice Adams"
    key = SecurityKey.objects.get(user=actors.alice)
    assert key.last_used_at is not None
    page.context.close()


def test_a_key_of_another_account_is_refused(browser: Any, server: str) -> None:
    actors = make_actors()
    page = browser.new_context().new_page()
    virtual_authenticator(page)
    enter_credentials(page, server, actors, actors.alice)
    page.wait_for_url(server + "/")  # the home page
    page.goto(server + "/account/security-key")
    page.click("button:has-text('Add security key')")
    page.wait_for_url("**/account?done=key")
    SecurityKey.objects.filter(user=actors.alice).update(user=actors.bob)  # now bob's key
    page.click("button:has-text('Sign out')")
    # Bob has the key on record; Alice's browser holds it. Alice signs in: no key of hers.
    page.goto(server + "/sign-in")
    page.fill("#email", actors.bob.email)
    page.fill("#password", PASSWORD)
    page.click("button:has-text('Continue')")
    page.wait_for_url("**/sign-in/second-factor**")
    SecurityKey.objects.filter(user=actors.bob).update(public_key=b"\x00" * 77)
    page.click("button:has-text('Use your security key')")
    error = page.locator("[data-webauthn-error]")
    error.wait_for(state="visible")
    assert "did not work" in error.inner_text()
    assert "/sign-in/second-factor" in page.url
    page.context.close()
