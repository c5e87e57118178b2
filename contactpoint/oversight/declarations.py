"""What each user declares about themselves for misuse detection: their home postcode.

Misuse detection compares it with the postcode of each child the user looks at (a child
at the user's own address is a relative or a neighbour). It is sealed under a data key of
the user's own, so it opens only in the application; the audit event of a declaration
says that one was made, never the postcode.
"""

from __future__ import annotations

from collections.abc import Callable

from django.db import transaction
from django.utils import timezone

from contactpoint.access.models import User
from contactpoint.access.users import Invalid
from contactpoint.audit import log as audit_log
from contactpoint.keystore import service as keystore
from contactpoint.lib.identifiers import InvalidIdentifier, parse_postcode
from contactpoint.oversight.models import HomePostcode
from contactpoint.registry.cipher import ChildCipher

DECLARE = "access:home-postcode:declare"

# What keeps a user's declaration in memory registers here to be told when it changes
# (contactpoint.oversight.signals, when imported): a new postcode applies at once in the
# process that took it.
FORGET: list[Callable[[str], None]] = []


def declare_home_postcode(user: User, postcode: str) -> str:
    """Record the user's home postcode (replacing any before); return it normalised.

    Raises:
        Invalid: not a UK postcode.
        AuditUnavailable: the declaration could not be audited (nothing was recorded).
    """
    try:
        value = str(parse_postcode(postcode))
    except InvalidIdentifier:
        raise Invalid("Enter a real UK postcode, like NW1 4NP") from None
    changed = HomePostcode.objects.filter(user=user).exists()
    event = audit_log.entry(
        user.principal(second_factor=True), DECLARE, details={"changed": changed}
    )
    with transaction.atomic():
        audit_log.append(event)
        cipher = ChildCipher(user.pk, keystore.ensure_data_key(user.pk))
        HomePostcode.objects.update_or_create(
            user=user,
            defaults={
                "postcode": cipher.seal(HomePostcode, "postcode", user.pk, value),
                "declared_at": timezone.now(),
            },
        )
    for forget in FORGET:
        forget(str(user.pk))
    return value


def home_postcode(user: User) -> str | None:
    """The user's declared home postcode ("NW1 4NP"), or None when they have not declared
    one (or its key is gone)."""
    row = HomePostcode.objects.filter(user=user).first()
    if row is None or row.postcode is None:
        return None
    key = keystore.data_keys([user.pk]).get(user.pk)
    if key is None:
        return None
    return ChildCipher(user.pk, key).open_field(row, "postcode")
