"""Turn one shard's true population into the rows each source system would send."""

from __future__ import annotations

import random
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from contactpoint.registry import feeds as feed_format
from contactpoint.synth import errors, ids, organisations, rates
from contactpoint.synth.population import IntArray, ObjArray, Shard, day_number, rng_for, where

ORG_ROLE = {
    "school_census": "school",
    "nhs_demographics": "gp",
    "council_social_care": "social_worker",
    "youth_offending": "youth_offending_worker",
}
DATE_BASE = day_number("1990-01-01")
DATE_POOL: ObjArray = np.datetime_as_string(
    np.arange(DATE_BASE, day_number("2040-01-01")).astype("datetime64[D]")
).astype(object)
SEX = np.array(["M", "F"], dtype=object)
# Youth offending: relative chance by age 10..17 (older teenagers far more often), boys 4:1.
YOT_AGE_WEIGHT = np.array([0.1, 0.25, 0.5, 0.9, 1.4, 1.9, 2.3, 2.6])
YOT_BOY_WEIGHT = 1.6
YOT_GIRL_WEIGHT = 0.4
ID_SCRAMBLE = 387_420_489  # 3**18: coprime with 10, so record numbers are a permutation


@dataclass
class Feed:
    """One source's rows for one shard: columns, and the true child of every row."""

    source: str
    columns: dict[str, ObjArray]
    child: IntArray


def iso(days: IntArray) -> ObjArray:
    """Return ISO date strings for day numbers."""
    return np.asarray(DATE_POOL[days - DATE_BASE], dtype=object)


def select(shard: Shard, source: str, rng: np.random.Generator) -> IntArray:
    """Return the children (row indices into shard) this source holds."""
    as_at = day_number(rates.SOURCE_AS_AT[source].isoformat())
    born = shard.dob <= as_at
    newborn = (as_at - shard.dob) < 182
    u = rng.random(len(shard))
    hh = shard.hh
    if source == "nhs_demographics":
        keep = born & shard.nhs_registered & ~(newborn & (u < rates.NHS_NEWBORN_MISSING))
    elif source == "school_census":
        age = shard.school_age
        sixth = rates.SCHOOL_COVERAGE_16_17 / rates.SCHOOL_COVERAGE_4_15
        keep = (age >= 4) & (age <= 17) & shard.hh_state_school[hh] & ((age < 16) | (u < sixth))
    elif source == "child_benefit":
        keep = born & shard.hh_cb[hh] & ~(newborn & (u < rates.CB_NEWBORN_MISSING))
    elif source == "council_social_care":
        keep = born & shard.hh_social_care[hh]
    else:
        keep = _youth_offending(shard, u)
    return np.nonzero(keep)[0]


def _youth_offending(shard: Shard, u: npt.NDArray[np.float64]) -> npt.NDArray[np.bool_]:
    age = shard.age
    in_range = (age >= 10) & (age <= 17)
    weight = YOT_AGE_WEIGHT[np.clip(age - 10, 0, 7)] / YOT_AGE_WEIGHT.mean()
    weight = weight * np.where(shard.sex == 0, YOT_BOY_WEIGHT, YOT_GIRL_WEIGHT)
    return np.asarray(in_range & (u < rates.YOT_RATE_10_17 * weight))


def _none(n: int) -> ObjArray:
    return np.full(n, None, dtype=object)


def _address(
    shard: Shard, source: str, ci: IntArray, rng: np.random.Generator
) -> dict[str, ObjArray]:
    hh = shard.hh[ci]
    stale = shard.moved[hh] & (rng.random(len(ci)) < rates.ERRORS[source].stale_address)
    cur, old = shard.address.take(hh), shard.old_address.take(hh)
    out = {
        "address_line1": np.where(stale, old.line1, cur.line1),
        "address_line2": np.where(stale, old.line2, cur.line2),
        "town": np.where(stale, old.town, cur.town),
        "postcode": np.where(stale, old.postcode, cur.postcode),
    }
    if source == "nhs_demographics":  # the S-flag hides the address in NHS-derived feeds
        hidden = shard.shielded[hh]
        for k in out:
            out[k] = where(hidden, None, out[k])
    return out


