"""A stolen copy reveals no child: scan every stored copy for every input value.

The canaries are every name, postcode, NHS number and date of birth in the input feeds,
and the special-category facts about a child: the roles of the services that work with
them (a social worker, a youth offending worker), a carer's relationship (a foster carer)
and a sensitive service's category and consent basis; why a child is shielded (the reason
codes), the day a record was archived (about a birthday) and a retention extension
(`care_leaver` says the child was looked after). The stores are the registry and key
store databases (on SQLite their files and WAL, on PostgreSQL a `pg_dump` of each) and a
backup made by `contactpoint backup`. Which child is shielded is a flag, not a string: the
test reads each database, and the backup, as a thief without keys would, and finds no row
(the audit log's included: ADR 0012) that ties a shielded child's id to shielding.

What the practice tables record about a child is scanned cell by cell (the registry's
tables, each `pg_dump` block and the backup, but the audit log): no cell holds an alert
kind that says a child is shielded or was given emergency access, an emergency's or a
statutory access's reason, a family notice's risk codes, a review item's reason
`shielded` or a waiting record's method `near_shielded`; no row holds a review item held
as shielded beside a child it might be, and no `hold` decision keeps its weight.
These short codes are compared whole, not searched for in the files: a migration's name
holds `shielding_review_due`. The audit log's cells are compared with the reasons and with
the action a notice withheld for a risk would have: its events seal why (ADR 0010).

Which organisations work with a child is scanned row by row: no row of the database, the
`pg_dump` or the backup holds a child's id beside, in an organisation column, the id of an
organisation involved with that child; not even the audit log, which records which
organisation's user looked at or registered with which child, but names the child by a
keyed tag (ADR 0012). Nor does any row hold a child's id beside the organisation, or a
user of the organisation (as a user or a principal: a finding, which a search leaves),
whose user had an emergency access to it, beside the organisation that supplied a field of
its record a family asked to correct, or beside the principal whose child protection
enquiry about it was released (ADR 0010).

Nor does any row (a source record, an involvement a feed keeps) hold a child's id, or the
id of one of its source records, beside the id or code of a source that sent a record of
that child: that youth offending or a council's social care sent one says the service
knows the child (ADR 0010); which source sent a record is sealed in it.

Nor does an alert or a handover row hold, but as its own id, the id of any child,
involvement, emergency access, contact request or handover: an alert pairs a user (so an
organisation) with what it was told, a handover names a child's services and its lead
(ADR 0010). The journey makes a row of each kind: a service joining, a handover waiting
for the lead's answer, a request to a sensitive service, an emergency access.
"""

from __future__ import annotations

import base64
import csv
import datetime as dt
import gzip
import json
import shutil
import subprocess
import uuid
from pathlib import Path
from typing import Any

import pytest
from django.apps import apps
from django.db import connections, models

from contactpoint.access.permissions import Role
from contactpoint.access.users import Actor
from contactpoint.audit import log as audit_log
from contactpoint.audit.models import Event
from contactpoint.linkage.models import ReviewItem
from contactpoint.linkage.review_items import abouts
from contactpoint.practice import involvements, retention, shielding
from contactpoint.practice.families import rectification, subject_access
from contactpoint.practice.involvements import Details, alerts, emergency
from contactpoint.practice.models import (
    Alert,
    ContactRequest,
    EmergencyAccess,
    FamilyNotice,
    Handover,
    StatutoryAccess,
)
from contactpoint.practice.retention import archived
from contactpoint.registry import origins, record_facts, shield_tags
from contactpoint.registry.golden import golden_record
from contactpoint.registry.involvement_facts import open_all
from contactpoint.registry.models import Child, Involvement, ShieldingDecision, SourceRecord
from tests.support.actors import Actors, make_actors, user
from tests.support.children import found
from tests.support.cli import run_cli
from tests.support.feeds import feed_row, write_feed

pytestmark = [
    pytest.mark.slow,
    pytest.mark.django_db(databases=["default", "keys"], transaction=True),
]

