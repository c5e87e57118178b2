"""Build one shard's households and children (the true population)."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from contactpoint.synth import ids, organisations, rates, tables
from contactpoint.synth.population import (
    AS_AT_DAY,
    KINDS,
    Address,
    BoolArray,
    Carers,
    IntArray,
    ObjArray,
    Shard,
    rng_for,
    where,
)

MAX_AGE_DAYS = int(18 * 365.25) - 1
FLAT_BUILDINGS = tuple(
    f"{w} {s}"
    for w in ("Kestrel", "Albion", "Victoria", "Park", "Mill", "Priory", "Cedar")
    for s in ("House", "Court", "Lodge")
)
_KIND = {k: i for i, k in enumerate(KINDS)}


def _choice(
    rng: np.random.Generator, probs: tuple[float, ...] | npt.NDArray[np.float64], n: int
) -> IntArray:
    p = np.asarray(probs, dtype=np.float64)
    return np.asarray(rng.choice(len(p), size=n, p=p / p.sum()), dtype=np.int64)


def _origins(rng: np.random.Generator, council: IntArray) -> IntArray:
    """Draw each household's name origin from its council's mix."""
    cdf = np.cumsum(tables.councils().origin_mix, axis=1)
    u = rng.random(len(council))
    drawn = (u[:, None] > cdf[council]).sum(axis=1)
    return np.asarray(np.minimum(drawn, len(tables.ORIGINS) - 1), dtype=np.int64)


def make_address(rng: np.random.Generator, council: IntArray) -> Address:
    """Draw a house or flat, street, town and postcode in each council area."""
    cs = tables.councils()
    n = len(council)
    d = cs.district_start[council] + (rng.random(n) * cs.district_count[council]).astype(np.int64)
    street = tables.streets()[rng.integers(0, len(tables.streets()), n)]
    number = np.minimum(1 + rng.lognormal(3.0, 0.9, n).astype(np.int64), 320)
    house = number.astype(str).astype(object) + " " + street
    flat = rng.random(n) < rates.FLAT_RATE
    building = np.array(FLAT_BUILDINGS, dtype=object)[rng.integers(0, len(FLAT_BUILDINGS), n)]
    flat_line = "Flat " + rng.integers(1, 40, n).astype(str).astype(object) + " " + building
    line1 = np.where(flat, flat_line, house)
    line2 = where(flat, house, None)
    postcode = cs.district_outward[d] + " " + ids.inward_codes(rng, n)
    return Address(line1, line2, cs.district_town[d].copy(), postcode, council)


def _child_counts(rng: np.random.Generator, kind: IntArray) -> IntArray:
    counts = 1 + _choice(rng, rates.CHILDREN_PER_HOUSEHOLD, len(kind))
    # children in foster care are placed alone or with one sibling
    foster = kind == _KIND["foster"]
    return np.where(foster, np.minimum(counts, 2), counts)


def _dobs(rng: np.random.Generator, counts: IntArray) -> tuple[IntArray, IntArray, BoolArray]:
    """Return household index, date of birth and twin flag of every child, eldest first."""
    hh = np.repeat(np.arange(len(counts)), counts)
    first = np.r_[0, np.cumsum(counts)[:-1]]
    pos = np.arange(len(hh)) - first[hh]
    eldest_age = rng.power(OLDEST_WEIGHT, len(counts)) * (MAX_AGE_DAYS + SPREAD_DAYS * (counts - 1))
    gap = 330 + rng.gamma(2.0, 420.0, len(hh))
    twin = (pos > 0) & (rng.random(len(hh)) < rates.TWIN_RATE)
    gap = np.where(twin | (pos == 0), 0, gap)
    offset = np.cumsum(gap)
    offset -= offset[first][hh]
    dob = (AS_AT_DAY - eldest_age[hh] + offset).astype(np.int64)
    return hh, dob, twin


OLDEST_WEIGHT = 1.05
SPREAD_DAYS = 3.2 * 365


def _names(rng: np.random.Generator, origin: IntArray, sex: IntArray) -> ObjArray:
    pool = tables.given_names()
    return pool.names[pool.sample(origin * 2 + sex, rng.random(len(origin)))]


def _surnames(rng: np.random.Generator, origin: IntArray) -> ObjArray:
    pool = tables.surnames()
    return pool.names[pool.sample(origin, rng.random(len(origin)))]


def _phones(rng: np.random.Generator, n: int) -> ObjArray:
    # Ofcom's mobile range for drama (07700 900000-900999): never anybody's real phone.
    digits = rng.integers(0, 1000, n).astype(str).astype(object)
    return np.asarray("07700 900" + np.char.zfill(digits.astype(str), 3).astype(object))


def _emails(rng: np.random.Generator, given: ObjArray, family: ObjArray) -> ObjArray:
    token = np.vectorize(tables.ascii_token, otypes=[object])
    domain = np.array(["@example.com", "@example.org", "@example.net"], dtype=object)
    number = rng.integers(1, 99, len(given)).astype(str).astype(object)
    return np.asarray(
        token(given) + "." + token(family) + number + domain[rng.integers(0, 3, len(given))],
        dtype=object,
    )


def _is(kind: IntArray, *names: str) -> BoolArray:
    return np.isin(kind, [_KIND[n] for n in names])


def _surnames_by_kind(
    rng: np.random.Generator, kind: IntArray, origin: IntArray
) -> dict[str, ObjArray]:
    """Return the surnames of each household's children, parents and carers."""
    n = len(kind)
    father, own, other = (_surnames(rng, origin) for _ in range(3))
    british = np.zeros(n, dtype=np.int64)
    outsider = _surnames(rng, np.where(rng.random(n) < 0.8, british, origin))
    u = rng.random(n)
    cohabiting = _is(kind, "couple") & (u < rates.COHABITING_DIFFERENT_SURNAME)
    mother = np.where(cohabiting | _is(kind, "lone_mother"), own, father)
    child = father.copy()
    child = np.where(cohabiting & (rng.random(n) < 0.25), own, child)
    hyphen = cohabiting & (
        rng.random(n) < rates.HYPHENATED_RATE / rates.COHABITING_DIFFERENT_SURNAME
    )
    child = np.where(hyphen, own + "-" + father, child)
    lone_mum_own = _is(kind, "lone_mother") & (u < 0.6)
    child = np.where(lone_mum_own, own, child)
    married = _is(kind, "step") & (rng.random(n) < rates.STEP_MARRIED_RATE)
    mother = np.where(married, other, mother)
    step = where(_is(kind, "step"), other, None)
    carer = np.where(
        _is(kind, "foster") | (_is(kind, "grandparent", "special_guardian") & (u < 0.5)),
        outsider,
        child,
    )
    adoptive = _is(kind, "adoptive")
    carer = np.where(adoptive, father, carer)
    recent = adoptive & (rng.random(n) < rates.RECENTLY_ADOPTED)
    birth = np.where(recent, other, father)  # surname before adoption
    return {
        "child": np.where(recent, birth, child),
        "adoptive": child,
        "mother": mother,
        "father": father,
        "step": step,
        "carer": carer,
        "hyphen": hyphen,
        "recent": recent,
    }


