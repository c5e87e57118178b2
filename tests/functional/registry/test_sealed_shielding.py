"""Which children are shielded and why, when a record was archived and the extension that
keeps it to 25: none readable from the database without the keys (ADR 0010)."""

from __future__ import annotations

import datetime as dt
import uuid
from pathlib import Path

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from contactpoint.access.permissions import Role
from contactpoint.access.users import Actor
from contactpoint.keystore import service as keys
from contactpoint.keystore.index_key import derived_key
from contactpoint.lib import crypto
from contactpoint.practice import retention, shielding
from contactpoint.registry import retention_facts, shield_tags
from contactpoint.registry.children import ciphers_for
from contactpoint.registry.models import Child, ShieldingDecision, ShieldTag
from tests.support.actors import Actors, user
from tests.support.children import load_children
from tests.support.registry import raw_rows
from tests.support.retention import load as load_people

pytestmark = pytest.mark.django_db(databases=["default", "keys"], transaction=True)

BEFORE = [("registry", "0008_seal_special_category_facts")]
WHY = "Mother and child have fled a violent partner who is looking for them"


def columns(table: str) -> set[str]:
    with connection.cursor() as cursor:
        found = connection.introspection.get_table_description(cursor, table)
    return {c.name for c in found}


def test_a_shielded_child_is_a_keyed_tag_found_only_by_its_id(feeds: Path) -> None:
    children = load_children(feeds)
    amelia, oliver = children["amelia"], children["oliver"]
    shield_tags.shield([amelia.pk])
    assert "shielded" not in columns("registry_child")
    [tag] = ShieldTag.objects.values_list("tag", flat=True)
    key = derived_key(shield_tags.SHIELDED_KEY)
    assert bytes(tag) == crypto.keyed_digest(key, amelia.pk.bytes)[:16]
    assert Child.objects.get(pk=amelia.pk).shielded
    assert not Child.objects.get(pk=oliver.pk).shielded
    assert shield_tags.shielded_among([amelia.pk, oliver.pk]) == {amelia.pk}
    shield_tags.unshield([amelia.pk])
    assert not ShieldTag.objects.exists() and not Child.objects.get(pk=amelia.pk).shielded


def test_a_decision_names_neither_its_child_nor_its_reason_in_clear(
    feeds: Path, actors: Actors
) -> None:
    amelia = load_children(feeds)["amelia"]
    ivan = user("ivan@council-a.example", "Ivan Ives", actors.council_a, Role.INDEX_TEAM, {})
    asked = shielding.request(Actor.of(actors.ian), amelia, "shield", "domestic_abuse", WHY)
    shielding.approve(Actor.of(ivan), asked.pk)
    amelia = Child.objects.get(pk=amelia.pk)
    asked = shielding.request(Actor.of(actors.ian), amelia, "unshield", "risk_ended", WHY)
    shielding.approve(Actor.of(ivan), asked.pk)
    assert "child_id" not in columns("registry_shieldingdecision")
    stored = raw_rows("registry_shieldingdecision")
    for value in (str(amelia.pk), amelia.pk.hex, "domestic_abuse", "risk_ended"):
        assert not any(value in str(v) for row in stored for v in row)
        assert not any(value.encode() in v for row in stored for v in row if type(v) is bytes)
    decisions = list(ShieldingDecision.objects.order_by("requested_at"))
    # Both reasons sealed at one length: a length does not tell one reason from another.
    assert len({len(bytes(d.reason)) for d in decisions}) == 1
    fresh = [ShieldingDecision.objects.get(pk=d.pk) for d in decisions]
    assert [(d.child.pk, d.reason_code) for d in fresh] == [
        (amelia.pk, "domestic_abuse"),
        (amelia.pk, "risk_ended"),
    ]
    assert not Child.objects.get(pk=amelia.pk).shielded