NAME_COLUMNS = (
    "given_name",
    "middle_names",
    "family_name",
    "former_family_name",
    "carer1_given_name",
    "carer1_family_name",
    "carer2_given_name",
    "carer2_family_name",
)
# Shorter strings turn up by chance in megabytes of random ciphertext: a 5-byte string
# has about a 1 in 10^5 chance per 10 MB, a 4-byte one about 1 in 400.
MIN_NAME = 5


def canaries(feeds: Path) -> dict[str, set[str]]:
    """Every identifying value in the input, minus what is public reference data.

    Organisation names, addresses and postcodes are stored in clear by design, so a child
    value that also appears in organisations.csv would be found for that reason; the feed
    as-at dates are stored in clear as the date a source said something.
    """
    found: dict[str, set[str]] = {
        "name": set(),
        "postcode": set(),
        "nhs_number": set(),
        "date_of_birth": set(),
    }
    as_at: set[str] = set()
    for path in feeds.glob("*/*.csv"):
        if path.parent.name == "truth":
            continue
        with path.open(encoding="utf-8", newline="") as handle:
            for row in csv.DictReader(handle):
                as_at.add(row.get("as_at") or "")
                for column in NAME_COLUMNS:
                    found["name"] |= {
                        p for p in (row.get(column) or "").split() if len(p) >= MIN_NAME
                    }
                for kind in ("postcode", "nhs_number", "date_of_birth"):
                    if row.get(kind):
                        found[kind].add(row[kind])
    public = (feeds / "organisations.csv").read_text(encoding="utf-8")
    found["name"] = {n for n in found["name"] if n not in public}
    found["postcode"] = {p for p in found["postcode"] if p not in public}
    found["date_of_birth"] -= as_at
    return found


# Each names a special-category fact about a child; none occurs in the schema or in
# reference data (organisation kinds are `council_team`, `youth_offending_team`, ...).
SPECIAL_CATEGORY = {
    "role": {"social_worker", "youth_offending_worker"},
    "relationship": {"foster_carer", "special_guardian", "adoptive_parent"},
    "sensitive_category": set(Involvement.SensitiveCategory.values),
    "consent_basis": set(Involvement.ConsentBasis.values),
    "shielding_reason": set(ShieldingDecision.Reason.values) - {"other"},
    "retention_extension": set(Child.Extension.values),
}
# Codes of the practice tables that say something special about a child, compared cell by
# cell (module docstring).
PRACTICE_CODES = {
    "alert_kind": {"shielded_joined", "shielding_review_due", "emergency_access"},
    "emergency_reason": set(EmergencyAccess.Reason.values),
    "statutory_reason": set(StatutoryAccess.Reason.values),
    "family_notice": {"not_sent_risk", *FamilyNotice.Risk.values},
    # A review item held because its record might be a shielded child, and the method
    # its waiting record had (ADR 0010).
    "review_reason": {"shielded", "near_shielded"},
}
# What an audit event would say in clear of an emergency's or a notice's reason.
AUDIT_CODES = {
    *EmergencyAccess.Reason.values,
    *StatutoryAccess.Reason.values,
    *FamilyNotice.Risk.values,
    "families:notice:risk",
}
# The retention run's day: every record it archives was archived on it.
ARCHIVED_ON = dt.date(2041, 7, 19)
WHY = "The family fled a violent partner who is looking for the child"


def register_sensitive_services(actors: Actors) -> str:
    """A sensitive service of each category registered with a child, as a practitioner
    would (the feeds never carry one). Returns the staff's and their organisations' names
    and addresses: stored in clear by design, so left out of the canaries."""
    charlie = Actor.of(actors.charlie)
    children = Child.objects.order_by("pk")[: len(Involvement.SensitiveCategory.values)]
    pairs = zip(children, Involvement.SensitiveCategory.values, strict=True)
    bases = Involvement.ConsentBasis.values
    for n, (child, category) in enumerate(pairs):
        found(charlie, child)
        basis = bases[n % len(bases)]
        details = Details(
            "health_service", "Clinic", "1", sensitive_category=category, consent_basis=basis
        )
        involvements.register(charlie, child, details)
    organisations = (actors.school_a, actors.council_a, actors.council_b, actors.national)
    return " ".join(
        [*(f"{u.name} {u.email}" for u in actors.all()), *(o.name for o in organisations)]
    )