RELATIONSHIPS = {
    "couple": ("mother", "father", 1.0),
    "lone_mother": ("mother", None, 0.0),
    "lone_father": ("father", None, 0.0),
    "step": ("mother", "step_parent", 1.0),
    "grandparent": ("grandparent", "grandparent", 0.6),
    "foster": ("foster_carer", "foster_carer", 0.7),
    "special_guardian": ("special_guardian", "special_guardian", 0.5),
    "adoptive": ("adoptive_parent", "adoptive_parent", 0.8),
}
HAS_PR = {"mother", "father", "special_guardian", "adoptive_parent"}


def _carers(
    rng: np.random.Generator, kind: IntArray, origin: IntArray, s: dict[str, ObjArray]
) -> Carers:
    """Return carer 1 and carer 2 of each household with names, duties and contacts."""
    n = len(kind)
    rel1 = np.array([RELATIONSHIPS[k][0] for k in KINDS], dtype=object)[kind]
    rel2 = np.array([RELATIONSHIPS[k][1] for k in KINDS], dtype=object)[kind]
    has2 = rng.random(n) < np.array([RELATIONSHIPS[k][2] for k in KINDS])[kind]
    rel2 = where(has2, rel2, None)
    lone_father = _is(kind, "lone_father")
    given1 = np.where(
        lone_father,
        _names(rng, origin, np.zeros(n, np.int64)),
        _names(rng, origin, np.ones(n, np.int64)),
    )
    given2_all = _names(rng, origin, np.zeros(n, np.int64))
    given2 = where(has2, given2_all, None)
    fam1 = np.where(
        _is(kind, "couple", "lone_mother", "step"),
        s["mother"],
        np.where(lone_father, s["father"], s["carer"]),
    )
    fam2 = np.where(
        _is(kind, "couple"), s["father"], np.where(_is(kind, "step"), s["step"], s["carer"])
    )
    fam2_all = fam2
    fam2 = where(has2, fam2, None)
    pr1 = np.where(np.isin(rel1, list(HAS_PR)), "Y", "N").astype(object)
    pr2 = np.where(
        np.isin(rel2, list(HAS_PR)) & (rng.random(n) > rates.FATHER_WITHOUT_PR), "Y", "N"
    ).astype(object)
    pr2 = where(has2, pr2, None)
    phone2 = where(has2 & (rng.random(n) < 0.7), _phones(rng, n), None)
    email2 = where(has2 & (rng.random(n) < 0.5), _emails(rng, given2_all, fam2_all), None)
    return Carers(
        given=np.stack([given1, given2]),
        family=np.stack([fam1, fam2]),
        relationship=np.stack([rel1, rel2]),
        responsibility=np.stack([pr1, pr2]),
        phone=np.stack([_phones(rng, n), phone2]),
        email=np.stack([_emails(rng, given1, fam1), email2]),
    )


