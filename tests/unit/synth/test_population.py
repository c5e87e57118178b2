"""The synthetic children: valid identifiers, families, ages, and who each source sees."""

from __future__ import annotations

import collections

import numpy as np

from contactpoint.lib.identifiers import is_valid_nhs_number, is_valid_upn, parse_postcode
from contactpoint.synth import errors, tables
from contactpoint.synth.population import day_number
from tests.support.synth import CHILDREN, Generated


def test_every_child_has_a_valid_unique_nhs_number(generated: Generated) -> None:
    numbers = [str(n) for s in generated.shards for n in s.nhs]
    adopted = [str(n) for s in generated.shards for n in s.nhs_new if n]
    assert len(set(numbers + adopted)) == CHILDREN + len(adopted)
    assert all(is_valid_nhs_number(n) for n in numbers + adopted)
    assert all(n[0] in "4567" for n in numbers)


def test_every_school_age_child_has_a_valid_unique_upn(generated: Generated) -> None:
    upns = [u for s in generated.shards for u in s.upn if u is not None]
    assert len(upns) > CHILDREN * 0.6
    assert len(set(upns)) == len(upns)
    assert all(is_valid_upn(u) for u in upns)


def test_addresses_have_valid_postcodes_in_the_councils_districts(generated: Generated) -> None:
    councils = tables.councils()
    for shard in generated.shards:
        for postcode, council in zip(shard.address.postcode, shard.address.council, strict=True):
            outward = parse_postcode(postcode).outward
            start = councils.district_start[council]
            assert (
                outward
                in councils.district_outward[start : start + councils.district_count[council]]
            )


def test_organisation_postcodes_are_valid() -> None:
    from contactpoint.synth import organisations

    assert all(parse_postcode(r["postcode"]) for r in organisations.build(CHILDREN, 7).rows)


def test_ages_run_from_0_to_17_and_are_roughly_flat(generated: Generated) -> None:
    ages = np.concatenate([s.age for s in generated.shards])
    counts = np.bincount(ages, minlength=18)
    assert len(counts) == 18
    assert counts.min() > 0.75 * counts.mean()
    assert counts.max() < 1.25 * counts.mean()


def test_twins_share_birthday_surname_and_home_but_not_a_given_name(generated: Generated) -> None:
    shard = generated.shards[0]
    twins = np.nonzero(shard.twin)[0]
    assert len(twins) > 0.01 * len(shard)
    for i in twins:
        assert shard.hh[i] == shard.hh[i - 1]
        assert shard.dob[i] == shard.dob[i - 1]
        assert shard.family[i] == shard.family[i - 1]
        assert shard.given[i] != shard.given[i - 1]


def test_households_have_siblings_lone_parents_and_foster_carers(generated: Generated) -> None:
    shard = generated.shards[0]
    sizes = collections.Counter(np.bincount(shard.hh))
    assert sizes[1] and sizes[2] and sizes[3]
    relationships = set(shard.carers.relationship[0]) | set(shard.carers.relationship[1])
    assert {"mother", "father", "step_parent", "grandparent", "foster_carer"} <= relationships
    assert (shard.carers.given[1] == None).mean() > 0.15  # noqa: E711  lone parents


def test_names_are_skewed_and_diverse(generated: Generated) -> None:
    given = collections.Counter(g for s in generated.shards for g in s.given)
    top = given.most_common(1)[0][1] / CHILDREN
    assert 0.005 < top < 0.04
    assert len(given) > 500
    surnames = {f for s in generated.shards for f in s.family}
    assert {"Khan", "Patel", "Nowak"} & surnames


def test_about_half_a_percent_of_children_are_shielded(generated: Generated) -> None:
    rows = generated.rows("nhs_demographics")
    flagged = [r for r in rows if r["sensitive"] == "Y"]
    assert 0.002 < len(flagged) / len(rows) < 0.01
    assert all(r["postcode"] == "" and r["address_line1"] == "" for r in flagged)


def _ages(generated: Generated, source: str) -> list[int]:
    truth = generated.truth()
    ages = []
    for r in generated.rows(source):
        shard, i = generated.child(truth[(source, r["record_id"])])
        ages.append(int(shard.age[i]))
    return ages


def test_sources_see_only_children_they_should(generated: Generated) -> None:
    assert set(_ages(generated, "youth_offending")) <= set(range(10, 18))
    assert min(_ages(generated, "school_census")) >= 4
    assert not any(r["upn"] for r in generated.rows("child_benefit"))
    assert not any(r["nhs_number"] for r in generated.rows("child_benefit"))


def test_coverage_of_each_source_is_plausible(generated: Generated) -> None:
    share = {
        s: len(generated.rows(s)) / CHILDREN
        for s in ("nhs_demographics", "child_benefit", "council_social_care")
    }
    assert 0.96 < share["nhs_demographics"] < 0.99
    assert 0.84 < share["child_benefit"] < 0.92
    assert 0.02 < share["council_social_care"] < 0.05
    school = len(generated.rows("school_census")) / sum(
        1 for a in np.concatenate([s.school_age for s in generated.shards]) if 4 <= a <= 17
    )
    assert 0.85 < school < 0.93


def test_newborns_are_missing_from_sources_that_predate_them(generated: Generated) -> None:
    truth = generated.truth()
    census = day_number("2025-05-15")
    for r in generated.rows("child_benefit"):
        shard, i = generated.child(truth[("child_benefit", r["record_id"])])
        assert shard.dob[i] <= day_number("2025-07-31")
    assert census > 0


def test_embedded_data_has_no_characters_that_need_csv_quoting() -> None:
    names = (
        list(tables.given_names().names) + list(tables.surnames().names) + list(tables.streets())
    )
    assert not any(c in n for n in names for c in ',"\n\r')
    assert all(v not in "," for vs in tables.nicknames().values() for v in vs)
    assert not any(c in p for p in errors.BAD_POSTCODES for c in ',"')
