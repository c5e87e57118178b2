"""Name standardisation for matching and blind indexes.

`fold`, `name_tokens`, `phonetic`, `family_name_keys` and `given_name_key` feed the blind
indexes (contactpoint/registry/blind_index.py): a change to what they return for a real
name changes every stored index entry, so it needs a re-index. The nickname table and the
`standard_*` helpers are for comparing two records; docs/standardisation.md explains both.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from importlib import resources

import jellyfish

TITLES = frozenset({"mr", "mrs", "ms", "mx", "miss", "mstr", "master", "dr", "rev", "sir", "dame"})
# Placeholders registrars write before a baby is named: never evidence for a match. Fold
# drops digits, so 'Twin 1' and 'Baby 2' reduce to a placeholder too.
PLACEHOLDERS = frozenset(
    {"baby", "infant", "unknown", "unnamed", "boy", "girl", "twin", "notknown"}
    | {"notgiven", "notstated", "babyboy", "babygirl", "newborn", "unk", "tba", "tbc"}
)
# Family-name particles: on their own they say nothing ('van', 'al'), so family_tokens
# does not offer them as a part; they stay inside the joined whole.
PARTICLES = frozenset(
    {"al", "el", "bin", "ibn"}  # Arabic
    | {"da", "das", "de", "del", "della", "di", "dos", "du"}  # Romance languages
    | {"van", "von", "den", "der", "ter"}  # Dutch and German
    | {"mac", "mc", "o", "st"}  # Gaelic, and Saint
)


_NOT_KEPT = re.compile(r"[^a-z\s-]")
_SPACES = re.compile(r"\s+")
_SEPARATORS = re.compile(r"[\s-]+")


def fold(text: str) -> str:
    """Lower-case, strip accents and keep letters, spaces and hyphens."""
    if text.isascii():  # NFKD leaves ASCII as it is, and none of it is a combining mark
        ascii_only = text
    else:
        decomposed = unicodedata.normalize("NFKD", text)
        ascii_only = "".join(c for c in decomposed if not unicodedata.combining(c))
    cleaned = _NOT_KEPT.sub("", ascii_only.lower().replace("'", ""))
    return _SPACES.sub(" ", cleaned).strip()


def name_tokens(text: str) -> list[str]:
    """Split a name into its parts, dropping titles and placeholders ('Baby', 'Unknown')."""
    parts = [t for t in _SEPARATORS.split(fold(text)) if t]
    return [t for t in parts if t not in TITLES and t not in PLACEHOLDERS]


def phonetic(token: str) -> str:
    """Return the NYSIIS key of one name token ('' for an empty token)."""
    return jellyfish.nysiis(token) if token else ""


def family_name_keys(family_name: str) -> set[str]:
    """Phonetic keys of the whole family name and of each part of a double-barrelled one,
    so 'Smith-Jones', 'Smith Jones' and 'Jones' all meet."""
    tokens = name_tokens(family_name)
    keys = {phonetic(t) for t in tokens}
    if len(tokens) > 1:
        keys.add(phonetic("".join(tokens)))
    keys.discard("")
    return keys


def given_name_key(given_name: str) -> str:
    """Phonetic key of the first given-name token ('' when there is none)."""
    tokens = name_tokens(given_name)
    return phonetic(tokens[0]) if tokens else ""


def loose_keys(given_name: str, family_name: str, former_family_name: str = "") -> set[str]:
    """What the loose net for shielded children compares, beside the date of birth
    (registry/children.near_shielded, ingest/bulk/plan.py): the family name keys of both
    family names, tagged `f:`, and the given name key, tagged `g:`. Two people "might be
    one" when they share any."""
    keys = {f"f:{k}" for k in family_name_keys(family_name) | family_name_keys(former_family_name)}
    given = given_name_key(given_name)
    if given:
        keys.add(f"g:{given}")
    return keys


# --- Standard forms for comparing two records ---------------------------------------------


def standard_given(text: str) -> str:
    """Return the first real given-name token, folded ('' for 'Baby', 'Twin 1', '').

    `phonetic(standard_given(x)) == given_name_key(x)` for every x.
    """
    tokens = name_tokens(text)
    return tokens[0] if tokens else ""


def standard_family(text: str) -> str:
    """Return the folded family name, parts joined by one space ('' for placeholders only).

    A hyphen counts as a space, so 'Smith-Jones' and 'Smith  Jones' are equal.
    """
    return " ".join(name_tokens(text))


def family_tokens(text: str) -> tuple[str, ...]:
    """Return the parts of a family name a match may meet on, without duplicates.

    Args:
        text: a family name as received.

    Returns:
        Each part of a hyphenated or double-barrelled name except bare particles such as
        'van' or 'al', then all parts joined, so 'Smith-Jones' gives ('smith', 'jones',
        'smithjones') and meets 'Jones' and 'SmithJones'. A one-part name gives just that
        part; a placeholder gives ().
    """
    tokens = name_tokens(text)
    if len(tokens) <= 1:
        return tuple(tokens)
    parts = [t for t in tokens if t not in PARTICLES]
    return tuple(dict.fromkeys([*parts, "".join(tokens)]))


# --- Nicknames ----------------------------------------------------------------------------


class InvalidNicknameTable(ValueError):
    """The nickname table breaks a rule; the message names the line."""


