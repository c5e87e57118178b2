"""Name standardisation: folding, the blind-index keys, standard forms and nicknames."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from contactpoint.lib import names
from contactpoint.lib.names import (
    InvalidNicknameTable,
    family_name_keys,
    family_tokens,
    fold,
    given_name_key,
    name_tokens,
    nickname_groups,
    nickname_keys,
    parse_nickname_table,
    phonetic,
    standard_family,
    standard_given,
)
from contactpoint.synth import tables

# Share of the generator's (name, variant) pairs that the table puts in one group, as
# measured when the table was written (239 of 243; the rest are an adopted English name,
# initials and two informal short forms). A lower share means a group was lost.
GENERATOR_PAIR_FLOOR = 0.98


# --- fold and the blind-index keys: results pinned, because stored indexes depend on them --


@pytest.mark.parametrize(
    ("raw", "folded"),
    [
        ("Zoë", "zoe"),
        ("O'Brien", "obrien"),
        ("  Élodie-Rose  ", "elodie-rose"),
        ("Twin 1", "twin"),
        ("MARY   JANE", "mary jane"),
    ],
)
def test_it_folds_case_accents_digits_and_spaces(raw: str, folded: str) -> None:
    assert fold(raw) == folded


@given(st.text())
def test_fold_is_idempotent(text: str) -> None:
    assert fold(fold(text)) == fold(text)


def test_it_keeps_the_blind_index_keys_of_real_names() -> None:
    assert family_name_keys("Smith-Jones") == {"SNAT", "JAN", "SNATJAN"}
    assert family_name_keys("Smith Jones") == family_name_keys("Smith-Jones")
    assert family_name_keys("Mc Donald") == {"MC", "DANALD", "MCDANALD"}
    assert given_name_key("Mr John") == "JAN"
    assert given_name_key("Élodie-Rose") == "ELADY"
    assert name_tokens("Dr Élodie-Rose") == ["elodie", "rose"]
    assert phonetic("") == ""


@pytest.mark.parametrize("raw", ["Baby Boy", "Twin 1", "Unknown", "Baby 2", "TBC", "Mx"])
def test_placeholders_give_no_keys(raw: str) -> None:
    assert given_name_key(raw) == ""
    assert family_name_keys(raw) == set()


def test_no_title_or_placeholder_is_a_generated_real_name() -> None:
    # Dropping a word that is somebody's real name would lose them from the indexes.
    real = {
        token
        for pool in (tables.given_names(), tables.surnames())
        for name in pool.names
        for token in name_tokens(str(name))
    } | {fold(str(n)) for pool in (tables.given_names(), tables.surnames()) for n in pool.names}
    assert not real & (names.TITLES | names.PLACEHOLDERS)


# --- standard forms ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("Oliver", "oliver"),
        ("  OLIVER james ", "oliver"),
        ("Baby Oliver", "oliver"),
        ("Master Zoë", "zoe"),
        ("Ella-Rose", "ella"),
        ("Twin 1", ""),
        ("Baby Girl", ""),
        ("", ""),
    ],
)
def test_standard_given_is_the_first_real_token(raw: str, expected: str) -> None:
    assert standard_given(raw) == expected


@given(st.text())
def test_standard_given_agrees_with_the_blind_index_key(text: str) -> None:
    assert phonetic(standard_given(text)) == given_name_key(text)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("Smith", "smith"),
        ("SMITH-JONES", "smith jones"),
        ("smith   jones", "smith jones"),
        ("O'Brien", "obrien"),
        ("Unknown", ""),
        ("", ""),
    ],
)
def test_standard_family_joins_folded_parts_with_one_space(raw: str, expected: str) -> None:
    assert standard_family(raw) == expected


@given(st.text())
def test_standard_family_is_idempotent(text: str) -> None:
    assert standard_family(standard_family(text)) == standard_family(text)


def test_a_double_barrelled_name_meets_each_part_and_the_joined_whole() -> None:
    assert family_tokens("Smith-Jones") == ("smith", "jones", "smithjones")
    assert set(family_tokens("Smith-Jones")) & set(family_tokens("Jones"))
    assert set(family_tokens("Smith-Jones")) & set(family_tokens("SmithJones"))
    assert not set(family_tokens("Smith-Jones")) & set(family_tokens("Brown"))


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("Smith", ("smith",)),
        ("van der Berg", ("berg", "vanderberg")),
        ("Al Hassan", ("hassan", "alhassan")),
        ("Van", ("van",)),
        ("Baby", ()),
        ("Smith Smith", ("smith", "smithsmith")),
    ],
)
def test_family_tokens_leave_out_bare_particles(raw: str, expected: tuple[str, ...]) -> None:
    assert family_tokens(raw) == expected


def test_two_names_with_only_a_particle_in_common_do_not_meet() -> None:
    assert not set(family_tokens("van der Berg")) & set(family_tokens("Van Dijk"))


# --- nicknames ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("first", "second"),
    [
        ("Bill", "Liam"),
        ("William", "BILLY"),
        ("Elizabeth", "Bess"),
        ("Mohammed", "Muhammad"),
        ("Mohammad", "Mohamed"),
        ("Isobel", "Izzy"),
        ("Isabelle", "Isabel"),
        ("Zoë", "Zoey"),
        ("Alex", "Alexandra"),
        ("Alex", "Alexander"),
        ("Sam", "Samantha"),
        ("Katarzyna", "Kate"),
    ],
)
def test_these_names_share_a_nickname_group(first: str, second: str) -> None:
    assert set(nickname_keys(first)) & set(nickname_keys(second))


@pytest.mark.parametrize(
    ("first", "second"),
    [("William", "Alexander"), ("Alexander", "Alexandra"), ("Samuel", "Samantha")],
)
def test_these_names_do_not_share_a_nickname_group(first: str, second: str) -> None:
    assert not set(nickname_keys(first)) & set(nickname_keys(second))


def test_nickname_keys_are_the_sorted_canonical_names() -> None:
    assert nickname_keys("alex") == ("alexander", "alexandra")
    assert nickname_keys("Sam") == ("samantha", "samuel")
    assert nickname_keys("Liam") == ("william",)


def test_a_name_in_no_group_is_its_own_key() -> None:
    assert nickname_keys("Xanthippe") == ("xanthippe",)
    assert nickname_keys("ZÉNOBIE") == ("zenobie",)
    assert nickname_keys("  ") == ()


def test_the_table_has_enough_groups_and_every_key_is_its_own_group() -> None:
    groups = nickname_groups()
    assert len(groups) >= 150
    for group in groups:
        assert group[0] in nickname_keys(group[0])


def test_the_table_covers_the_generators_nickname_pairs() -> None:
    # The generator's table is independent of ours (matching must not import synth);
    # this measures how much of its variation our table would recognise.
    pairs = [(name, v) for name, variants in tables.nicknames().items() for v in variants]
    shared = [p for p in pairs if set(nickname_keys(p[0])) & set(nickname_keys(p[1]))]
    assert len(pairs) > 200
    assert len(shared) / len(pairs) >= GENERATOR_PAIR_FLOOR


def test_a_table_is_parsed_ignoring_comments_and_blank_lines() -> None:
    text = "# groups\n\nwilliam, bill ,liam\nsamuel,sam\nsamantha,sam\n"
    assert parse_nickname_table(text) == (
        ("william", "bill", "liam"),
        ("samuel", "sam"),
        ("samantha", "sam"),
    )


@pytest.mark.parametrize(
    ("text", "rule"),
    [
        ("william,Bill", "line 1: names must be lower-case"),
        ("william,zoë", "lower-case"),
        ("william,,bill", "lower-case"),
        ("mary,mary jane", "lower-case"),
        ("# c\nwilliam,bill,bill", "line 2: a name appears twice"),
        ("sam,samuel\nsam,samantha", "line 2: canonical key starts another line"),
    ],
)
def test_a_broken_table_is_refused_naming_the_line(text: str, rule: str) -> None:
    with pytest.raises(InvalidNicknameTable, match=rule):
        parse_nickname_table(text)
