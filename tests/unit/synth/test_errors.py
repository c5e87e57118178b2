"""Each kind of error appears at about the rate rates.py says, measured against the truth."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import jellyfish

from contactpoint.lib.identifiers import is_valid_nhs_number, is_valid_postcode, is_valid_upn
from contactpoint.synth import rates, tables
from contactpoint.synth.feeds import iso
from contactpoint.synth.population import Shard
from tests.support.synth import Generated


def _pairs(generated: Generated, source: str) -> Iterator[tuple[dict[str, str], Shard, int]]:
    truth = generated.truth()
    for row in generated.rows(source):
        shard, i = generated.child(truth[(source, row["record_id"])])
        yield row, shard, i


def _within(observed: int, expected: float, slack: float = 0.5) -> bool:
    return (1 - slack) * expected - 3 <= observed <= (1 + slack) * expected + 3


def test_given_name_typos_and_nicknames_occur_at_their_rates(generated: Generated) -> None:
    source = "child_benefit"
    typos = nicknames = rows = could_nick = 0
    for row, shard, i in _pairs(generated, source):
        rows += 1
        true = shard.given[i]
        could_nick += true in tables.nicknames()
        if row["given_name"] in tables.nicknames().get(true, ()):
            nicknames += 1
        elif (
            row["given_name"] != true
            and jellyfish.damerau_levenshtein_distance(row["given_name"], true) == 1
        ):
            typos += 1
    e = rates.ERRORS[source]
    assert _within(typos, rows * e.given_typo)
    assert _within(nicknames, could_nick * e.nickname * (1 - e.given_typo))


def test_social_care_holds_an_nhs_number_about_70_percent_of_the_time(generated: Generated) -> None:
    rows = generated.rows("council_social_care")
    share = sum(1 for r in rows if r["nhs_number"]) / len(rows)
    assert 0.6 < share < 0.8


def test_day_and_month_are_sometimes_swapped(generated: Generated) -> None:
    swapped = expected = 0.0
    for source in ("school_census", "child_benefit", "nhs_demographics"):
        for row, shard, i in _pairs(generated, source):
            true = dt.date.fromisoformat(str(iso(shard.dob[i : i + 1])[0]))
            expected += rates.ERRORS[source].dob_swap * (true.day <= 12 and true.day != true.month)
            swapped += (
                row["date_of_birth"] == f"{true.year}-{true.day:02d}-{true.month:02d}"
                and true.day != true.month
            )
    assert _within(int(swapped), expected, slack=0.7)


def test_malformed_rows_exist_at_about_one_in_two_thousand(generated: Generated) -> None:
    bad = total = 0
    for source in rates.SOURCES:
        for r in generated.rows(source):
            total += 1
            bad += (
                not r["family_name"]
                or not _real_date(r["date_of_birth"])
                or (r["postcode"] != "" and not is_valid_postcode(r["postcode"]))
                or (r["nhs_number"] != "" and not r["nhs_number"].isdigit())
            )
    assert _within(bad, total * 0.0005, slack=0.7)


def _real_date(text: str) -> bool:
    try:
        dt.date.fromisoformat(text)
    except ValueError:
        return False
    return True


def test_wrong_identifiers_fail_their_check_or_belong_to_another_child(
    generated: Generated,
) -> None:
    invalid = sum(
        1 for r in generated.rows("school_census") if r["upn"] and not is_valid_upn(r["upn"])
    )
    rows = len(generated.rows("school_census"))
    assert _within(invalid, rows * rates.ERRORS["school_census"].transposed_id, slack=0.9)
    nhs = [r["nhs_number"] for r in generated.rows("nhs_demographics") if r["nhs_number"].isdigit()]
    assert all(is_valid_nhs_number(n) for n in nhs)


def test_movers_appear_at_their_old_address_in_some_sources(generated: Generated) -> None:
    stale = movers = 0
    for row, shard, i in _pairs(generated, "school_census"):
        h = shard.hh[i]
        if shard.moved[h]:
            movers += 1
            stale += row["postcode"] == shard.old_address.postcode[h]
    assert movers > 100
    assert 0.35 < stale / movers < 0.65


def test_recently_adopted_children_have_a_new_name_and_number_only_in_nhs_data(
    generated: Generated,
) -> None:
    seen = 0
    for row, shard, i in _pairs(generated, "nhs_demographics"):
        if shard.nhs_new[i]:
            seen += 1
            assert (
                row["nhs_number"] in (str(shard.nhs_new[i]), "") or not row["nhs_number"].isdigit()
            )
            assert shard.family[i] != shard.nhs_family[i]
    assert seen > 0
    for row, shard, i in _pairs(generated, "school_census"):
        if shard.nhs_new[i] and row["family_name"] == shard.family[i]:
            return
    raise AssertionError("no adopted child kept the birth surname at school")


def test_step_family_children_sometimes_carry_the_step_parents_surname(
    generated: Generated,
) -> None:
    changed = with_former = 0
    for row, shard, i in _pairs(generated, "school_census"):
        if (
            shard.step_family[i] is not None
            and row["family_name"] == shard.step_family[i] != shard.family[i]
        ):
            changed += 1
            with_former += row["former_family_name"] == shard.family[i]
    assert changed > 20
    assert 0 < with_former < changed
