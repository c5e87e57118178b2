"""An involvement's role, a sensitive service's category and consent basis are sealed under
the child's data key, at a fixed length (ADR 0010); a carer's relationship is sealed in its
source record's payload."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from contactpoint.access.users import Actor
from contactpoint.ingest.loader import load_folder
from contactpoint.keystore import service as keys
from contactpoint.practice import involvements
from contactpoint.practice.involvements import Conflict, Details
from contactpoint.registry import golden, involvement_facts
from contactpoint.registry.children import ciphers_for
from contactpoint.registry.involvement_facts import InvolvementFacts, facts_of
from contactpoint.registry.models import Child, Involvement
from tests.support.actors import Actors
from tests.support.children import found, load_children, nhs_number
from tests.support.feeds import child_row, write_feed

pytestmark = pytest.mark.django_db(databases=["default", "keys"], transaction=True)

BEFORE = [("registry", "0007_child_purged_status")]
AFTER = [("registry", "0008_seal_special_category_facts")]
LAST_WITH_FACT_TABLES = [("registry", "0012_compact_payloads")]


def raw(table: str, column: str) -> list[bytes]:
    """A column's stored bytes, as a thief reading the database file would see them."""
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {column} FROM {table}")  # noqa: S608 (fixed names)
        return [bytes(v or b"") for (v,) in cursor.fetchall()]


def test_a_sensitive_service_and_a_school_cannot_be_told_apart_without_the_key(
    feeds: Path, actors: Actors
) -> None:
    child = load_children(feeds)["oliver"]
    charlie = Actor.of(actors.charlie)
    found(charlie, child)
    details = Details(
        "health_service",
        "CAMHS worker",
        "1",
        sensitive_category="substance_misuse",
        consent_basis="risk_of_significant_harm",
    )
    sensitive = involvements.register(charlie, child, details)
    stored = raw("registry_involvement", "facts")
    assert len(stored) == 9 and len({len(v) for v in stored}) == 1  # 4 schools, 4 GPs
    # As the sealed JSON would hold them, quotes included: two bare letters ("gp") turn up in
    # nine random 52-byte values about once in sixty runs, four bytes never in practice.
    for value in (b'"school"', b'"gp"', b'"health_service"', b'"substance_misuse"', b'"risk_of'):
        assert not any(value in v for v in stored)
    opened = facts_of(Involvement.objects.filter(child=child))
    assert opened[sensitive.pk] == InvolvementFacts(
        "health_service", "substance_misuse", "risk_of_significant_harm"
    )
    assert sorted(f.role for f in opened.values()) == ["gp", "health_service", "school"]


def test_the_slot_keeps_one_open_involvement_per_role_and_links_no_two_children(
    feeds: Path, actors: Actors
) -> None:
    children = load_children(feeds)
    charlie = Actor.of(actors.charlie)
    made = []
    for key in ("amelia", "maya"):
        found(charlie, children[key])
        made.append(
            involvements.register(charlie, children[key], Details("social_worker", "", "1"))
        )
    with pytest.raises(Conflict, match="already registered"):
        involvements.register(charlie, children["amelia"], Details("social_worker", "", "1"))
    assert bytes(made[0].slot) != bytes(made[1].slot)  # same organisation and role
    stored = raw("registry_involvement", "slot")
    assert len(set(stored)) == len(stored)


def test_a_carers_relationship_is_sealed_in_the_payload(feeds: Path) -> None:
    carers = {"mother": "Nowakowska", "foster_carer": "Fosterling", "special_guardian": "Guard"}
    rows = [
        child_row(
            f"N{n}",
            nhs_number=nhs_number(n * 11),
            given_name=given,
            carer1_given_name="Ann",
            carer1_family_name=family,
            carer1_relationship=relationship,
        )
        for n, (given, (relationship, family)) in enumerate(
            zip(("Ola", "Ida", "Eva"), carers.items(), strict=True)
        )
    ]
    write_feed(feeds, "nhs_demographics", rows)
    load_folder(feeds)
    stored = raw("registry_sourcerecord", "payload")
    assert len(stored) == 3
    assert not any(b"foster" in v or b"mother" in v for v in stored)
    seen = {c.relationship for child in Child.objects.all() for c in _carers(child)}
    assert seen == set(carers)