def shield_and_retain(actors: Actors) -> uuid.UUID:
    """Shield children of area B with each reason, by two of its index team, unshield one,
    record each extension, tell the index team about its shielded children, and run
    retention on ARCHIVED_ON. Returns a shielded child."""
    isla = Actor.of(actors.isla)
    iris = Actor.of(user("iris@council-b.example", "Iris", actors.council_b, Role.INDEX_TEAM, {}))
    reasons = shielding.REASONS[shielding.Action.SHIELD]
    # Children no feed shielded, made area B's by a service of area B registering.
    mine = [c for c in Child.objects.order_by("-pk")[:20] if not c.shielded][:6]
    charlie = Actor.of(actors.charlie)
    for child in mine:
        found(charlie, child)
        involvements.register(charlie, child, Details("health_service", "Clinic", "1"))
    for child, reason in zip(mine, reasons, strict=False):
        asked = shielding.request(isla, child, "shield", reason, WHY)
        shielding.approve(iris, asked.pk)
    for reason in shielding.REASONS[shielding.Action.UNSHIELD]:
        child = Child.objects.get(pk=mine[0].pk)
        asked = shielding.request(isla, child, "unshield", reason, WHY)
        shielding.approve(iris, asked.pk)
        child = Child.objects.get(pk=mine[0].pk)
        asked = shielding.request(isla, child, "shield", "domestic_abuse", WHY)
        shielding.approve(iris, asked.pk)
    for child, extension in zip(mine[len(reasons) :], Child.Extension.values, strict=False):
        archived.record_extension(isla, child, extension)
    # Its index team is told that a service joined the shielded child (as `involvements`
    # tells it) and, once the review day has come, that the shielding is due for review.
    child = Child.objects.get(pk=mine[0].pk)
    joined = Involvement.objects.filter(child=child).first()
    team = alerts.index_team_of([actors.area_b.code])
    alerts.raise_alert(team, Alert.Kind.SHIELDED_JOINED, child=child, involvement=joined)
    assert shielding.remind(dt.date(2100, 1, 1)) > 0
    assert retention.run(ARCHIVED_ON).archived > 10  # an archive day to look for
    assert Child.objects.get(pk=mine[0].pk).shielded
    return mine[0].pk


def hold_beside_a_shielded_child(population: Path, folder: Path) -> None:
    """Load a child benefit record of a brother or sister a shielded child might be (the
    child's family name, birth date and address, another given name): the matcher holds
    it for the index team, a review item `shielded` with that child among its candidates."""
    active = sorted(Child.objects.filter(status="active").values_list("pk", flat=True))
    shielded = sorted(shield_tags.shielded_among(active))
    if not shielded:  # no feed shielded anyone: as a shielding decision would
        shield_tags.shield(active[:1])
    child = (shielded or active)[0]
    golden = golden_record(child)
    columns = ("family_name", "date_of_birth", "postcode", "address_line1")
    values = {c: f.value for c in columns if (f := getattr(golden, c)) is not None}
    folder.mkdir()
    shutil.copy(population / "organisations.csv", folder / "organisations.csv")
    row = feed_row(record_id="HELD-1", as_at="2026-11-30", given_name="Zebedee", **values)
    write_feed(folder, "child_benefit", [row])
    run_cli("load", str(folder), "--quiet")


