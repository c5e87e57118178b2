"""No case information, ever: the schema itself cannot hold free text about a child."""

from __future__ import annotations

from django.apps import apps
from django.db import models

from contactpoint.registry.fields import Sealed
from contactpoint.registry.models import Child

# The only text a child's record may hold, each an identity or contact detail, and each
# sealed under the child's data key. Adding to this list is a design decision: say why.
ALLOWED_TEXT = {
    # An involvement's role, sensitive category and consent basis are coded, but
    # special-category (a youth offending worker, a sexual-health service): sealed at a
    # fixed length (docs/adr/0010); so is the involvement's link, the organisation and
    # practitioner it ties the child to.
    "registry.Involvement": {"facts"},
    # The day a record was archived (about a birthday) and its retention extension
    # (`care_leaver` says the child was looked after), padded: ADR 0010.
    "registry.Child": {"archived_day", "extension"},
    # The source record as it came, sealed: the child's facts as the source stated them
    # (name, date of birth, address, identifiers, carers), read by the golden record and
    # re-linkage; and the addresses it stated before (docs/adr/0013). Which source sent
    # it, at a fixed length: a youth offending or clinic record says that service knows the
    # child (docs/adr/0010).
    "registry.SourceRecord": {"payload", "history", "origin"},
    # The one text a person types about a child: why they needed emergency access (the
    # issue asks for a reason code and text). Sealed, so the privacy officer's review can
    # read it and a purge shreds it; never shown to anyone else.
    # Its child's id, sealed under a key derived from the index key (the review outlives a
    # purge): an emergency access beside its child says the child had an emergency.
    "practice.EmergencyAccess": {"reason", "explanation", "child_ref"},
    "practice.Alert": {"about"},
    # A handover's child and both involvements, sealed under a key derived from the index
    # key: which services of a child hand over its lead (ADR 0010).
    "practice.Handover": {"about"},
    "practice.ContactRequest": {"involvement_sealed"},
    # Why the local index team asks to shield or unshield a child: the second member judges
    # it (docs/shielding.md). Sealed like the emergency explanation; never shown elsewhere.
    # The reason code too, padded (why a child is at risk), and the decision's child's id,
    # sealed under a key derived from the index key rather than the child's (the queue
    # must find the child): docs/adr/0010.
    "registry.ShieldingDecision": {"explanation", "reason", "child_ref"},
    # Not a child's: a user's declared home postcode (misuse detection compares it with the
    # children they look at) and a privacy officer's note on a misuse alert, each sealed
    # under a data key of its own (the user's, the alert's): docs/oversight.md.
    "oversight.HomePostcode": {"postcode"},
    "oversight.MisuseAlert": {"note", "children"},
    # Families' rights (docs/families.md and retention.md), each sealed under the
    # child's key so that a purge shreds it: the index team's note of how it checked a
    # subject-access requester's identity; a correction asked for (identifying by nature)
    # and the team's note on it; why a record archived over a year ago is read (a statutory
    # reason's particulars); who asked for a child's record and how they were checked,
    # padded (that a young person or a representative asked says something of the child).
    "practice.SubjectAccessRequest": {"note", "relationship", "identity_check"},
    # A correction's field, source, as-at date and supplying organisation, one value
    # padded and sealed under the child's key (which service holds the child: ADR 0010).
    "practice.RectificationRequest": {"corrected_value", "note", "about"},
    "practice.FamilyNotice": {"outcome"},
    # Why a review item waits (`shielded` says its record might be a shielded child) and
    # the children it might be, with their weights and comparisons: one value padded and
    # sealed under a key derived from the index key, so no item stands out (ADR 0010).
    "linkage.ReviewItem": {"about"},
    "practice.StatutoryAccess": {"reason", "explanation", "child_ref"},
}
# Keyed digests: fixed-length HMACs, not text.
DIGESTS = {
    "registry.SourceRecord": {"record_ref", "digest"},
    "registry.Involvement": {"slot", "member", "area_member"},
    "registry.ShieldingDecision": {"child_tag"},
    "registry.ShieldTag": {"tag"},
    # An emergency or statutory access's user and child; a finding's principal and child; a
    # released enquiry's child, principal and day.
    "practice.EmergencyAccess": {"holder"},
    "practice.StatutoryAccess": {"holder"},
    "practice.Finding": {"holder"},
    "practice.EnquiryRelease": {"enquiry"},
}
# Written by the service, never typed by a person: who decided (a user's account name or
# "contactpoint"), and the ids of records a merge moved.
MACHINE_WRITTEN = {
    "linkage.LinkDecision": {"decided_by", "moved"},
    # The council area whose index team decides a shielding request: a code, set by the
    # service from the child's involvements.
    "registry.ShieldingDecision": {"area_code"},
    # A child's contactpoint ID: issued by the service (lib/identifiers.py), unique.
    "registry.Child": {"cpid"},
}
TEXT_FIELDS = (models.CharField, models.TextField, models.BinaryField, models.JSONField)


def attached_to_a_child(model: type[models.Model]) -> bool:
    if model is Child:
        return True
    return any(f.is_relation and f.related_model is Child for f in model._meta.concrete_fields)


def our_models() -> list[type[models.Model]]:
    return [m for m in apps.get_models() if m.__module__.startswith("contactpoint.")]


def free_text_fields(models_to_walk: list[type[models.Model]]) -> list[str]:
    """Every field that could hold free text on a model attached to a child, unless listed."""
    offending = []
    for model in filter(attached_to_a_child, models_to_walk):
        label = model._meta.label
        for field in model._meta.concrete_fields:
            if not isinstance(field, TEXT_FIELDS) or field.choices or field.is_relation:
                continue
            allowed = ALLOWED_TEXT, DIGESTS, MACHINE_WRITTEN
            if any(field.name in names.get(label, set()) for names in allowed):
                continue
            offending.append(f"{label}.{field.name}")
    return offending


def test_no_free_text_field_is_attached_to_a_child() -> None:
    assert free_text_fields(our_models()) == []


def test_every_identifying_value_is_sealed() -> None:
    for label, names in ALLOWED_TEXT.items():
        model = apps.get_model(label)
        for name in names:
            assert isinstance(model._meta.get_field(name), Sealed), f"{label}.{name}"


def test_nothing_is_sealed_outside_the_allowed_list() -> None:
    sealed = {
        f"{m._meta.label}.{f.name}"
        for m in our_models()
        for f in m._meta.concrete_fields
        if isinstance(f, Sealed)
    }
    assert sealed == {f"{label}.{n}" for label, names in ALLOWED_TEXT.items() for n in names}


def test_the_walk_catches_notes_and_a_json_blob_but_not_coded_or_unattached_fields() -> None:
    class Notes(models.Model):
        child = models.ForeignKey(Child, on_delete=models.CASCADE)
        notes = models.TextField()
        extra = models.JSONField()
        kind = models.CharField(max_length=10, choices=[("current", "Current")])

        class Meta:
            app_label = "registry"
            managed = False

    class Leaflet(models.Model):  # free text, but about no child
        text = models.TextField()

        class Meta:
            app_label = "registry"
            managed = False

    try:
        assert free_text_fields([Notes, Leaflet]) == [
            "registry.Notes.notes",
            "registry.Notes.extra",
        ]
    finally:
        for name in ("notes", "leaflet"):
            del apps.all_models["registry"][name]
        apps.clear_cache()
