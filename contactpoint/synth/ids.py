"""Vectorised identifier maths: NHS numbers, UPNs and postcodes for whole arrays at once.

The rules are those of contactpoint.lib.identifiers (the tests check every value against
it); here they run in numpy because the generator makes millions of them.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from contactpoint.lib.identifiers import UPN_ALPHABET

IntArray = npt.NDArray[np.int64]
ObjArray = npt.NDArray[np.object_]

# NHS numbers: 8-digit stems in the issued ranges 40-49 and 60-79 million; each stem has at
# least 9 last digits whose check digit is not 10, so index h maps to stem h // 9 and the
# (h % 9)-th usable ninth digit. An affine permutation of the index space scatters numbers.
_NHS_STEMS = 30_000_000
NHS_SPACE = _NHS_STEMS * 9  # 270 million distinct valid numbers
_NHS_MULT = 48_271  # coprime with 2, 3 and 5, so the map is a permutation of NHS_SPACE
_NHS_ADD = 104_729

_UPN_SPACE = 10_000_000  # establishment (4 digits) and serial (3 digits)
_UPN_MULT = 7_654_321  # coprime with 10
_UPN_ADD = 1_234_567

INWARD_LETTERS = np.array(list("ABDEFGHJLNPQRSTUWXYZ"), dtype=object)


def _digits(values: IntArray, width: int) -> IntArray:
    """Return an array [len, width] of decimal digits, most significant first."""
    out = np.empty((len(values), width), dtype=np.int64)
    rest = values.copy()
    for pos in range(width - 1, -1, -1):
        out[:, pos] = rest % 10
        rest //= 10
    return out


def nhs_numbers(index: IntArray) -> IntArray:
    """Return a distinct valid NHS number (as an integer) for each distinct index."""
    if len(index) and (index.min() < 0 or index.max() >= NHS_SPACE):
        raise ValueError("NHS index out of range")
    h = (index * _NHS_MULT + _NHS_ADD) % NHS_SPACE
    stem, nth = h // 9, h % 9
    prefix = np.where(stem < 10_000_000, stem + 40_000_000, stem - 10_000_000 + 60_000_000)
    sum8 = (_digits(prefix, 8) * np.arange(10, 2, -1)).sum(axis=1)
    bad = ((1 - sum8) * 6) % 11  # the ninth digit whose check digit would be 10
    ninth = np.where(nth >= bad, nth + 1, nth)
    total = sum8 + 2 * ninth
    check = (11 - total % 11) % 11
    return np.asarray((prefix * 10 + ninth) * 10 + check, dtype=np.int64)


def upn_strings(la: IntArray, year: IntArray, serial: IntArray) -> ObjArray:
    """Return UPNs: check letter, LA (3), establishment and serial (7, scrambled), year (2).

    serial must be unique within each (la, year); the scramble keeps it unique.
    """
    shift = (la * 7_919 + (year % 100) * 104_729) % _UPN_SPACE  # so codes differ by LA and year
    code7 = ((serial + shift) * _UPN_MULT + _UPN_ADD) % _UPN_SPACE
    estab, tail = code7 // 1000, code7 % 1000
    body = ((la * 10_000 + estab) * 100 + year % 100) * 1000 + tail  # 12 digits
    total = (_digits(body, 12) * np.arange(2, 14)).sum(axis=1)
    letters = np.array(list(UPN_ALPHABET), dtype=object)[total % 23]
    text = zero_padded(body, 12)
    return np.asarray(letters + text, dtype=object)


def zero_padded(values: IntArray, width: int) -> ObjArray:
    """Return the integers as zero-padded decimal strings (np.char.zfill fails on empty)."""
    if len(values) == 0:
        return np.empty(0, dtype=object)
    return np.asarray(np.char.zfill(values.astype(str), width).astype(object), dtype=object)


def inward_codes(rng: np.random.Generator, count: int) -> ObjArray:
    """Return random inward codes: a digit and two letters allowed in an inward code."""
    digit = rng.integers(0, 10, count).astype(str).astype(object)
    a = INWARD_LETTERS[rng.integers(0, len(INWARD_LETTERS), count)]
    b = INWARD_LETTERS[rng.integers(0, len(INWARD_LETTERS), count)]
    return np.asarray(digit + a + b, dtype=object)