def practice_facts(actors: Actors) -> dict[str, set[str]]:
    """What the practice tables record besides shielding's alerts: an emergency access for
    each reason (one reviewed `not_justified`), a released child protection enquiry and a
    family notice withheld for each risk. Returns each child's id (hex) and who, in clear,
    would say what befell the child: the organisation of the user who had an emergency
    access ("organisation:<id>") and its users (hex ids: the user, its privacy officers);
    the enquiring principal ("user:<hex id>")."""
    alice = Actor.of(actors.alice)
    others = [c for c in Child.objects.filter(status="active").order_by("pk")[20:40]]
    others = [c for c in others if not c.shielded]
    school = [u for u in actors.all() if u.organisation_id == actors.alice.organisation_id]
    # The organisation, its users' ids, and its users as principals (how a finding, which
    # a search before an emergency access leaves, would name alice in clear).
    staff = {f"organisation:{actors.alice.organisation_id}"} | {hex_id(u.pk) for u in school}
    staff |= {f"user:{hex_id(u.pk)}" for u in school}
    looked: dict[str, set[str]] = {}
    for child, reason in zip(others, EmergencyAccess.Reason.values, strict=False):
        found(alice, child)
        access = emergency.open_access(alice, child, reason, WHY)
        looked[hex_id(child.pk)] = staff
    emergency.review(Actor.of(actors.petra), access.pk, "not_justified")
    # A child protection enquiry by a practitioner, released by the child's index team.
    isla, charlie = Actor.of(actors.isla), Actor.of(actors.charlie)
    recent = Child.objects.filter(status="active").order_by("-pk")[:40]
    child = next(c for c in recent if not c.shielded)
    if not subject_access.may_manage(isla, child):  # made area B's, as a service of B registers
        found(charlie, child)
        involvements.register(charlie, child, Details("health_service", "Clinic", "1"))
    assert subject_access.may_manage(isla, child)
    search = audit_log.entry(
        charlie.principal,
        "child:records:search",
        sealed_purpose="child_protection_enquiry",
        child_id=child.pk,
    )
    audit_log.append(search)
    asked = subject_access.record_request(isla, child, "parent", "photo_id")
    started = Event.objects.order_by("-index").filter(action="child:records:search").first()
    assert started is not None
    subject_access.release_enquiry(isla, asked.pk, started.index)
    looked.setdefault(hex_id(child.pk), set()).add(hex_id(charlie.principal.key))
    # A correction asked for: the organisation that supplied the field holds a record of
    # the child (a clinic, a youth offending team's system).
    for child in recent:
        if child.shielded or not rectification.may_manage(isla.principal, child.pk):
            continue
        made = rectification.record(isla, child, "family_name", "Canary", "parent_or_carer")
        if made.organisation is not None:
            looked.setdefault(hex_id(child.pk), set()).add(f"organisation:{made.organisation.pk}")
            break
    else:
        raise AssertionError("no correction named the organisation that supplied the field")
    risky = others[len(EmergencyAccess.Reason.values) :][: len(FamilyNotice.Risk.values)]
    for child, risk in zip(risky, FamilyNotice.Risk.values, strict=True):
        found(alice, child)
        involvements.register(alice, child, Details("school_nurse", "Nurse", "1", notice_risk=risk))
    assert len(risky) == len(FamilyNotice.Risk.values)
    return looked


def coordinate(actors: Actors) -> None:
    """Bob's school becomes a child's lead professional, Charlie's service joins (Bob is
    told) and asks to take over (a handover waits for Bob, who is told); Alice asks
    Charlie's sensitive service with another child to get in touch (Charlie is told)."""
    bob, charlie, alice = Actor.of(actors.bob), Actor.of(actors.charlie), Actor.of(actors.alice)
    leads = Involvement.objects.filter(lead_professional=True, end_date__isnull=True)
    active = Child.objects.filter(status="active").order_by("pk")[60:100]
    child = next(c for c in active if not c.shielded and not leads.filter(child=c).exists())
    for actor, role in ((bob, "school_nurse"), (charlie, "social_worker")):
        found(actor, child)
        mine = involvements.register(actor, child, Details(role, "Worker", "1"))
        involvements.become_lead(actor, mine.pk)
    assert Handover.objects.filter(status="proposed").exists()
    other = next(c for c in active if not c.shielded and c.pk != child.pk)
    camhs = Details(
        "health_service",
        "CAMHS",
        "1",
        sensitive_category="mental_health",
        consent_basis="young_person_consent",
    )
    found(charlie, other)
    asked = involvements.register(charlie, other, camhs)
    found(alice, other)
    involvements.register(alice, other, Details("school_nurse", "Nurse", "1"))
    involvements.request_contact(alice, asked.pk)


