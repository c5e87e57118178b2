"""Who works with a child: organisation, sealed role, practitioner and two indicators."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models

from contactpoint.registry.fields import Sealed
from contactpoint.registry.models.children import Child
from contactpoint.registry.models.organisations import Organisation


class Practitioner(models.Model):
    """A named member of staff and their work contact details (not child data)."""

    organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT)
    name = models.CharField(max_length=120)
    job_title = models.CharField(max_length=120, blank=True)
    phone = models.CharField(max_length=30, blank=True)
    email = models.EmailField(blank=True)
    # The contactpoint user this is, when a user registered the involvement themselves.
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )

    def __str__(self) -> str:
        return self.name


class Involvement(models.Model):
    class Role(models.TextChoices):
        SCHOOL = "school", "School"
        GP = "gp", "GP practice"
        HEALTH_VISITOR = "health_visitor", "Health visitor"
        SCHOOL_NURSE = "school_nurse", "School nurse"
        SOCIAL_WORKER = "social_worker", "Social worker"
        EARLY_HELP = "early_help", "Early help worker"
        YOUTH_OFFENDING_WORKER = "youth_offending_worker", "Youth offending worker"
        POLICE_CPU = "police_cpu", "Police child protection officer"
        HEALTH_SERVICE = "health_service", "Health service"
        VOLUNTARY_SUPPORT = "voluntary_support", "Voluntary sector support"

    class SensitiveCategory(models.TextChoices):
        SEXUAL_HEALTH = "sexual_health", "Sexual health"
        MENTAL_HEALTH = "mental_health", "Mental health"
        SUBSTANCE_MISUSE = "substance_misuse", "Substance misuse"

    class ConsentBasis(models.TextChoices):
        YOUNG_PERSON = "young_person_consent", "The young person consented"
        PARENT = "parental_consent", "A person with parental responsibility consented"
        SIGNIFICANT_HARM = "risk_of_significant_harm", "Risk of significant harm"

    class Ending(models.TextChoices):
        ENDED = "ended", "Ended by the service"
        MOVED = "moved", "The child moved to another service (from a feed)"
        EXPIRED = "expired", "Not confirmed for 24 months"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    child = models.ForeignKey(Child, on_delete=models.CASCADE, related_name="involvements")
    organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT)
    # The role and, for a sensitive service, its category and consent basis: one
    # fixed-size value sealed under the child's key (contactpoint.registry.involvement_facts).
    facts = Sealed()
    # Keyed digest of child, organisation and role: one open involvement of each.
    slot = models.BinaryField(max_length=16)
    practitioner = models.ForeignKey(Practitioner, on_delete=models.SET_NULL, null=True)
    # Sealed under the child's key: a GP registration often starts on the day of birth.
    start_date = Sealed()
    last_confirmed = models.DateField()
    end_date = models.DateField(null=True)
    ending = models.CharField(max_length=8, choices=Ending.choices, blank=True, default="")
    # When the practitioner was last reminded to confirm (expiry comes 24 months after
    # last_confirmed; the reminder a month before).
    reminded_on = models.DateField(null=True)
    lead_professional = models.BooleanField(default=False)
    caf_exists = models.BooleanField(default=False)
    # Set when a feed keeps this involvement current; null when a practitioner registered it.
    source_record = models.ForeignKey(
        "registry.SourceRecord", on_delete=models.SET_NULL, null=True, related_name="+"
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["child"],
                condition=models.Q(lead_professional=True, end_date__isnull=True),
                name="one_lead_professional_per_child",
            ),
            models.UniqueConstraint(
                fields=["slot"],
                condition=models.Q(end_date__isnull=True),
                name="one_open_involvement_per_slot",
            ),
        ]

    def __str__(self) -> str:
        return f"involvement {self.pk}"
