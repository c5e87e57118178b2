"""Identifiers: NHS number, Unique Pupil Number, postcode and our own contactpoint ID.

Pure functions, no I/O. The algorithms and their sources are in ../shared/REFERENCE.md
and docs/identifiers.md. Error messages never repeat the value they reject: an
identifier is a child's identifying data.
"""

from __future__ import annotations

import base64
import re
import secrets
from dataclasses import dataclass


class InvalidIdentifier(ValueError):
    """An identifier failed validation; the message names the rule, never the value."""


# --- NHS number ---------------------------------------------------------------------------

# Issued to people in England, Wales and the Isle of Man. 3xx (Scotland, CHI numbers) and
# 3200000010-3999999999 (Northern Ireland) are outside this service's scope; 9xx are test
# numbers that are never issued to a person; 5xx are not issued.
NHS_ISSUED_RANGES: tuple[tuple[int, int], ...] = (
    (400_000_000_0, 499_999_999_9),
    (600_000_000_0, 799_999_999_9),
)
NHS_TEST_RANGE = (900_000_000_0, 999_999_999_9)


def nhs_check_digit(first_nine: str) -> int | None:
    """Return the modulus 11 check digit for nine digits, or None when it would be 10."""
    total = sum(int(d) * w for d, w in zip(first_nine, range(10, 1, -1), strict=True))
    check = 11 - total % 11
    if check == 11:
        return 0
    return None if check == 10 else check


_NHS_SEPARATORS = re.compile(r"[\s-]")
_TEN_DIGITS = re.compile(r"\d{10}")


def normalise_nhs_number(raw: str) -> str:
    """Strip the spaces and hyphens people type inside an NHS number."""
    # Most numbers arrive as bare digits (\d, like isdecimal, is any Unicode decimal digit).
    return raw if raw.isdecimal() else _NHS_SEPARATORS.sub("", raw)


def validate_nhs_number(raw: str, *, allow_test_range: bool = False) -> str:
    """Return the ten-digit NHS number, or raise InvalidIdentifier saying which rule failed.

    Args:
        raw: the number as received, spaces and hyphens allowed.
        allow_test_range: accept 9xx numbers (test systems only; never for real people).

    Returns:
        The number as ten digits.
    """
    value = normalise_nhs_number(raw)
    if not _TEN_DIGITS.fullmatch(value):
        raise InvalidIdentifier("NHS number must be 10 digits")
    check = nhs_check_digit(value[:9])
    if check is None or check != int(value[9]):
        raise InvalidIdentifier("NHS number fails the modulus 11 check")
    number = int(value)
    in_range = any(lo <= number <= hi for lo, hi in NHS_ISSUED_RANGES)
    if allow_test_range:
        in_range = in_range or NHS_TEST_RANGE[0] <= number <= NHS_TEST_RANGE[1]
    if not in_range:
        raise InvalidIdentifier("NHS number is outside the ranges issued in England and Wales")
    return value


def is_valid_nhs_number(raw: str) -> bool:
    try:
        validate_nhs_number(raw)
    except InvalidIdentifier:
        return False
    return True


# --- Unique Pupil Number ------------------------------------------------------------------

UPN_ALPHABET = "ABCDEFGHJKLMNPQRTUVWXYZ"  # 23 letters: no I, O or S
_UPN = re.compile(rf"[{UPN_ALPHABET}]\d{{11}}[\d{UPN_ALPHABET}]")


def upn_check_letter(last_twelve: str) -> str:
    """Return the check letter for characters 2 to 13 of a UPN.

    A letter in the last position (a temporary UPN) counts as its index in UPN_ALPHABET.
    """
    total = 0
    for position, char in enumerate(last_twelve, start=2):
        value = UPN_ALPHABET.index(char) if char.isalpha() else int(char)
        total += value * position
    return UPN_ALPHABET[total % 23]


def validate_upn(raw: str) -> str:
    """Return the UPN in upper case, or raise InvalidIdentifier saying which rule failed.

    Args:
        raw: the UPN as received; surrounding spaces and case are forgiven.

    Returns:
        The 13-character UPN. The LA code is not checked against a list: newer councils
        (940, 941) are missing from some published lists.
    """
    value = raw.strip().upper()
    if not _UPN.fullmatch(value):
        raise InvalidIdentifier("UPN must be a letter, 11 digits and a digit or letter")
    if upn_check_letter(value[1:]) != value[0]:
        raise InvalidIdentifier("UPN check letter does not match")
    return value


def is_valid_upn(raw: str) -> bool:
    try:
        validate_upn(raw)
    except InvalidIdentifier:
        return False
    return True


# --- Postcode -----------------------------------------------------------------------------