def coordination_ids() -> set[str]:
    """The ids (hex) of every child, involvement, emergency access, contact request and
    handover: what an alert or a handover row would name in clear."""
    tables = (Child, Involvement, EmergencyAccess, ContactRequest, Handover)
    return {hex_id(pk) for m in tables for pk in m.objects.values_list("pk", flat=True)}


def clear_refs(rows: dict[str, list[Row]], ids: set[str]) -> dict[str, int]:
    """Per alert or handover table, how many rows hold, in a column other than their own
    id, the id of a child, involvement, emergency access, request or handover (counts
    only)."""
    found: dict[str, int] = {}
    for table, listed in rows.items():
        if table.replace(".", "_") not in ("practice_alert", "practice_handover"):
            continue
        for row in listed:
            if {hex_id(v) for k, v in row.items() if k not in ("id", "pk")} & ids:
                found[table] = found.get(table, 0) + 1
    return found


def coded_cells(rows: dict[str, list[Row]]) -> dict[str, int]:
    """Per table, how many cells hold one of PRACTICE_CODES whole (the audit log and the
    migrations' names aside; counts only)."""
    codes = set().union(*PRACTICE_CODES.values())
    found: dict[str, int] = {}
    for table, listed in rows.items():
        if table.startswith(("audit_", "audit.", "django_migrations")):
            continue
        n = sum(v in codes for row in listed for v in row.values())
        if n:
            found[table] = n
    return found


def audit_coded_cells(rows: dict[str, list[Row]]) -> tuple[int, int]:
    """How many audit events there are (a backup holds none) and how many of their cells
    hold one of AUDIT_CODES whole."""
    events = rows.get("audit_event", [])
    return len(events), sum(v in AUDIT_CODES for row in events for v in row.values())


def rows_naming(alias: str, child: uuid.UUID) -> dict[str, list[dict[str, object]]]:
    """Every row of every table of the database that holds the child's id in a column of
    its own, read without keys as a thief would."""
    connection = connections[alias]
    forms = [str(child), child.hex]
    found: dict[str, list[dict[str, object]]] = {}
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names(cursor):
            columns = [
                c.name for c in connection.introspection.get_table_description(cursor, table)
            ]
            quoted = connection.ops.quote_name
            match = " OR ".join(f"CAST({quoted(c)} AS TEXT) IN (%s, %s)" for c in columns)
            # Names come from the database's own catalogue, quoted; the values are bound.
            query = f"SELECT * FROM {quoted(table)} WHERE {match}"  # noqa: S608
            cursor.execute(query, forms * len(columns))
            rows = [dict(zip(columns, row, strict=True)) for row in cursor.fetchall()]
            if rows:
                found[table] = rows
    return found


def says_shielded(table: str, row: dict[str, object]) -> bool:
    """Whether a row, read in clear, says its child is (or was) shielded."""
    if "shield" in table:
        return True
    return any(
        ("shield" in name.lower() and value not in (None, False, 0, ""))
        or (isinstance(value, str) and "shield" in value.lower())
        for name, value in row.items()
    )


def hits(blob: bytes, values: dict[str, set[str]]) -> dict[str, int]:
    """How many values of each kind occur in blob (counts only: never print a value)."""
    return {kind: sum(v.encode() in blob for v in vs) for kind, vs in values.items()}


def backup_bytes(path: Path) -> bytes:
    """The backup's text with every binary field decoded, so base64 cannot hide a match
    and cannot fake one either."""
    binary = {
        m._meta.label_lower: {
            f.name for f in m._meta.concrete_fields if isinstance(f, models.BinaryField)
        }
        for m in apps.get_models()
    }
    parts = []
    for line in gzip.decompress(path.read_bytes()).decode().splitlines()[1:]:
        obj = json.loads(line)
        for name, value in (obj.get("fields") or {}).items():
            if name in binary.get(obj.get("model", ""), set()) and value:
                parts.append(base64.b64decode(value))
            else:
                parts.append(json.dumps(value).encode())
    return b"\n".join(parts)


