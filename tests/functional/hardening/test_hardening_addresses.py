"""The client address throttles count: the socket's peer, or, only behind a proxy the
configuration names, the address that proxy forwarded."""

from __future__ import annotations

import ipaddress
from typing import Any

import pytest
from django.test import Client, RequestFactory

from tests.support.actors import PASSWORD, Actors

pytestmark = pytest.mark.django_db(databases=["default", "keys"], transaction=True)

PROXY = "10.1.2.3"


def behind_proxy(settings: Any) -> None:
    settings.CONTACTPOINT_TRUSTED_PROXIES = (
        ipaddress.ip_network("10.0.0.0/8"),
        ipaddress.ip_network("127.0.0.1/32"),
    )


def address_of(remote: str, forwarded: str | None = None) -> str:
    from contactpoint.access.addresses import client_address

    headers = {"X-Forwarded-For": forwarded} if forwarded is not None else {}
    return client_address(RequestFactory().get("/", REMOTE_ADDR=remote, headers=headers))


def test_without_trusted_proxies_the_forwarded_header_is_ignored(settings: Any) -> None:
    settings.CONTACTPOINT_TRUSTED_PROXIES = ()
    assert address_of("198.51.100.7", "203.0.113.5") == "198.51.100.7"
    assert address_of(PROXY, "203.0.113.5") == PROXY


def test_behind_a_trusted_proxy_the_client_is_the_first_untrusted_hop_from_the_right(
    settings: Any,
) -> None:
    behind_proxy(settings)
    assert address_of(PROXY, "203.0.113.5") == "203.0.113.5"
    # A caller's own X-Forwarded-For comes first; the proxies append what they saw.
    assert address_of(PROXY, "1.1.1.1, 203.0.113.5, 10.9.9.9") == "203.0.113.5"
    assert address_of(PROXY, "2001:db8::5") == "2001:db8::5"
    # Not from a proxy of ours: the header is the caller's own words.
    assert address_of("198.51.100.7", "203.0.113.5") == "198.51.100.7"
    # Garbage where a proxy would have written an address: the last hop we trust.
    assert address_of(PROXY, "203.0.113.5, not-an-address") == PROXY
    assert address_of(PROXY) == PROXY


def wrong_password(email: str, forwarded: str) -> int:
    answer = Client(REMOTE_ADDR="127.0.0.1").post(
        "/sign-in",
        {"email": email, "password": "not the password"},
        headers={"X-Forwarded-For": forwarded},
    )
    return int(answer.status_code)


def test_behind_a_trusted_proxy_sign_in_throttles_count_each_client_not_the_proxy(
    actors: Actors, settings: Any
) -> None:
    behind_proxy(settings)
    guesser, colleague = "203.0.113.5", "203.0.113.6"
    assert [wrong_password(actors.bob.email, guesser) for _ in range(6)][-1] == 429
    # Bob at another desk behind the same proxy is not locked out by the guesser.
    real = Client(REMOTE_ADDR="127.0.0.1").post(
        "/sign-in",
        {"email": actors.bob.email, "password": PASSWORD},
        headers={"X-Forwarded-For": colleague},
    )
    assert real.status_code == 302


def test_without_trusted_proxies_a_forged_header_does_not_escape_the_throttle(
    actors: Actors, settings: Any
) -> None:
    settings.CONTACTPOINT_TRUSTED_PROXIES = ()
    answers = [wrong_password(actors.bob.email, f"203.0.113.{n}") for n in range(6)]
    assert answers[-1] == 429
