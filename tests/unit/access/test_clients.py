"""Machine clients: registration, the client credentials grant, and the tokens it gives."""

from __future__ import annotations

import datetime as dt
import hashlib

import pytest
from django.contrib.auth.hashers import check_password, identify_hasher
from django.utils import timezone

from contactpoint.access import clients, throttle
from contactpoint.access.clients import (
    TOKEN_SECONDS,
    InvalidClient,
    TooManyAttempts,
    authenticate_token,
    client_principal,
    create_client,
    disable_client,
    issue_token,
)
from contactpoint.access.models import Accreditation, ApiClient, ApiToken
from contactpoint.access.permissions import Role
from contactpoint.access.users import Actor, Invalid, Refused
from contactpoint.registry.models import Organisation
from tests.support.actors import AREA_A, Actors


def register(
    actors: Actors, organisation: Organisation | None = None, role: Role = Role.INDEX_TEAM
) -> tuple[ApiClient, str]:
    return create_client(
        Actor.of(actors.nadia),
        name="Camden case management",
        organisation=organisation or actors.council_a,
        role=role,
    )


@pytest.mark.django_db(databases=["default", "keys"], transaction=True)
def test_a_national_administrator_registers_a_client_whose_secret_is_not_kept(
    actors: Actors,
) -> None:
    client, secret = register(actors)
    assert client.client_id.startswith("cp_") and len(client.client_id) == 19
    assert len(secret) >= 43  # 32 random bytes
    assert secret not in client.secret_hash
    assert identify_hasher(client.secret_hash).algorithm == "argon2"
    assert check_password(secret, client.secret_hash)
    assert client.enabled and client.role == "index_team"


@pytest.mark.django_db(databases=["default", "keys"], transaction=True)
def test_only_a_national_administrator_registers_or_disables_clients(actors: Actors) -> None:
    with pytest.raises(Refused):
        create_client(
            Actor.of(actors.ian), name="Mine", organisation=actors.council_a, role=Role.INDEX_TEAM
        )
    client, _ = register(actors)
    with pytest.raises(Refused):
        disable_client(Actor.of(actors.ian), client)
    client.refresh_from_db()
    assert client.enabled


@pytest.mark.django_db(databases=["default", "keys"], transaction=True)
def test_a_client_needs_a_name(actors: Actors) -> None:
    with pytest.raises(Invalid):
        create_client(
            Actor.of(actors.nadia), name="  ", organisation=actors.council_a, role=Role.INDEX_TEAM
        )


@pytest.mark.django_db(databases=["default", "keys"], transaction=True)
def test_a_token_lives_ten_minutes_and_only_its_digest_is_kept(actors: Actors) -> None:
    client, secret = register(actors)
    before = timezone.now()
    token, expires_at = issue_token(client.client_id, secret)
    stored = ApiToken.objects.get(client=client)
    assert stored.digest == hashlib.sha256(token.encode()).hexdigest()
    assert not ApiToken.objects.filter(digest=token).exists()
    assert stored.expires_at == expires_at
    assert before + dt.timedelta(seconds=TOKEN_SECONDS) <= expires_at
    assert expires_at <= timezone.now() + dt.timedelta(seconds=TOKEN_SECONDS)
    assert authenticate_token(token) == client


@pytest.mark.django_db(databases=["default", "keys"], transaction=True)
def test_two_grants_give_two_tokens(actors: Actors) -> None:
    client, secret = register(actors)
    first, _ = issue_token(client.client_id, secret)
    second, _ = issue_token(client.client_id, secret)
    assert first != second
    assert authenticate_token(first) == authenticate_token(second) == client


@pytest.mark.django_db(databases=["default", "keys"], transaction=True)
def test_a_wrong_secret_or_an_unknown_client_is_an_invalid_client(actors: Actors) -> None:
    client, secret = register(actors)
    with pytest.raises(InvalidClient):
        issue_token(client.client_id, secret[:-1])
    with pytest.raises(InvalidClient):
        issue_token("cp_unknownunknown0", secret)
    assert not ApiToken.objects.exists()


def test_an_unknown_client_is_checked_against_an_argon2_hash_too() -> None:
    # The unknown id pays for an Argon2 check like a known one (timing is not measured here).
    assert identify_hasher(clients._dummy_hash()).algorithm == "argon2"