def test_the_archive_day_and_the_extension_are_sealed(feeds: Path, actors: Actors) -> None:
    children = load_people(feeds)
    retention.run(dt.date(2026, 5, 14))  # archives the two who are 18 already
    cipher = ciphers_for({children["young"].pk})[children["young"].pk]
    retention_facts.record_extension(cipher, "care_leaver")
    stored = raw_rows("registry_child")
    for value in ("2026-05-14", "care_leaver", "sen_consent"):
        assert not any(value in str(v) for row in stored for v in row if type(v) is not bytes)
        assert not any(value.encode() in v for row in stored for v in row if type(v) is bytes)
    # Every child holds a sealed extension, all of one length: none stands out.
    sealed = list(Child.objects.values_list("extension", flat=True))
    assert None not in sealed and len({len(bytes(e)) for e in sealed if e}) == 1
    archived = Child.objects.filter(status="archived")
    assert archived.count() == 2
    for child in archived:
        assert child.archived_quarter == dt.date(2026, 4, 1)
        assert child.archived_on == dt.date(2026, 5, 14)
    assert Child.objects.get(pk=children["young"].pk).retention_extension == "care_leaver"


def test_the_purge_opens_only_the_cut_off_quarter_and_purges_to_the_day(feeds: Path) -> None:
    children = load_people(feeds)
    retention.run(dt.date(2026, 5, 14))  # archives "adult" and "leaver" on 14 May 2026
    adult, leaver = children["adult"], children["leaver"]
    # One archived a quarter earlier: purged without its day opened.
    earlier = ciphers_for({leaver.pk})[leaver.pk]
    retention_facts.archive([earlier], dt.date(2026, 2, 20))
    assert retention.run(dt.date(2032, 5, 13)).purged == 1  # same quarter, a day early
    assert Child.objects.get(pk=leaver.pk).status == "purged"
    assert Child.objects.get(pk=adult.pk).status == "archived"
    assert retention.run(dt.date(2032, 5, 14)).purged == 1
    assert Child.objects.get(pk=adult.pk).status == "purged"


def test_the_migration_seals_shielding_and_retention(actors: Actors) -> None:
    executor = MigrationExecutor(connection)
    executor.migrate(BEFORE)
    try:
        old = MigrationExecutor(connection).loader.project_state(BEFORE).apps
        keyed, purged, decision = _clear_rows(old, actors)
    finally:
        executor = MigrationExecutor(connection)
        executor.loader.build_graph()
        executor.migrate(executor.loader.graph.leaf_nodes())
    assert shield_tags.shielded_among([keyed, purged]) == {keyed, purged}
    child = Child.objects.get(pk=keyed)
    assert (child.archived_quarter, child.archived_on) == (dt.date(2026, 4, 1), dt.date(2026, 5, 1))
    assert child.retention_extension == "care_leaver"
    gone = Child.objects.get(pk=purged)
    assert gone.archived_day is None and gone.extension is None
    assert gone.archived_quarter == dt.date(2026, 4, 1)
    made = ShieldingDecision.objects.get(pk=decision)
    assert (made.child.pk, made.reason_code) == (keyed, "protection")
    assert shielding.current(child) == made
    for value in ("care_leaver", "protection", "2026-05-01"):
        stored = raw_rows("registry_child") + raw_rows("registry_shieldingdecision")
        assert not any(value in str(v) for row in stored for v in row if type(v) is not bytes)


def _clear_rows(old: object, actors: Actors) -> tuple[uuid.UUID, uuid.UUID, uuid.UUID]:
    """Two shielded, archived children as the registry before sealing held them, one
    with a data key and one purged, and an approved decision about the first."""
    get = old.get_model  # type: ignore[attr-defined]
    issued, child_model = get("registry", "IssuedCpid"), get("registry", "Child")
    made: list[uuid.UUID] = []
    for n in range(2):
        child = child_model.objects.create(
            cpid=issued.objects.create(cpid=f"CP-SHIELD-{n}"),
            shielded=True,
            status="archived",
            archived_on=dt.date(2026, 5, 1),
            retention_extension="care_leaver",
        )
        keys.ensure_data_key(child.pk)
        made.append(child.pk)
    decision = get("registry", "ShieldingDecision").objects.create(
        child_id=made[0],
        action="shield",
        reason="protection",
        area_code=actors.area_a.code,
        requested_by_id=actors.ian.pk,
        requested_at=dt.datetime(2026, 4, 1, tzinfo=dt.UTC),
        status="approved",
        decided_by_id=actors.isla.pk,
        decided_at=dt.datetime(2026, 4, 2, tzinfo=dt.UTC),
        review_on=dt.date(2027, 4, 2),
    )
    keys.destroy_data_keys([made[1]])
    return made[0], made[1], decision.pk
