"""Data keys in the key store's own database: made, fetched, kept, shredded, re-wrapped
under a new key-encryption key, counted; and only the key store's models go there."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest

from contactpoint.keystore import provider, service
from contactpoint.keystore.models import DataKey
from contactpoint.keystore.provider import FileKeyProvider
from contactpoint.keystore.routers import KEYS_ALIAS, KeyStoreRouter
from contactpoint.lib import crypto
from contactpoint.registry.models import Child

pytestmark = pytest.mark.django_db(databases=["default", "keys"], transaction=True)


def owners(n: int) -> list[uuid.UUID]:
    return [uuid.uuid4() for _ in range(n)]


def test_keys_made_are_the_keys_fetched_and_each_owner_has_its_own() -> None:
    made = service.create_data_keys(owners(3))
    assert service.data_keys(made) == made
    assert len(set(made.values())) == 3
    assert all(len(key) == 32 for key in made.values())


def test_the_key_store_holds_only_wrapped_keys() -> None:
    made = service.create_data_keys(owners(2))
    for row in DataKey.objects.all():
        assert made[row.owner_id] not in bytes(row.wrapped)
        assert row.kek_id == provider.get_provider().active_key_id()


def test_ensure_keeps_the_keys_that_exist_and_makes_the_others() -> None:
    old = service.create_data_keys(owners(2))
    new_owner = uuid.uuid4()
    ensured = service.ensure_data_keys([*old, new_owner])
    assert {o: ensured[o] for o in old} == old
    assert service.data_key(new_owner) == ensured[new_owner]
    assert service.ensure_data_key(new_owner) == ensured[new_owner]
    assert DataKey.objects.count() == 3


def test_a_destroyed_key_is_missing_and_only_the_named_owners_lose_theirs() -> None:
    gone, kept = owners(2)
    service.create_data_keys([gone, kept])
    assert service.destroy_data_keys([gone, uuid.uuid4()]) == 1
    with pytest.raises(service.MissingDataKey):
        service.data_key(gone)
    assert service.data_keys([gone, kept]).keys() == {kept}


def test_a_wrapped_key_copied_onto_another_owner_does_not_open() -> None:
    mine, theirs = owners(2)
    service.create_data_keys([mine, theirs])
    stolen = DataKey.objects.get(owner_id=mine).wrapped
    DataKey.objects.filter(owner_id=theirs).update(wrapped=stolen)
    with pytest.raises(crypto.DecryptionError):
        service.data_key(theirs)


def test_rewrapping_moves_every_key_under_the_active_kek_and_keeps_each_key(
    keyring: Path,
) -> None:
    made = service.create_data_keys(owners(5))
    ring = FileKeyProvider(keyring)
    old, new = ring.active_key_id(), ring.add_active_key()
    assert service.status().wrapped_by == {old: 5}
    batches: list[int] = []
    assert service.rewrap_all(batch_size=2, progress=batches.append) == 5
    assert batches == [2, 4, 5]
    assert service.status().wrapped_by == {new: 5}
    assert service.data_keys(made) == made
    assert service.rewrap_all() == 0
    assert all(row.rewrapped_at is not None for row in DataKey.objects.all())


def test_the_status_names_the_active_kek_and_every_kek_known(keyring: Path) -> None:
    ring = FileKeyProvider(keyring)
    first = ring.active_key_id()
    second = ring.add_active_key()
    state = service.status(ring)
    assert state.active == second
    assert state.known == sorted([first, second])
    assert state.wrapped_by == {}


def test_only_the_key_stores_models_are_routed_to_the_keys_database() -> None:
    router = KeyStoreRouter()
    assert router.db_for_read(DataKey) == KEYS_ALIAS
    assert router.db_for_write(DataKey) == KEYS_ALIAS
    assert router.db_for_read(Child) == "default"
    assert router.allow_migrate(KEYS_ALIAS, "keystore")
    assert not router.allow_migrate("default", "keystore")
    assert not router.allow_migrate(KEYS_ALIAS, "registry")
    assert router.allow_relation(DataKey(), Child()) is False
