"""Administrative actions, API clients, keys, token grants and review decisions are audited
(docs/audit.md): each writes exactly one event, naming people, clients and organisations by id
and never a password, a secret or a token; when the audit log cannot be written, the
action is refused and nothing is changed."""

from __future__ import annotations

import datetime as dt
import json
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from contactpoint.access import users
from contactpoint.access.clients import create_client, disable_client
from contactpoint.access.models import (
    Accreditation,
    ApiClient,
    ApiToken,
    ResetRequest,
    SecurityKey,
    TotpDevice,
    User,
)
from contactpoint.access.permissions import Role
from contactpoint.access.users import Actor
from contactpoint.audit.log import AuditUnavailable
from contactpoint.audit.models import Event
from contactpoint.audit.verify import verify
from contactpoint.keystore.provider import reset_provider
from contactpoint.linkage import corrections, review
from contactpoint.linkage.models import LinkDecision
from tests.linkage.scenarios import Registry, nameless, nhs, ola, snapshot
from tests.support.actors import PASSWORD, Actors, signed_in
from tests.support.api import Caller, grant, machine, new_user
from tests.support.audit import audit_store_broken, opened
from tests.support.cli import run_cli

pytestmark = pytest.mark.django_db(databases=["default", "keys"], transaction=True)

NEW = "nina@school-a.example"
LAST_MONTH = dt.date.today() - dt.timedelta(days=30)
NEXT_YEAR = dt.date.today() + dt.timedelta(days=365)
CLI = {"operator": "cli", "os_user": users.os_user()}
UNAUDITED = "cannot be recorded in the audit log just now, so nothing was changed"
NHS = "nhs_demographics"
CB = "child_benefit"


def the_event(action: str, outcome: str = "allowed") -> tuple[Event, dict[str, Any]]:
    """The one event of `action` (there must be exactly one) and its details."""
    event = Event.objects.get(action=action, outcome=outcome)
    return event, opened(event)


def who(event: Event) -> tuple[str, str, int | None, uuid.UUID | None]:
    return event.principal, event.role, event.organisation_id, event.child_id


def holds_none_of(event: Event, *secrets: str) -> None:
    """Neither the event's columns nor its opened details hold any of `secrets`."""
    text = json.dumps(opened(event)) + " ".join(
        str(getattr(event, f.attname)) for f in Event._meta.fields if f.attname != "sealed"
    )
    for secret in secrets:
        assert secret and secret not in text


def state() -> dict[str, Any]:
    """Every row an administrative action could change."""
    models = (User, Accreditation, ApiClient, ApiToken, TotpDevice, SecurityKey, ResetRequest)
    return {m.__name__: list(m._default_manager.order_by("pk").values()) for m in models}


def waiting_user(actors: Actors) -> User:
    """A user added to school A and not yet enabled."""
    return User.objects.create(
        email=NEW, name="Nina New", organisation=actors.school_a, role=Role.PRACTITIONER.value
    )


# --- users and organisations, through the service -----------------------------------------


def test_each_change_to_a_user_writes_one_event_naming_them_by_id(actors: Actors) -> None:
    ian, nadia = Actor.of(actors.ian), Actor.of(actors.nadia)
    nina = users.create_user(
        ian, email=NEW, name="Nina New", organisation=actors.school_a, role=Role.PRACTITIONER
    )
    # Someone other than the creator enables; a privacy officer is above the index team.
    users.enable(nadia, nina, vetting_checked_on=LAST_MONTH, training_completed_on=LAST_MONTH)
    users.recertify(ian, nina)
    users.change_role(nadia, nina, Role.PRIVACY_OFFICER)
    users.reset_password(nadia, nina)
    users.disable(nadia, nina)
    events = list(Event.objects.order_by("index"))
    assert [e.action for e in events] == [
        "access:user:create",
        "access:user:enable",
        "access:user:recertify",
        "access:user:change-role",
        "access:user:reset-password",
        "access:user:disable",
    ]
    ians = (f"user:{actors.ian.pk}", "index_team", actors.council_a.pk, None)
    nadias = (f"user:{actors.nadia.pk}", "national_admin", actors.national.pk, None)
    assert [who(e) for e in events] == [ians, nadias, ians, nadias, nadias, nadias]
    assert all(e.outcome == "allowed" for e in events)
    named = {"user": str(nina.pk)}
    assert [opened(e) for e in events] == [
        named | {"organisation": actors.school_a.pk, "role": "practitioner"},
        named,
        named,
        named | {"old": "practitioner", "new": "privacy_officer"},
        named,
        named,
    ]
    for event in events:
        holds_none_of(event, NEW, "Nina New")
    assert verify().ok


