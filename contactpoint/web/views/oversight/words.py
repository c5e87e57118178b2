"""Plain words for the codes the audit log and the misuse rules write."""

from __future__ import annotations

from contactpoint.access.permissions import Permission
from contactpoint.access.purposes import PURPOSES
from contactpoint.audit.models import Event
from contactpoint.oversight.rules import Kind
from contactpoint.practice.models import EmergencyAccess, StatutoryAccess

KINDS: dict[str, str] = {
    Kind.SAME_SURNAME_OR_ADDRESS: "Looked at a child with their surname or home postcode",
    Kind.UNUSUAL_VOLUME: "Looked at far more children than usual in a day",
    Kind.LOW_AND_SLOW: "Looked at many new children, a few at a time, over weeks",
    Kind.OUTSIDE_AREA: "Looked at children from outside their organisation's area",
    Kind.OUT_OF_HOURS: "Looked at children outside working hours",
    Kind.SHIELDED_PROBE: "Tried to open shielded children's records",
    Kind.NO_FOLLOW_UP: "Searched many times without following up",
    Kind.EMERGENCY_ACCESS: "Used emergency access",
    Kind.REPEATED_REFUSALS: "Was refused many times",
    Kind.SECOND_FACTOR_GUESSING: "Wrong second factors after the right password",
    Kind.REGISTRATIONS_NOT_FOLLOWED_UP: "Registered with children, read their contacts, ended it",
    Kind.MANY_REGISTRATIONS: "Registered with far more children than usual in a day",
}

ACTIONS: dict[str, str] = {
    "child:records:search": "Searched for a child",
    "child:record:view": "Viewed a child's record",
    "child:record:print": "Printed a child's record",
    "child:record:open": "Opened a record by its contactpoint ID",
    "child:emergency-access:open": "Used emergency access",
    "child:involvement:register": "Registered an involvement",
    "child:involvement:confirm": "Confirmed an involvement",
    "child:involvement:end": "Ended an involvement",
    "child:involvement:caf": "Recorded whether a CAF exists",
    "child:involvement:lead": "Became lead professional",
    "child:involvement:handover-proposed": "Asked to take over as lead professional",
    "child:involvement:handover-agreed": "Agreed a lead professional handover",
    "child:involvement:handover-declined": "Declined a lead professional handover",
    "child:involvement:contact-requested": "Asked to be put in touch with a service",
    "child:involvement:contact-answered": "Answered a request to be put in touch",
    "access:sign-in:password": "Gave their password",
    "access:sign-in:code": "Gave their second factor",
    "access:sign-in:complete": "Signed in",
    "access:sign-in:guessing-told": "Was e-mailed about wrong second factors (and so were you)",
    "access:home-postcode:declare": "Declared their home postcode",
    "access:user:change-password": "Changed their password",
    "organisation:emergency-access:review": "Reviewed an emergency access",
    "oversight:misuse-alerts:read": "Read the misuse alerts",
    "oversight:misuse-alert:read": "Read a misuse alert",
    "oversight:misuse-alert:review": "Reviewed a misuse alert",
    "oversight:user-history:read": "Read a user's access history",
    "oversight:child-history:read": "Read a child's access history",
    "oversight:user:suspend": "Suspended a user",
}

SIGNALS: dict[str, str] = {
    "involved": "their organisation is involved",
    "same_surname": "the child shares their surname",
    "same_address": "the child lives at their home postcode",
    "outside_area": "the child is outside their area",
    "shielded": "the child is shielded",
}

PURPOSE_WORDS: dict[str, str] = {
    **PURPOSES,
    **dict(EmergencyAccess.Reason.choices),
    **dict(StatutoryAccess.Reason.choices),
}
OUTCOMES: dict[str, str] = dict(Event.Outcome.choices)


def action(code: str) -> str:
    """What an event's action means, e.g. "Viewed a child's record"."""
    if code in ACTIONS:
        return ACTIONS[code]
    rule = code.removeprefix("access:")
    if rule in {p.value for p in Permission}:
        return f"Asked for something their role or standing does not allow ({rule})"
    if code.startswith("access:user:") or code.startswith("access:organisation:"):
        return f"Managed users or organisations ({code})"
    return code


def signals(text: str) -> str:
    """An event's signals ("involved,same_surname") as words, or ""."""
    named = [SIGNALS.get(s, s) for s in text.split(",") if s]
    return "; ".join(named).capitalize() if named else ""


def purpose(code: str) -> str:
    return PURPOSE_WORDS.get(code, code)


def kind(code: str) -> str:
    return KINDS.get(code, code)


def helpers() -> dict[str, object]:
    """The word functions the oversight templates use."""
    return {
        "action_words": action,
        "signal_words": signals,
        "purpose_words": purpose,
        "kind_words": kind,
        "outcome_words": OUTCOMES,
    }