def backup_naming_shielded(path: Path, child: uuid.UUID) -> list[str]:
    """The models of the backup's rows that tie the child's id to shielding."""
    told = []
    for line in gzip.decompress(path.read_bytes()).decode().splitlines()[1:]:
        obj = json.loads(line)
        row = {"pk": obj.get("pk"), **(obj.get("fields") or {})}
        names = str(child) in (str(v) for v in row.values())
        if names and says_shielded(str(obj.get("model", "")), row):
            told.append(str(obj.get("model")))
    return told


def database_copies(tmp_path: Path) -> dict[str, bytes]:
    copies = {}
    for alias in ("default", "keys"):
        settings = connections[alias].settings_dict
        if connections[alias].vendor == "sqlite":
            # The file and its write-ahead log, scanned together: a row may be in either.
            db = Path(settings["NAME"])
            files = [p for p in (db, db.with_name(db.name + "-wal")) if p.exists()]
            assert len(files) == 2, "expected the database and its WAL"
            copies[f"{alias} sqlite file and wal"] = b"".join(p.read_bytes() for p in files)
        else:
            pg_dump = shutil.which("pg_dump")
            assert pg_dump, "pg_dump is needed to scan a PostgreSQL copy"
            dump = subprocess.run(
                [
                    pg_dump,
                    "-h",
                    settings["HOST"] or "127.0.0.1",
                    "-p",
                    str(settings["PORT"] or 5432),
                    "-U",
                    settings["USER"],
                    settings["NAME"],
                ],
                capture_output=True,
                check=True,
            ).stdout
            copies[f"{alias} pg_dump"] = dump
    return copies


Row = dict[str, str]


def hex_id(value: object) -> str:
    return str(value).replace("-", "")


def table_rows() -> dict[str, list[Row]]:
    """Every row of every registry table, as the database returns it."""
    found: dict[str, list[Row]] = {}
    connection = connections["default"]
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names(cursor):
            cursor.execute(f"SELECT * FROM {connection.ops.quote_name(table)}")  # noqa: S608
            names = [c[0] for c in cursor.description]
            found[table] = [dict(zip(names, map(str, r), strict=True)) for r in cursor.fetchall()]
    return found


def dump_rows(dump: bytes) -> dict[str, list[Row]]:
    """The rows of each table's COPY block in a `pg_dump`."""
    found: dict[str, list[Row]] = {}
    names: list[str] | None = None
    for line in dump.decode().splitlines():
        if line.startswith("COPY "):
            table = line.split()[1].split(".")[-1]
            names = [
                c.strip().strip('"') for c in line[line.index("(") + 1 : line.index(")")].split(",")
            ]
            found[table] = []
        elif line == "\\.":
            names = None
        elif names is not None:
            found[table].append(dict(zip(names, line.split("\t"), strict=True)))
    return found


def backup_rows(path: Path) -> dict[str, list[Row]]:
    found: dict[str, list[Row]] = {}
    for line in gzip.decompress(path.read_bytes()).decode().splitlines()[1:]:
        obj = json.loads(line)
        fields = {k: str(v) for k, v in (obj.get("fields") or {}).items()}
        found.setdefault(obj.get("model", ""), []).append({"pk": str(obj.get("pk")), **fields})
    return found


def involvement_pairs() -> dict[str, set[str]]:
    """Each child's id (hex) and the ids of the organisations involved with it, opened."""
    pairs: dict[str, set[str]] = {}
    for inv in open_all(Involvement.objects.all()):
        pairs.setdefault(hex_id(inv.child_id), set()).add(str(inv.organisation_id))
    return pairs


def opened_events() -> list[Row]:
    """The audit log's events as rows of child (opened from the sealed body, with the keys)
    and organisation."""
    events = list(Event.objects.all())
    children = audit_log.children_of(events)
    return [
        {"child": hex_id(children[e.index]), "organisation_id": str(e.organisation_id)}
        for e in events
        if e.index in children
    ]


