"""TOTP: a code once only, the window either side, and secrets across a secret-key change."""

from __future__ import annotations

import datetime as dt

import pyotp
import pytest
from django.test import override_settings

from contactpoint.access import totp
from contactpoint.access.models import TotpDevice
from contactpoint.lib.crypto import DecryptionError
from tests.support.actors import Actors

pytestmark = pytest.mark.django_db(databases=["default", "keys"], transaction=True)
AT = dt.datetime(2026, 11, 26, 12, 0, 15, tzinfo=dt.UTC)


def test_a_code_is_accepted_once_and_an_older_one_never_after(actors: Actors) -> None:
    device, secret = totp.start(actors.alice)
    code = pyotp.TOTP(secret)
    assert totp.verify(device, code.at(AT), now=AT)
    assert not totp.verify(device, code.at(AT), now=AT)  # the same code again
    earlier = AT - dt.timedelta(seconds=30)
    assert not totp.verify(device, code.at(earlier), now=AT)  # in the window, but older
    later = AT + dt.timedelta(seconds=30)
    assert totp.verify(device, code.at(later), now=later)


def test_only_one_step_either_side_is_accepted(actors: Actors) -> None:
    device, secret = totp.start(actors.alice)
    code = pyotp.TOTP(secret)
    assert not totp.verify(device, code.at(AT - dt.timedelta(seconds=90)), now=AT)
    assert totp.verify(device, code.at(AT + dt.timedelta(seconds=30)), now=AT)


@pytest.mark.parametrize("code", ["", "12345", "1234567", "abcdef", "12 34 5x"])
def test_malformed_codes_are_refused(actors: Actors, code: str) -> None:
    device, _ = totp.start(actors.alice)
    assert not totp.verify(device, code, now=AT)


def test_secrets_survive_a_change_of_secret_key_through_the_fallbacks(actors: Actors) -> None:
    with override_settings(SECRET_KEY="old-" + "k" * 40):
        device, secret = totp.start(actors.alice)
    new_key_only = override_settings(SECRET_KEY="new-" + "k" * 40, SECRET_KEY_FALLBACKS=[])
    with new_key_only, pytest.raises(DecryptionError):
        totp.secret_of(TotpDevice.objects.get(pk=device.pk))
    with override_settings(SECRET_KEY="new-" + "k" * 40, SECRET_KEY_FALLBACKS=["old-" + "k" * 40]):
        assert totp.secret_of(TotpDevice.objects.get(pk=device.pk)) == secret
    with override_settings(SECRET_KEY="new-" + "k" * 40, SECRET_KEY_FALLBACKS=[]):
        # sealed again under the new key when it was first opened
        assert totp.secret_of(TotpDevice.objects.get(pk=device.pk)) == secret


def test_a_code_from_a_few_minutes_ago_is_expired_and_an_accepted_one_used(
    actors: Actors,
) -> None:
    device, secret = totp.start(actors.alice)
    code = pyotp.TOTP(secret)
    assert totp.check(device, code.at(AT - dt.timedelta(seconds=90)), now=AT) == totp.Check.EXPIRED
    assert totp.check(device, code.at(AT - dt.timedelta(minutes=5)), now=AT) == totp.Check.EXPIRED
    assert totp.check(device, code.at(AT - dt.timedelta(minutes=6)), now=AT) == totp.Check.WRONG
    assert totp.check(device, code.at(AT), now=AT) == totp.Check.RIGHT
    assert totp.check(device, code.at(AT), now=AT) == totp.Check.USED
    earlier = code.at(AT - dt.timedelta(seconds=30))  # in the window, before the one accepted
    assert totp.check(device, earlier, now=AT) == totp.Check.USED