def parse_nickname_table(text: str) -> tuple[tuple[str, ...], ...]:
    """Parse the nickname table: one group per line, comma-separated, canonical key first.

    Raises InvalidNicknameTable for a name that is not folded lower-case letters, a name
    repeated within its line, or a canonical key that starts two lines.
    """
    groups: list[tuple[str, ...]] = []
    keys: set[str] = set()
    for number, line in enumerate(text.splitlines(), start=1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        group = tuple(name.strip() for name in line.split(","))
        if any(not re.fullmatch(r"[a-z]+", name) for name in group):
            raise InvalidNicknameTable(f"line {number}: names must be lower-case letters a-z")
        if len(set(group)) != len(group):
            raise InvalidNicknameTable(f"line {number}: a name appears twice")
        if group[0] in keys:
            raise InvalidNicknameTable(f"line {number}: canonical key starts another line")
        keys.add(group[0])
        groups.append(group)
    return tuple(groups)


@functools.cache
def nickname_groups() -> tuple[tuple[str, ...], ...]:
    """Return the packaged nickname table (contactpoint/lib/data/nicknames.csv)."""
    table = resources.files("contactpoint.lib").joinpath("data").joinpath("nicknames.csv")
    return parse_nickname_table(table.read_text("utf-8"))


@functools.cache
def _keys_by_name() -> dict[str, tuple[str, ...]]:
    found: dict[str, set[str]] = {}
    for group in nickname_groups():
        for name in group:
            found.setdefault(name, set()).add(group[0])
    return {name: tuple(sorted(keys)) for name, keys in found.items()}


def nickname_keys(token: str) -> tuple[str, ...]:
    """Return the canonical keys of the nickname groups a given-name token belongs to.

    Two names share a nickname group when their keys intersect: 'Bill' and 'Liam' both
    give ('william',); 'Alex' gives ('alexander', 'alexandra').

    Args:
        token: one given-name token; it is folded first, so case and accents do not matter.

    Returns:
        The sorted canonical keys, or the folded token alone when it is in no group, or ()
        when nothing is left after folding.
    """
    folded = fold(token)
    if not folded:
        return ()
    return _keys_by_name().get(folded, (folded,))


# --- Addresses and towns ------------------------------------------------------------------

# Abbreviations local systems write for the words of an address, as the words themselves.
# 'St' is 'street' at the end of a line and 'saint' elsewhere ('St Mary's Rd').
ADDRESS_WORDS = {
    "rd": "road",
    "ave": "avenue",
    "av": "avenue",
    "ln": "lane",
    "dr": "drive",
    "cl": "close",
    "ct": "court",
    "cres": "crescent",
    "cresc": "crescent",
    "gdns": "gardens",
    "gdn": "gardens",
    "gr": "grove",
    "gro": "grove",
    "pl": "place",
    "sq": "square",
    "tce": "terrace",
    "terr": "terrace",
    "pk": "park",
    "hse": "house",
    "mt": "mount",
    "wy": "way",
    "hl": "hill",
    "grn": "green",
    "cott": "cottages",
    "cotts": "cottages",
    "bldgs": "buildings",
    "est": "estate",
    "apt": "flat",
    "apartment": "flat",
    "flt": "flat",
}
# Words that say what kind of dwelling, never where: not shared evidence.
ADDRESS_NOISE = frozenset({"flat", "unit", "floor", "the", "and", "of"})
_ADDRESS_KEPT = re.compile(r"[^a-z0-9]+")
_HOUSE_NUMBER = re.compile(r"\d+[a-z]?")


def address_words(text: str) -> list[str]:
    """The words of one address line, folded, abbreviations written out ('Rd' as 'road')."""
    if not text.isascii():
        decomposed = unicodedata.normalize("NFKD", text)
        text = "".join(c for c in decomposed if not unicodedata.combining(c))
    words = [w for w in _ADDRESS_KEPT.split(text.lower().replace("'", "")) if w]
    out = []
    for n, word in enumerate(words):
        if word == "st":
            out.append("street" if n == len(words) - 1 else "saint")
        else:
            out.append(ADDRESS_WORDS.get(word, word))
    return out


def standard_address(line1: str, line2: str = "") -> tuple[str, str, tuple[str, ...]]:
    """The house number, the street text and the distinct place words of an address.

    Args:
        line1: the first address line, as received.
        line2: the second, if any.

    Returns:
        (house number, street, words). The house number is the last number followed by a
        word ('Flat 3, 12 High St' gives '12'), '' when there is none. The street is every
        word that is not a number nor in ADDRESS_NOISE, joined by one space, so 'Flat 3,
        12 High St' and '12 HIGH STREET' are equal. The words are the street's, distinct
        and sorted.
    """
    words = address_words(line1) + address_words(line2)
    house = ""
    for n, word in enumerate(words[:-1]):
        if _HOUSE_NUMBER.fullmatch(word) and not _HOUSE_NUMBER.fullmatch(words[n + 1]):
            house = word
    street = [w for w in words if not any(c.isdigit() for c in w) and w not in ADDRESS_NOISE]
    return house, " ".join(street), tuple(sorted(set(street)))


def standard_town(text: str) -> str:
    """A town folded to lower-case words ('Newcastle-upon-Tyne' as 'newcastle upon tyne')."""
    return " ".join(address_words(text))