def _shape(rng: np.random.Generator, size: int) -> tuple[IntArray, IntArray, IntArray, BoolArray]:
    """Return (household kind, child's household, child's dob, twin flag) for size children."""
    n_households = size // 2 + 64
    while True:
        kind = _choice(rng, tuple(rates.HOUSEHOLD_TYPES.values()), n_households)
        hh, dob, twin = _dobs(rng, _child_counts(rng, kind))
        alive = np.nonzero((dob <= AS_AT_DAY) & (dob > AS_AT_DAY - MAX_AGE_DAYS))[0]
        if len(alive) >= size:
            break
        n_households = int(n_households * 1.5)
    kept = alive[:size]
    used, child_hh = np.unique(hh[kept], return_inverse=True)
    return kind[used], child_hh.astype(np.int64), dob[kept], twin[kept]


def _distinct_given(
    rng: np.random.Generator, origin: IntArray, sex: IntArray, hh: IntArray
) -> ObjArray:
    """Draw given names, redrawing where a child would share the name of the sibling before."""
    given = _names(rng, origin, sex)
    for _ in range(3):
        same = np.nonzero((hh[1:] == hh[:-1]) & (given[1:] == given[:-1]))[0] + 1
        if len(same) == 0:
            break
        given[same] = _names(rng, origin[same], sex[same])
    return given


def _middles(
    rng: np.random.Generator, origin: IntArray, sex: IntArray, given: ObjArray
) -> ObjArray:
    n = len(origin)
    one = rng.random(n) < rates.MIDDLE_NAME_RATE
    two = one & (rng.random(n) < rates.SECOND_MIDDLE_NAME_RATE / rates.MIDDLE_NAME_RATE)
    m1, m2 = _names(rng, origin, sex), _names(rng, origin, sex)
    one &= m1 != given  # nobody is called Hodan Hodan
    two &= one & (m2 != m1) & (m2 != given)
    return where(two, m1 + " " + m2, where(one, m1, None))


def _org(
    rng: np.random.Generator, slot: str, council: IntArray, orgs: organisations.Organisations
) -> IntArray:
    i = organisations.SLOTS.index(slot)
    pick = (rng.random(len(council)) * orgs.count[i, council]).astype(np.int64)
    return np.asarray(orgs.start[i, council] + pick, dtype=np.int64)


