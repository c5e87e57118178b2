"""`contactpoint users`, `organisations` and `demo-users` as operators meet them, in a process."""

from __future__ import annotations

import datetime as dt
import re
import secrets
import stat
from collections.abc import Iterator
from pathlib import Path

import pyotp
import pytest

from contactpoint import config
from contactpoint.access import activation, totp
from contactpoint.access.models import Accreditation, ApiClient, User
from contactpoint.access.permissions import Role
from contactpoint.audit.models import Event
from contactpoint.linkage import store
from contactpoint.linkage.models import ReviewItem
from contactpoint.linkage.review_items import ReviewCandidate, new_item
from contactpoint.registry import retention_facts, shield_tags
from contactpoint.registry.children import ciphers_for
from contactpoint.registry.involvement_facts import with_links
from contactpoint.registry.models import Child, CouncilArea, Involvement, Organisation, SourceRecord
from tests.support.actors import Actors
from tests.support.alerts import of_kind
from tests.support.children import load_children
from tests.support.cli import run_cli

pytestmark = pytest.mark.django_db(databases=["default", "keys"], transaction=True)

NEW = "newbie@school-a.example"
TODAY = dt.date.today()
LAST_MONTH = (TODAY - dt.timedelta(days=30)).isoformat()


def registered_by(worker: User) -> list[Involvement]:
    """The open involvements naming the user as their practitioner (links opened)."""
    rows = with_links(Involvement.objects.filter(end_date__isnull=True))
    return [i for i in rows if i.practitioner and i.practitioner.user_id == worker.pk]


def password_in(stdout: str) -> str:
    found = re.search(r"password(?: for \S+)?: (\S+)", stdout)
    assert found, stdout
    return found.group(1)


def refused(*args: str) -> str:
    """Run a command that must fail cleanly; return its message."""
    result = run_cli(*args, check=False)
    assert result.returncode == 2, result
    assert "Traceback" not in result.stderr and result.stdout == ""
    return result.stderr


def mailed_link(email: str) -> str:
    """The token of the newest account link e-mailed to `email` (the file mail backend the
    commands use without SMTP, docs/configuration.md)."""
    folder = config.data_dir() / "mail"
    sent = sorted(folder.glob("*.log"), key=lambda f: f.stat().st_mtime, reverse=True)
    for message in sent:
        text = message.read_text()
        if f"To: {email}" in text and (found := re.search(r"/activate/(\S+)", text)):
            return found.group(1)
    raise AssertionError(f"no link was e-mailed to {email}")


def test_index_team_creates_enables_recertifies_and_disables_a_practitioner(
    actors: Actors,
) -> None:
    ian = actors.ian.email
    made = run_cli(
        "users", "create", "--by", ian, "--email", NEW, "--name", "Nina New",
        "--organisation", "T100001", "--role", "practitioner",
    ).stdout  # fmt: skip
    assert f"e-mailed to {NEW}" in made and "password:" not in made
    user = User.objects.get(email=NEW)
    assert not user.has_usable_password() and not user.enabled
    assert (user.role, user.organisation) == ("practitioner", actors.school_a)
    activation.set_password(mailed_link(NEW), "the newbie's own passphrase")
    assert User.objects.get(pk=user.pk).check_password("the newbie's own passphrase")

    enabling = ("--vetting-date", LAST_MONTH, "--training-date", LAST_MONTH)
    refused_before = Event.objects.filter(outcome="refused").count()
    own = refused("users", "enable", NEW, "--by", ian, *enabling)
    assert "someone other than the person who created this account" in own
    assert Event.objects.filter(outcome="refused").count() == refused_before + 1
    run_cli("users", "enable", NEW, "--by", actors.nadia.email, *enabling)
    user.refresh_from_db()
    assert user.enabled and user.enabled_by == actors.nadia
    # The day the command ran (TODAY is the day of import: a run may cross midnight).
    assert user.certified_on in {TODAY, dt.date.today()}
    assert user.suspensions() == []

    User.objects.filter(pk=user.pk).update(certified_on=TODAY - dt.timedelta(days=200))
    assert "recertification missed" in run_cli("users", "show", NEW, "--by", ian).stdout
    run_cli("users", "recertify", NEW, "--by", ian)
    user.refresh_from_db()
    assert user.certified_on in {TODAY, dt.date.today()}

    epoch = user.session_epoch
    run_cli("users", "disable", NEW, "--by", ian)
    user.refresh_from_db()
    assert not user.enabled and user.session_epoch == epoch + 1


