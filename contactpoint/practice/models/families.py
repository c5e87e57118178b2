"""What families' rights record (docs/families.md): subject-access requests and the
release of accesses withheld while a child protection enquiry runs.

A request names the child, who asked (their relationship, never their name: the local
index team keeps its own case file) and how their identity was checked, both sealed under
the child's data key at a fixed length. The team's note is free text about a family, so
it is sealed under the child's data key too.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models

from contactpoint.registry.fields import Sealed
from contactpoint.registry.models import Child


class SubjectAccessRequest(models.Model):
    """A family's request for everything held about a child and who looked at it."""

    class Relationship(models.TextChoices):
        YOUNG_PERSON = "young_person", "The young person themself"
        PARENT = "parent", "A parent or carer with parental responsibility"
        REPRESENTATIVE = "representative", "A representative acting with written authority"

    class IdentityCheck(models.TextChoices):
        PHOTO_ID = "photo_id", "Photographic identity document seen in person"
        TWO_DOCUMENTS = "two_documents", "Two documents showing name and address"
        BIRTH_CERTIFICATE = "birth_certificate", "The child's birth certificate and photo ID"
        AUTHORITY = "authority", "A signed authority and the representative's identity"
        KNOWN_SERVICE = "known_service", "Confirmed by a service that knows the family"

    class Status(models.TextChoices):
        OPEN = "open", "Open"
        ISSUED = "issued", "Issued"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    child = models.ForeignKey(Child, on_delete=models.CASCADE, related_name="+")
    requested_at = models.DateTimeField()
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    # Who asked (a Relationship) and how the team checked them (an IdentityCheck, which
    # tells the relationship apart), each sealed under the child's key padded to a fixed
    # length (`subject_access.RELATIONSHIP_SIZE`, `CHECK_SIZE`): that a young person asked
    # for their own record, or a representative, says something about the child.
    relationship = Sealed()
    identity_check = Sealed()
    note = Sealed()  # under the child's key: it may say who the family are and why they ask
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.OPEN)
    issued_at = models.DateTimeField(null=True)

    def __str__(self) -> str:
        return f"subject-access request {self.pk}"


class EnquiryRelease(models.Model):
    """The local index team's release of one child protection enquiry's accesses.

    An enquiry is one principal's accesses to one child on one day, from their first
    search with the purpose `child_protection_enquiry` that day (docs/families.md). The
    row names it only by `enquiry`, a keyed digest of child, principal and day
    (`subject_access_history.enquiry_tag`): in clear they would say that this principal
    (and so their organisation) made a child protection enquiry about this child.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    enquiry = models.BinaryField(max_length=16, unique=True)
    released_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    released_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"enquiry release {self.pk}"
