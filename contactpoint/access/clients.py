"""Machine clients and the OAuth 2 client credentials grant (RFC 6749 section 4.4).

A client is a case-management system or a source feed acting for one accredited
organisation in one role. It trades its id and secret for a bearer token that lives ten
minutes. Only digests are kept: an Argon2 hash of the secret, a SHA-256 digest of each
token. Disabling a client, or withdrawing its organisation's accreditation, raises the
client's epoch, which ends every token it holds.

Registering and disabling a client, and each grant (or refused grant), write an audit event
(docs/audit.md) in the change's transaction and before it: when the event cannot be
written, `AuditUnavailable` is raised and nothing is changed or issued. Events never hold
a secret or a token; a refused grant for an unknown client keeps no client id (what was
typed may be anything, a secret pasted in the wrong box included).
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import secrets

from django.contrib.auth.hashers import check_password, make_password
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from contactpoint.access import throttle
from contactpoint.access.models import ApiClient, ApiToken, accreditation_of
from contactpoint.access.permissions import Permission, Principal, Role
from contactpoint.access.users import Actor, Invalid, audited, require
from contactpoint.audit import log as audit_log
from contactpoint.registry.models import Organisation

TOKEN_SECONDS = 600
CLIENT_ID_PREFIX = "cp_"
GRANT = "access:token:grant"


class InvalidClient(Exception):
    """Unknown client, wrong secret, disabled, or not accredited: the caller is not told which."""


class TooManyAttempts(Exception):
    """Too many failed grants for this client id in the current window."""


def create_client(
    actor: Actor, *, name: str, organisation: Organisation, role: Role
) -> tuple[ApiClient, str]:
    """Register a client; return it and its secret, which is shown this once and never kept."""
    require(actor, Permission.NATIONAL_CLIENTS_MANAGE)
    if not name.strip():
        raise Invalid("enter a name for the client")
    secret = secrets.token_urlsafe(32)
    client_id = CLIENT_ID_PREFIX + secrets.token_urlsafe(12)[:16]
    with transaction.atomic():
        audited(
            actor,
            "access:client:create",
            client=client_id,
            organisation=organisation.pk,
            role=role.value,
        )
        client = ApiClient.objects.create(
            client_id=client_id,
            secret_hash=make_password(secret),
            name=name.strip(),
            organisation=organisation,
            role=role.value,
        )
    return client, secret


def disable_client(actor: Actor, client: ApiClient) -> None:
    """Stop a client at once: it gets no new token, and the tokens it holds end now."""
    require(actor, Permission.NATIONAL_CLIENTS_MANAGE)
    with transaction.atomic():
        audited(actor, "access:client:disable", client=client.client_id)
        ApiClient.objects.filter(pk=client.pk).update(
            enabled=False, session_epoch=F("session_epoch") + 1
        )
        ApiToken.objects.filter(client=client).delete()
    client.refresh_from_db(fields=["enabled", "session_epoch"])


@functools.cache
def _dummy_hash() -> str:
    # Checked against when the client id is unknown, so that an unknown id costs the same
    # Argon2 work as a known one and its answer cannot be told apart by timing.
    return make_password(secrets.token_urlsafe(32))


def issue_token(client_id: str, secret: str) -> tuple[str, dt.datetime]:
    """Grant a bearer token for a client's id and secret.

    Returns:
        The token (shown to the client once; only its digest is kept) and its expiry.

    Raises:
        TooManyAttempts: the client id has had `throttle.TOKEN_PER_CLIENT` failures lately.
        InvalidClient: anything else wrong with the client; the reason is not said.
        AuditUnavailable: the grant, or its refusal, could not be audited; no token exists.
    """
    client = _client_by_id(client_id)
    if throttle.exceeded(throttle.TOKEN_PER_CLIENT, client_id):
        _refused(client, "too many failed attempts")
        raise TooManyAttempts
    correct = check_password(secret, client.secret_hash if client else _dummy_hash())
    if client is None or not correct:
        throttle.record_failure(throttle.TOKEN_PER_CLIENT, client_id)
        _refused(client, "unknown client" if client is None else "wrong secret")
        raise InvalidClient
    if not _active(client):
        _refused(client, "client disabled or organisation not accredited")
        raise InvalidClient
    throttle.clear(throttle.TOKEN_PER_CLIENT, client_id)
    now = timezone.now()
    token = secrets.token_urlsafe(32)
    expires_at = now + dt.timedelta(seconds=TOKEN_SECONDS)
    with transaction.atomic():
        granted = {"expires_at": expires_at.isoformat()}
        audit_log.append(audit_log.entry(client_principal(client), GRANT, details=granted))
        ApiToken.objects.filter(client=client, expires_at__lte=now).delete()
        ApiToken.objects.create(
            digest=_digest(token), client=client, epoch=client.session_epoch, expires_at=expires_at
        )
    return token, expires_at


def _refused(client: ApiClient | None, reason: str) -> None:
    """Audit a refused grant under the client's principal (none for an unknown client id)."""
    who = client_principal(client) if client is not None else None
    details = {"reason": reason}
    audit_log.append(audit_log.entry(who, GRANT, audit_log.REFUSED, details=details))


def authenticate_token(token: str) -> ApiClient | None:
    """The client a bearer token stands for, or None when it is unknown, expired or ended."""
    found = (
        ApiToken.objects.select_related(
            "client__organisation__council_area", "client__organisation__accreditation"
        )
        .filter(digest=_digest(token), expires_at__gt=timezone.now())
        .first()
    )
    if found is None:
        return None
    client = found.client
    if found.epoch != client.session_epoch or not _active(client):
        return None
    return client


def client_principal(client: ApiClient, today: dt.date | None = None) -> Principal:
    """The decider's view of a client. Clients have no second factor: the secret is all."""
    area = client.organisation.council_area
    return Principal(
        kind="client",
        id=client.client_id,
        role=Role(client.role),
        organisation_id=client.organisation_id,
        area_code=area.code if area is not None else None,
        active=_active(client, today),
        second_factor=True,
    )


def _active(client: ApiClient, today: dt.date | None = None) -> bool:
    """Enabled, and its organisation accredited and not past the accreditation's expiry."""
    accreditation = accreditation_of(client.organisation)
    return (
        client.enabled
        and accreditation is not None
        and accreditation.in_force(today or dt.date.today())
    )


def _client_by_id(client_id: str) -> ApiClient | None:
    return (
        ApiClient.objects.select_related(
            "organisation__council_area", "organisation__accreditation"
        )
        .filter(client_id=client_id)
        .first()
    )


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()