def test_list_shows_only_the_actors_area_and_no_passwords(actors: Actors) -> None:
    out = run_cli("users", "list", "--by", actors.ian.email).stdout
    for seen in (actors.alice, actors.bob, actors.petra, actors.ian):
        assert f"{seen.email}\t{seen.name}\t{seen.organisation.code}\t{seen.role}\tenabled" in out
    for unseen in (actors.charlie, actors.isla, actors.nadia):
        assert unseen.email not in out
    assert "4 user(s)" in out and "argon2" not in out


def test_list_shows_why_a_user_is_suspended(actors: Actors) -> None:
    Accreditation.objects.filter(organisation=actors.school_a).update(
        expires_on=TODAY - dt.timedelta(days=1)
    )
    out = run_cli("users", "list", "--by", actors.ian.email).stdout
    assert f"{actors.alice.email}\t" in out
    assert "suspended: organisation's accreditation lapsed" in out


@pytest.mark.parametrize(
    "action",
    [
        ("show",),
        ("disable",),
        ("recertify",),
        ("reset-password",),
        ("role", "index_team"),
        ("enable", "--vetting-date", LAST_MONTH, "--training-date", LAST_MONTH),
    ],
)
def test_a_user_in_another_area_gets_the_same_answer_as_an_unknown_one(
    actors: Actors, action: tuple[str, ...]
) -> None:
    charlie = actors.charlie
    verb, *rest = action
    before = (charlie.password, charlie.enabled, charlie.role, charlie.session_epoch)
    other_area = refused("users", verb, charlie.email, *rest, "--by", actors.ian.email)
    unknown = refused("users", verb, "nobody@nowhere.example", *rest, "--by", actors.ian.email)
    assert "no user charlie@council-b.example that you can" in other_area
    assert other_area.replace(charlie.email, "X") == unknown.replace("nobody@nowhere.example", "X")
    charlie.refresh_from_db()
    assert (charlie.password, charlie.enabled, charlie.role, charlie.session_epoch) == before


def test_index_team_cannot_make_a_national_admin_nor_a_user_in_another_area(
    actors: Actors,
) -> None:
    ian = actors.ian.email
    national = refused(
        "users", "create", "--by", ian, "--email", NEW, "--name", "Nina New",
        "--organisation", "T100001", "--role", "national_admin",
    )  # fmt: skip
    assert "refused: this role cannot give that role" in national
    elsewhere = refused(
        "users", "create", "--by", ian, "--email", NEW, "--name", "Nina New",
        "--organisation", "THACKNEY", "--role", "practitioner",
    )  # fmt: skip
    assert "refused: another council area" in elsewhere
    promote = refused("users", "role", actors.alice.email, "national_admin", "--by", ian)
    assert "refused: this role cannot give that role" in promote
    # Nor another index team member: nobody gives a role at or above their own.
    peer = refused("users", "role", actors.alice.email, "index_team", "--by", ian)
    assert "refused: this role cannot give that role" in peer
    officer = refused("users", "disable", actors.petra.email, "--by", ian)
    assert "refused: your role cannot disable a privacy officer" in officer
    assert User.objects.get(pk=actors.petra.pk).enabled
    assert not User.objects.filter(email=NEW).exists()
    assert User.objects.get(pk=actors.alice.pk).role == "practitioner"


