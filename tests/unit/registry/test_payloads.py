"""A source record's payload is sealed compact and opens as its canonical JSON, exactly."""

from __future__ import annotations

import datetime as dt
import json
import uuid

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from contactpoint.ingest.batch import CANONICAL_JSON
from contactpoint.lib import crypto
from contactpoint.lib.identifiers import parse_postcode
from contactpoint.registry import payloads
from contactpoint.registry.cipher import ChildCipher
from contactpoint.registry.feeds import CarerRecord, FeedRecord
from contactpoint.registry.models import SourceRecord


def record(**changes: object) -> FeedRecord:
    values: dict[str, object] = {
        "record_id": "PDS-722251502",
        "as_at": dt.date(2025, 8, 31),
        "given_name": "Zoë",
        "middle_names": "",
        "family_name": "O'Brien-Ní Dhuibhir",
        "former_family_name": "",
        "date_of_birth": dt.date(2012, 3, 15),
        "sex": "F",
        "address_line1": "1 High Street",
        "address_line2": "",
        "town": "Leeds",
        "postcode": parse_postcode("LS1 4AP"),
        "nhs_number": "4414996058",
        "upn": None,
        "org_code": "G20187",
        "org_role": "gp",
        "involvement_start": None,
        "sensitive": False,
        "carers": (
            CarerRecord("Ann", "O'Brien", "mother", True, "07700 900123", ""),
            CarerRecord("Sam", "Smith", "foster_carer", None, "", "sam@example.org"),
        ),
        "identifiers": (),
    }
    return FeedRecord(**{**values, **changes})  # type: ignore[arg-type]


def body_of(feed: FeedRecord) -> str:
    """The canonical JSON the loaders digest and seal."""
    return json.dumps(feed.canonical(), sort_keys=True)


def cipher() -> ChildCipher:
    return ChildCipher(uuid.uuid4(), crypto.new_key())


@pytest.mark.parametrize(
    "feed",
    [
        record(),
        record(carers=(), date_of_birth=None, postcode=None, sensitive=True),
        record(identifiers=(("local_id", "A-17"), ("mosaic", "9"))),
    ],
    ids=["carers", "no carers or date", "local identifiers"],
)
def test_a_payload_opens_as_the_canonical_json_it_was_sealed_from(feed: FeedRecord) -> None:
    body, owner, record_id = body_of(feed), cipher(), uuid.uuid4()
    sealed = payloads.seal(owner, record_id, body)
    assert payloads.open_payload(owner, record_id, sealed) == body
    assert FeedRecord.from_canonical(json.loads(body)) == feed


def test_the_compact_form_drops_the_field_names() -> None:
    body = body_of(record())
    compact = payloads.compact(body)
    assert compact.startswith(f'["{payloads.FORM}",')
    assert "given_name" not in compact and "Zoë" in compact
    assert len(compact.encode()) < len(body.encode()) / 2


def test_a_payload_sealed_as_canonical_json_before_still_opens_the_same() -> None:
    body, owner, record_id = body_of(record()), cipher(), uuid.uuid4()
    old = owner.seal(SourceRecord, "payload", record_id, body)  # how payloads were sealed
    assert payloads.open_payload(owner, record_id, old) == body


def test_a_record_of_another_shape_is_sealed_as_its_json() -> None:
    doc = {**record().canonical(), "unknown_field": "x"}
    body = json.dumps(doc, sort_keys=True)
    assert payloads.compact(body) == body
    owner, record_id = cipher(), uuid.uuid4()
    assert payloads.open_payload(owner, record_id, payloads.seal(owner, record_id, body)) == body


def test_a_payload_does_not_open_as_another_record() -> None:
    owner = cipher()
    sealed = payloads.seal(owner, uuid.uuid4(), body_of(record()))
    with pytest.raises(crypto.DecryptionError):
        payloads.open_payload(owner, uuid.uuid4(), sealed)


# Any JSON value, as decoding gives them: what a field of a record of the right shape holds.
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=4), inner),
    max_leaves=4,
)
carers = st.fixed_dictionaries(dict.fromkeys(payloads.CARER_FIELDS, json_values))
shaped = st.fixed_dictionaries(
    {
        **{name: json_values for name in payloads.RECORD_FIELDS if name != payloads.OPTIONAL},
        "carers": st.lists(carers, max_size=2),
    },
    optional={payloads.OPTIONAL: json_values},
)
# Ways of writing a record as JSON: canonically, and as other encoders would.
STYLES = {
    "canonical": lambda doc: json.dumps(doc, sort_keys=True),
    "fields unsorted": lambda doc: json.dumps(dict(reversed(doc.items()))),
    "not ASCII": lambda doc: json.dumps(doc, sort_keys=True, ensure_ascii=False),
    "compact separators": lambda doc: json.dumps(doc, sort_keys=True, separators=(",", ":")),
    "indented": lambda doc: json.dumps(doc, sort_keys=True, indent=1),
}


@settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(doc=shaped, style=st.sampled_from(sorted(STYLES)))
def test_whatever_a_record_holds_its_compact_form_opens_as_its_exact_json(
    doc: dict[str, object], style: str
) -> None:
    """`compact` no longer opens what it made to check it: this is the property that check
    held, for any values in any field and for JSON written canonically or not."""
    body = STYLES[style](doc)
    assert payloads.canonical(payloads.compact(body)) == body
    assert payloads.canonical(payloads.compact(body, json.loads(body))) == body
    assert payloads.is_canonical(body) == (style == "canonical" or body == STYLES["canonical"](doc))


@settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(doc=shaped)
def test_canonical_json_encoded_by_the_loaders_is_sealed_compact_unchecked_and_opens_exact(
    doc: dict[str, object],
) -> None:
    """What a bulk load does (`encoded`: its records are the canonical encoder's output)."""
    body = CANONICAL_JSON.encode(doc)
    text = payloads.compact(body, json.loads(body), encoded=True)
    assert payloads.canonical(text) == body
    assert text.startswith("[") == (doc.get(payloads.OPTIONAL, {}) is not None)