def _carers(child: Child) -> tuple[golden.CarerView, ...]:
    record = golden.golden_record(child.pk)
    assert record is not None
    return record.carers


def test_the_migration_seals_what_an_existing_registry_holds_in_clear(actors: Actors) -> None:
    executor = MigrationExecutor(connection)
    executor.migrate(BEFORE)
    try:
        old = MigrationExecutor(connection).loader.project_state(BEFORE).apps
        ids = _clear_rows(old, actors)
        executor = MigrationExecutor(connection)
        executor.loader.build_graph()
        executor.migrate(LAST_WITH_FACT_TABLES)
        # The carers as 0008 sealed them, before 0015 dropped the fact tables.
        assert not any(b"foster_carer" in v for v in raw("registry_carer", "relationship"))
        state = MigrationExecutor(connection).loader.project_state(LAST_WITH_FACT_TABLES)
        carers = state.apps.get_model("registry", "Carer")
        carer = carers.objects.get(child_id=ids[0])
        cipher = ciphers_for({ids[0]})[ids[0]]
        assert cipher.open_fixed(carer, "relationship") == "foster_carer"
        # A purged child's clear values are dropped, not kept: nothing could open them.
        assert carers.objects.get(child_id=ids[1]).relationship is None
    finally:
        executor = MigrationExecutor(connection)
        executor.loader.build_graph()
        executor.migrate(executor.loader.graph.leaf_nodes())
    assert not any(b"youth_offending" in v for v in raw("registry_involvement", "facts"))
    keyed, purged = ids
    opened = facts_of(Involvement.objects.filter(child_id=keyed))
    assert sorted(opened.values(), key=lambda f: f.role) == [
        InvolvementFacts("health_service", "sexual_health", "young_person_consent"),
        InvolvementFacts("youth_offending_worker"),
    ]
    gone = Involvement.objects.get(child_id=purged)
    assert gone.facts is None and bytes(gone.slot) == involvement_facts.slot(
        purged, actors.council_b.pk, "youth_offending_worker"
    )


def _clear_rows(old: object, actors: Actors) -> tuple[uuid.UUID, uuid.UUID]:
    """Two children as the registry before sealing held them: one with a data key, one
    purged (its key destroyed). Returns their ids."""
    get = old.get_model  # type: ignore[attr-defined]
    issued, child_model = get("registry", "IssuedCpid"), get("registry", "Child")
    source = get("registry", "Source").objects.create(code="s", name="S", kind="national")
    made: list[uuid.UUID] = []
    for n in range(2):
        cpid = issued.objects.create(cpid=f"CP-SEAL-{n}")
        child = child_model.objects.create(cpid=cpid)
        keys.ensure_data_key(child.pk)
        record = get("registry", "SourceRecord").objects.create(
            source=source,
            record_ref=bytes([n]),
            child=child,
            status="linked",
            method="nhs_number",
            confidence=1.0,
            as_at="2026-10-01",
            digest=b"d",
        )
        get("registry", "Carer").objects.create(
            child=child, source_record=record, confidence=1.0, relationship="foster_carer"
        )
        involvement = get("registry", "Involvement")
        involvement.objects.create(
            child=child,
            organisation_id=actors.council_b.pk,
            role="youth_offending_worker",
            last_confirmed="2026-10-01",
        )
        if n == 0:
            involvement.objects.create(
                child=child,
                organisation_id=actors.council_b.pk,
                role="health_service",
                sensitive_category="sexual_health",
                consent_basis="young_person_consent",
                last_confirmed="2026-10-01",
            )
        made.append(child.pk)
    keys.destroy_data_keys([made[1]])
    return made[0], made[1]