def test_an_own_password_change_and_a_wrong_current_password_are_audited(
    actors: Actors,
) -> None:
    new = "a much longer passphrase of 2026"
    with pytest.raises(users.Invalid):
        users.change_own_password(actors.alice, "not the password", new)
    users.change_own_password(actors.alice, PASSWORD, new)
    alices = (f"user:{actors.alice.pk}", "practitioner", actors.school_a.pk, None)
    refused, details = the_event("access:user:change-password", "refused")
    assert who(refused) == alices and details["user"] == str(actors.alice.pk)
    changed, details = the_event("access:user:change-password")
    assert who(changed) == alices and details == {"user": str(actors.alice.pk)}
    for event in (refused, changed):
        holds_none_of(event, new, PASSWORD, "not the password")
    assert Event.objects.count() == 2


def test_an_accreditation_and_its_withdrawal_are_audited(actors: Actors) -> None:
    users.accredit(Actor.of(actors.nadia), actors.council_a, expires_on=NEXT_YEAR)
    users.accredit(Actor.of(actors.ian), actors.council_a, expires_on=NEXT_YEAR, withdrawn=True)
    granted, details = the_event("access:organisation:accredit")
    assert who(granted) == (f"user:{actors.nadia.pk}", "national_admin", actors.national.pk, None)
    expiry = {"organisation": actors.council_a.pk, "expires_on": NEXT_YEAR.isoformat()}
    assert details == expiry
    withdrawn, details = the_event("access:organisation:withdraw")
    assert who(withdrawn) == (f"user:{actors.ian.pk}", "index_team", actors.council_a.pk, None)
    assert details == expiry and Event.objects.count() == 2


CHANGES: dict[str, Callable[[Actors], Any]] = {
    "create": lambda a: users.create_user(
        Actor.of(a.ian),
        email="dan@school-a.example",
        name="Dan Dale",
        organisation=a.school_a,
        role=Role.PRACTITIONER,
    ),
    "enable": lambda a: users.enable(
        Actor.of(a.ian),
        User.objects.get(email=NEW),
        vetting_checked_on=LAST_MONTH,
        training_completed_on=LAST_MONTH,
    ),
    "recertify": lambda a: users.recertify(Actor.of(a.ian), a.bob),
    "disable": lambda a: users.disable(Actor.of(a.ian), a.bob),
    "change-role": lambda a: users.change_role(Actor.of(a.nadia), a.bob, Role.INDEX_TEAM),
    "reset-password": lambda a: users.reset_password(Actor.of(a.ian), a.bob),
    "change-password": lambda a: users.change_own_password(
        a.alice, PASSWORD, "a much longer passphrase of 2026"
    ),
    "accredit": lambda a: users.accredit(Actor.of(a.nadia), a.school_a, expires_on=NEXT_YEAR),
    "withdraw": lambda a: users.accredit(
        Actor.of(a.ian), a.council_a, expires_on=NEXT_YEAR, withdrawn=True
    ),
    "create-client": lambda a: create_client(
        Actor.of(a.nadia), name="Case system", organisation=a.school_a, role=Role.PRACTITIONER
    ),
}


@pytest.mark.parametrize("change", list(CHANGES))
def test_a_change_the_log_cannot_record_is_not_made(actors: Actors, change: str) -> None:
    waiting_user(actors)
    before = state()
    with audit_store_broken(), pytest.raises(AuditUnavailable):
        CHANGES[change](actors)
    assert state() == before and Event.objects.count() == 0


def test_disabling_a_client_the_log_cannot_record_leaves_it_working(actors: Actors) -> None:
    m = machine(actors, actors.school_a, Role.PRACTITIONER)
    assert grant(m.id, m.secret).status_code == 200
    before, events = state(), Event.objects.count()
    with audit_store_broken(), pytest.raises(AuditUnavailable):
        disable_client(Actor.of(actors.nadia), m.client)
    assert state() == before and Event.objects.count() == events


# --- the same service through the pages, the API and the command line ---------------------


