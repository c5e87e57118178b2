"""The organisations children are involved with: schools, GP practices, council teams, ...

Built from the seed alone, so every worker process rebuilds exactly the same list.
"""

from __future__ import annotations

import csv
import functools
import pathlib
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from contactpoint.registry.feeds import ORGANISATION_COLUMNS
from contactpoint.synth import ids, tables

IntArray = npt.NDArray[np.int64]

NATIONAL_CHILDREN = 11_000_000
NATIONAL_PRIMARY = 16_800
NATIONAL_SECONDARY = 3_400
NATIONAL_GP = 6_300
TRUST_KINDS = ("Hospitals", "Community Health", "Teaching Hospitals")
CHARITIES = ("Barnardo's", "NSPCC", "Action for Children", "Home-Start", "Family Action")
TEAM_AREAS = ("North", "South", "East", "West", "Central", "Assessment", "Children in Care")
SAINTS = ("Mary", "John", "Peter", "Paul", "Joseph", "Michael", "Anne", "Thomas", "George")
# Ofcom numbers reserved for drama: safe to print, never anybody's phone.
DRAMA_PREFIX = {"London": "020 7946 0", "Birmingham": "0121 496 0", "Manchester": "0161 496 0"}
DRAMA_DEFAULT = "01632 960"


@dataclass(frozen=True)
class Organisations:
    """Organisation rows plus, per council and kind, where that council's rows are."""

    rows: list[dict[str, str]]
    codes: npt.NDArray[np.object_]
    # [kind-slot, council] first row index and count; slots: primary, secondary, gp,
    # council_team, youth_offending_team
    start: IntArray
    count: IntArray


SLOTS = ("primary", "secondary", "gp", "council_team", "youth_offending_team")


def _counts(children: int, weight: float, pop_k: float) -> dict[str, int]:
    scale = children / NATIONAL_CHILDREN * weight
    return {
        "primary": max(1, round(NATIONAL_PRIMARY * scale)),
        "secondary": max(1, round(NATIONAL_SECONDARY * scale)),
        "gp": max(1, round(NATIONAL_GP * scale)),
        "council_team": int(np.clip(round(pop_k / 150), 1, len(TEAM_AREAS))),
        "youth_offending_team": 1,
        "nhs_trust": 1 + int(pop_k > 500) + int(pop_k > 1000),
        "police_cpu": 1,
        "voluntary_org": 2,
    }


class _Maker:
    """Draws names, addresses and codes for one council's organisations."""

    def __init__(self, rng: np.random.Generator, children: int) -> None:
        self.rng = rng
        total_schools = max(len(tables.councils()) * 2, int(children / NATIONAL_CHILDREN * 20_200))
        self.urns = iter(
            rng.choice(np.arange(100_000, 1_000_000), total_schools * 3, replace=False)
        )
        self.ods = iter(rng.choice(15 * 100_000, max(2_000, children // 1000) * 3, replace=False))
        self.trusts = iter(rng.permutation(36 * 36))
        self.bases = [s.split(" ")[0] for s in tables.streets()[::20]]

    def pick(self, seq: tuple[str, ...] | list[str]) -> str:
        return seq[int(self.rng.integers(len(seq)))]

    def code(self, slot: str, la: int, n: int) -> str:
        alnum = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
        if slot in ("primary", "secondary"):
            return str(next(self.urns))
        if slot == "gp":
            v = int(next(self.ods))
            return f"{'ABCDEFGHJKLMNPY'[v // 100_000]}{v % 100_000:05d}"
        if slot == "nhs_trust":
            v = int(next(self.trusts))
            return f"R{alnum[v // 36]}{alnum[v % 36]}"
        prefix = {"council_team": "CSC", "youth_offending_team": "YOT", "police_cpu": "CPU"}
        return f"{prefix.get(slot, 'VOL')}-{la}-{n:02d}"

    def name(self, slot: str, council: str, town: str, n: int) -> str:
        base = self.pick(self.bases)
        if slot == "primary":
            saint = f"St {self.pick(SAINTS)}'s CofE"
            return f"{self.pick([base, base, saint, town])} Primary School"
        if slot == "secondary":
            return (
                f"{self.pick([base, town, base])} {self.pick(['Academy', 'High School', 'School'])}"
            )
        if slot == "gp":
            return f"{base} {self.pick(['Surgery', 'Medical Centre', 'Health Centre'])}"
        if slot == "council_team":
            return f"{council} Children's Social Care {TEAM_AREAS[n - 1]}"
        if slot == "youth_offending_team":
            return f"{council} Youth Justice Service"
        if slot == "nhs_trust":
            return f"{town} {self.pick(TRUST_KINDS)} NHS Trust"
        if slot == "police_cpu":
            return f"{town} Police Child Protection Unit"
        return f"{CHARITIES[(n - 1) % len(CHARITIES)]} {town}"


def _kind(slot: str) -> str:
    return {"primary": "school", "secondary": "school", "gp": "gp_practice"}.get(slot, slot)


def _row(m: _Maker, slot: str, c: int, n: int) -> dict[str, str]:
    cs = tables.councils()
    d = int(cs.district_start[c] + m.rng.integers(cs.district_count[c]))
    town = str(cs.district_town[d])
    code = m.code(slot, int(cs.la_numbers[c]), n)
    phone = DRAMA_PREFIX.get(town, DRAMA_DEFAULT) + f"{int(m.rng.integers(1000)):03d}"
    return {
        "code": code,
        "kind": _kind(slot),
        "name": m.name(slot, cs.names[c].split(",")[0], town, n),
        "council_area_code": cs.codes[c],
        "council_area_name": cs.names[c],
        "address_line1": f"{int(m.rng.integers(1, 120))} {m.pick(list(tables.streets()[::7]))}",
        "town": town,
        "postcode": f"{cs.district_outward[d]} {ids.inward_codes(m.rng, 1)[0]}",
        "phone": phone,
        "email": f"office@{code.lower()}.example.org",
    }


@functools.cache
def build(children: int, seed: int) -> Organisations:
    """Return the organisations for a population of this size and seed."""
    cs = tables.councils()
    m = _Maker(np.random.default_rng(np.random.SeedSequence([seed, 0x0DE5])), children)
    rows: list[dict[str, str]] = []
    start = np.zeros((len(SLOTS), len(cs)), dtype=np.int64)
    count = np.zeros((len(SLOTS), len(cs)), dtype=np.int64)
    pops = cs.weights / cs.weights.sum() * 56_000
    for c in range(len(cs)):
        for slot, k in _counts(children, float(cs.weights[c]), float(pops[c])).items():
            if slot in SLOTS:
                start[SLOTS.index(slot), c], count[SLOTS.index(slot), c] = len(rows), k
            rows.extend(_row(m, slot, c, n) for n in range(1, k + 1))
    codes = np.array([r["code"] for r in rows], dtype=object)
    return Organisations(rows, codes, start, count)


def write(orgs: Organisations, path: pathlib.Path) -> None:
    """Write organisations.csv (RFC 4180, quoted only where needed)."""
    with path.open("w", encoding="utf-8", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=ORGANISATION_COLUMNS, lineterminator="\n")
        writer.writeheader()
        writer.writerows(orgs.rows)