def _carer_columns(
    shard: Shard, source: str, ci: IntArray, rng: np.random.Generator
) -> dict[str, ObjArray]:
    """Copy carers: which carers and which contact details depend on the source."""
    hh = shard.hh[ci]
    n = len(ci)
    c = shard.carers
    keep = {
        "school_census": (rng.random(n) < rates.SCHOOL_CARER_RATE, rng.random(n) < 0.3),
        "child_benefit": (np.ones(n, bool), np.zeros(n, bool)),
        "council_social_care": (np.ones(n, bool), np.ones(n, bool)),
        "youth_offending": (rng.random(n) < 0.7, rng.random(n) < 0.3),
        "nhs_demographics": (np.zeros(n, bool), np.zeros(n, bool)),
    }[source]
    out: dict[str, ObjArray] = {}
    fields = (
        ("given_name", c.given),
        ("family_name", c.family),
        ("relationship", c.relationship),
        ("parental_responsibility", c.responsibility),
        ("phone", c.phone),
        ("email", c.email),
    )
    for k in (0, 1):
        for name, values in fields:
            out[f"carer{k + 1}_{name}"] = where(keep[k], values[k][hh], None)
    return out


def _org_columns(
    shard: Shard,
    source: str,
    ci: IntArray,
    rng: np.random.Generator,
    orgs: organisations.Organisations,
) -> dict[str, ObjArray]:
    """Return org_code, org_role and involvement_start for this source."""
    n = len(ci)
    hh = shard.hh[ci]
    as_at = day_number(rates.SOURCE_AS_AT[source].isoformat())
    if source == "child_benefit":
        return {"org_code": _none(n), "org_role": _none(n), "involvement_start": _none(n)}
    if source == "school_census":
        age = shard.school_age[ci]
        org = np.where(age <= 10, shard.primary[hh], shard.secondary[hh])
        start_age = np.where(age <= 10, 4, 11)
        year = rates.ACADEMIC_YEAR_START.year - 1970 - (age - start_age)
        september = year.astype("datetime64[Y]").astype("datetime64[M]") + np.timedelta64(8, "M")
        start = iso(september.astype("datetime64[D]").astype(np.int64))
    elif source == "nhs_demographics":
        org, start = shard.gp[hh], iso(shard.gp_start[ci])
    else:
        slot = "council_team" if source == "council_social_care" else "youth_offending_team"
        i = organisations.SLOTS.index(slot)
        council = shard.address.council[hh]
        org = orgs.start[i, council] + (rng.random(n) * orgs.count[i, council]).astype(np.int64)
        back = 3 * 365 if source == "council_social_care" else 540
        begin = np.maximum(as_at - (rng.random(n) * back).astype(np.int64), shard.dob[ci])
        start = iso(begin)
    return {
        "org_code": orgs.codes[org],
        "org_role": np.full(n, ORG_ROLE[source], dtype=object),
        "involvement_start": start,
    }


def _identity(
    shard: Shard, source: str, ci: IntArray, rng: np.random.Generator
) -> tuple[dict[str, ObjArray], IntArray]:
    """Return name, sex and identifier columns, and the dates of birth as day numbers."""
    n = len(ci)
    nhs_source = source == "nhs_demographics"
    e = rates.ERRORS[source]
    nhs = (
        np.where(shard.nhs_new[ci] > 0, shard.nhs_new[ci], shard.nhs[ci])
        if nhs_source
        else shard.nhs[ci]
    )
    nhs_text = nhs.astype(str).astype(object)
    cols = {
        "given_name": shard.given[ci].copy(),
        "middle_names": shard.middle[ci].copy(),
        "family_name": (shard.nhs_family if nhs_source else shard.family)[ci].copy(),
        "former_family_name": _none(n),
        "sex": SEX[shard.sex[ci]],
        "nhs_number": where(rng.random(n) < e.missing_nhs, None, nhs_text),
        "upn": where(rng.random(n) < e.missing_upn, None, shard.upn[ci]),
        "sensitive": np.where(shard.shielded[shard.hh[ci]], "Y", "N").astype(object)
        if nhs_source
        else _none(n),
    }
    return cols, shard.dob[ci].copy()


def _name_errors(
    cols: dict[str, ObjArray],
    shard: Shard,
    source: str,
    ci: IntArray,
    rng: np.random.Generator,
    r: random.Random,
) -> None:
    """Apply surname changes, surname variants, nicknames and typos in place."""
    n = len(ci)
    e = rates.ERRORS[source]
    step = shard.step_family[ci]
    changed = np.nonzero((step != None) & (rng.random(n) < e.step_surname))[0]  # noqa: E711
    former = changed[rng.random(len(changed)) < e.former_name_given]
    cols["former_family_name"][former] = cols["family_name"][former]
    cols["family_name"][changed] = step[changed]
    hyphen = np.nonzero(shard.hyphenated[ci] & (rng.random(n) < e.hyphen_variant))[0]
    errors.apply(cols["family_name"], hyphen, errors.surname_variant, r)
    nick = errors.nickname_rows(cols["given_name"], rng.random(n), e.nickname)
    errors.apply(cols["given_name"], nick, errors.use_nickname, r)
    errors.apply(cols["given_name"], np.nonzero(rng.random(n) < e.given_typo)[0], errors.typo, r)
    errors.apply(cols["family_name"], np.nonzero(rng.random(n) < e.family_typo)[0], errors.typo, r)