def clear_links(rows: dict[str, list[Row]], pairs: dict[str, set[str]]) -> dict[str, int]:
    """Per table, how many rows hold a child's id and, in a column that names an
    organisation, an organisation involved with that child (counts only)."""
    found: dict[str, int] = {}
    for table, listed in rows.items():
        for row in listed:
            children = [hex_id(v) for v in row.values() if hex_id(v) in pairs]
            orgs = {v for k, v in row.items() if "organisation" in k}
            if any(pairs[c] & orgs for c in children):
                found[table] = found.get(table, 0) + 1
    return found


def record_sources() -> dict[str, set[str]]:
    """Each child's id (hex), and each of its source records' ids, with the id and code of
    every source that sent a record of the child, opened with the keys."""
    sources = origins.sources()
    records = list(SourceRecord.objects.filter(child__isnull=False))
    opened = origins.of_records(records)
    sent: dict[str, set[str]] = {}
    for record in records:
        source = sources[opened[record.pk]]
        for held in (hex_id(record.child_id), hex_id(record.pk)):
            sent.setdefault(held, set()).update({str(source.pk), source.code})
    return sent


def clear_sources(rows: dict[str, list[Row]], sent: dict[str, set[str]]) -> dict[str, int]:
    """Per table, how many rows hold a child's id (or one of its records') and, in a column
    that names a source, the id of a source that sent a record of it, or its code in any
    column (counts only)."""
    found: dict[str, int] = {}
    for table, listed in rows.items():
        for row in listed:
            held = [hex_id(v) for v in row.values() if hex_id(v) in sent]
            named = {v for k, v in row.items() if k in ("source", "source_id")}
            named |= {v for v in row.values() if not v.isdigit()}
            if any(sent[h] & named for h in held):
                found[table] = found.get(table, 0) + 1
    return found


def shielded_items() -> dict[str, set[str]]:
    """Each review item held as `shielded`, opened with the keys: its id (hex) and its
    candidate children's."""
    items = list(ReviewItem.objects.all())
    return {
        hex_id(pk): {hex_id(c) for c in opened.child_ids()}
        for pk, opened in abouts(items).items()
        if opened.reason == ReviewItem.Reason.SHIELDED
    }


def shielded_pairs(rows: dict[str, list[Row]], items: dict[str, set[str]]) -> dict[str, int]:
    """Per table, how many rows hold a shielded review item's id beside the id of one of
    its candidate children (counts only)."""
    found: dict[str, int] = {}
    for table, listed in rows.items():
        for row in listed:
            values = {hex_id(v) for v in row.values()}
            if any(children & values for item, children in items.items() if item in values):
                found[table] = found.get(table, 0) + 1
    return found


def held_weights(rows: dict[str, list[Row]]) -> tuple[int, int]:
    """How many `hold` decisions there are (a backup holds none), and how many keep a
    weight, which above the upper threshold says the record waits because it may be a
    shielded child (counts only)."""
    holds = [r for r in rows.get("linkage_linkdecision", []) if r.get("action") == "hold"]
    return len(holds), sum(r.get("weight") not in ("None", "\\N", "") for r in holds)


def clear_practice_links(rows: dict[str, list[Row]], looked: dict[str, set[str]]) -> dict[str, int]:
    """Per table, how many rows hold a child's id beside, in an organisation column, the
    organisation whose user had an emergency access to it (or that supplied a field a
    family asked to correct), or, in any column, one of that organisation's users, as a
    user id or a principal (counts only)."""
    found: dict[str, int] = {}
    for table, listed in rows.items():
        for row in listed:
            children = [hex_id(v) for v in row.values() if hex_id(v) in looked]
            near = {f"organisation:{v}" for k, v in row.items() if "organisation" in k}
            near |= {hex_id(v) for v in row.values()}
            if any(looked[c] & near for c in children):
                found[table] = found.get(table, 0) + 1
    return found


