"""How sources spoil a true value: typos, nicknames, surname variants, date slips, bad ids.

Each function changes only the rows it is given; the rates that choose those rows live in
rates.py. Row-by-row Python is fine here: errors touch well under 1% of rows.
"""

from __future__ import annotations

import random

import numpy as np
import numpy.typing as npt

from contactpoint.synth import tables

ObjArray = npt.NDArray[np.object_]
IntArray = npt.NDArray[np.int64]
LETTERS = "abcdefghijklmnopqrstuvwxyz"
IMPOSSIBLE_DAYS = ("02-30", "02-31", "04-31", "06-31", "09-31", "11-31", "13-01", "00-12")
BAD_POSTCODES = ("NOT KNOWN", "ZZ99 9ZZ", "N/A", "12345", "QX1 1AA", "B1")


def typo(name: str, r: random.Random) -> str:
    """Insert, delete, substitute or transpose one letter (never the first)."""
    if len(name) < 3:
        return name + r.choice(LETTERS)
    i = r.randrange(1, len(name) - 1)
    kind = r.randrange(4)
    if kind == 0:
        return name[:i] + r.choice(LETTERS) + name[i:]
    if kind == 1:
        return name[:i] + name[i + 1 :]
    if kind == 2:
        return name[:i] + r.choice(LETTERS.replace(name[i].lower(), "")) + name[i + 1 :]
    if name[i] == name[i + 1]:
        return name[:i] + name[i + 1 :]
    return name[:i] + name[i + 1] + name[i] + name[i + 2 :]


def surname_variant(name: str, r: random.Random) -> str:
    """Write a hyphenated or double-barrelled surname another way."""
    parts = name.replace("-", " ").split()
    if len(parts) < 2:
        return name
    return r.choice(
        [" ".join(parts), "".join(parts), parts[-1], parts[0], "-".join(reversed(parts))]
    )


def apply(values: ObjArray, rows: IntArray, change: object, r: random.Random) -> None:
    """Replace values[rows] in place with change(value, r); None stays None."""
    for i in rows:
        v = values[i]
        if v is not None:
            values[i] = change(v, r)  # type: ignore[operator]


def nickname_rows(given: ObjArray, chance: npt.NDArray[np.float64], rate: float) -> IntArray:
    """Return rows whose given name has a nickname and whose draw falls under rate."""
    known = tables.nicknames()
    has = np.fromiter((g in known for g in given), dtype=bool, count=len(given))
    return np.nonzero(has & (chance < rate))[0]


def use_nickname(name: str, r: random.Random) -> str:
    """Return one of the name's nicknames or spelling variants."""
    return r.choice(tables.nicknames()[name])


def transpose_digits(number: str, r: random.Random) -> str:
    """Swap two different adjacent digits among the first nine: the check then fails."""
    spots = [i for i in range(8) if number[i] != number[i + 1]]
    if not spots:
        return number
    i = r.choice(spots)
    return number[:i] + number[i + 1] + number[i] + number[i + 2 :]


def transpose_upn(upn: str, r: random.Random) -> str:
    """Swap two different adjacent digits of a UPN: the check letter then fails."""
    spots = [i for i in range(1, 12) if upn[i] != upn[i + 1]]
    if not spots:
        return upn
    i = r.choice(spots)
    return upn[:i] + upn[i + 1] + upn[i] + upn[i + 2 :]


def swap_day_month(dob: IntArray, rows: IntArray) -> IntArray:
    """Return the rows (of those given) whose day and month can be swapped, after swapping."""
    dates = dob[rows].astype("datetime64[D]")
    month_start = dates.astype("datetime64[M]")
    year = month_start.astype("datetime64[Y]")
    month = (month_start - year).astype(np.int64) + 1
    day = (dates - month_start).astype(np.int64) + 1
    ok = (day <= 12) & (day != month)
    swapped = year + (day - 1).astype("timedelta64[M]")
    swapped_days = swapped.astype("datetime64[D]") + (month - 1).astype("timedelta64[D]")
    dob[rows[ok]] = swapped_days[ok].astype(np.int64)
    return np.asarray(rows[ok], dtype=np.int64)


def impossible_date(iso: str, r: random.Random) -> str:
    """Return a date that does not exist in the same year, such as 2013-02-30."""
    return f"{iso[:4]}-{r.choice(IMPOSSIBLE_DAYS)}"


def garbage_nhs(number: str, r: random.Random) -> str:
    """Return a non-numeric NHS number, as a mistyped letter O or a stray character."""
    i = r.randrange(10)
    return number[:i] + r.choice("OIlX?") + number[i + 1 :]