def _value_errors(
    cols: dict[str, ObjArray],
    dob: IntArray,
    source: str,
    rng: np.random.Generator,
    r: random.Random,
) -> None:
    """Apply date slips, wrong sex and wrong identifiers in place."""
    n = len(dob)
    e = rates.ERRORS[source]
    errors.swap_day_month(dob, np.nonzero(rng.random(n) < e.dob_swap)[0])
    off = np.nonzero(rng.random(n) < e.dob_off)[0]
    dob[off] += rng.choice(np.array([-10, -1, 1, 10]), len(off))
    flip = rng.random(n) < e.sex_wrong
    cols["sex"] = np.where(flip, np.where(cols["sex"] == "M", "F", "M"), cols["sex"]).astype(object)
    for col, swap in (("nhs_number", errors.transpose_digits), ("upn", errors.transpose_upn)):
        errors.apply(cols[col], np.nonzero(rng.random(n) < e.transposed_id)[0], swap, r)
        other = np.nonzero(rng.random(n) < e.other_childs_id)[0]
        if len(other) and n > 1:
            donor = (other + rng.integers(1, n, len(other))) % n
            has = np.array(
                [
                    cols[col][d] is not None and cols[col][o] is not None
                    for o, d in zip(other, donor, strict=True)
                ],
                dtype=bool,
            )
            cols[col][other[has]] = cols[col][donor[has]]


def _malformed(
    cols: dict[str, ObjArray], source: str, rng: np.random.Generator, r: random.Random
) -> None:
    """Break a few rows so the loader's quarantine has work: bad date, postcode, NHS, name."""
    rows = np.nonzero(rng.random(len(cols["given_name"])) < rates.ERRORS[source].malformed)[0]
    for i in rows:
        kinds = ["date", "family"] + (["nhs"] if cols["nhs_number"][i] is not None else [])
        kinds += ["postcode"] if cols["postcode"][i] is not None else []
        kind = r.choice(kinds)
        if kind == "date":
            cols["date_of_birth"][i] = errors.impossible_date(cols["date_of_birth"][i], r)
        elif kind == "postcode":
            cols["postcode"][i] = r.choice(errors.BAD_POSTCODES)
        elif kind == "nhs":
            cols["nhs_number"][i] = errors.garbage_nhs(cols["nhs_number"][i], r)
        else:
            cols["family_name"][i] = None


def record_ids(source: str, shard: int, count: int, shard_size: int) -> ObjArray:
    """Return stable record ids: a scrambled row number, unrelated to the child."""
    row = shard * shard_size + np.arange(count, dtype=np.int64)
    number = (row * ID_SCRAMBLE + 12_345_679 * (1 + rates.SOURCES.index(source))) % 1_000_000_000
    digits = ids.zero_padded(number, 9)
    return np.asarray(rates.RECORD_PREFIX[source] + "-" + digits, dtype=object)


def build(shard: Shard, source: str, seed: int, orgs: organisations.Organisations) -> Feed:
    """Return the rows this source sends for the shard, shuffled, with errors applied."""
    rng = rng_for(seed, shard.index, 100 + rates.SOURCES.index(source))
    r = random.Random(int(rng.integers(2**62)))
    ci = rng.permutation(select(shard, source, rng))
    cols, dob = _identity(shard, source, ci, rng)
    _name_errors(cols, shard, source, ci, rng, r)
    _value_errors(cols, dob, source, rng, r)
    cols["date_of_birth"] = iso(dob)
    cols.update(_address(shard, source, ci, rng))
    cols.update(_org_columns(shard, source, ci, rng, orgs))
    cols.update(_carer_columns(shard, source, ci, rng))
    _malformed(cols, source, rng, r)
    cols["record_id"] = record_ids(source, shard.index, len(ci), shard.shard_size)
    cols["as_at"] = np.full(len(ci), rates.SOURCE_AS_AT[source].isoformat(), dtype=object)
    return Feed(source, {c: cols[c] for c in feed_format.COLUMNS}, ci)