def test_a_user_added_on_the_page_is_audited_or_not_added_at_all(actors: Actors) -> None:
    ian = signed_in(actors.ian)
    form = {
        "email": NEW,
        "name": "Nina New",
        "organisation": actors.school_a.code,
        "role": Role.PRACTITIONER.value,
    }
    with audit_store_broken():
        refused = ian.post("/users/new", form)
    assert refused.status_code == 503 and "first-password" not in refused.text
    assert "cannot record this one just now" in refused.text
    assert not User.objects.filter(email=NEW).exists() and Event.objects.count() == 0
    added = ian.post("/users/new", form)
    assert added.status_code == 200
    event, details = the_event("access:user:create")
    assert who(event) == (f"user:{actors.ian.pk}", "index_team", actors.council_a.pk, None)
    assert event.request_id == added["X-Request-ID"]
    assert details["user"] == str(User.objects.get(email=NEW).pk)
    assert "first-password" not in added.text  # the user sets their own, through a link


def test_a_client_refused_a_user_is_audited_under_the_client(actors: Actors) -> None:
    caller = Caller(machine(actors, actors.national, Role.NATIONAL_ADMIN))
    with audit_store_broken():
        unrecorded = caller.post("/users", new_user(NEW, actors.school_a))
    assert unrecorded.status_code == 503
    made = caller.post("/users", new_user(NEW, actors.school_a))
    assert made.status_code == 403 and "first_password" not in made.text
    assert not User.objects.filter(email=NEW).exists()
    event, details = the_event("access:area:users:manage", "refused")
    client = f"client:{caller.machine.id}"
    assert who(event) == (client, "national_admin", actors.national.pk, None)
    assert details["reason"].startswith("a machine client cannot create a user")
    holds_none_of(event, NEW, caller.machine.secret, caller.token)


def test_the_users_command_records_who_ran_it_and_refuses_when_it_cannot(
    actors: Actors,
) -> None:
    args = (
        "users", "create", "--by", actors.ian.email, "--email", NEW, "--name", "Nina New",
        "--organisation", actors.school_a.code, "--role", "practitioner",
    )  # fmt: skip
    with audit_store_broken():
        refused = run_cli(*args, check=False)
    assert refused.returncode == 2 and UNAUDITED in refused.stderr
    assert "Traceback" not in refused.stderr and refused.stdout == ""
    assert not User.objects.filter(email=NEW).exists()
    made = run_cli(*args).stdout
    event, details = the_event("access:user:create")
    assert who(event) == (f"user:{actors.ian.pk}", "index_team", actors.council_a.pk, None)
    nina = User.objects.get(email=NEW)
    assert details == {
        "user": str(nina.pk),
        "organisation": actors.school_a.pk,
        "role": "practitioner",
        **CLI,
    }
    assert "password:" not in made


def test_the_organisations_command_audits_a_withdrawal(actors: Actors) -> None:
    code = actors.council_a.code
    args = ("organisations", "accredit", code, "--by", actors.ian.email, "--withdraw")
    with audit_store_broken():
        refused = run_cli(*args, check=False)
    assert refused.returncode == 2 and UNAUDITED in refused.stderr
    assert Accreditation.objects.get(organisation=actors.council_a).status == "accredited"
    run_cli(*args)
    event, details = the_event("access:organisation:withdraw")
    assert event.principal == f"user:{actors.ian.pk}"
    expiry = dt.date.today().isoformat()
    assert details == {"organisation": actors.council_a.pk, "expires_on": expiry, **CLI}


def test_bootstrap_audits_the_first_administrator_under_no_principal(actors: Actors) -> None:
    User.objects.filter(role=Role.NATIONAL_ADMIN.value).delete()
    args = (
        "users", "bootstrap", "--email", "first@national.example", "--name", "Fay First",
        "--organisation", "TFIRST", "--organisation-name", "The first team",
        "--vetting-date", LAST_MONTH.isoformat(), "--training-date", LAST_MONTH.isoformat(),
    )  # fmt: skip
    with audit_store_broken():
        refused = run_cli(*args, check=False)
    assert refused.returncode == 2 and UNAUDITED in refused.stderr
    assert not User.objects.filter(email="first@national.example").exists()
    made = run_cli(*args).stdout
    fay = User.objects.get(email="first@national.example")
    created, details = the_event("access:user:create")
    assert who(created) == ("", "", None, None)
    org = fay.organisation_id
    assert details == {"user": str(fay.pk), "organisation": org, "role": "national_admin"} | {
        "bootstrap": True,
        **CLI,
    }
    accredited, details = the_event("access:organisation:accredit")
    assert who(accredited) == ("", "", None, None) and details["organisation"] == org
    holds_none_of(created, made.split("first password: ")[1].split()[0])


