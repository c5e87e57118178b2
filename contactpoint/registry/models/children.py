"""A child and the facts about them. Every identifying value is a Sealed column.

Each fact row says which source record supplied it (source and as-at date) and with what
confidence; `preferred` marks the fact the golden record shows (docs/survivorship.md).
"""

from __future__ import annotations

import uuid

from django.db import models

from contactpoint.registry.fields import Sealed


class IssuedCpid(models.Model):
    """Every contactpoint ID ever issued. Never deleted, so an ID is never reused."""

    cpid = models.CharField(max_length=20, primary_key=True)
    issued_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return self.cpid


class Child(models.Model):
    class Status(models.TextChoices):
        ACTIVE = "active", "Active"
        ARCHIVED = "archived", "Archived"
        DECEASED = "deceased", "Deceased"
        # Identity change (adoption, protected identity): the old record, closed for good.
        SEALED = "sealed", "Sealed after an identity change"
        MERGED = "merged", "Merged into another child"
        # Six years after archiving: its data key destroyed, so no copy opens (retention).
        PURGED = "purged", "Purged: its data key destroyed"

    # Internal id, used by audit and every other table; never shown to users.
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    cpid = models.OneToOneField(IssuedCpid, on_delete=models.PROTECT, db_column="cpid")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.ACTIVE)
    # Set by a source's sensitive-record flag or by two people (oversight); a feed never
    # clears it.
    shielded = models.BooleanField(default=False)
    # Retention (docs/retention.md): when the record was archived (at 18, or at 25
    # with an extension), and the extension the local index team recorded, if any.
    archived_on = models.DateField(null=True)

    class Extension(models.TextChoices):
        CARE_LEAVER = "care_leaver", "A care leaver"
        SEN_CONSENT = "sen_consent", "Special educational needs, with the young person's consent"

    retention_extension = models.CharField(
        max_length=12, choices=Extension.choices, blank=True, default=""
    )
    # A merged child points at the child it became; its cpid is never issued again.
    merged_into = models.ForeignKey("self", on_delete=models.PROTECT, null=True, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name_plural = "children"

    def __str__(self) -> str:
        return self.cpid_id


class Fact(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    child = models.ForeignKey(Child, on_delete=models.CASCADE, related_name="+")
    source_record = models.ForeignKey(
        "registry.SourceRecord", on_delete=models.CASCADE, related_name="+"
    )
    confidence = models.FloatField()
    preferred = models.BooleanField(default=False)

    class Meta:
        abstract = True

    def __str__(self) -> str:
        return f"{type(self).__name__} {self.pk}"


class ChildDemographic(Fact):
    date_of_birth = Sealed()
    sex = Sealed()


class ChildName(Fact):
    class Kind(models.TextChoices):
        CURRENT = "current", "Current name"
        FORMER = "former", "Former name"

    kind = models.CharField(max_length=8, choices=Kind.choices)
    given_name = Sealed()
    middle_names = Sealed()
    family_name = Sealed()


class ChildAddress(Fact):
    class Kind(models.TextChoices):
        CURRENT = "current", "Current address"
        PREVIOUS = "previous", "Previous address"

    kind = models.CharField(max_length=8, choices=Kind.choices)
    line1 = Sealed()
    line2 = Sealed()
    town = Sealed()
    postcode = Sealed()
    ended_on = models.DateField(null=True)


class ChildIdentifier(Fact):
    class Scheme(models.TextChoices):
        NHS_NUMBER = "nhs_number", "NHS number"
        UPN = "upn", "Unique Pupil Number"

    scheme = models.CharField(max_length=10, choices=Scheme.choices)
    value = Sealed()


class Carer(Fact):
    """A parent or carer. Their relationship, name and contact details are sealed under
    the child's key."""

    class Relationship(models.TextChoices):
        MOTHER = "mother", "Mother"
        FATHER = "father", "Father"
        STEP_PARENT = "step_parent", "Step-parent"
        GRANDPARENT = "grandparent", "Grandparent"
        FOSTER_CARER = "foster_carer", "Foster carer"
        SPECIAL_GUARDIAN = "special_guardian", "Special guardian"
        ADOPTIVE_PARENT = "adoptive_parent", "Adoptive parent"
        OTHER_RELATIVE = "other_relative", "Other relative"
        OTHER = "other", "Other"

    # Sealed padded to a fixed size (a foster carer says the child is looked after).
    relationship = Sealed()
    parental_responsibility = models.BooleanField(null=True)
    given_name = Sealed()
    family_name = Sealed()
    phone = Sealed()
    email = Sealed()
