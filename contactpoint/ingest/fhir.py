"""FHIR R4 Patient resources, as a Bundle (.json) or NDJSON (.ndjson), as standard rows.

Each resource is validated with `fhir.resources` (its R4B models: R4B is R4 with
corrections, and a Patient is the same in both) and mapped to the standard format
(docs/feeds.md) for the shared `RowParser`. A resource that is not valid FHIR, or not a
Patient, is a problem naming the FHIR path and the rule, never the value; the rest go on.
Pure: no database.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

from fhir.resources.R4B.address import Address
from fhir.resources.R4B.humanname import HumanName
from fhir.resources.R4B.patient import Patient
from pydantic import ValidationError

from contactpoint.ingest.rows import FeedError, RowReader, SourceRow
from contactpoint.registry import feeds
from contactpoint.registry.feeds import Problem

NHS_NUMBER_SYSTEM = "https://fhir.nhs.uk/Id/nhs-number"
GENDER = {"male": "M", "female": "F", "other": "U", "unknown": "U"}
BUNDLE_SUFFIXES = (".json",)
NDJSON_SUFFIXES = (".ndjson", ".jsonl")
MOST_PROBLEMS = 10  # per resource: enough to fix it, not a wall of text
# Reasons by pydantic error type. Its own messages may quote the input, so none is used.
REASONS = {
    "missing": "is required",
    "extra_forbidden": "is not an element of this FHIR type",
    "list_type": "must be a list",
    "string_type": "must be a string",
    "bool_type": "must be true or false",
    "bool_parsing": "must be true or false",
    "int_type": "must be an integer",
    "int_parsing": "must be an integer",
    "model_type": "must be an object",
    "model_attributes_type": "must be an object",
    "dict_type": "must be an object",
    "string_pattern_mismatch": "is not in the form its FHIR type requires",
    "value_error": "is not a valid value of its FHIR type",
}
NAME_PART = re.compile(r"_?[A-Za-z][A-Za-z0-9_]{0,39}")
Schemes = Mapping[str, str]  # identifier system (a URI) -> local identifier scheme


def reader(today: dt.date | None = None, schemes: Schemes | None = None) -> RowReader:
    """Read Bundles (.json) and NDJSON (.ndjson, .jsonl); as_at defaults to `today`.

    `schemes` maps an identifier system (a URI) to the local identifier scheme its values
    are (docs/feeds.md); identifiers of other systems are not read. They are part of the
    key a file's progress is kept under, as a mapping's digest is.
    """
    known = dict(schemes or {})
    salt = json.dumps(known, sort_keys=True) if known else ""
    return RowReader(lambda path: read(path, today or dt.date.today(), known), salt=salt)


def read(path: Path, today: dt.date, schemes: Schemes | None = None) -> Iterator[SourceRow]:
    suffix = path.suffix.lower()
    if suffix in NDJSON_SUFFIXES:
        return _ndjson(path, today, schemes or {})
    if suffix in BUNDLE_SUFFIXES:
        return _bundle(path, today, schemes or {})
    raise FeedError(
        f"{path.name}: a FHIR file ends .json (a Bundle) or .ndjson (one resource a line)"
    )


def _ndjson(path: Path, today: dt.date, schemes: Schemes) -> Iterator[SourceRow]:
    """One resource per line; a line that is not JSON is quarantined like any other."""
    with path.open("rb") as handle:
        for number, raw in enumerate(handle, start=1):
            if not raw.strip():
                continue
            try:
                resource = json.loads(raw.decode("utf-8"))
            except UnicodeDecodeError:
                yield SourceRow(number, None, (Problem("resource", "is not UTF-8"),))
            except ValueError:
                yield SourceRow(number, None, (Problem("resource", "is not valid JSON"),))
            else:
                yield patient_row(number, resource, today, schemes)


def _bundle(path: Path, today: dt.date, schemes: Schemes) -> Iterator[SourceRow]:
    """Each entry's resource, at its position in the Bundle counting from 1."""
    try:
        doc = json.loads(path.read_bytes().decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        raise FeedError(f"{path.name}: not a JSON document in UTF-8") from None
    if not isinstance(doc, dict) or doc.get("resourceType") != "Bundle":
        raise FeedError(f"{path.name}: not a FHIR Bundle (resourceType must be Bundle)")
    entries = doc.get("entry", [])
    if not isinstance(entries, list):
        raise FeedError(f"{path.name}: the Bundle's entry must be a list")
    for number, entry in enumerate(entries, start=1):
        resource = entry.get("resource") if isinstance(entry, dict) else None
        if resource is None:
            yield SourceRow(number, None, (Problem("resource", "is missing from the entry"),))
        else:
            yield patient_row(number, resource, today, schemes)


def patient_row(
    line: int, resource: object, today: dt.date, schemes: Schemes | None = None
) -> SourceRow:
    """Validate one resource as a Patient and map it to a standard row."""
    if not isinstance(resource, dict):
        return SourceRow(line, None, (Problem("resource", "is not a JSON object"),))
    if resource.get("resourceType") != "Patient":
        return SourceRow(line, None, (Problem("resourceType", "is not Patient"),))
    try:
        patient = Patient.model_validate(resource)
    except ValidationError as exc:
        return SourceRow(line, None, validation_problems(exc))
    except (ValueError, TypeError):
        return SourceRow(line, None, (Problem("resource", "is not valid FHIR"),))
    row, problems = standard_row(patient, today)
    return SourceRow(line, row | _local_identifiers(patient, schemes or {}), problems)


def _local_identifiers(patient: Patient, schemes: Schemes) -> dict[str, str]:
    """The values of identifiers whose system has a scheme, keyed as a mapping's are; of
    two with one system, the first."""
    found: dict[str, str] = {}
    for identifier in patient.identifier or []:
        scheme = schemes.get(str(identifier.system or ""))
        if scheme and identifier.value:
            found.setdefault(feeds.IDENTIFIER_PREFIX + scheme, str(identifier.value))
    return found


def validation_problems(exc: ValidationError) -> tuple[Problem, ...]:
    """One problem per FHIR path that failed, by error type: pydantic's text may quote values."""
    return tuple(
        Problem(fhir_path(error["loc"]), _reason(str(error["type"])))
        for error in exc.errors()[:MOST_PROBLEMS]
    )


def _reason(kind: str) -> str:
    if reason := REASONS.get(kind):
        return reason
    if "date" in kind or "time" in kind:
        return "is not a valid FHIR date or time"
    # The type is pydantic's own identifier, never input; checked all the same.
    return f"is not valid FHIR ({kind if NAME_PART.fullmatch(kind) else 'other'})"


def fhir_path(loc: Sequence[int | str]) -> str:
    """`name[0].given[1]` from a pydantic location; a key that is not a name shows as `?`."""
    path = ""
    for part in loc:
        if isinstance(part, int):
            path += f"[{part}]"
        else:
            path += ("." if path else "") + (part if NAME_PART.fullmatch(part) else "?")
    return path[:40] or "resource"


def standard_row(patient: Patient, today: dt.date) -> tuple[dict[str, str], tuple[Problem, ...]]:
    """The standard row for a valid Patient, and what of it could not be translated."""
    row = dict.fromkeys(feeds.COLUMNS, "")
    problems = []
    row["record_id"] = _record_id(patient)
    if not row["record_id"]:
        problems.append(Problem("id", "is missing, and no identifier has a value"))
    row["nhs_number"] = _nhs_number(patient)
    row.update(_names(patient.name or []))
    row.update(_address(patient.address or [], today))
    row["date_of_birth"] = _iso(patient.birthDate)
    gender = patient.gender or ""
    if gender and gender not in GENDER:
        problems.append(Problem("gender", "is not male, female, other or unknown"))
    row["sex"] = GENDER.get(gender, "")
    updated = patient.meta.lastUpdated if patient.meta else None
    row["as_at"] = _iso(updated)[:10] or today.isoformat()
    return row, tuple(problems)


def _record_id(patient: Patient) -> str:
    if patient.id:
        return str(patient.id)
    for identifier in patient.identifier or []:
        if identifier.value:
            return f"{identifier.system or ''}|{identifier.value}"
    return ""


def _nhs_number(patient: Patient) -> str:
    for identifier in patient.identifier or []:
        if identifier.system == NHS_NUMBER_SYSTEM and identifier.value:
            return str(identifier.value)
    return ""


def _names(names: list[HumanName]) -> dict[str, str]:
    """The official name, else the first; an old or maiden name's family is the former one."""
    name = next((n for n in names if n.use == "official"), names[0] if names else None)
    former = next((n for n in names if n.use in ("old", "maiden") and n.family), None)
    given = [g for g in (name.given or []) if g] if name else []
    return {
        "given_name": given[0] if given else "",
        "middle_names": " ".join(given[1:]),
        "family_name": str(name.family or "") if name else "",
        "former_family_name": str(former.family) if former else "",
    }


def _address(addresses: list[Address], today: dt.date) -> dict[str, str]:
    """The current home address, else the first current one, else none."""
    current = [a for a in addresses if not _ended(a, today)]
    address = next((a for a in current if a.use == "home"), current[0] if current else None)
    if address is None:
        return {}
    lines = [str(x) for x in (address.line or []) if x]
    return {
        "address_line1": lines[0] if lines else "",
        "address_line2": ", ".join(lines[1:]),
        "town": str(address.city or ""),
        "postcode": str(address.postalCode or ""),
    }


def _ended(address: Address, today: dt.date) -> bool:
    if address.use == "old":
        return True
    end = _iso(address.period.end if address.period else None)
    # A partial date ("2024-06") has ended once today is past the whole of it.
    return bool(end) and end < today.isoformat()[: len(end)]


def _iso(value: Any) -> str:
    """A FHIR date or dateTime, as pydantic gives it, as ISO text (partial dates stay so)."""
    if isinstance(value, dt.datetime):
        return value.date().isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value) if value else ""
