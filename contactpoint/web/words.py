"""The plain words a page uses for the access vocabulary: what each permission lets a
person do, in the order a newcomer reads them."""

from __future__ import annotations

from collections.abc import Iterable

from contactpoint.access.permissions import Permission as P  # noqa: N817 - a table of them

PERMISSION_WORDS: dict[P, str] = {
    P.CHILD_RECORDS_SEARCH: "Find a child by their details",
    P.CHILD_RECORD_READ: "Open the record of a child you found",
    P.CHILD_CONTACTS_READ: "See who else works with a child, and how to reach them",
    P.CHILD_INVOLVEMENT_REGISTER: "Record that your service works with a child",
    P.CHILD_INVOLVEMENT_MANAGE: "Keep your service's involvement up to date, or end it",
    P.CHILD_EMERGENCY_ACCESS: "See a child's contacts for a short time in an emergency",
    P.SELF_ALERTS_READ: "Read your alerts",
    P.SELF_ACCOUNT_READ: "See your account",
    P.SELF_ACCOUNT_UPDATE: "Change your password and home postcode",
    P.SELF_SECOND_FACTOR_MANAGE: "Add or remove your authenticator app or security key",
    P.ORGANISATION_USERS_READ: "See the users of your organisation",
    P.ORGANISATION_EMERGENCY_ACCESS_REVIEW: "Review your organisation's uses of emergency access",
    P.ORGANISATION_MISUSE_ALERTS_REVIEW: "Review alerts of possible misuse in your organisation",
    P.ORGANISATION_ACCESS_HISTORY_READ: "Read the access history of your organisation's users",
    P.ORGANISATION_USERS_SUSPEND: "Suspend a user of your organisation",
    P.AREA_USERS_READ: "See the users of your council area",
    P.AREA_USERS_MANAGE: "Add, change and enable users in your council area",
    P.AREA_ORGANISATIONS_READ: "See the organisations of your council area",
    P.AREA_ORGANISATIONS_MANAGE: "Record the organisations of your council area",
    P.AREA_SHIELDED_CHILDREN_READ: "Read shielded children's records in your council area",
    P.AREA_SHIELDING_DECIDE: "Decide, with a colleague, whether a child is shielded",
    P.AREA_ARCHIVED_CHILDREN_READ: "Read archived records in your council area",
    P.AREA_RETENTION_MANAGE: "Keep a record until the child is 25, where the law allows",
    P.AREA_SUBJECT_ACCESS_MANAGE: "Answer a family's request to see what is held",
    P.AREA_RECTIFICATION_MANAGE: "Answer a request to correct a record",
    P.AREA_FAMILY_NOTICES_MANAGE: "Tell families that a service has started working with them",
    P.AREA_LINKAGE_REVIEW_DECIDE: "Decide whether two records are the same child",
    P.NATIONAL_USERS_READ: "See every user",
    P.NATIONAL_USERS_MANAGE: "Add, change and enable any user",
    P.NATIONAL_ORGANISATIONS_READ: "See every organisation",
    P.NATIONAL_ORGANISATIONS_MANAGE: "Record any organisation and its accreditation",
    P.NATIONAL_CLIENTS_MANAGE: "Manage the systems that use the API",
}


def described(permissions: Iterable[P]) -> list[str]:
    """What these permissions let a person do, in plain words, in the order above."""
    held = set(permissions)
    return [words for permission, words in PERMISSION_WORDS.items() if permission in held]
