"""Organisations' accreditation and the users who sign in. Not child data."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from django.contrib.auth.base_user import AbstractBaseUser, BaseUserManager
from django.db import models
from django.utils import timezone
from django.utils.crypto import salted_hmac

from contactpoint.access.permissions import Principal, Role
from contactpoint.access.standing import Facts, suspensions
from contactpoint.registry.models import Organisation


class Accreditation(models.Model):
    """An organisation's permission to have users; lapsed or withdrawn, nobody signs in."""

    class Status(models.TextChoices):
        ACCREDITED = "accredited", "Accredited"
        WITHDRAWN = "withdrawn", "Withdrawn"

    organisation = models.OneToOneField(
        Organisation, on_delete=models.CASCADE, related_name="accreditation"
    )
    status = models.CharField(max_length=12, choices=Status.choices)
    expires_on = models.DateField()
    recorded_by = models.ForeignKey("access.User", on_delete=models.SET_NULL, null=True)
    recorded_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"{self.organisation_id}: {self.status} until {self.expires_on}"

    def in_force(self, today: dt.date) -> bool:
        return self.status == self.Status.ACCREDITED and self.expires_on >= today


def accreditation_of(organisation: Organisation) -> Accreditation | None:
    """The organisation's accreditation, or None when it never had one."""
    return getattr(organisation, "accreditation", None)


class UserManager(BaseUserManager["User"]):
    def get_queryset(self) -> models.QuerySet[User]:
        # Every request reads the user's organisation, area and accreditation (standing and
        # the decider): one query with the user instead of three more.
        return (
            super()
            .get_queryset()
            .select_related("organisation__council_area", "organisation__accreditation")
        )

    def get_by_natural_key(self, username: str | None) -> User:
        return self.get(email=(username or "").strip().lower())


class User(AbstractBaseUser):
    """A vetted person at an accredited organisation, with one role."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    email = models.EmailField(unique=True)  # stored lower-case; the sign-in name
    name = models.CharField(max_length=120)
    organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="+")
    role = models.CharField(max_length=16, choices=[(r.value, r.label) for r in Role])
    enabled = models.BooleanField(default=False)
    vetting_checked_on = models.DateField(null=True)
    training_completed_on = models.DateField(null=True)
    certified_on = models.DateField(null=True)  # enabled or last recertified
    authorised_by = models.ForeignKey("self", on_delete=models.SET_NULL, null=True)
    # Who made the account and who enabled it: never the same person (access.users), and
    # a two-person decision needs two people each enabled by a third (practice.shielding).
    created_by = models.ForeignKey("self", on_delete=models.SET_NULL, null=True, related_name="+")
    enabled_by = models.ForeignKey("self", on_delete=models.SET_NULL, null=True, related_name="+")
    # When the user took their current role (created or changed): a two-person decision
    # needs people who have held it for a while, not an account made this morning.
    role_since = models.DateTimeField(default=timezone.now)
    last_active_on = models.DateField(null=True)
    # Raised to end every session and token of the user at once (disable, role change).
    session_epoch = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS = ["name"]
    objects = UserManager()

    class Meta:
        ordering = ["email"]

    def __str__(self) -> str:
        return self.email

    @property
    def role_enum(self) -> Role:
        return Role(self.role)

    @property
    def area_code(self) -> str | None:
        area = self.organisation.council_area
        return area.code if area is not None else None

    def facts(self) -> Facts:
        accreditation = accreditation_of(self.organisation)
        return Facts(
            enabled=self.enabled,
            vetting_checked_on=self.vetting_checked_on,
            training_completed_on=self.training_completed_on,
            certified_on=self.certified_on,
            last_active_on=self.last_active_on,
            accredited=accreditation is not None
            and accreditation.status == Accreditation.Status.ACCREDITED,
            accreditation_expires_on=accreditation.expires_on if accreditation else None,
        )

    def suspensions(self, today: dt.date | None = None) -> list[str]:
        return suspensions(self.facts(), today or dt.date.today())

    def principal(self, *, second_factor: bool, today: dt.date | None = None) -> Principal:
        return Principal(
            kind="user",
            id=str(self.id),
            role=self.role_enum,
            organisation_id=self.organisation_id,
            area_code=self.area_code,
            active=not self.suspensions(today),
            second_factor=second_factor,
        )

    def get_session_auth_hash(self) -> str:
        # Django signs each session with this; a new epoch ends every session at once.
        return salted_hmac(
            "contactpoint.access.session",
            f"{self.password}:{self.session_epoch}",
            algorithm="sha256",
        ).hexdigest()

    def save(self, *args: Any, **kwargs: Any) -> None:
        self.email = self.email.strip().lower()
        super().save(*args, **kwargs)


class Activation(models.Model):
    """A one-time link, sent to the user's own e-mail, to set their password (a new account
    or a reset). Only the SHA-256 digest of the link's token is kept; it works once and
    until `expires_at`."""

    class Purpose(models.TextChoices):
        ACTIVATE = "activate", "Activate a new account"
        RESET = "reset", "Set a new password"

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="+")
    digest = models.CharField(max_length=64, unique=True)
    purpose = models.CharField(max_length=10, choices=Purpose.choices)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True)


class ResetRequest(models.Model):
    """Someone asked for a password reset; the user's index team sees it and acts."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="+")
    requested_at = models.DateTimeField(auto_now_add=True)
    handled_at = models.DateTimeField(null=True)
