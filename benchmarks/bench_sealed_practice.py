"""Benchmark the reads that serve what practice rows say about a child: a user's alert
inbox (the 50 newest of --alerts alerts, each with its child and involvement, a tenth
asking to take over the lead with their handover and both involvements), the local
index team's family notice queue (the due notices of an area among --notices), the
privacy officer's emergency access review (50 accesses with their reason codes, children
and explanations, as the page reads them), the record view's access decision (may this
practitioner, whose organisation is not involved, see a child's contacts: one child they
have an emergency access to, one they have none to), the record view's opening rule (may
this practitioner open a child's record: one child they found by a search among --findings
findings of many users, one they did not), the local index team's correction queue (the
open requests of an area among --requests, with their field, source and organisation, as
the page reads them), and a lead professional handover decision (the current lead's user
agrees: the role moves and the others are told; one of --handovers waiting handovers per
decision).

Builds a synthetic registry of its own (SQLite in a temporary data directory, or with
--database-url on PostgreSQL: that database and the one named like it plus `_keys` are
dropped and made again; their names must start with `bench_` or end with `_bench`), writes
the rows as the code in this tree writes them, and times each read --repeat times. It runs
on the code it sits in, so the same script measures before and after a change (ADR 0010).

Usage: .venv/bin/python benchmarks/bench_sealed_practice.py [--children N] [--alerts A]
       [--notices F] [--handovers H] [--findings S] [--requests Q] [--repeat R]
       [--database-url postgres://...:5432/bench_practice]
"""

from __future__ import annotations

import argparse
import datetime as dt
import pathlib
import random
import tempfile
import uuid
from collections.abc import Callable
from typing import Any

from measure import (
    commit,
    machine,
    percentile,
    registry_here,
    timed,
)


def arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--children", type=int, default=2000)
    parser.add_argument("--alerts", type=int, default=3000)
    parser.add_argument("--notices", type=int, default=3000)
    parser.add_argument("--handovers", type=int, default=200)
    parser.add_argument("--findings", type=int, default=20000)
    parser.add_argument("--requests", type=int, default=500)
    parser.add_argument("--repeat", type=int, default=200)
    parser.add_argument("--seed", type=int, default=21)
    parser.add_argument("--database-url", help="PostgreSQL, e.g. postgres://...:5432/bench_x")
    return parser.parse_args()


def practitioner() -> Any:
    """A practitioner of the first organisation with an area."""
    from contactpoint.access.models import User
    from contactpoint.registry.models import Organisation

    org = Organisation.objects.filter(council_area__isnull=False).order_by("pk").first()
    assert org is not None
    return User.objects.create(
        email="practitioner@bench.example",
        name="Practitioner",
        organisation=org,
        role="practitioner",
        enabled=True,
    )


def sealed_handovers() -> Any:
    """`practice.involvements.handovers` where a handover names its child by tag and its
    involvements sealed (ADR 0010), None on the code before (foreign keys)."""
    import importlib

    try:
        return importlib.import_module("contactpoint.practice.involvements.handovers")
    except ImportError:
        return None


def colleague(role: str, organisation_id: int, email: str) -> Any:
    """An enabled, vetted, trained and certified user who may act on records."""
    from django.utils import timezone

    from contactpoint.access.models import User

    today = timezone.localdate()
    return User.objects.create(
        email=email,
        name=email.split("@")[0].title(),
        organisation_id=organisation_id,
        role=role,
        enabled=True,
        vetting_checked_on=today - dt.timedelta(days=30),
        training_completed_on=today - dt.timedelta(days=20),
        certified_on=today,
        last_active_on=today,
        role_since=timezone.now() - dt.timedelta(days=30),
    )