# --- API clients and their tokens ---------------------------------------------------------


def test_the_clients_command_audits_a_new_client_without_its_secret(actors: Actors) -> None:
    args = (
        "clients", "create", "--by", actors.nadia.email, "--name", "Case system",
        "--organisation", actors.school_a.code, "--role", "practitioner",
    )  # fmt: skip
    with audit_store_broken():
        refused = run_cli(*args, check=False)
    assert refused.returncode == 2 and UNAUDITED in refused.stderr
    assert not ApiClient.objects.exists()
    made = run_cli(*args).stdout
    client = ApiClient.objects.get()
    event, details = the_event("access:client:create")
    assert who(event) == (f"user:{actors.nadia.pk}", "national_admin", actors.national.pk, None)
    assert details == {
        "client": client.client_id,
        "organisation": actors.school_a.pk,
        "role": "practitioner",
        **CLI,
    }
    holds_none_of(event, made.split("client secret: ")[1].split()[0])
    run_cli("clients", "disable", client.client_id, "--by", actors.nadia.email)
    event, details = the_event("access:client:disable")
    assert event.principal == f"user:{actors.nadia.pk}"
    assert details == {"client": client.client_id, **CLI}


def test_each_token_grant_and_each_refused_grant_is_audited(actors: Actors) -> None:
    m = machine(actors, actors.school_a, Role.PRACTITIONER)
    granted = grant(m.id, m.secret)
    assert granted.status_code == 200
    token = granted.json()["access_token"]
    assert grant(m.id, "not the secret").status_code == 401
    assert grant("cp_made_up", m.secret).status_code == 401
    disable_client(Actor.of(actors.nadia), m.client)
    assert grant(m.id, m.secret).status_code == 401
    grants = list(Event.objects.filter(action="access:token:grant").order_by("index"))
    client = (f"client:{m.id}", "practitioner", actors.school_a.pk, None)
    assert [(who(e), e.outcome, opened(e).get("reason")) for e in grants] == [
        (client, "allowed", None),
        (client, "refused", "wrong secret"),
        (("", "", None, None), "refused", "unknown client"),
        (client, "refused", "client disabled or organisation not accredited"),
    ]
    assert set(opened(grants[0])) == {"expires_at"}
    for event in grants:
        holds_none_of(event, token, m.secret, "not the secret", "cp_made_up")


def test_no_token_is_issued_when_the_grant_cannot_be_audited(actors: Actors) -> None:
    m = machine(actors, actors.school_a, Role.PRACTITIONER)
    with audit_store_broken():
        refused = grant(m.id, m.secret)
        wrong = grant(m.id, "not the secret")
    assert refused.status_code == 503 and "access_token" not in refused.text
    assert refused.json()["error"] == "temporarily_unavailable"
    assert refused["Cache-Control"] == "no-store" and wrong.status_code == 503
    assert not ApiToken.objects.exists()
    assert not Event.objects.filter(action="access:token:grant").exists()


# --- keys ---------------------------------------------------------------------------------


def test_a_key_rotation_and_retirement_are_audited_before_they_start(
    keyring: Path,
) -> None:
    env = {"CONTACTPOINT_KEK_FILE": str(keyring)}
    ring = keyring.read_text()
    old = json.loads(ring)["active"]
    with audit_store_broken():
        refused = run_cli("keys", "rotate", check=False, env_extra=env)
    assert refused.returncode == 2 and "nothing was changed" in refused.stderr
    assert keyring.read_text() == ring
    run_cli("keys", "rotate", env_extra=env)
    reset_provider()  # the ring changed under this process: read it again
    rotated, details = the_event("keys:kek:rotate")
    assert who(rotated) == ("", "", None, None) and details == {"replaces": old, **CLI}
    run_cli("keys", "retire", old, env_extra=env)
    reset_provider()
    retired, details = the_event("keys:kek:retire")
    assert who(retired) == ("", "", None, None) and details == {"key": old, **CLI}
    assert old not in json.loads(keyring.read_text())["keys"]


# --- linkage review decisions -------------------------------------------------------------


@pytest.fixture
def registry(feeds: Path) -> Registry:
    return Registry(feeds)


