"""The slips a local system makes when it keys, scans or exports a child's record.

Each kind has its own rate (`Rates`), applied independently to each system's copy of a
person, so two systems rarely make the same slip. `Slips` counts each kind it applied,
so a test can check that every kind happens at about its rate.
"""

from __future__ import annotations

import random
import string
from collections import Counter
from dataclasses import dataclass, fields, replace

# QWERTY neighbours of each letter: the key a finger slips to.
_ROWS = ("qwertyuiop", "asdfghjkl", "zxcvbnm")
KEYBOARD: dict[str, str] = {}
for _r, _row in enumerate(_ROWS):
    for _i, _key in enumerate(_row):
        _near = {_row[j] for j in (_i - 1, _i + 1) if 0 <= j < len(_row)}
        for _other in (_r - 1, _r + 1):
            if 0 <= _other < len(_ROWS):
                _near |= {_ROWS[_other][j] for j in (_i - 1, _i) if 0 <= j < len(_ROWS[_other])}
        KEYBOARD[_key] = "".join(sorted(_near))

# What a scanner or a tired eye reads for what is written: both ways round.
OCR = (("rn", "m"), ("cl", "d"), ("vv", "w"), ("li", "h"), ("l", "1"), ("o", "0"), ("i", "l"))

# This module's own nicknames: formal given name -> what a system may hold instead.
NICKNAMES: dict[str, tuple[str, ...]] = {
    "William": ("Will", "Bill", "Billy", "Liam"),
    "Elizabeth": ("Liz", "Beth", "Lizzie", "Betty"),
    "Margaret": ("Maggie", "Peggy", "Meg"),
    "Catherine": ("Kate", "Cathy", "Katie"),
    "Robert": ("Rob", "Bob", "Bobby", "Robbie"),
    "Thomas": ("Tom", "Tommy"),
    "James": ("Jim", "Jamie", "Jimmy"),
    "Alexander": ("Alex", "Sandy", "Xander"),
    "Joseph": ("Joe", "Joey"),
    "Edward": ("Ed", "Eddie", "Ted"),
    "Samuel": ("Sam", "Sammy"),
    "Benjamin": ("Ben", "Benji"),
    "Daniel": ("Dan", "Danny"),
    "Matthew": ("Matt", "Matty"),
    "Christopher": ("Chris", "Kit"),
    "Michael": ("Mike", "Mikey", "Mick"),
    "Anthony": ("Tony", "Ant"),
    "Patrick": ("Paddy", "Pat"),
    "Nathan": ("Nate", "Nat"),
    "Zachary": ("Zach", "Zac"),
    "Sebastian": ("Seb", "Bastian"),
    "Henry": ("Harry", "Hal"),
    "Oliver": ("Ollie", "Olly"),
    "Jacob": ("Jake",),
    "Joshua": ("Josh",),
    "Charlotte": ("Charlie", "Lottie"),
    "Isabella": ("Bella", "Izzy"),
    "Isabelle": ("Izzy", "Belle"),
    "Sophia": ("Sophie",),
    "Florence": ("Flo", "Florrie"),
    "Rebecca": ("Becky", "Becca"),
    "Victoria": ("Vicky", "Tori"),
    "Abigail": ("Abby", "Abi"),
    "Jessica": ("Jess", "Jessie"),
    "Matilda": ("Tilly", "Tilda"),
    "Emily": ("Em", "Emmy"),
    "Amelia": ("Millie", "Amy"),
    "Bethany": ("Beth",),
    "Megan": ("Meg",),
    "Evelyn": ("Evie", "Eve"),
    "Freddie": ("Fred", "Freddy"),
    "Archie": ("Arch",),
    "Alfie": ("Alf",),
    "Theo": ("Teddy",),
}

INWARD_LETTERS = "ABDEFGHJLNPQRSTUWXYZ"


@dataclass(frozen=True)
class Rates:
    """How often each slip happens, as a share of the records (or names) it can hit."""

    name_edits: float = 0.10  # a name with one to three edits (insert, delete, change, swap)
    keyboard: float = 0.04  # a name with a neighbouring key struck
    ocr: float = 0.03  # a name with an OCR slip where it has a letter one can hit (rn/m, ...)
    names_swapped: float = 0.03  # given and family names in each other's place
    nickname: float = 0.25  # of given names with a nickname in NICKNAMES
    no_given_name: float = 0.02
    no_birth_date: float = 0.05
    birth_digit: float = 0.03  # one digit of the birth date changed
    day_month_swapped: float = 0.02
    year_off_by_one: float = 0.02
    house_number_dropped: float = 0.04
    house_number_to_line2: float = 0.04
    house_number_after_street: float = 0.04
    no_locality: float = 0.30  # of addresses with a second line
    no_town: float = 0.05
    no_postcode: float = 0.05
    postcode_mistyped: float = 0.03  # still a valid format: a different, real-looking one
    postcode_broken: float = 0.005  # not a valid UK format at all

    @classmethod
    def none(cls) -> Rates:
        """No slips at all: every system holds the clean record."""
        return cls(**{f.name: 0.0 for f in fields(cls)})

    def scaled(self, factor: float) -> Rates:
        """Every rate times `factor` (at most 1)."""
        return replace(
            self, **{f.name: min(1.0, getattr(self, f.name) * factor) for f in fields(self)}
        )


