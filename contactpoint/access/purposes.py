"""Why a practitioner looks at a child: the purpose stated with every search, kept on its
audit event and shown to families in their subject-access reports (docs/families.md)."""

from __future__ import annotations

# Purpose code: the words the search page and a family's report show.
PURPOSES: dict[str, str] = {
    "starting_work": "I have started working with this child",
    "safeguarding": "A concern about the child's safety or welfare",
    "coordinating": "To coordinate support with services already involved",
    "referral": "To make or take a referral",
    "updating_contacts": "To check the contacts of services already involved",
    "child_protection_enquiry": "Part of a child protection enquiry (section 47)",
}