_POSTCODE = re.compile(
    r"^(?:"
    r"[A-PR-UWYZ][0-9]{1,2}"  # AN, ANN
    r"|[A-PR-UWYZ][0-9][ABCDEFGHJKSTUW]"  # ANA
    r"|[A-PR-UWYZ][A-HK-Y][0-9]{1,2}"  # AAN, AANN
    r"|[A-PR-UWYZ][A-HK-Y][0-9][ABEHMNPRVWXY]"  # AANA
    r") [0-9][ABD-HJLNP-UW-Z]{2}$"
)


@dataclass(frozen=True, slots=True)
class Postcode:
    outward: str
    inward: str

    def __str__(self) -> str:
        return f"{self.outward} {self.inward}"

    @property
    def district(self) -> str:
        """The outward code, for example 'SW1A': the partial postcode people know."""
        return self.outward


def normalise_postcode(raw: str) -> str:
    """Upper-case, drop spaces, put one space before the last three characters.

    The inward code always starts with a digit, so an 'O' typed there becomes '0'.
    """
    compact = "".join(raw.split()).upper()  # str.split's whitespace is exactly re's \s
    if len(compact) < 5:
        return compact
    outward, inward = compact[:-3], compact[-3:]
    if inward[0] == "O":
        inward = "0" + inward[1:]
    return f"{outward} {inward}"


def parse_postcode(raw: str) -> Postcode:
    """Return the normalised postcode or raise InvalidIdentifier. Format only: not proof
    that the postcode exists."""
    value = normalise_postcode(raw)
    if value == "GIR 0AA" or _POSTCODE.match(value):
        outward, inward = value.split(" ")
        return Postcode(outward, inward)
    raise InvalidIdentifier("postcode is not in a valid UK format")


def is_valid_postcode(raw: str) -> bool:
    try:
        parse_postcode(raw)
    except InvalidIdentifier:
        return False
    return True


# --- contactpoint ID ----------------------------------------------------------------------

# Crockford's base32 without I, L, O, U: nothing that reads as another character.
CPID_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
CPID_BODY_LENGTH = 12  # 60 random bits: about 1e18 values for 1.1e7 children
CPID_CHECK_ALPHABET = CPID_ALPHABET + "*~$=U"  # Crockford's 37 check symbols


def cpid_check_character(body: str) -> str:
    """Crockford's mod-37 check symbol: catches every single substitution and every
    adjacent transposition."""
    value = 0
    for char in body:
        value = value * 32 + CPID_ALPHABET.index(char)
    return CPID_CHECK_ALPHABET[value % 37]


def new_cpid() -> str:
    """Return a fresh random contactpoint ID, for example 'CP-7Q2M-XB4N-9KDT-V'.

    Random rather than sequential so an ID says nothing about when or where a child was
    registered; the caller makes sure it was never issued before.
    """
    return new_cpids(1)[0]


# RFC 4648's base32 alphabet to Crockford's, symbol for symbol: each takes the same 5 bits.
_TO_CPID_ALPHABET = bytes.maketrans(b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567", CPID_ALPHABET.encode())
_LOW_60 = (1 << 60) - 1


def new_cpids(count: int) -> list[str]:
    """Return `count` fresh random contactpoint IDs (new_cpid), drawn at once.

    Two IDs' bodies are 120 random bits, exactly 15 bytes, whose base32 encoding (one C
    call for all the IDs) is 24 symbols, each taking its own 5 bits with no bias: the first
    12 are one body and the next 12 the other's, in Crockford's alphabet. A check symbol
    is its body's value (those 60 bits) mod 37, as `cpid_check_character` computes it.
    """
    pairs = -(-count // 2)
    raw = secrets.token_bytes(15 * pairs)
    text = base64.b32encode(raw).translate(_TO_CPID_ALPHABET).decode("ascii")
    made = []
    for pair in range(pairs):
        bits = int.from_bytes(raw[15 * pair : 15 * pair + 15], "big")
        for value, at in ((bits >> 60, 24 * pair), (bits & _LOW_60, 24 * pair + 12)):
            b = text[at : at + 12]
            made.append(f"CP-{b[:4]}-{b[4:8]}-{b[8:]}-{CPID_CHECK_ALPHABET[value % 37]}")
    return made[:count]


def format_cpid(compact: str) -> str:
    body, check = compact[:-1], compact[-1]
    return f"CP-{body[0:4]}-{body[4:8]}-{body[8:12]}-{check}"


def validate_cpid(raw: str) -> str:
    """Return the contactpoint ID in its printed form or raise InvalidIdentifier."""
    compact = re.sub(r"[\s-]", "", raw).upper()
    if compact.startswith("CP"):
        compact = compact[2:]
    body, check = compact[:-1], compact[-1:]
    if len(body) != CPID_BODY_LENGTH or any(c not in CPID_ALPHABET for c in body):
        raise InvalidIdentifier("contactpoint ID must be CP- and 13 characters")
    if cpid_check_character(body) != check:
        raise InvalidIdentifier("contactpoint ID check character does not match")
    return format_cpid(compact)
