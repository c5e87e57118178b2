"""The feed format, the models and the generator use one vocabulary.

feeds.py stays free of Django (synth imports it), so its word lists are separate from the
models' choices; these tests keep them the same.
"""

from __future__ import annotations

import csv

from contactpoint.registry import feeds
from contactpoint.registry.models import Involvement, Organisation
from tests.support.synth import Generated


def test_feed_roles_are_involvement_roles() -> None:
    assert set(feeds.ORG_ROLES) <= set(Involvement.Role.values)


def test_the_generator_writes_only_words_the_loader_knows(generated: Generated) -> None:
    with (generated.out / "organisations.csv").open(encoding="utf-8", newline="") as handle:
        kinds = {row["kind"] for row in csv.DictReader(handle)}
    assert kinds == set(Organisation.Kind.values)
    relationships: set[str] = set()
    roles: set[str] = set()
    for source in feeds.SOURCES:
        for row in generated.rows(source):
            relationships |= {row["carer1_relationship"], row["carer2_relationship"]} - {""}
            roles |= {row["org_role"]} - {""}
    assert relationships and relationships <= set(feeds.RELATIONSHIPS)
    assert roles == set(feeds.ORG_ROLES)
