"""No table pairs a child with a user, organisation, source or council area in clear,
unless it is listed here with its reason (ADR 0010, "What remains").

A stolen database that says which organisation's staff work with, looked at or asked
about which child says who works with the child: a social worker's council, a
sexual-health clinic. The walk looks at every concrete column of every model of the
service: a column holds a child when it is a foreign key to `registry.Child`, and a
party when it is a foreign key to a user, an organisation, an API client, a source or a
council area, or one of the plain columns that name a principal or an organisation
(`PARTY_COLUMNS`). Sealed values and keyed digests (a `child_tag`, a `holder`) hold
neither.
"""

from __future__ import annotations

from django.apps import apps
from django.db import models

from contactpoint.access.models import ApiClient, User
from contactpoint.registry.models import Child, CouncilArea, Organisation, Source

PARTIES = (User, Organisation, ApiClient, Source, CouncilArea)
# Plain columns that name a party without a foreign key: a principal ("user:<id>",
# "client:<id>"), an organisation's id, an area's code, the account name of who decided.
PARTY_COLUMNS = {
    "audit.Event": {"principal", "organisation_id"},
    "linkage.LinkDecision": {"decided_by"},
    "oversight.MisuseAlert": {"principal", "organisation_id"},
    "registry.ShieldingDecision": {"area_code"},
}
# Each table that keeps a child beside a party in clear, and why. Adding to it is a design
# decision: say why in ADR 0010 too.
ALLOWED = {
    # Who linked, unlinked or merged which record and child: the account name of an index
    # team member (or "contactpoint"), kept so that any decision can be reversed and
    # reviewed; the team works for the child's area, not with the child.
    "linkage.LinkDecision": "who made a linkage decision about a child: the index team",
    # The child's own area's index team: who recorded a family's request about the child,
    # and the area whose queue holds it. The field, source and organisation a correction
    # is about are sealed; that a family asked is what the audit log's clear action says
    # of the child's tag (ADR 0010, "Who found, read or corrected a child").
    "practice.RectificationRequest": "the child's area and its index team: the queue",
    "practice.SubjectAccessRequest": "the child's area's index team member who recorded it",
    # A notice names its child beside the child's own area (its team's queue); whether and
    # how the family was told is sealed.
    "practice.FamilyNotice": "the child's area: the index team's notice queue",
}


def is_child(field: models.Field[object, object]) -> bool:
    return bool(field.is_relation and field.related_model is Child)


def is_party(model: type[models.Model], field: models.Field[object, object]) -> bool:
    if field.is_relation:
        return field.related_model in PARTIES
    return field.name in PARTY_COLUMNS.get(model._meta.label, set())


def clear_pairings(models_to_walk: list[type[models.Model]]) -> set[str]:
    """The models with a column holding a child and another naming a party, in clear."""
    found = set()
    for model in models_to_walk:
        fields = model._meta.concrete_fields
        if any(map(is_child, fields)) and any(is_party(model, f) for f in fields):
            found.add(model._meta.label)
    return found


def our_models() -> list[type[models.Model]]:
    return [m for m in apps.get_models() if m.__module__.startswith("contactpoint.")]


def test_no_table_pairs_a_child_with_a_party_in_clear_unless_allowed() -> None:
    # Equal, not a subset: once a listed table stops pairing them, its entry goes too.
    assert clear_pairings(our_models()) == set(ALLOWED)


def test_every_plain_party_column_exists() -> None:
    for label, names in PARTY_COLUMNS.items():
        model = apps.get_model(label)
        for name in names:
            assert model._meta.get_field(name).concrete, f"{label}.{name}"


def test_the_walk_catches_a_new_clear_pairing_and_passes_tags_and_sealed_values() -> None:
    class Caseload(models.Model):  # a child beside the organisation working with it
        child = models.ForeignKey(Child, on_delete=models.CASCADE, related_name="+")
        organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="+")

        class Meta:
            app_label = "practice"
            managed = False

    class Visit(models.Model):  # a child beside the user who looked
        child = models.ForeignKey(Child, on_delete=models.CASCADE, related_name="+")
        by = models.ForeignKey(User, on_delete=models.CASCADE, related_name="+")

        class Meta:
            app_label = "practice"
            managed = False

    class Tagged(models.Model):  # the child only as a keyed tag beside the organisation
        child_tag = models.BinaryField(max_length=16)
        organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="+")

        class Meta:
            app_label = "practice"
            managed = False

    class Lonely(models.Model):  # a child, and no party
        child = models.ForeignKey(Child, on_delete=models.CASCADE, related_name="+")

        class Meta:
            app_label = "practice"
            managed = False

    try:
        walked = [Caseload, Visit, Tagged, Lonely]
        assert clear_pairings(walked) == {"practice.Caseload", "practice.Visit"}
        assert clear_pairings([*our_models(), Caseload]) - set(ALLOWED) == {"practice.Caseload"}
    finally:
        for name in ("caseload", "visit", "tagged", "lonely"):
            del apps.all_models["practice"][name]
        apps.clear_cache()