def _upns(dob: IntArray, la: IntArray, shard: int, n_shards: int) -> ObjArray:
    """Return UPNs for children who have started school; unique across shards."""
    dates = dob.astype("datetime64[D]")
    year = dates.astype("datetime64[Y]").astype(np.int64) + 1970
    month = (dates.astype("datetime64[M]").astype(np.int64) % 12) + 1
    reception = np.where(month >= 9, year, year - 1) + 5
    started = reception <= rates.ACADEMIC_YEAR_START.year
    group = la * 100 + reception % 100
    order = np.argsort(group, kind="stable")
    sorted_group = group[order]
    first = np.r_[0, np.nonzero(np.diff(sorted_group))[0] + 1]
    run = np.repeat(first, np.diff(np.r_[first, len(order)]))
    rank = np.empty(len(dob), dtype=np.int64)
    rank[order] = np.arange(len(order)) - run
    upn = ids.upn_strings(la, reception, rank * n_shards + shard)
    return where(started, upn, None)


def _moves(rng: np.random.Generator, council: IntArray) -> tuple[BoolArray, Address]:
    """Return which households moved this year and their previous address."""
    n = len(council)
    moved = rng.random(n) < rates.MOVED_RATE
    cs = tables.councils()
    elsewhere = rng.choice(len(cs), size=n, p=cs.weights)
    old_council = np.where(rng.random(n) < rates.MOVED_OTHER_COUNCIL, elsewhere, council)
    return moved, make_address(rng, old_council)


def build_shard(
    seed: int, shard: int, size: int, children_total: int, shard_size: int = rates.SHARD_SIZE
) -> Shard:
    """Return the true population of one shard of size children."""
    rng = rng_for(seed, shard, 1)
    orgs = organisations.build(children_total, seed)
    kind, hh, dob, twin = _shape(rng, size)
    n_hh = len(kind)
    cs = tables.councils()
    council = rng.choice(len(cs), size=n_hh, p=cs.weights).astype(np.int64)
    origin = _origins(rng, council)
    mixed = rng.random(n_hh) < rates.MIXED_ORIGIN_RATE
    given_origin = np.where(
        mixed, np.where(origin == 0, rng.integers(2, len(tables.ORIGINS), n_hh), 0), origin
    )
    names = _surnames_by_kind(rng, kind, origin)
    carers = _carers(rng, kind, origin, names)
    moved, old = _moves(rng, council)
    sex = (rng.random(len(hh)) > rates.BOY_SHARE).astype(np.int64)
    n_shards = -(-children_total // shard_size)
    key = shard * shard_size + np.arange(len(hh), dtype=np.int64)
    recent = names["recent"][hh]
    given = _distinct_given(rng, given_origin[hh], sex, hh)
    return Shard(
        index=shard,
        shard_size=shard_size,
        address=make_address(rng, council),
        old_address=old,
        moved=moved,
        shielded=rng.random(n_hh) < rates.SHIELDED_RATE,
        kind=kind,
        carers=carers,
        hh_cb=(rng.random(n_hh) < rates.CHILD_BENEFIT_COVERAGE) & ~_is(kind, "foster"),
        hh_social_care=(rng.random(n_hh) < rates.SOCIAL_CARE_HOUSEHOLD_RATE) | _is(kind, "foster"),
        hh_state_school=rng.random(n_hh) < rates.SCHOOL_COVERAGE_4_15,
        primary=_org(rng, "primary", council, orgs),
        secondary=_org(rng, "secondary", council, orgs),
        gp=_org(rng, "gp", council, orgs),
        key=key,
        hh=hh,
        sex=sex,
        dob=dob,
        given=given,
        middle=_middles(rng, given_origin[hh], sex, given),
        family=names["child"][hh],
        nhs_family=names["adoptive"][hh],
        step_family=names["step"][hh],
        hyphenated=names["hyphen"][hh].astype(bool),
        twin=twin,
        nhs=ids.nhs_numbers(key),
        nhs_new=np.where(recent, ids.nhs_numbers(ids.NHS_SPACE - 1 - key), 0),
        upn=_upns(dob, cs.la_numbers[council[hh]], shard, n_shards),
        gp_start=_gp_start(rng, dob),
        nhs_registered=rng.random(len(hh)) < rates.NHS_COVERAGE,
    )


def _gp_start(rng: np.random.Generator, dob: IntArray) -> IntArray:
    at_birth = dob + rng.integers(14, 90, len(dob))
    later = dob + (rng.random(len(dob)) * (AS_AT_DAY - dob)).astype(np.int64)
    return np.minimum(np.where(rng.random(len(dob)) < 0.7, at_birth, later), AS_AT_DAY)
