"""Name normalisation for matching and blind indexes (issue 3 extends it with nicknames)."""

from __future__ import annotations

import re
import unicodedata

import jellyfish

TITLES = frozenset({"mr", "mrs", "ms", "miss", "mstr", "master", "dr", "rev", "sir", "dame"})
# Placeholders registrars write before a baby is named: never evidence for a match.
PLACEHOLDERS = frozenset(
    {"baby", "infant", "unknown", "unnamed", "boy", "girl", "twin", "notknown"}
)


def fold(text: str) -> str:
    """Lower-case, strip accents and keep letters, spaces and hyphens."""
    decomposed = unicodedata.normalize("NFKD", text)
    ascii_only = "".join(c for c in decomposed if not unicodedata.combining(c))
    cleaned = re.sub(r"[^a-z\s-]", "", ascii_only.lower().replace("'", ""))
    return re.sub(r"\s+", " ", cleaned).strip()


def name_tokens(text: str) -> list[str]:
    """Split a name into its parts, dropping titles and placeholders ('Baby', 'Unknown')."""
    parts = [t for t in re.split(r"[\s-]+", fold(text)) if t]
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
