"""WebAuthn security keys and passkeys (through `webauthn`): register, then prove presence.

The relying party is the host the browser used (checked against ALLOWED_HOSTS by Django
before any view runs), so the same code serves localhost in the demo and the real name in
production. Challenges live in the server-side session and are used once.
"""

from __future__ import annotations

import base64
import json
from typing import Any

from django.db import transaction
from django.http import HttpRequest
from django.http.request import split_domain_port
from django.utils import timezone
from webauthn import (
    generate_authentication_options,
    generate_registration_options,
    options_to_json,
    verify_authentication_response,
    verify_registration_response,
)
from webauthn.helpers.exceptions import InvalidAuthenticationResponse, InvalidRegistrationResponse
from webauthn.helpers.structs import (
    AuthenticatorSelectionCriteria,
    PublicKeyCredentialDescriptor,
    ResidentKeyRequirement,
    UserVerificationRequirement,
)

from contactpoint.access.models import SecurityKey, User

CHALLENGE = "cp_webauthn_challenge"
RP_NAME = "contactpoint"


class KeyRefused(Exception):
    """The browser's answer did not prove the key (wrong origin, challenge or signature)."""


def _rp(request: HttpRequest) -> tuple[str, str]:
    host = request.get_host()  # checked against ALLOWED_HOSTS; the RP id is it without a port
    return split_domain_port(host)[0], f"{request.scheme}://{host}"


def _take_challenge(request: HttpRequest) -> bytes:
    value = request.session.pop(CHALLENGE, None)
    if not isinstance(value, str):
        raise KeyRefused("no challenge was issued, or it was used already")
    return base64.urlsafe_b64decode(value.encode())


def _keep_challenge(request: HttpRequest, challenge: bytes) -> None:
    request.session[CHALLENGE] = base64.urlsafe_b64encode(challenge).decode()


def registration_options(request: HttpRequest, user: User) -> str:
    rp_id, _ = _rp(request)
    options = generate_registration_options(
        rp_id=rp_id,
        rp_name=RP_NAME,
        user_name=user.email,
        user_id=user.id.bytes,
        user_display_name=user.name,
        authenticator_selection=AuthenticatorSelectionCriteria(
            resident_key=ResidentKeyRequirement.PREFERRED,
            user_verification=UserVerificationRequirement.PREFERRED,
        ),
        exclude_credentials=[
            PublicKeyCredentialDescriptor(id=bytes(k.credential_id))
            for k in user.security_keys.all()
        ],
    )
    _keep_challenge(request, options.challenge)
    return str(options_to_json(options))


def register(
    request: HttpRequest, user: User, credential: dict[str, Any], name: str
) -> SecurityKey:
    rp_id, origin = _rp(request)
    try:
        verified = verify_registration_response(
            credential=credential,
            expected_challenge=_take_challenge(request),
            expected_rp_id=rp_id,
            expected_origin=origin,
        )
    except (InvalidRegistrationResponse, ValueError, KeyError, TypeError) as exc:
        raise KeyRefused("the security key could not be registered") from exc
    return SecurityKey.objects.create(
        user=user,
        name=(name.strip() or "Security key")[:60],
        credential_id=verified.credential_id,
        public_key=verified.credential_public_key,
        sign_count=verified.sign_count,
    )


def authentication_options(request: HttpRequest, user: User) -> str:
    rp_id, _ = _rp(request)
    options = generate_authentication_options(
        rp_id=rp_id,
        allow_credentials=[
            PublicKeyCredentialDescriptor(id=bytes(k.credential_id))
            for k in user.security_keys.all()
        ],
        user_verification=UserVerificationRequirement.PREFERRED,
    )
    _keep_challenge(request, options.challenge)
    return str(options_to_json(options))


def authenticate(request: HttpRequest, user: User, credential: dict[str, Any]) -> SecurityKey:
    """Check the browser's assertion against one of the user's keys, or raise KeyRefused."""
    rp_id, origin = _rp(request)
    challenge = _take_challenge(request)
    raw_id = credential.get("rawId") or credential.get("id") or ""
    try:
        credential_id = base64.urlsafe_b64decode(str(raw_id) + "=" * (-len(str(raw_id)) % 4))
    except ValueError as exc:
        raise KeyRefused("the security key's answer was malformed") from exc
    key = user.security_keys.filter(credential_id=credential_id).first()
    if key is None:
        raise KeyRefused("that security key is not registered to this account")
    try:
        verified = verify_authentication_response(
            credential=credential,
            expected_challenge=challenge,
            expected_rp_id=rp_id,
            expected_origin=origin,
            credential_public_key=bytes(key.public_key),
            credential_current_sign_count=key.sign_count,
        )
    except (InvalidAuthenticationResponse, ValueError, KeyError, TypeError) as exc:
        raise KeyRefused("the security key's answer did not verify") from exc
    with transaction.atomic():
        key.sign_count = verified.new_sign_count
        key.last_used_at = timezone.now()
        key.save(update_fields=["sign_count", "last_used_at"])
    return key


def parse(body: bytes) -> tuple[dict[str, Any], str]:
    """The browser's post: the credential, and the name given to a new key."""
    try:
        value = json.loads(body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise KeyRefused("the security key's answer was malformed") from exc
    credential = value.get("credential") if isinstance(value, dict) else None
    if not isinstance(credential, dict):
        raise KeyRefused("the security key's answer was malformed")
    name = value.get("name")
    return credential, name if isinstance(name, str) else ""
