"""The fast paths in names and identifiers agree with the plain regular expressions."""

from __future__ import annotations

import re
import unicodedata

from hypothesis import given
from hypothesis import strategies as st

from contactpoint.lib.identifiers import normalise_nhs_number, normalise_postcode
from contactpoint.lib.names import fold

# Decimal digits of other scripts count as digits for \d, and odd whitespace as \s.
AWKWARD = "0123456789 -\t\n\xa0\u2003\u3000\x1c٣४OoAaSs\xe9\u0301'\u2019\ufb01"
texts = st.one_of(
    st.text(), st.text(st.sampled_from(AWKWARD)), st.text(st.characters(max_codepoint=127))
)


def plain_fold(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text)
    ascii_only = "".join(c for c in decomposed if not unicodedata.combining(c))
    cleaned = re.sub(r"[^a-z\s-]", "", ascii_only.lower().replace("'", ""))
    return re.sub(r"\s+", " ", cleaned).strip()


@given(texts)
def test_fold_agrees_with_normalising_every_text(text: str) -> None:
    assert fold(text) == plain_fold(text)


def test_ascii_is_its_own_nfkd_form_without_combining_marks() -> None:
    for code in range(128):
        char = chr(code)
        assert unicodedata.normalize("NFKD", char) == char
        assert not unicodedata.combining(char)


@given(texts)
def test_nhs_numbers_are_normalised_as_by_the_expression(text: str) -> None:
    assert normalise_nhs_number(text) == re.sub(r"[\s-]", "", text)


def plain_normalise_postcode(raw: str) -> str:
    compact = re.sub(r"\s+", "", raw).upper()
    if len(compact) < 5:
        return compact
    outward, inward = compact[:-3], compact[-3:]
    if inward[0] == "O":
        inward = "0" + inward[1:]
    return f"{outward} {inward}"


@given(texts)
def test_postcodes_are_normalised_as_by_the_expression(text: str) -> None:
    assert normalise_postcode(text) == plain_normalise_postcode(text)