def test_no_stored_copy_holds_any_input_value(
    population: Path, tmp_path: Path, settings: Any
) -> None:
    settings.CONTACTPOINT_REGISTRATIONS_PER_USER = 50  # the journey registers many
    # Keep a connection open while the loader writes: SQLite deletes the WAL when the last
    # connection closes, and the WAL is one of the copies to scan.
    for alias in ("default", "keys"):
        with connections[alias].cursor() as cursor:
            cursor.execute("SELECT 1")
    run_cli("load", str(population), "--quiet")
    actors = make_actors()
    staff = register_sensitive_services(actors)
    hold_beside_a_shielded_child(population, tmp_path / "held")
    shielded = shield_and_retain(actors)
    looked = practice_facts(actors)
    coordinate(actors)
    backup = tmp_path / "backup.jsonl.gz"
    run_cli("backup", "--out", str(backup))
    values = canaries(population)
    values["name"] = {n for n in values["name"] if n not in staff}
    assert all(len(v) > 100 for v in values.values()), {k: len(v) for k, v in values.items()}
    # The population holds each special-category fact, so finding none means something.
    assert Involvement.objects.filter(source_record__isnull=False).count() > 100
    stated = record_facts.opened(Child.objects.values_list("id", flat=True))
    assert sum(len(s.record.carers) for group in stated.values() for s in group) > 100
    values |= SPECIAL_CATEGORY
    values["archived_on"] = {ARCHIVED_ON.isoformat()}
    # Read as a thief would, no row ties the shielded child to shielding.
    for alias in ("default", "keys"):
        naming = rows_naming(alias, shielded)
        told = [t for t, rows in naming.items() if any(says_shielded(t, r) for r in rows)]
        assert told == [], alias

    copies = database_copies(tmp_path)
    copies["backup"] = backup_bytes(backup)
    assert backup_naming_shielded(backup, shielded) == []
    organisation = next(csv.DictReader((population / "organisations.csv").open()))["name"]
    for name, blob in copies.items():
        if not name.startswith("keys"):
            # The scanner works: reference data stored in clear is found in every copy.
            assert organisation.encode() in blob, name
        assert hits(blob, values) == dict.fromkeys(values, 0), name

    # No copy pairs a child with the organisations that work with it, the audit log neither.
    pairs = involvement_pairs()
    assert sum(len(p) for p in pairs.values()) > 100
    sent = record_sources()
    assert {c for s in sent.values() for c in s} >= {"council_social_care", "school_census"}
    linked = {"database": table_rows(), "backup": backup_rows(backup)}
    # The record held beside a shielded child: a shielded review item to hide.
    held = shielded_items()
    ids = coordination_ids()
    alerted = sum(len(rows) for t, rows in linked["database"].items() if t == "practice_alert")
    assert alerted > 10 and Handover.objects.exists()
    assert held and all(held.values())
    linked |= {n: dump_rows(b) for n, b in copies.items() if n == "default pg_dump"}
    for name, rows in linked.items():
        assert clear_links(rows, pairs) == {}, name
        # Nor a child, or one of its records, with a source that sent it a record.
        assert clear_sources(rows, sent) == {}, name
        # Nor a child with the organisation, or a user, that opened it in an emergency or
        # made an enquiry about it.
        assert clear_practice_links(rows, looked) == {}, name
        # No practice row says in clear what kind of alert or access, or why.
        assert coded_cells(rows) == {}, name
        # No alert or handover names a child, involvement or request in clear.
        assert clear_refs(rows, ids) == {}, name
        # No row pairs a review item held as shielded with a child it might be, and no
        # hold decision keeps the weight that would say why it waits.
        assert shielded_pairs(rows, held) == {}, name
        holds, weighed = held_weights(rows)
        assert (holds > 0 or name == "backup", weighed) == (True, 0), name
        # Nor does the audit log: an emergency's reason or a notice's risk is sealed.
        events, coded = audit_coded_cells(rows)
        assert (events > 100 or name == "backup", coded) == (True, 0), name
    # The scan works: the audit log's events, their sealed children opened with the keys,
    # pair the registrations' children with their organisations.
    assert clear_links({"audit_event": opened_events()}, pairs).get("audit_event", 0) > 0
    # And the source scan finds a record that named its source beside its child.
    child, ids = next(iter(sent.items()))
    named = {"child_id": child, "source_id": min(i for i in ids if i.isdigit())}
    assert clear_sources({"old_layout": [named]}, sent) == {"old_layout": 1}