def write_handovers(lead_user: Any, count: int) -> list[Any]:
    """`count` children of no shielding, each with the lead user's organisation's
    involvement as lead and another organisation's asking to take over: the handovers,
    proposed, as `become_lead` writes them."""
    from django.db import transaction

    from contactpoint.keystore import service as keys
    from contactpoint.practice.models import Handover
    from contactpoint.registry import involvement_facts
    from contactpoint.registry.cipher import ChildCipher
    from contactpoint.registry.involvement_facts import InvolvementFacts
    from contactpoint.registry.models import Child, Involvement, Organisation

    other = Organisation.objects.exclude(pk=lead_user.organisation_id).order_by("pk").first()
    assert other is not None
    leads = Involvement.objects.filter(lead_professional=True)
    children = Child.objects.filter(status="active").exclude(pk__in=leads.values("child_id"))
    chosen = [c for c in children.order_by("-pk")[: count * 2] if not c.shielded][:count]
    handovers = sealed_handovers()
    made = []
    with transaction.atomic():
        for child in chosen:
            cipher = ChildCipher(child.pk, keys.ensure_data_key(child.pk))
            pair = []
            for organisation, lead in ((lead_user.organisation, True), (other, False)):
                involvement = Involvement(child=child, lead_professional=lead)
                involvement.organisation = organisation
                facts = InvolvementFacts("school_nurse", None, None)
                involvement_facts.seal(cipher, involvement, facts)
                involvement.save(force_insert=True)
                pair.append(involvement)
            if handovers is not None:
                handover = handovers.make(pair[0], pair[1], lead_user.pk)
                handover.save(force_insert=True)
            else:  # the code before: foreign keys
                model: Any = Handover
                handover = model.objects.create(
                    child_id=child.pk,
                    from_involvement=pair[0],
                    to_involvement=pair[1],
                    proposed_by=lead_user,
                )
            made.append((handover, child))
    return made


def write_alerts(user: Any, count: int, seed: int, handed: list[Any]) -> None:
    """`count` alerts for the user, as `raise_alert` writes them: a tenth of each
    shielding kind, a tenth asking to take over the lead (one of `handed`), the rest a
    service joining or an involvement to confirm."""
    from django.db import transaction

    from contactpoint.practice.involvements import alerts
    from contactpoint.practice.models import Alert
    from contactpoint.registry.models import Involvement

    rows = list(Involvement.objects.select_related("child").order_by("pk")[:count])
    kinds = [Alert.Kind.SHIELDING_REVIEW_DUE, Alert.Kind.SHIELDED_JOINED]
    kinds += [Alert.Kind.HANDOVER] + [Alert.Kind.JOINED] * 4 + [Alert.Kind.CONFIRM_DUE] * 3
    pick = random.Random(seed)
    with transaction.atomic():
        for n in range(count):
            involvement = rows[n % len(rows)]
            kind = pick.choice(kinds)
            about: dict[str, Any] = {"child": involvement.child}
            if kind == Alert.Kind.HANDOVER:
                handover, child = handed[n % len(handed)]
                about = {"child": child, "handover": handover}
            elif kind != Alert.Kind.SHIELDING_REVIEW_DUE:
                about["involvement"] = involvement
            alerts.raise_alert([user], kind, **about)


def read_inbox(user: Any) -> Callable[[], int]:
    from contactpoint.practice.involvements import alerts

    def read() -> int:
        shown = alerts.inbox(user)[:50]
        if hasattr(alerts, "opened"):  # the kind, and a shielding alert's child, sealed
            rows = [(a, o.kind) for a, o in alerts.opened(shown)]
        else:  # the code before: a clear `kind` column
            before: Any = shown
            rows = [(a, a.kind) for a in before]
        return sum(1 for a, kind in rows if a.child is not None and shown_in_full(a, kind))

    return read


def shown_in_full(alert: Any, kind: str) -> bool:
    """Whether the alert has what the page shows: a handover's both involvements."""
    return kind != "handover" or alert.handover.to_involvement is not None