def test_a_suspended_disabled_or_unknown_actor_is_refused(actors: Actors) -> None:
    User.objects.filter(pk=actors.ian.pk).update(certified_on=TODAY - dt.timedelta(days=200))
    suspended = refused("users", "disable", actors.alice.email, "--by", actors.ian.email)
    assert "--by: ian@council-a.example's access is suspended" in suspended
    assert "recertification missed" in suspended
    User.objects.filter(pk=actors.isla.pk).update(enabled=False)
    disabled = refused("users", "list", "--by", actors.isla.email)
    assert "--by: isla@council-b.example is not enabled" in disabled
    assert "--by: no user ghost@x.example" in refused("users", "list", "--by", "ghost@x.example")
    assert User.objects.get(pk=actors.alice.pk).enabled


def test_reset_password_mails_a_link_and_removes_the_password_and_second_factors(
    actors: Actors,
) -> None:
    out = run_cli("users", "reset-password", actors.alice.email, "--by", actors.ian.email).stdout
    alice = User.objects.get(pk=actors.alice.pk)
    assert not alice.has_usable_password() and "password:" not in out
    assert not alice.totp_devices.exists() and "second factor" in out
    activation.set_password(mailed_link(alice.email), "alice's own new passphrase")
    assert User.objects.get(pk=alice.pk).check_password("alice's own new passphrase")


def test_bad_input_gets_a_specific_message(actors: Actors) -> None:
    ian = actors.ian.email
    create = ("users", "create", "--by", ian, "--email", NEW, "--name", "Nina New")
    role = refused(*create, "--organisation", "T100001", "--role", "wizard")
    assert "unknown role 'wizard'; choose from practitioner, index_team" in role
    org = refused(*create, "--organisation", "NOPE", "--role", "practitioner")
    assert "no organisation with code NOPE" in org
    email = ("users", "create", "--by", ian, "--email", "not-an-email", "--name", "N")
    assert "is not an e-mail address" in refused(
        *email, "--organisation", "T100001", "--role", "practitioner"
    )
    bad_date = refused(
        "users", "enable", actors.alice.email, "--by", ian,
        "--vetting-date", "2025-02-30", "--training-date", LAST_MONTH,
    )  # fmt: skip
    assert "--vetting-date: '2025-02-30' is not a date; write it as YYYY-MM-DD" in bad_date
    future = (TODAY + dt.timedelta(days=3)).isoformat()
    too_soon = refused(
        "users", "enable", actors.alice.email, "--by", ian,
        "--vetting-date", future, "--training-date", LAST_MONTH,
    )  # fmt: skip
    assert "cannot be in the future" in too_soon


def test_bootstrap_makes_the_first_national_admin_once() -> None:
    first = run_cli(
        "users", "bootstrap", "--email", "Root@Example.org", "--name", "Rhona Root",
        "--organisation", "NATIONAL", "--organisation-name", "contactpoint national team",
        "--vetting-date", LAST_MONTH, "--training-date", LAST_MONTH,
    ).stdout  # fmt: skip
    admin = User.objects.get(email="root@example.org")
    assert admin.role == Role.NATIONAL_ADMIN and admin.enabled
    assert admin.check_password(password_in(first)) and admin.suspensions() == []
    accreditation = Accreditation.objects.get(organisation__code="NATIONAL")
    assert accreditation.status == "accredited" and accreditation.expires_on > TODAY
    assert "accredited contactpoint national team (NATIONAL) until" in first

    again = refused(
        "users", "bootstrap", "--email", "second@example.org", "--name", "Sam Second",
        "--organisation", "NATIONAL", "--vetting-date", LAST_MONTH, "--training-date", LAST_MONTH,
    )  # fmt: skip
    assert "a national administrator already exists" in again
    assert User.objects.count() == 1
    # Nobody gives the national role in the service: a further one is made at the server.
    another = run_cli(
        "users", "bootstrap", "--another", "--email", "second@example.org", "--name", "Sam S",
        "--organisation", "NATIONAL", "--vetting-date", LAST_MONTH, "--training-date", LAST_MONTH,
    ).stdout  # fmt: skip
    assert "created a further national administrator, second@example.org" in another
    assert User.objects.get(email="second@example.org").role == Role.NATIONAL_ADMIN


