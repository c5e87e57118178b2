"""Reference tables embedded in the package: councils, names, nicknames, streets.

Loaded once per process and held as numpy arrays so the generator samples indices, not
strings. Name frequencies follow a Zipf law by rank: a few very common names, a long tail.
"""

from __future__ import annotations

import csv
import functools
import unicodedata
from dataclasses import dataclass
from importlib import resources

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
ObjArray = npt.NDArray[np.object_]

# Origins of names. Households draw one (or two, for mixed families) from a council's mix.
ORIGINS: tuple[str, ...] = (
    "british",
    "irish",
    "polish",
    "romanian",
    "sam",  # Pakistani and Bangladeshi (Muslim) names
    "indian",
    "west_african",
    "somali",
    "arabic",
    "chinese",
    "caribbean",
)

# Share of each origin among a council's minority population, by council profile:
# G general, L London mix, S South Asian (Muslim) heavy, I Indian heavy, A African and
# Caribbean heavy, E Eastern European heavy. Order as ORIGINS; "british" is the majority.
PROFILES: dict[str, tuple[float, ...]] = {
    "G": (0, 0.08, 0.12, 0.06, 0.24, 0.14, 0.12, 0.03, 0.07, 0.06, 0.08),
    "L": (0, 0.06, 0.08, 0.08, 0.17, 0.15, 0.18, 0.05, 0.08, 0.05, 0.10),
    "S": (0, 0.03, 0.06, 0.04, 0.55, 0.15, 0.06, 0.03, 0.04, 0.02, 0.02),
    "I": (0, 0.03, 0.07, 0.05, 0.18, 0.45, 0.08, 0.04, 0.03, 0.03, 0.04),
    "A": (0, 0.05, 0.08, 0.07, 0.10, 0.08, 0.35, 0.07, 0.04, 0.04, 0.12),
    "E": (0, 0.05, 0.40, 0.28, 0.08, 0.06, 0.05, 0.01, 0.03, 0.02, 0.02),
}
ZIPF_EXPONENT = 0.75
ZIPF_OFFSET = 8.0  # flattens the head: the top boy's name is ~2.5% of boys, as in ONS tables


def _read(name: str) -> list[dict[str, str]]:
    text = resources.files("contactpoint.synth").joinpath("data").joinpath(name).read_text("utf-8")
    return list(csv.DictReader(text.splitlines()))


def zipf_weights(count: int) -> FloatArray:
    """Return normalised Zipf weights for ranks 1..count."""
    w = 1.0 / (np.arange(1, count + 1) + ZIPF_OFFSET) ** ZIPF_EXPONENT
    return np.asarray(w / w.sum(), dtype=np.float64)


def ascii_token(name: str) -> str:
    """Return a lower-case ASCII form of a name for e-mail addresses."""
    plain = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    return "".join(c for c in plain.lower() if c.isalnum())


@dataclass(frozen=True)
class NamePool:
    """All names of one kind in one array, with per-(origin, sex) slices and weights."""

    names: ObjArray
    tokens: ObjArray  # ascii_token of each name
    starts: IntArray  # [group] first index into names
    cdfs: list[FloatArray]  # [group] cumulative weights

    def sample(self, group: npt.NDArray[np.int64], u: FloatArray) -> IntArray:
        """Return name indices for each row's group, from uniform draws u."""
        out = np.empty(len(group), dtype=np.int64)
        for g in np.unique(group):
            rows = np.nonzero(group == g)[0]
            local = np.searchsorted(self.cdfs[g], u[rows], side="right")
            out[rows] = self.starts[g] + np.minimum(local, len(self.cdfs[g]) - 1)
        return out


def _pool(groups: list[list[str]]) -> NamePool:
    names: list[str] = []
    starts: list[int] = []
    cdfs: list[FloatArray] = []
    for group in groups:
        starts.append(len(names))
        names.extend(group)
        cdfs.append(np.cumsum(zipf_weights(len(group))))
    arr = np.array(names, dtype=object)
    tokens = np.array([ascii_token(n) for n in names], dtype=object)
    return NamePool(arr, tokens, np.array(starts, dtype=np.int64), cdfs)


@functools.cache
def given_names() -> NamePool:
    """Return given names grouped as origin*2 + sex (0 male, 1 female), in rank order."""
    rows = _read("given_names.csv")
    groups: list[list[str]] = []
    for origin in ORIGINS:
        for sex in ("M", "F"):
            ranked = sorted(
                (int(r["rank"]), r["name"])
                for r in rows
                if (r["origin"], r["sex"]) == (origin, sex)
            )
            groups.append([n for _, n in ranked])
    return _pool(groups)


@functools.cache
def surnames() -> NamePool:
    """Return surnames grouped by origin, in rank order."""
    rows = _read("surnames.csv")
    groups = []
    for origin in ORIGINS:
        ranked = sorted((int(r["rank"]), r["name"]) for r in rows if r["origin"] == origin)
        groups.append([n for _, n in ranked])
    return _pool(groups)


@functools.cache
def nicknames() -> dict[str, tuple[str, ...]]:
    """Return name -> nicknames and spelling variants."""
    out: dict[str, list[str]] = {}
    for r in _read("nicknames.csv"):
        out.setdefault(r["name"], []).append(r["variant"])
    return {k: tuple(v) for k, v in out.items()}


@functools.cache
def streets() -> ObjArray:
    """Return every street name: each base word with each suffix."""
    rows = _read("streets.csv")
    bases = [r["word"] for r in rows if r["kind"] == "base"]
    suffixes = [r["word"] for r in rows if r["kind"] == "suffix"]
    return np.array([f"{b} {s}" for b in bases for s in suffixes], dtype=object)


@dataclass(frozen=True)
class Councils:
    """The council areas with population weights and postcode districts."""

    codes: tuple[str, ...]
    names: tuple[str, ...]
    la_numbers: IntArray
    weights: FloatArray
    origin_mix: npt.NDArray[np.float64]  # [council, origin] probabilities
    district_outward: ObjArray  # every council's districts, concatenated
    district_town: ObjArray
    district_start: IntArray  # [council] first index into district arrays
    district_count: IntArray

    def __len__(self) -> int:
        return len(self.codes)


@functools.cache
def councils() -> Councils:
    """Return the embedded council areas."""
    rows = _read("councils.csv")
    outward: list[str] = []
    town: list[str] = []
    start: list[int] = []
    count: list[int] = []
    mix = np.zeros((len(rows), len(ORIGINS)))
    for i, r in enumerate(rows):
        pairs = [d.split(":") for d in r["districts"].split("|")]
        start.append(len(outward))
        count.append(len(pairs))
        outward.extend(p[0] for p in pairs)
        town.extend(p[1] for p in pairs)
        share = float(r["minority_share"])
        profile = np.array(PROFILES[r["profile"]])
        mix[i] = share * profile / profile.sum()
        mix[i, 0] = 1.0 - share
    pop = np.array([float(r["population_k"]) for r in rows])
    return Councils(
        codes=tuple(r["code"] for r in rows),
        names=tuple(r["name"] for r in rows),
        la_numbers=np.array([int(r["la_number"]) for r in rows], dtype=np.int64),
        weights=pop / pop.sum(),
        origin_mix=mix,
        district_outward=np.array(outward, dtype=object),
        district_town=np.array(town, dtype=object),
        district_start=np.array(start, dtype=np.int64),
        district_count=np.array(count, dtype=np.int64),
    )