def decide_handovers(lead_user: Any, handed: list[Any]) -> Callable[[], int]:
    """One handover decision per call, each on the next waiting handover: agreed."""
    from contactpoint.access.users import Actor
    from contactpoint.practice import involvements

    actor = Actor.of(lead_user)
    waiting = iter(handed)

    def decide() -> int:
        handover, _ = next(waiting)
        decided = involvements.decide_handover(actor, handover.pk, agree=True)
        assert decided.status == "agreed"
        return 1

    return decide


def write_notices(count: int, seed: int) -> str:
    """`count` family notices of one area, a third due, as `family_notices` writes them."""
    from django.db import transaction
    from django.utils import timezone

    from contactpoint.practice.families import family_notices
    from contactpoint.practice.models import FamilyNotice
    from contactpoint.registry.models import CouncilArea, Involvement

    area = CouncilArea.objects.order_by("pk").first()
    assert area is not None
    involvements = list(Involvement.objects.order_by("pk")[:count])
    pick = random.Random(seed)
    sealed = hasattr(family_notices, "seal_outcome")
    with transaction.atomic():
        for involvement in involvements:
            status = pick.choice(["due", "sent", "not_sent_risk"])
            notice = FamilyNotice(
                involvement=involvement,
                child_id=involvement.child_id,
                area=area,
                created_at=timezone.now(),
            )
            if sealed:
                family_notices.seal_outcome(notice, family_notices.Outcome(status))
            else:
                before: Any = notice  # the code before: a clear `status` column
                before.status = status
            notice.save(force_insert=True)
    return str(area.code)


def read_queue(code: str) -> Callable[[], int]:
    from contactpoint.practice.families import family_notices
    from contactpoint.practice.models import FamilyNotice

    def read() -> int:
        sealed = hasattr(family_notices, "seal_outcome")
        due: dict[str, Any] = {"due": True} if sealed else {"status": "due"}
        rows = FamilyNotice.objects.filter(area__code=code, **due)
        return len(list(rows.select_related("child", "involvement").order_by("created_at")))

    return read


BEFORE_RELATED = ("user", "child")  # what the review list fetched with its accesses before


def sealed_children() -> Any:
    """`practice.emergency_refs` where an emergency access names its child by digest and
    sealed id (ADR 0010), None on the code before (a foreign key)."""
    import importlib

    try:
        return importlib.import_module("contactpoint.practice.emergency_refs")
    except ImportError:
        return None


def write_accesses(user: Any, count: int) -> None:
    """`count` emergency accesses by the user, as `emergency.open_access` writes them."""
    from django.db import transaction
    from django.utils import timezone

    from contactpoint.practice.involvements import emergency
    from contactpoint.practice.models import EmergencyAccess
    from contactpoint.registry.children import ciphers_for
    from contactpoint.registry.models import Child

    children = list(Child.objects.order_by("pk")[:count])
    ciphers = ciphers_for({c.pk for c in children})
    now = timezone.now()
    emergency_refs = sealed_children()
    with transaction.atomic():
        for n, child in enumerate(children):
            row_id = uuid.uuid4()
            reason = ["missing", "immediate_risk", "medical", "out_of_hours"][n % 4]
            cipher = ciphers[child.pk]
            size = getattr(emergency, "REASON_SIZE", None)
            access = EmergencyAccess(
                id=row_id,
                user=user,
                organisation_id=user.organisation_id,
                reason=cipher.seal_fixed(EmergencyAccess, "reason", row_id, reason, size)
                if size
                else reason,
                explanation=cipher.seal(EmergencyAccess, "explanation", row_id, "x" * 40),
                granted_at=now,
                expires_at=now + dt.timedelta(minutes=30),
            )
            if emergency_refs is not None:
                emergency_refs.name_child(access, child)
            else:
                access.child = child
            access.save(force_insert=True)