class Slips:
    """Applies slips at `rates` with `rng`, counting in `applied` each kind it made, and in
    `tried` each time one could have happened."""

    def __init__(self, rng: random.Random, rates: Rates) -> None:
        self.rng = rng
        self.rates = rates
        self.applied: Counter[str] = Counter()
        self.tried: Counter[str] = Counter()

    def happens(self, kind: str) -> bool:
        """Whether a slip of `kind` happens this time (counted when it does)."""
        rate: float = getattr(self.rates, kind)
        hit = self.rng.random() < rate
        self.tried[kind] += 1
        self.applied[kind] += hit
        return hit

    def name(self, value: str) -> str:
        """A name as one system holds it: edits, keyboard and OCR slips, independently."""
        if value and self.happens("name_edits"):
            for _ in range(self.rng.choices((1, 2, 3), weights=(6, 3, 1))[0]):
                value = edit(value, self.rng)
        if value and self.happens("keyboard"):
            value = keyboard_slip(value, self.rng)
        if value and self.happens("ocr"):
            value = ocr_slip(value, self.rng)
        return value

    def given_name(self, value: str) -> str:
        """A given name: perhaps a nickname, then the slips of any name."""
        if value in NICKNAMES and self.happens("nickname"):
            value = self.rng.choice(NICKNAMES[value])
        return self.name(value)

    def birth_date(self, day: str, month: str, year: str) -> tuple[str, str, str]:
        """The date's digits as one system holds them; the result may not be a real date."""
        if self.happens("day_month_swapped") and day != month:
            day, month = month, day
        if self.happens("year_off_by_one"):
            year = str(int(year) + self.rng.choice((-1, 1)))
        if self.happens("birth_digit"):
            digits = list(day + month + year)
            i = self.rng.randrange(len(digits))
            digits[i] = self.rng.choice([d for d in string.digits if d != digits[i]])
            day, month, year = "".join(digits[:2]), "".join(digits[2:4]), "".join(digits[4:])
        return day, month, year

    def postcode(self, value: str) -> str:
        if self.happens("no_postcode"):
            return ""
        if self.happens("postcode_mistyped"):
            return mistype_postcode(value, self.rng)
        if self.happens("postcode_broken"):
            return value.replace(" ", "")[:-1] + "!"
        return value


def edit(word: str, rng: random.Random) -> str:
    """One edit: a letter inserted, deleted, changed, or two neighbours swapped."""
    i = rng.randrange(len(word))
    letter = rng.choice(string.ascii_lowercase)
    kind = rng.choice(("insert", "delete", "change", "swap") if len(word) > 2 else ("insert",))
    if kind == "insert":
        return word[:i] + letter + word[i:]
    if kind == "delete":
        return word[:i] + word[i + 1 :]
    if kind == "change":
        return word[:i] + letter + word[i + 1 :]
    i = min(i, len(word) - 2)
    return word[:i] + word[i + 1] + word[i] + word[i + 2 :]


def keyboard_slip(word: str, rng: random.Random) -> str:
    """A letter replaced by a neighbouring key, in the letter's case."""
    places = [i for i, c in enumerate(word) if c.lower() in KEYBOARD]
    if not places:
        return word
    i = rng.choice(places)
    near = rng.choice(KEYBOARD[word[i].lower()])
    return word[:i] + (near.upper() if word[i].isupper() else near) + word[i + 1 :]


def ocr_slip(word: str, rng: random.Random) -> str:
    """One OCR confusion where the word has one (either way round); else the word as it is."""
    options = []
    for a, b in OCR:
        for seen, read in ((a, b), (b, a)):
            start = word.lower().find(seen)
            if start >= 0:
                options.append((start, seen, read))
    if not options:
        return word
    start, seen, read = rng.choice(options)
    if word[start].isupper():
        read = read[0].upper() + read[1:]
    return word[:start] + read + word[start + len(seen) :]


def mistype_postcode(value: str, rng: random.Random) -> str:
    """Another valid-format postcode one slip away: a digit or an inward letter changed."""
    outward, inward = value.split(" ")
    if rng.random() < 0.5:
        digit = rng.choice([d for d in string.digits if d != inward[0]])
        return f"{outward} {digit}{inward[1:]}"
    i = rng.choice((1, 2))
    letter = rng.choice([c for c in INWARD_LETTERS if c != inward[i]])
    return f"{outward} {inward[:i]}{letter}{inward[i + 1 :]}"