def test_bootstrap_refuses_an_unknown_organisation_and_a_stale_vetting_check() -> None:
    base = ("users", "bootstrap", "--email", "root@example.org", "--name", "Rhona Root")
    unknown = refused(
        *base, "--organisation", "NOPE", "--vetting-date", LAST_MONTH, "--training-date", LAST_MONTH
    )
    assert "no organisation with code NOPE" in unknown and "--organisation-name" in unknown
    Organisation.objects.create(code="NATIONAL", kind="council_team", name="National")
    stale = refused(
        *base, "--organisation", "NATIONAL",
        "--vetting-date", "2019-01-01", "--training-date", LAST_MONTH,
    )  # fmt: skip
    assert "would be suspended at once: vetting check over 3 years old" in stale
    assert not User.objects.exists() and not Accreditation.objects.exists()


def test_organisations_accredit_and_withdraw(actors: Actors) -> None:
    ian = actors.ian.email
    Organisation.objects.create(
        code="T100002", kind="school", name="Hillside School", council_area=actors.area_a
    )
    listed = run_cli("organisations", "list", "--area", "E09000007").stdout
    assert "T100002\tschool\tHillside School\tE09000007\tnot accredited" in listed
    assert "THACKNEY" not in listed and "3 organisation(s)" in listed

    until = (TODAY + dt.timedelta(days=200)).isoformat()
    # Councils do not certify themselves: only the national team grants accreditation.
    own = refused("organisations", "accredit", "T100002", "--by", ian, "--until", until)
    assert "refused" in own
    run_cli("organisations", "accredit", "T100002", "--by", actors.nadia.email, "--until", until)
    listed = run_cli("organisations", "list").stdout
    assert f"T100002\tschool\tHillside School\tE09000007\taccredited until {until}" in listed

    epoch = actors.alice.session_epoch
    # School A has a privacy officer, whom the index team may not stop: the national team
    # withdraws it.
    officer = refused("organisations", "accredit", "T100001", "--by", ian, "--withdraw")
    assert "privacy officer" in officer
    run_cli("organisations", "accredit", "T100001", "--by", actors.nadia.email, "--withdraw")
    assert Accreditation.objects.get(organisation=actors.school_a).status == "withdrawn"
    alice = User.objects.get(pk=actors.alice.pk)
    assert alice.session_epoch == epoch + 1
    assert "organisation not accredited" in alice.suspensions()

    other = refused("organisations", "accredit", "THACKNEY", "--by", ian, "--withdraw")
    assert "refused: another council area" in other
    past = refused(
        "organisations", "accredit", "T100002", "--by", actors.nadia.email, "--until", "2020-01-01"
    )
    assert "use --withdraw" in past


def test_clients_create_and_disable(actors: Actors) -> None:
    nadia = actors.nadia.email
    made = run_cli(
        "clients", "create", "--by", nadia, "--name", "Camden case system",
        "--organisation", "TCAMDEN", "--role", "practitioner",
    ).stdout  # fmt: skip
    client_id = re.search(r"client id:\s+(\S+)", made)
    secret = re.search(r"client secret:\s+(\S+)", made)
    assert client_id and secret
    client = ApiClient.objects.get(client_id=client_id.group(1))
    assert client.secret_hash != secret.group(1) and client.enabled
    by_ian = refused("clients", "disable", client.client_id, "--by", actors.ian.email)
    assert "refused:" in by_ian
    run_cli("clients", "disable", client.client_id, "--by", nadia)
    client.refresh_from_db()
    assert not client.enabled


# demo-users


@pytest.fixture
def demo_file() -> Iterator[None]:
    path = config.layout_dir(config.DEMO_DIR) / "demo-users.txt"
    path.unlink(missing_ok=True)
    yield
    path.unlink(missing_ok=True)


