"""What the practitioner journey records, by room: coordination between services (alerts,
emergency access, contact requests, handovers, search findings), families' rights
(subject access, released enquiries), families' requests (rectification, family notices)
and retention (statutory access to archived records). Involvements themselves are the
registry's (`contactpoint.registry.models`)."""

from contactpoint.practice.models.coordination import (
    Alert,
    ContactRequest,
    EmergencyAccess,
    Finding,
    Handover,
)
from contactpoint.practice.models.families import EnquiryRelease, SubjectAccessRequest
from contactpoint.practice.models.requests import FamilyNotice, RectificationRequest
from contactpoint.practice.models.retention import StatutoryAccess

__all__ = [
    "Alert",
    "ContactRequest",
    "EmergencyAccess",
    "EnquiryRelease",
    "FamilyNotice",
    "Finding",
    "Handover",
    "RectificationRequest",
    "StatutoryAccess",
    "SubjectAccessRequest",
]