def test_a_review_decision_is_audited_by_ids_or_not_made(registry: Registry) -> None:
    registry.load(NHS, [nhs("N1"), nhs("N2", given_name="Isla", nhs_number="4010232145")])
    registry.load(CB, [nameless()])
    item = registry.item(CB, "CB1")
    amelia = registry.child(NHS, "N1")
    args = ("review", "link", str(item.pk), "--child", amelia.cpid, "--by", "Alice Adams")
    before, events = snapshot(), Event.objects.count()
    with audit_store_broken():
        refused = run_cli(*args, check=False)
    assert refused.returncode == 2 and "nothing was shown or changed" in refused.stderr
    assert snapshot() == before and Event.objects.count() == events
    run_cli(*args)
    event, details = the_event("linkage:review:link")
    assert who(event) == ("", "", None, amelia.pk)
    record = registry.record(CB, "CB1")
    assert details == {"review_item": str(item.pk), "source_record": str(record.pk), **CLI}
    holds_none_of(event, "Alice", "Hartley", "Amelia", "2015-03-04", "NW1", amelia.cpid)


def test_showing_a_review_item_is_audited_per_candidate_before_it_is_shown(
    registry: Registry,
) -> None:
    registry.load(NHS, [nhs("N1"), nhs("N2", given_name="Isla", nhs_number="4010232145")])
    registry.load(CB, [nameless()])
    item = registry.item(CB, "CB1")
    with audit_store_broken():
        refused = run_cli("review", "show", str(item.pk), check=False)
    assert refused.returncode == 2 and "nothing was shown" in refused.stderr
    assert refused.stdout == "" and "Hartley" not in refused.stderr
    assert "Hartley" in run_cli("review", "show", str(item.pk)).stdout
    shown = Event.objects.filter(action="linkage:review:show").order_by("index")
    twins = {registry.child(NHS, "N1").pk, registry.child(NHS, "N2").pk}
    assert {e.child_id for e in shown} == twins and len(shown) == 2
    record = str(registry.record(CB, "CB1").pk)
    for event in shown:
        assert opened(event) == {"review_item": str(item.pk), "source_record": record, **CLI}
        assert who(event)[:3] == ("", "", None)


def test_every_kind_of_decision_writes_its_own_event(registry: Registry) -> None:
    registry.load(NHS, [nhs("N1"), nhs("N2", given_name="Isla", nhs_number="4010232145"), ola()])
    registry.load(CB, [nameless()])
    item = registry.item(CB, "CB1")
    isla, ola_child = registry.child(NHS, "N2"), registry.child(NHS, "N3")
    amelia = registry.child(NHS, "N1")
    start = Event.objects.count()
    review.not_a_match(str(item.pk), isla.cpid, "Alice")
    _, cpid = review.new_child(str(item.pk), "Alice")
    made = registry.child(CB, "CB1")
    unlinked, _ = review.unlink(str(registry.record(CB, "CB1").pk), "Alice")
    corrections.reverse(str(unlinked.pk), "Bob")
    merged = corrections.merge(amelia.cpid, ola_child.cpid, "Bob")
    corrections.unmerge(str(merged.pk), "Bob")
    corrections.identity_change(ola_child.cpid, "Bob")
    events = list(Event.objects.filter(index__gte=start).order_by("index"))
    assert [(e.action.removeprefix("linkage:review:"), e.child_id) for e in events] == [
        ("not-a-match", isla.pk),
        ("new-child", made.pk),
        ("unlink", made.pk),
        ("reverse", made.pk),
        ("merge", amelia.pk),
        ("unmerge", amelia.pk),
        ("identity-change", ola_child.pk),
    ]
    assert all(who(e)[:3] == ("", "", None) and e.outcome == "allowed" for e in events)
    details = [opened(e) for e in events]
    assert details[0]["review_item"] == details[1]["review_item"] == str(item.pk)
    assert details[3]["decision"] == str(unlinked.pk) and details[3]["reverses"] == "unlink"
    assert details[4]["other_child"] == str(ola_child.pk)
    assert details[5]["decision"] == str(merged.pk)
    changed = LinkDecision.objects.get(action="identity_change")
    assert details[6]["new_child"] == str(changed.child_id)
    for event in events:
        holds_none_of(event, "Alice", "Bob", "Hartley", "Nowak", cpid)
    assert verify().ok
