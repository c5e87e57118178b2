"""Who works with a child: organisation, sealed role, practitioner and two indicators."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from django.conf import settings
from django.db import models

from contactpoint.registry.fields import CompactUUIDField, Sealed
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


@dataclass
class Link:
    """Whom an involvement links the child to, as opened from its sealed `link`."""

    organisation_id: int | None = None
    practitioner_id: int | None = None


_LINK = "_contactpoint_link"
_ORGANISATION = "_contactpoint_organisation"
_PRACTITIONER = "_contactpoint_practitioner"


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

    id = CompactUUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    child = models.ForeignKey(Child, on_delete=models.CASCADE, related_name="involvements")
    # Keyed digest of child and organisation: "is this organisation involved with this child".
    member = models.BinaryField(max_length=16)
    # Keyed digest of child and the organisation's council area: "is this area's index
    # team local to this child", answerable once the child's key is gone (purged).
    area_member = models.BinaryField(max_length=16)
    # The role and, for a sensitive service, its category and consent basis; the
    # organisation's and the practitioner's ids; the day it started (a GP registration
    # often starts on the day of birth): one fixed-size value sealed under the child's key
    # (contactpoint.registry.involvement_facts), the ids read through `organisation` and
    # `practitioner` (opened on first use, or for many rows at once by
    # involvement_facts.with_links).
    facts = Sealed()
    # Keyed digest of child, organisation and role: one open involvement of each.
    slot = models.BinaryField(max_length=16)
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
        # No index on `member` or `area_member`: each digest has the child's id in it, so
        # every query that compares one asks for one child's (or a page of children's)
        # involvements, which the index on `child` finds (docs/adr/0013).

    def __str__(self) -> str:
        return f"involvement {self.pk}"

    def link_opened(self) -> bool:
        return _LINK in self.__dict__

    def set_link(self, link: Link) -> None:
        """Set the ids; an organisation or practitioner fetched for other ids is dropped."""
        before = self.__dict__.get(_LINK, Link())
        self.__dict__[_LINK] = link
        if link.organisation_id != before.organisation_id:
            self.__dict__.pop(_ORGANISATION, None)
        if link.practitioner_id != before.practitioner_id:
            self.__dict__.pop(_PRACTITIONER, None)

    def opened_link(self) -> Link:
        """The organisation and practitioner ids, opened with the child's key if need be.

        Raises:
            KeyError: the row is sealed and its child's data key is gone.
        """
        if _LINK not in self.__dict__:
            if self._state.adding and self.facts is None:  # a new row: nothing sealed yet
                self.__dict__[_LINK] = Link()
            elif self.facts is None:  # its child was purged before the link was sealed
                raise KeyError("the child's data key is gone")
            else:
                from contactpoint.registry.involvement_facts import open_all

                if not open_all([self]):
                    raise KeyError("the child's data key is gone")
        link: Link = self.__dict__[_LINK]
        return link

    @property
    def organisation_id(self) -> int:
        found = self.opened_link().organisation_id
        assert found is not None, "an involvement always names its organisation"
        return found

    @organisation_id.setter
    def organisation_id(self, value: int) -> None:
        self.set_link(Link(value, self.opened_link().practitioner_id))

    @property
    def organisation(self) -> Organisation:
        if _ORGANISATION not in self.__dict__:
            organisations = Organisation.objects.select_related("council_area")
            self.__dict__[_ORGANISATION] = organisations.get(pk=self.organisation_id)
        found: Organisation = self.__dict__[_ORGANISATION]
        return found

    @organisation.setter
    def organisation(self, value: Organisation) -> None:
        self.organisation_id = value.pk
        self.__dict__[_ORGANISATION] = value

    @property
    def practitioner_id(self) -> int | None:
        return self.opened_link().practitioner_id

    @property
    def practitioner(self) -> Practitioner | None:
        if _PRACTITIONER not in self.__dict__:
            pk = self.practitioner_id
            found = Practitioner.objects.filter(pk=pk).first() if pk is not None else None
            self.__dict__[_PRACTITIONER] = found
        person: Practitioner | None = self.__dict__[_PRACTITIONER]
        return person

    @practitioner.setter
    def practitioner(self, value: Practitioner | None) -> None:
        link = self.opened_link()
        self.set_link(Link(link.organisation_id, value.pk if value is not None else None))
        self.__dict__[_PRACTITIONER] = value
