"""A source record's sealed payload: its canonical JSON, sealed in a compact form.

The canonical form (`FeedRecord.canonical()` as `json.dumps(..., sort_keys=True)`) names
every field and keeps every empty string: 543 bytes a record on average, most of them key
names (docs/adr/0013-lean-registry-layout.md). The sealed payload holds the same values
as a JSON array in a fixed field order, without the names: about 212 bytes. Opening gives
the canonical JSON back, character for character, so everything that reads a payload
(relinking, rematching, linkage, evaluation) and everything that digests the canonical form
sees what it saw before. A payload sealed before this form (canonical JSON itself) still
opens: a registry converts record by record.

A record of another shape (a field this code does not know, or one it lacks) is sealed as
its canonical JSON, so nothing is ever lost to the compact form.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import fields
from typing import Any

from contactpoint.registry.cipher import ChildCipher
from contactpoint.registry.feeds import CarerRecord, FeedRecord
from contactpoint.registry.models import SourceRecord

FORM = "c1"  # the first element of a compact payload: its version
RECORD_FIELDS = tuple(sorted(f.name for f in fields(FeedRecord)))
CARER_FIELDS = tuple(sorted(f.name for f in fields(CarerRecord)))
OPTIONAL = "identifiers"  # in the canonical form only when a record has some
_FIELD_SET, _CARER_SET = frozenset(RECORD_FIELDS), frozenset(CARER_FIELDS)
_CARERS = RECORD_FIELDS.index("carers")
_CANONICAL = json.JSONEncoder(sort_keys=True)
_COMPACT = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False)


def compact(body: str, doc: Any = None, *, encoded: bool = False) -> str:
    """The compact form of a canonical JSON record (the body itself if of another shape).

    `doc`: the body already decoded (`json.loads(body)`), when the caller has it.
    `encoded`: the caller knows `body` to be the canonical encoder's own output (as a bulk
    load stages each record, bulk/read.py), so it is not encoded again to check.

    What this returns always opens (`canonical`) to `body`, character for character. The
    compact form holds the decoded values in the canonical form's (sorted) key order, and
    decoding them again gives equal values (a JSON value decoded, encoded and decoded is
    the same value), so it opens to a dict equal to `doc`, whose canonical encoding is
    `body` exactly when `body` is canonical (`is_canonical`): that alone is checked here,
    by one encoding, instead of opening each compact form again. The canonical encoder's
    output is canonical by the same argument. tests/unit/registry/test_payloads.py proves
    the whole property on any JSON values.
    """
    doc = json.loads(body) if doc is None else doc
    if not _fits(doc) or not (encoded or _CANONICAL.encode(doc) == body):
        return body
    values: list[Any] = [doc.get(name) for name in RECORD_FIELDS]
    values[_CARERS] = [[c[k] for k in CARER_FIELDS] for c in doc["carers"]]
    text: str = _COMPACT.encode([FORM, values])
    return text


def is_canonical(body: str) -> bool:
    """Whether `body` is the canonical JSON of what it decodes to."""
    encoded: str = _CANONICAL.encode(json.loads(body))
    return encoded == body


def _fits(doc: Any) -> bool:
    """Whether a decoded record has the fields the compact form lists: every field, but
    `identifiers` only when it holds something (opening drops a null one)."""
    if not isinstance(doc, dict) or set(doc) | {OPTIONAL} != _FIELD_SET:
        return False
    if OPTIONAL in doc and doc[OPTIONAL] is None:
        return False
    carers = doc["carers"]
    return isinstance(carers, list) and all(
        isinstance(c, dict) and set(c) == _CARER_SET for c in carers
    )


def canonical(text: str) -> str:
    """The canonical JSON of an opened payload, compact or not."""
    if not text.startswith("["):
        return text
    encoded: str = _CANONICAL.encode(_expanded(text))
    return encoded


def document(text: str) -> dict[str, Any]:
    """An opened payload, compact or not, as its canonical JSON decoded
    (`json.loads(canonical(text))`, without encoding the JSON only to decode it again)."""
    if not text.startswith("["):
        doc: dict[str, Any] = json.loads(text)
        return doc
    return _expanded(text)


def _expanded(text: str) -> dict[str, Any]:
    form, values = json.loads(text)
    if form != FORM:
        raise ValueError(f"a payload of an unknown form {form!r}")
    doc = dict(zip(RECORD_FIELDS, values, strict=True))
    if doc[OPTIONAL] is None:
        del doc[OPTIONAL]
    doc["carers"] = [dict(zip(CARER_FIELDS, c, strict=True)) for c in doc["carers"]]
    return doc


def seal(
    cipher: ChildCipher, record_id: uuid.UUID, body: str, doc: Any = None, *, encoded: bool = False
) -> bytes | None:
    """Seal a record's canonical JSON as its payload, under its owner's key (`doc` and
    `encoded` as `compact` takes them)."""
    return cipher.seal(SourceRecord, "payload", record_id, compact(body, doc, encoded=encoded))


def open_payload(cipher: ChildCipher, record_id: uuid.UUID, sealed: Any) -> str | None:
    """A record's payload opened, as canonical JSON (None for no payload)."""
    if sealed is None:
        return None
    text = cipher.open(SourceRecord, "payload", record_id, bytes(sealed))
    return None if text is None else canonical(text)


def open_document(cipher: ChildCipher, record_id: uuid.UUID, sealed: Any) -> dict[str, Any] | None:
    """A record's payload opened and decoded (`document`; None for no payload)."""
    if sealed is None:
        return None
    text = cipher.open(SourceRecord, "payload", record_id, bytes(sealed))
    return None if text is None else document(text)