@pytest.mark.django_db(databases=["default", "keys"], transaction=True)
def test_failures_are_throttled_per_client_id(actors: Actors) -> None:
    client, secret = register(actors)
    other, other_secret = register(actors)
    for _ in range(throttle.TOKEN_PER_CLIENT.attempts):
        with pytest.raises(InvalidClient):
            issue_token(client.client_id, "guess")
    with pytest.raises(TooManyAttempts):
        issue_token(client.client_id, secret)
    assert issue_token(other.client_id, other_secret)[0]


@pytest.mark.django_db(databases=["default", "keys"], transaction=True)
def test_unknown_client_ids_are_throttled_too() -> None:
    for _ in range(throttle.TOKEN_PER_CLIENT.attempts):
        with pytest.raises(InvalidClient):
            issue_token("cp_nobody", "guess")
    with pytest.raises(TooManyAttempts):
        issue_token("cp_nobody", "guess")


@pytest.mark.django_db(databases=["default", "keys"], transaction=True)
def test_a_success_clears_the_failures(actors: Actors) -> None:
    client, secret = register(actors)
    for _ in range(throttle.TOKEN_PER_CLIENT.attempts - 1):
        with pytest.raises(InvalidClient):
            issue_token(client.client_id, "guess")
    issue_token(client.client_id, secret)
    with pytest.raises(InvalidClient):
        issue_token(client.client_id, "guess")
    assert issue_token(client.client_id, secret)[0]


@pytest.mark.django_db(databases=["default", "keys"], transaction=True)
def test_a_disabled_client_gets_no_token_and_its_tokens_end(actors: Actors) -> None:
    client, secret = register(actors)
    token, _ = issue_token(client.client_id, secret)
    disable_client(Actor.of(actors.nadia), client)
    assert client.session_epoch == 1 and not client.enabled
    assert authenticate_token(token) is None
    with pytest.raises(InvalidClient):
        issue_token(client.client_id, secret)


@pytest.mark.django_db(databases=["default", "keys"], transaction=True)
@pytest.mark.parametrize(
    ("status", "expires_in_days"),
    [
        (Accreditation.Status.WITHDRAWN, 30),
        (Accreditation.Status.ACCREDITED, -1),
        (None, 0),  # no accreditation at all
    ],
)
def test_a_client_of_an_unaccredited_organisation_gets_no_token(
    actors: Actors, status: str | None, expires_in_days: int
) -> None:
    client, secret = register(actors)
    token, _ = issue_token(client.client_id, secret)
    if status is None:
        Accreditation.objects.filter(organisation=actors.council_a).delete()
    else:
        Accreditation.objects.filter(organisation=actors.council_a).update(
            status=status, expires_on=dt.date.today() + dt.timedelta(days=expires_in_days)
        )
    with pytest.raises(InvalidClient):
        issue_token(client.client_id, secret)
    assert authenticate_token(token) is None


@pytest.mark.django_db(databases=["default", "keys"], transaction=True)
def test_an_expired_token_or_one_of_an_older_epoch_is_refused(actors: Actors) -> None:
    client, secret = register(actors)
    expired, _ = issue_token(client.client_id, secret)
    ApiToken.objects.update(expires_at=timezone.now() - dt.timedelta(seconds=1))
    assert authenticate_token(expired) is None
    old, _ = issue_token(client.client_id, secret)
    ApiClient.objects.filter(pk=client.pk).update(session_epoch=5)
    assert authenticate_token(old) is None
    assert authenticate_token("made-up") is None


@pytest.mark.django_db(databases=["default", "keys"], transaction=True)
def test_a_client_is_seen_by_the_decider_as_its_organisation_and_role(actors: Actors) -> None:
    client, _ = register(actors)
    principal = client_principal(client)
    assert principal.kind == "client" and principal.id == client.client_id
    assert principal.role == Role.INDEX_TEAM
    assert principal.organisation_id == actors.council_a.pk
    assert principal.area_code == AREA_A
    assert principal.active and principal.second_factor
    national, _ = register(actors, actors.national, Role.NATIONAL_ADMIN)
    assert client_principal(national).area_code is None


@pytest.mark.django_db(databases=["default", "keys"], transaction=True)
def test_a_client_is_inactive_once_its_accreditation_lapses(actors: Actors) -> None:
    client, _ = register(actors)
    expires_on = actors.council_a.accreditation.expires_on
    assert client_principal(client, today=expires_on).active
    assert not client_principal(client, today=expires_on + dt.timedelta(days=1)).active