@pytest.fixture
def places(demo_file: None) -> dict[str, CouncilArea]:
    """Three areas: Leeds (most organisations), York (a council team), Hull (no school)."""
    leeds = CouncilArea.objects.create(code="E08000035", name="Leeds")
    york = CouncilArea.objects.create(code="E06000014", name="York")
    hull = CouncilArea.objects.create(code="E06000010", name="Hull")
    for n in range(3):
        Organisation.objects.create(
            code=f"L{n}", kind="school", name=f"Leeds {n}", council_area=leeds
        )
    Organisation.objects.create(code="LGP", kind="gp_practice", name="Leeds GP", council_area=leeds)
    Organisation.objects.create(code="Y1", kind="school", name="York School", council_area=york)
    Organisation.objects.create(
        code="YCSC", kind="council_team", name="York CSC", council_area=york
    )
    for n in range(6):
        Organisation.objects.create(
            code=f"H{n}", kind="gp_practice", name=f"Hull {n}", council_area=hull
        )
    return {"leeds": leeds, "york": york, "hull": hull}


def demo_credentials(stdout: str) -> dict[str, tuple[str, str]]:
    """email -> (password, TOTP secret), as `demo-users` printed them."""
    found = re.findall(
        r"^[A-Za-z ]+: (\S+@demo\.contactpoint\.invalid)\n.*?password:\s+(\S+)\n"
        r"\s+TOTP secret:\s+([A-Z2-7]+)$",
        stdout,
        re.MULTILINE | re.DOTALL,
    )
    return {email: (password, secret) for email, password, secret in found}


def test_demo_users_makes_one_user_per_role_per_area_who_can_sign_in(
    places: dict[str, CouncilArea],
) -> None:
    address = "http://localhost:8123"  # `make demo PORT=8123`
    out = run_cli("demo-users", env_extra={"CONTACTPOINT_BASE_URL": address}).stdout
    assert f"sign in at {address} " in out
    users = User.objects.select_related("organisation__council_area").order_by("email")
    assert len(users) == 9
    by_area = {(u.area_code, u.role) for u in users}
    assert by_area == {
        *(
            (area, role.value)
            for area in ("E08000035", "E06000014")
            for role in Role
            if role != Role.NATIONAL_ADMIN
        ),
        (None, "national_admin"),
    }
    team = Organisation.objects.get(code="DEMO-E08000035")  # Leeds had no council team
    assert team.kind == "council_team" and team.council_area == places["leeds"]
    assert (
        users.get(role="index_team", organisation__council_area__code="E06000014").organisation.code
        == "YCSC"
    )
    practitioner = users.get(
        role="practitioner",
        organisation__council_area__code="E08000035",
        organisation__kind="school",
    )
    social_worker = users.get(role="practitioner", organisation=team)
    assert social_worker.email.startswith("social-worker.")
    officer = users.get(role="privacy_officer", organisation__council_area__code="E08000035")
    assert (
        practitioner.organisation == officer.organisation
        and practitioner.organisation.kind == "school"
    )

    printed = demo_credentials(out)
    assert set(printed) == {u.email for u in users}
    for user in users:
        password, secret = printed[user.email]
        assert user.suspensions() == [] and user.check_password(password)
        assert totp.verify_any(user, pyotp.TOTP(secret).now())
    assert "█" in out or "▀" in out  # the QR codes

    path = config.layout_dir(config.DEMO_DIR) / "demo-users.txt"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    text = path.read_text(encoding="utf-8")
    assert "THROW-AWAY demo credentials" in text and f"Sign in at {address} " in text
    assert all(password in text and secret in text for password, secret in printed.values())


def test_demo_users_again_reprints_and_without_the_file_renews(
    places: dict[str, CouncilArea],
) -> None:
    first = demo_credentials(run_cli("demo-users").stdout)
    second = demo_credentials(run_cli("demo-users").stdout)
    assert second == first and User.objects.count() == 9

    (config.layout_dir(config.DEMO_DIR) / "demo-users.txt").unlink()
    third = demo_credentials(run_cli("demo-users").stdout)
    assert User.objects.count() == 9 and set(third) == set(first)
    for email, (password, secret) in third.items():
        user = User.objects.get(email=email)
        assert password != first[email][0] and user.check_password(password)
        assert not totp.verify_any(user, pyotp.TOTP(first[email][1]).now())
        assert totp.verify_any(user, pyotp.TOTP(secret).now())


