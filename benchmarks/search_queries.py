"""Search queries for bench_search, made from a synthetic population's truth.

The true child is regenerated from the seed (`build_shard`: the synthetic person, not any
feed's copy of it), so a query holds the name and date of birth a practitioner who knows
the child would type, spoilt on purpose by exactly one typo (the synthetic feeds' own typo:
insert, delete, substitute or transpose one letter) and, where a real date results, the day
and month swapped. Which registry children are "the right child" comes from the ground
truth: the children the child's source records were linked to.
"""

from __future__ import annotations

import collections
import datetime as dt
import json
import pathlib
import random
import uuid
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from contactpoint.search.criteria import Asked

# Every query has the family name and the date of birth; these add what the minimum
# criteria ask for, and say which name carries the typo.
KINDS = (
    "given+family, typo in given",
    "given+family, typo in family",
    "family+postcode, typo in family",
    "family+district, typo in family",
)
PURPOSE = "starting_work"


@dataclass(frozen=True)
class Query:
    kind: str
    swapped: bool  # the day and month are swapped (False: day over 12, or day = month)
    key_changed: bool  # the typo changed the spoilt name's phonetic key
    form: Asked  # the search as a practitioner asks it
    plain: Asked  # the same search without the typo and the swap
    right: frozenset[uuid.UUID]  # the registry children the true child's records are in


@dataclass(frozen=True)
class Person:
    key: str  # the truth's child_key
    given: str
    family: str
    born: dt.date
    postcode: str


def population(feeds: pathlib.Path) -> tuple[int, int]:
    """The children and seed of the synthetic population in `feeds`."""
    manifest = json.loads((feeds / "manifest.json").read_text())
    return int(manifest["children"]), int(manifest["seed"])


def people(feeds: pathlib.Path, count: int, seed: int) -> list[Person]:
    """`count` true children drawn at random, regenerated from the population's seed."""
    from contactpoint.synth import rates
    from contactpoint.synth.households import build_shard
    from contactpoint.synth.population import EPOCH

    children, population_seed = population(feeds)
    picked = random.Random(seed).sample(range(children), min(count, children))
    by_shard: dict[int, list[int]] = collections.defaultdict(list)
    for n in picked:
        by_shard[n // rates.SHARD_SIZE].append(n)
    found: dict[int, Person] = {}
    for shard, numbers in sorted(by_shard.items()):
        size = min(rates.SHARD_SIZE, children - shard * rates.SHARD_SIZE)
        truth = build_shard(population_seed, shard, size, children)
        for n in numbers:
            i = n - shard * rates.SHARD_SIZE
            born = (EPOCH + truth.dob[i]).item()
            postcode = str(truth.address.postcode[truth.hh[i]])
            found[n] = Person(
                f"C{int(truth.key[i]):09d}",
                str(truth.given[i]),
                str(truth.family[i]),
                born,
                postcode,
            )
    return [found[n] for n in picked]


def registry_children(feeds: pathlib.Path, keys: set[str]) -> dict[str, set[uuid.UUID]]:
    """The registry children each true child's source records are linked to."""
    from contactpoint.linkage.evaluate import registry_states, truth_rows

    records = {(s, r): c for s, r, c in truth_rows(feeds / "truth") if c in keys}
    found: dict[str, set[uuid.UUID]] = collections.defaultdict(set)
    for record, state in registry_states(records).items():
        if state.child is not None:
            found[records[record]].add(uuid.UUID(str(state.child)))
    return found


def swapped(born: dt.date) -> dt.date | None:
    """The date with day and month swapped, when that is another real date."""
    if born.day > 12 or born.day == born.month:
        return None
    return born.replace(month=born.day, day=born.month)


def make(person: Person, kind: str, right: set[uuid.UUID], r: random.Random) -> Query:
    """One query of this kind for this child."""
    from contactpoint.lib import names
    from contactpoint.search.criteria import Asked
    from contactpoint.synth.errors import typo

    spoilt = "given" if kind.endswith("typo in given") else "family"
    true_name = person.given if spoilt == "given" else person.family
    wrong = typo(true_name, r)
    if spoilt == "given":
        key_changed = names.given_name_key(wrong) != names.given_name_key(true_name)
    else:
        key_changed = names.family_name_keys(wrong) != names.family_name_keys(true_name)
    given = person.given if kind.startswith("given+family") else ""
    postcode = ""
    if kind.startswith("family+postcode"):
        postcode = person.postcode
    elif kind.startswith("family+district"):
        postcode = person.postcode.split()[0]
    plain = Asked(
        PURPOSE, person.born, family_name=person.family, given_name=given, postcode=postcode
    )
    other = swapped(person.born)
    form = replace(plain, date_of_birth=other or person.born)
    form = (
        replace(form, given_name=wrong) if spoilt == "given" else replace(form, family_name=wrong)
    )
    return Query(kind, other is not None, key_changed, form, plain, frozenset(right))


def queries(feeds: pathlib.Path, count: int, seed: int) -> tuple[list[Query], int]:
    """`count` queries, the kinds in turn, for children drawn at random among those on the
    index; also how many drawn children were not on it (no source record linked)."""
    drawn = people(feeds, count + count // 4 + 20, seed)
    linked = registry_children(feeds, {p.key for p in drawn})
    r = random.Random(seed)
    made: list[Query] = []
    missing = 0
    for person in drawn:
        if len(made) == count:
            break
        if not linked.get(person.key):
            missing += 1
            continue
        made.append(make(person, KINDS[len(made) % len(KINDS)], linked[person.key], r))
    return made, missing
