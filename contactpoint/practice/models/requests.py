"""What families ask of the local index team: a correction of a field of the
golden record, and the notice that tells a family a new service works with their child.

Nothing here is free text in clear: the corrected value and the team's note are sealed
under the child's data key (a purge shreds them with the child), and so is what became of
a family notice (whether telling the family would put the child at risk, and why);
everything else is a code, a date, a foreign key or a person. Which field a correction is
about, and which source and organisation supplied it (a youth offending team, a clinic),
are sealed too: beside the child they would say who holds a record of it.
"""

from __future__ import annotations

import datetime as dt
import uuid

from django.conf import settings
from django.db import models

from contactpoint.registry.fields import Sealed
from contactpoint.registry.models import Child, CouncilArea, Involvement, Organisation, Source


class RectificationRequest(models.Model):
    """A request to correct one field of a child's record, sent to the source that gave it."""

    class Field(models.TextChoices):
        # The golden record's own fields (contactpoint.registry.golden.GoldenRecord).
        GIVEN_NAME = "given_name", "Given name"
        FAMILY_NAME = "family_name", "Family name"
        DATE_OF_BIRTH = "date_of_birth", "Date of birth"
        SEX = "sex", "Sex"
        ADDRESS = "address_line1", "Address"
        POSTCODE = "postcode", "Postcode"
        NHS_NUMBER = "nhs_number", "NHS number"
        UPN = "upn", "Unique pupil number"

    class AskedBy(models.TextChoices):
        YOUNG_PERSON = "young_person", "The young person"
        PARENT_OR_CARER = "parent_or_carer", "A parent or carer"
        PRACTITIONER = "practitioner", "A practitioner"

    class Status(models.TextChoices):
        RECORDED = "recorded", "Recorded, not yet sent to the source"
        SENT_TO_SOURCE = "sent_to_source", "Sent to the source"
        CORRECTED = "corrected", "Corrected by the source"
        REFUSED_BY_SOURCE = "refused_by_source", "Refused by the source"
        WITHDRAWN = "withdrawn", "Withdrawn"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    child = models.ForeignKey(Child, on_delete=models.CASCADE, related_name="+")
    # The area whose local index team recorded it: its queue.
    area = models.ForeignKey(CouncilArea, on_delete=models.PROTECT, related_name="+")
    # The field, where the value shown now came from (its source and that record's as-at
    # date, when the request was recorded) and the organisation that sent that record:
    # one value padded to a fixed length under the child's key
    # (`families.rectification.About`).
    about = Sealed()
    corrected_value = Sealed()  # under the child's key: it is identifying data
    asked_by = models.CharField(max_length=16, choices=AskedBy.choices)
    note = Sealed()  # the team's own words, under the child's key
    status = models.CharField(max_length=18, choices=Status.choices, default=Status.RECORDED)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    recorded_at = models.DateTimeField()
    sent_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+"
    )
    sent_at = models.DateTimeField(null=True)
    emailed = models.BooleanField(default=False)  # the source's address was told
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+"
    )
    closed_at = models.DateTimeField(null=True)

    # What `about` holds, once opened (`families.rectification.with_about`): not columns.
    field: str = ""
    source: Source | None = None
    source_as_at: dt.date | None = None
    organisation: Organisation | None = None

    class Meta:
        indexes = [models.Index(fields=["area", "status"], name="rectification_queue")]

    def __str__(self) -> str:
        return self.reference

    @property
    def reference(self) -> str:
        """The number the source quotes back: derived from the id, it names no child."""
        return "CPR-" + self.id.hex[:10].upper()

    def get_field_display(self) -> str:
        """The field's name ("Not available" when `about` could not be opened)."""
        return str(self.Field(self.field).label) if self.field else "Not available"

    @property
    def is_open(self) -> bool:
        return self.status in (self.Status.RECORDED, self.Status.SENT_TO_SOURCE)


class FamilyNotice(models.Model):
    """A letter or message telling a family that a new service works with their child."""

    class Status(models.TextChoices):
        DUE = "due", "Due"
        SENT = "sent", "Sent"
        NOT_SENT_RISK = "not_sent_risk", "Not sent: it would put the child at risk"
        NOT_SENT = "not_sent", "Not sent"

    class Risk(models.TextChoices):
        # The practitioner's reason, at registration, for not telling the family.
        HARM_FROM_FAMILY = "harm_from_family", "Someone in the family may harm the child"
        ENQUIRY = "enquiry", "A child protection enquiry is under way"
        YOUNG_PERSON_ASKED = (
            "young_person_asked",
            "The young person asked that the family not be told",
        )
        OTHER_SAFEGUARDING = "other_safeguarding", "Another safeguarding reason"

    class How(models.TextChoices):
        POST = "post", "By post"
        EMAIL = "email", "By e-mail"
        IN_PERSON = "in_person", "In person"

    class NotSent(models.TextChoices):
        # The index team's reason for not sending a notice that was due.
        RISK = "risk", "Telling the family would put the child at risk"
        NO_CONTACT = "no_contact", "No way to reach the family"
        ALREADY_TOLD = "already_told", "The family already knows"
        ENDED = "ended", "The service's involvement has already ended"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    involvement = models.OneToOneField(Involvement, on_delete=models.CASCADE, related_name="+")
    child = models.ForeignKey(Child, on_delete=models.CASCADE, related_name="+")
    area = models.ForeignKey(CouncilArea, on_delete=models.PROTECT, related_name="+")
    due = models.BooleanField(default=True)  # waiting for the index team: its queue
    # What became of it (a Status, the practitioner's Risk, the team's NotSent reason, How
    # it was sent, by whom and when), sealed under the child's key at a fixed length for
    # every notice (`practice.family_notices.Outcome`): `not_sent_risk` and
    # `harm_from_family` are facts about the child.
    outcome = Sealed()
    created_at = models.DateTimeField()
    generated_at = models.DateTimeField(null=True)

    class Meta:
        indexes = [models.Index(fields=["area", "due"], name="family_notice_queue")]

    def __str__(self) -> str:
        return f"family notice {self.pk}"