def test_demo_users_needs_two_areas_with_schools(demo_file: None) -> None:
    assert "needs two council areas with schools" in refused("demo-users")
    assert not User.objects.exists()


def test_demo_caseload_skips_shielded_archived_and_waiting_children_first_by_id(
    demo_file: None, feeds: Path
) -> None:
    """Contactpoint IDs are random, so any child may come first: the caseload is chosen
    among children a practitioner may be registered on, whatever comes first."""
    load_children(feeds)  # four pupils of a Camden school
    york = CouncilArea.objects.create(code="E06000014", name="York")
    Organisation.objects.create(code="Y1", kind="school", name="York School", council_area=york)
    first, second, third, fourth = Child.objects.order_by("cpid")
    shield_tags.shield([first.pk])
    retention_facts.archive(ciphers_for({second.pk}).values(), dt.date.today())
    record = SourceRecord.objects.filter(child=fourth).first()
    assert record is not None
    candidate = ReviewCandidate(third.pk, 0.0)
    reason = ReviewItem.Reason.REVIEW_BAND
    new_item(record.pk, reason, [candidate], store.active().record.pk).save(force_insert=True)

    result = run_cli("demo-users")

    worker = User.objects.get(email__startswith="social-worker.camden")
    registered = registered_by(worker)
    assert {i.child_id for i in registered} == {fourth.pk}
    assert "has 1 pupil(s) a practitioner may be registered on" in result.stderr
    assert "unexpected" not in result.stderr and User.objects.count() == 9


def test_a_refusal_escaping_a_command_prints_its_own_message_and_exits_non_zero(
    demo_file: None,
) -> None:
    result = run_cli("demo-users", check=False)
    assert result.returncode == 2 and result.stdout == ""
    assert result.stderr.startswith("contactpoint: error: demo-users needs two council areas")
    assert "unexpected" not in result.stderr and "committed" not in result.stderr


def test_demo_users_refuses_outside_development(
    places: dict[str, CouncilArea], tmp_path: Path
) -> None:
    production = {
        "CONTACTPOINT_ENV": "production",
        "CONTACTPOINT_SECRET_KEY": secrets.token_hex(32),
        # The production layout (docs/configuration.md), so that demo-users is what refuses.
        "CONTACTPOINT_KEK_FILE": str(tmp_path / "keys" / "kek.json"),
        "CONTACTPOINT_AUDIT_WITNESS_URL": "https://witness.example/contactpoint",
    }
    result = run_cli("demo-users", check=False, env_extra=production)
    assert result.returncode == 2 and result.stdout == ""
    assert "runs only in development" in result.stderr
    assert not User.objects.exists()
    assert not (config.layout_dir(config.DEMO_DIR) / "demo-users.txt").exists()


def test_demo_social_worker_works_with_pupils_of_the_first_school(
    demo_file: None, feeds: Path
) -> None:
    children = load_children(feeds)  # four pupils of a Camden school, and a Camden GP
    york = CouncilArea.objects.create(code="E06000014", name="York")
    Organisation.objects.create(code="Y1", kind="school", name="York School", council_area=york)
    run_cli("demo-users")
    worker = User.objects.get(email__startswith="social-worker.camden")
    registered = registered_by(worker)
    assert len(registered) == 3
    assert {i.child_id for i in registered} <= {c.pk for c in children.values()}
    school_practitioner = User.objects.get(email__startswith="practitioner.camden")
    assert len(of_kind("joined", recipient=school_practitioner)) == 3
    path = config.layout_dir(config.DEMO_DIR) / "demo-children.txt"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    listed = [line for line in path.read_text().splitlines() if not line.startswith("#")]
    assert len(listed) == 3 and all(", born 20" in line for line in listed)
    path.unlink()
