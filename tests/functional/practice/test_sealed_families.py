"""Families' rights rows written before sealing (ADR 0010): the migrations turn a released
enquiry's principal, child and day into its keyed digest, and seal a subject-access
request's relationship and identity check under the child's key; the report reads both."""

from __future__ import annotations

import datetime as dt
import uuid
from pathlib import Path
from typing import Any

import pytest

from contactpoint.keystore import service as keys
from contactpoint.practice.families import subject_access, subject_access_history
from contactpoint.practice.models import EnquiryRelease, SubjectAccessRequest
from tests.support.actors import Actors
from tests.support.children import load_children
from tests.support.migrations import written_before
from tests.support.registry import raw_rows

pytestmark = pytest.mark.django_db(databases=["default", "keys"], transaction=True)

BEFORE = [("practice", "0009_seal_emergency_access_child")]
AT = dt.datetime(2026, 11, 2, 9, tzinfo=dt.UTC)
DAY = dt.date(2026, 11, 2)


def test_the_migrations_seal_releases_and_requests(feeds: Path, actors: Actors) -> None:
    children = load_children(feeds)
    amelia, oliver = children["amelia"], children["oliver"]
    principal = f"user:{actors.charlie.pk}"

    def make(old: Any) -> dict[str, uuid.UUID]:
        get = old.get_model
        release = get("practice", "EnquiryRelease").objects.create(
            principal=principal,
            child_id=amelia.pk,
            day=DAY,
            released_by_id=actors.ian.pk,
            released_at=AT,
        )
        requests = get("practice", "SubjectAccessRequest").objects
        who = {"requested_at": AT, "recorded_by_id": actors.ian.pk}
        kept = requests.create(
            child_id=amelia.pk, relationship="young_person", identity_check="photo_id", **who
        )
        gone = requests.create(
            child_id=oliver.pk, relationship="representative", identity_check="authority", **who
        )
        keys.destroy_data_keys([oliver.pk])
        return {"release": release.pk, "kept": kept.pk, "gone": gone.pk}

    made = written_before(BEFORE, make)
    release = EnquiryRelease.objects.get(pk=made["release"])
    tag = subject_access_history.enquiry_tag(amelia.pk, (principal, DAY))
    assert bytes(release.enquiry) == tag
    assert subject_access_history.released_of(amelia.pk, [(principal, DAY)]) == {(principal, DAY)}
    kept = SubjectAccessRequest.objects.get(pk=made["kept"])
    assert subject_access.relationship_of(kept) == "young_person"
    assert SubjectAccessRequest.objects.get(pk=made["gone"]).relationship is None
    released = {str(v) for r in raw_rows("practice_enquiryrelease") for v in r}
    assert not {principal, str(amelia.pk), amelia.pk.hex, DAY.isoformat()} & released
    asked = {str(v) for r in raw_rows("practice_subjectaccessrequest") for v in r}
    assert not {"young_person", "representative", "photo_id", "authority"} & asked
