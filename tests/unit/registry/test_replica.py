"""The replica setting (settings.replica_database) and the router that uses it
(contactpoint.registry.replica)."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import override_settings

from contactpoint import config
from contactpoint.access.models import User
from contactpoint.audit.models import Event
from contactpoint.keystore.models import DataKey
from contactpoint.linkage.models import LinkageModel
from contactpoint.practice.models import Finding
from contactpoint.registry.models import BlindIndexEntry, Child, ShieldTag, SourceRecord
from contactpoint.registry.replica import REPLICA_ALIAS, ReplicaRouter, stale_reads
from contactpoint.settings import replica_database

PRIMARY = {
    "ENGINE": "django.db.backends.postgresql",
    "NAME": "contactpoint",
    "HOST": "db-primary",
    "PORT": 5432,
    "OPTIONS": {"options": "-c lock_timeout=10000 -c statement_timeout=18000"},
}
KEYS = {**PRIMARY, "NAME": "contactpoint_keys", "HOST": "keys-host"}
REPLICA_URL = "postgres://reader:pw@db-replica:5432/contactpoint"


def test_the_replica_connection_is_read_only_with_the_primarys_timeouts() -> None:
    db = replica_database(REPLICA_URL, PRIMARY, KEYS)
    assert (db["HOST"], db["NAME"], db["USER"]) == ("db-replica", "contactpoint", "reader")
    assert db["OPTIONS"]["options"] == (
        "-c lock_timeout=10000 -c statement_timeout=18000 -c default_transaction_read_only=on"
    )
    assert db["TEST"] == {"MIRROR": "default"}


@pytest.mark.parametrize(
    ("url", "primary", "said"),
    [
        ("postgres://reader:pw@[db-replica", PRIMARY, "is not a database URL"),
        ("mysql://reader:pw@db-replica/contactpoint", PRIMARY, "PostgreSQL replica"),
        ("postgres://reader:pw@db-replica", PRIMARY, "PostgreSQL replica"),
        (REPLICA_URL, {**PRIMARY, "ENGINE": "django.db.backends.sqlite3"}, "SQLite has no"),
        ("postgres://reader:pw@keys-host:5432/contactpoint_keys", PRIMARY, "the key store"),
    ],
)
def test_a_replica_url_that_cannot_be_a_replica_is_refused_without_echoing_it(
    url: str, primary: dict[str, Any], said: str
) -> None:
    with pytest.raises(config.ConfigurationError, match=said) as refused:
        replica_database(url, primary, KEYS)
    assert "CONTACTPOINT_REPLICA_URL" in str(refused.value) and "pw" not in str(refused.value)


def test_production_refuses_the_primary_as_its_own_replica(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    itself = "postgres://reader:pw@db-primary:5432/contactpoint"
    assert replica_database(itself, PRIMARY, KEYS)["HOST"] == "db-primary"  # tests do this
    monkeypatch.setenv("CONTACTPOINT_ENV", "production")
    with pytest.raises(config.ConfigurationError, match="names the primary itself"):
        replica_database(itself, PRIMARY, KEYS)
    assert replica_database(REPLICA_URL, PRIMARY, KEYS)["HOST"] == "db-replica"


WITH_REPLICA = {"default": PRIMARY, "keys": KEYS, REPLICA_ALIAS: PRIMARY}


@pytest.mark.filterwarnings("ignore:Overriding setting DATABASES")  # read by the router only
@override_settings(DATABASES=WITH_REPLICA)
def test_only_a_searchs_registry_reads_may_go_to_the_replica() -> None:
    router = ReplicaRouter()
    assert router.db_for_read(Child) is None  # not asked for
    with stale_reads():
        for stale in (Child, SourceRecord, BlindIndexEntry):
            assert router.db_for_read(stale) == REPLICA_ALIAS
            assert router.db_for_write(stale) is None  # the next router: the primary
        for fresh in (ShieldTag, User, Finding, Event, DataKey, LinkageModel):
            assert router.db_for_read(fresh) is None
    assert router.db_for_read(Child) is None
    assert router.allow_migrate(REPLICA_ALIAS, "registry") is False
    assert router.allow_migrate("default", "registry") is None


def test_without_a_replica_nothing_is_routed_to_one() -> None:
    with stale_reads():
        assert ReplicaRouter().db_for_read(Child) is None