def read_reviews(organisation_id: int) -> Callable[[], int]:
    from contactpoint.practice.involvements import emergency
    from contactpoint.practice.models import EmergencyAccess

    emergency_refs = sealed_children()

    def read() -> int:
        rows = EmergencyAccess.objects.filter(
            organisation_id=organisation_id, reviewed_at__isnull=True
        ).order_by("granted_at")
        if emergency_refs is not None:  # the children sealed: opened, fetched in one query
            waiting = emergency_refs.with_children(rows.select_related("user")[:50])
            said = emergency.explanations_of(waiting)
        else:  # the code before: a foreign key, and one explanation opened at a time
            waiting = list(rows.select_related(*BEFORE_RELATED)[:50])
            one = vars(emergency)["explanation_of"]
            said = {a.pk: one(a) for a in waiting}
        cpids = [a.child.cpid for a in waiting if a.child is not None]
        return min(len(emergency.reasons_of(waiting)), len(said), len(cpids))

    return read


def practitioner_principal(user: Any) -> Any:
    """The practitioner as the record view's rules see them (second factor given)."""
    from contactpoint.access.permissions import Principal, Role

    return Principal(
        kind="user",
        id=str(user.pk),
        role=Role.PRACTITIONER,
        organisation_id=user.organisation_id,
        area_code=None,
    )


def read_decisions(user: Any) -> Callable[[], int]:
    """The record view's access decision for the user: a child they have an emergency
    access to (allowed) and one they have none to (refused)."""
    from contactpoint.practice.relationships import contacts_decision, involved
    from contactpoint.registry.models import Child

    principal = practitioner_principal(user)
    children = list(Child.objects.order_by("pk").values_list("pk", flat=True))
    opened = children[0]  # write_accesses opened the first children's
    other = next(c for c in reversed(children) if not involved(user.organisation_id, c))

    def read() -> int:
        allowed = contacts_decision(principal, opened).allowed
        refused = not contacts_decision(principal, other).allowed
        assert allowed and refused
        return 2

    return read


