"""Alerts as the tests look at them: what each is about is sealed (practice.involvements.alerts)."""

from __future__ import annotations

import uuid
from typing import Any

from contactpoint.practice.involvements.alerts import About, about
from contactpoint.practice.models import Alert


def of_kind(kind: str, **filters: Any) -> list[tuple[Alert, About]]:
    """The alerts the filters select whose sealed kind is `kind`, each with what it is
    about, opened."""
    rows = [(a, about(a)) for a in Alert.objects.filter(**filters).order_by("created_at")]
    return [(a, o) for a, o in rows if o.kind == kind]


def naming(thing: uuid.UUID, **filters: Any) -> list[tuple[Alert, About]]:
    """The alerts the filters select whose sealed `about` names `thing` (a child, an
    involvement, an emergency access, a request or a handover), each with it opened."""
    rows = [(a, about(a)) for a in Alert.objects.filter(**filters).order_by("created_at")]
    return [(a, o) for a, o in rows if thing in (o.child_id, o.involvement_id, o.ref_id)]
