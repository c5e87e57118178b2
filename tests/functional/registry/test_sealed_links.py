"""Which organisation and practitioner an involvement ties a child to is sealed under the
child's data key; a keyed digest of child and organisation answers the need-to-know check
(ADR 0010)."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from contactpoint.access.users import Actor
from contactpoint.keystore import service as keys
from contactpoint.practice import involvements
from contactpoint.practice.involvements import Details
from contactpoint.practice.relationships import involved
from contactpoint.registry.cipher import ChildCipher
from contactpoint.registry.involvement_facts import area_member, member, with_links
from contactpoint.registry.models import Involvement, Organisation
from tests.support.actors import Actors
from tests.support.children import found, load_children

pytestmark = pytest.mark.django_db(databases=["default", "keys"], transaction=True)

BEFORE = [("registry", "0008_seal_special_category_facts")]
FACTS_SIZE = 96  # the padded JSON facts 0008 sealed


def stored_rows() -> tuple[list[str], list[tuple[Any, ...]]]:
    """The involvement table's columns and rows, as a thief reading the database sees them."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT * FROM registry_involvement")
        return [c[0] for c in cursor.description], cursor.fetchall()


def test_a_stored_involvement_names_no_organisation_or_practitioner(
    feeds: Path, actors: Actors
) -> None:
    children = load_children(feeds)
    charlie = Actor.of(actors.charlie)
    found(charlie, children["oliver"])
    registered = involvements.register(
        charlie, children["oliver"], Details("social_worker", "", "1")
    )

    columns, rows = stored_rows()
    assert not {c for c in columns if "organisation" in c or "practitioner" in c}
    links = [bytes(r[columns.index("facts")]) for r in rows]
    assert len(rows) == 9 and len({len(v) for v in links}) == 1  # 4 schools, 4 GPs, 1 team
    # Every child has its own digest for the same organisation: nothing groups children.
    members = [bytes(r[columns.index("member")]) for r in rows]
    assert len(set(members)) == len(members)

    opened = {i.pk: i for i in with_links(Involvement.objects.all())}
    mine = opened[registered.pk]
    assert mine.organisation == actors.council_b and mine.practitioner is not None
    assert mine.practitioner.user_id == actors.charlie.pk
    schools = {
        i.child_id: i.organisation for i in opened.values() if i.organisation.kind == "school"
    }
    assert len(schools) == 4
    for child, school in schools.items():
        assert involved(school.pk, child)
        assert not involved(actors.council_b.pk, child) or child == children["oliver"].pk


def test_the_need_to_know_check_ends_with_the_involvement(feeds: Path, actors: Actors) -> None:
    child = load_children(feeds)["amelia"]
    charlie = Actor.of(actors.charlie)
    found(charlie, child)
    assert not involved(actors.council_b.pk, child.pk)
    made = involvements.register(charlie, child, Details("social_worker", "", "1"))
    assert involved(actors.council_b.pk, child.pk)
    assert not involved(actors.school_a.pk, child.pk)
    involvements.end(charlie, made.pk)
    assert not involved(actors.council_b.pk, child.pk)


def test_the_migration_seals_the_links_an_existing_registry_holds_in_clear(
    actors: Actors,
) -> None:
    executor = MigrationExecutor(connection)
    executor.migrate(BEFORE)
    try:
        old = MigrationExecutor(connection).loader.project_state(BEFORE).apps
        keyed, purged, practitioner = _clear_rows(old, actors.council_b)
    finally:
        executor = MigrationExecutor(connection)
        executor.loader.build_graph()
        executor.migrate(executor.loader.graph.leaf_nodes())
    columns, _ = stored_rows()
    assert "organisation_id" not in columns and "practitioner_id" not in columns
    (kept,) = with_links(Involvement.objects.filter(child_id=keyed))
    assert kept.organisation_id == actors.council_b.pk
    assert kept.practitioner_id == practitioner
    assert bytes(kept.member) == member(keyed, actors.council_b.pk)
    assert involved(actors.council_b.pk, keyed)
    # A purged child's link cannot be sealed (its key is gone) and is dropped; its digest
    # stays, so the row still answers "is this organisation involved".
    gone = Involvement.objects.get(child_id=purged)
    assert gone.facts is None and bytes(gone.member) == member(purged, actors.council_b.pk)
    area = actors.council_b.council_area
    assert area is not None
    assert bytes(gone.area_member) == area_member(purged, area.code)
    assert with_links([gone]) == []


def _clear_rows(old: object, team: Organisation) -> tuple[uuid.UUID, uuid.UUID, int]:
    """Two children with an involvement as the registry before sealing links held them:
    one with a data key, one purged. Returns their ids and the practitioner's."""
    get = old.get_model  # type: ignore[attr-defined]
    issued, child_model = get("registry", "IssuedCpid"), get("registry", "Child")
    person = get("registry", "Practitioner").objects.create(
        organisation_id=team.pk, name="Sam Worker"
    )
    made: list[uuid.UUID] = []
    involvement = get("registry", "Involvement")
    for n in range(2):
        cpid = issued.objects.create(cpid=f"CP-LINK-{n}")
        child = child_model.objects.create(cpid=cpid)
        cipher = ChildCipher(child.pk, keys.ensure_data_key(child.pk))
        row_id = uuid.uuid4()
        facts = '["social_worker",null,null]'
        involvement.objects.create(
            id=row_id,
            child=child,
            organisation_id=team.pk,
            practitioner_id=person.pk,
            facts=cipher.seal_fixed(involvement, "facts", row_id, facts, FACTS_SIZE),
            slot=bytes([n]) * 16,
            last_confirmed="2026-10-01",
        )
        made.append(child.pk)
    keys.destroy_data_keys([made[1]])
    return made[0], made[1], person.pk