def write_findings(user: Any, count: int, seed: int) -> Any:
    """`count` findings, as a search writes them (`search.service.remember`): the user's
    of the first child, the rest of many other principals, 20 children a search."""
    from contactpoint.registry.models import Child
    from contactpoint.search.service import remember

    children = list(Child.objects.order_by("pk").values_list("pk", flat=True))
    pick = random.Random(seed)
    remember(f"user:{user.pk}", [children[0]])
    for n in range(count // 20):
        remember(f"user:{uuid.UUID(int=n + 1)}", pick.sample(children, 20))
    return children


def read_openings(user: Any, children: list[Any]) -> Callable[[], int]:
    """The record view's opening rule: a child the user found (allowed by the finding) and
    one they did not (refused: the finding's look-up, then the full view's rules)."""
    from contactpoint.practice.record import may_open
    from contactpoint.practice.relationships import involved
    from contactpoint.registry.models import Child

    principal = practitioner_principal(user)
    found = Child.objects.get(pk=children[0])
    other = Child.objects.get(
        pk=next(c for c in reversed(children) if not involved(user.organisation_id, c))
    )

    def read() -> int:
        assert may_open(principal, found) and not may_open(principal, other)
        return 2

    return read


def index_team(code: str) -> Any:
    """A person of the area's local index team, as the tests make one."""
    from django.utils import timezone

    from contactpoint.access.models import User
    from contactpoint.registry.models import Organisation

    org = Organisation.objects.filter(council_area__code=code).order_by("pk").first()
    assert org is not None
    today = timezone.localdate()
    return User.objects.create(
        email="team@bench.example",
        name="Index team",
        organisation=org,
        role="index_team",
        enabled=True,
        vetting_checked_on=today - dt.timedelta(days=30),
        training_completed_on=today - dt.timedelta(days=20),
        certified_on=today,
        last_active_on=today,
        role_since=timezone.now() - dt.timedelta(days=30),
    )


def write_requests(team: Any, count: int) -> None:
    """`count` open correction requests of the team's area, as `rectification.record`
    writes them (field, source and organisation sealed where the code seals them)."""
    from django.db import transaction
    from django.utils import timezone

    from contactpoint.practice.families import rectification
    from contactpoint.practice.models import RectificationRequest
    from contactpoint.registry.children import ciphers_for
    from contactpoint.registry.models import Child, CouncilArea, Organisation, Source

    area = CouncilArea.objects.get(code=team.organisation.council_area.code)
    source = Source.objects.order_by("pk").first()
    organisation = Organisation.objects.order_by("pk").first()
    children = list(Child.objects.order_by("pk")[:count])
    ciphers = ciphers_for({c.pk for c in children})
    sealed = hasattr(rectification, "seal_about")
    with transaction.atomic():
        for child in children:
            cipher = ciphers[child.pk]
            row_id = uuid.uuid4()
            request = RectificationRequest(
                id=row_id,
                child=child,
                area=area,
                corrected_value=cipher.seal(RectificationRequest, "corrected_value", row_id, "x"),
                asked_by="parent_or_carer",
                note=cipher.seal(RectificationRequest, "note", row_id, ""),
                recorded_by=team,
                recorded_at=timezone.now(),
            )
            today = timezone.localdate()
            if sealed:
                ids = (source.pk if source else None, organisation.pk if organisation else None)
                about = rectification.About("family_name", ids[0], today, ids[1])
                rectification.seal_about(cipher, request, about)
            else:  # the code before: clear columns
                before: Any = request
                before.field, before.source_as_at = "family_name", today
                before.source, before.organisation = source, organisation
            request.save(force_insert=True)


def read_requests(team: Any) -> Callable[[], int]:
    from contactpoint.access.permissions import Principal, Role
    from contactpoint.access.users import Actor
    from contactpoint.practice.families import rectification

    code = team.organisation.council_area.code
    principal = Principal(
        kind="user",
        id=str(team.pk),
        role=Role.INDEX_TEAM,
        organisation_id=team.organisation_id,
        area_code=code,
    )
    actor = Actor(principal, team)

    def read() -> int:
        rows = rectification.queue(actor)
        if hasattr(rectification, "with_about"):
            shown = rectification.with_about(rows)
        else:
            shown = list(rows)
        return sum(1 for r in shown if r.get_field_display() and r.organisation is not None)

    return read


def main() -> int:
    args = arguments()
    at = {"machine": machine(), "commit": commit()}
    with tempfile.TemporaryDirectory() as tmp:
        _, load = registry_here(pathlib.Path(tmp), args.children, args.seed, args.database_url)
        from django.conf import settings

        settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
        user = practitioner()
        lead_user = colleague("practitioner", user.organisation_id, "lead@bench.example")
        handed = write_handovers(lead_user, args.handovers)
        write_alerts(user, args.alerts, args.seed, handed)
        code = write_notices(args.notices, args.seed)
        write_accesses(user, 50)
        found = write_findings(user, args.findings, args.seed)
        team = index_team(code)
        write_requests(team, args.requests)
        results = [
            ("alert inbox, 50 newest", timed(read_inbox(user), args.repeat)),
            ("family notice queue", timed(read_queue(code), args.repeat)),
            ("emergency access review, 50", timed(read_reviews(user.organisation_id), args.repeat)),
            ("record view access decision, 2", timed(read_decisions(user), args.repeat)),
            (
                "handover decision, agreed",
                timed(decide_handovers(lead_user, handed), min(args.repeat, len(handed))),
            ),
            ("record view opening rule, 2", timed(read_openings(user, found), args.repeat)),
            ("correction queue", timed(read_requests(team), args.repeat)),
        ]
    backend = "PostgreSQL" if args.database_url else "SQLite"
    print(f"machine: {at['machine']}")
    print(f"commit: {at['commit']}  backend: {backend}  children: {args.children}")
    print(
        f"bulk load: {load:.1f} s; alerts: {args.alerts}; notices: {args.notices}; "
        f"findings: {args.findings}; correction requests: {args.requests}"
    )
    for name, (times, shown) in results:
        print(
            f"{name} ({shown} rows), {len(times)} reads: p50 {percentile(times, 0.5):.2f} ms, "
            f"p95 {percentile(times, 0.95):.2f} ms"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
