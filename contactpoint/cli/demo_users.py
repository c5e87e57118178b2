"""`contactpoint demo-users`: one signed-in-ready user per role, for a development demo.

After `make demo` has loaded the synthetic organisations, this picks the two council
areas with most organisations (among those with a school), gives each a council team if
it has none, accredits what it uses for a year, and makes a practitioner and a privacy
officer at a school, an index team member at the council team, and one national
administrator, each enabled with a confirmed authenticator app; and a social worker at each
council team, the first of whom is registered with a few pupils of the first school (their
names, to search for, go to var/demo/demo-children.txt). The credentials go to
var/demo/demo-users.txt (mode 0600) and the terminal, with QR codes to scan.

Run again, it reprints the file; with the file gone, it gives the same users new
passwords and authenticator secrets. It refuses to run outside development.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import uuid
from collections import defaultdict
from dataclasses import asdict, dataclass, fields
from pathlib import Path

from django.conf import settings
from django.db import transaction
from django.db.models import Count, Q
from django.utils.text import slugify

from contactpoint import config
from contactpoint.access import totp, users
from contactpoint.access.bootstrap import accredit_for_a_year, make_enabled_user
from contactpoint.access.models import TotpDevice, User
from contactpoint.access.permissions import Role
from contactpoint.access.standing import add_years
from contactpoint.access.users import Actor
from contactpoint.cli import error, progress
from contactpoint.lib.errors import Refusal
from contactpoint.linkage.models import ReviewItem
from contactpoint.linkage.review_items import abouts
from contactpoint.practice import involvements
from contactpoint.practice.involvements import Details
from contactpoint.registry import golden, shield_tags
from contactpoint.registry.involvement_facts import open_all
from contactpoint.registry.models import (
    Child,
    CouncilArea,
    Involvement,
    Organisation,
    Practitioner,
)
from contactpoint.search.service import remember

DOMAIN = "demo.contactpoint.invalid"
NATIONAL_CODE = "DEMO-NATIONAL"
FILE_NAME = "demo-users.txt"
# Each area's demo users: role, where they work, the start of their e-mail, their title.
AREA_ROLES = (
    (Role.PRACTITIONER, "school", "practitioner", "Practitioner"),
    (Role.PRACTITIONER, "team", "social-worker", "Social worker"),
    (Role.INDEX_TEAM, "team", "index-team", "Local index team"),
    (Role.PRIVACY_OFFICER, "school", "privacy-officer", "Privacy officer"),
)
BATCH = 2000  # involvements opened at a time when looking for a school's pupils
CASELOAD = 3  # children of the first area's school each demo social worker is involved with
CHILDREN_FILE = "demo-children.txt"


# A current involvement of a child a practitioner may be registered on: open to everyone
# (not archived, sealed, merged or purged; a shielded child, told only by its keyed tag,
# is left out once the involvements are fetched). Children waiting on a person's
# linkage decision are left out too (_waiting_children): a demo should not start there.
def _registrable() -> Q:
    """That condition on an involvement."""
    return Q(end_date__isnull=True, child__status=Child.Status.ACTIVE)


HEADER = """\
# contactpoint demo users: THROW-AWAY demo credentials for a development environment.
# Made by `contactpoint demo-users` for this database only; never use them, or this
# file, anywhere real. Sign in at {address} with an e-mail and password,
# then a code from an authenticator app set up with the TOTP secret (scan the QR code
# that `contactpoint demo-users` prints, or type the secret). Delete this file and run
# `contactpoint demo-users` again for new passwords and secrets.
"""


class TooSmall(Refusal):
    """The loaded population has too little for a demo."""


@dataclass(frozen=True)
class Credential:
    email: str
    role: str
    organisation: str
    area: str
    password: str
    totp_secret: str
    totp_uri: str


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.epilog = f"The credentials are written to {FILE_NAME} in the data directory."


def run(args: argparse.Namespace) -> int:
    if not config.is_development():
        return error(
            "demo-users makes throw-away users whose passwords it prints, so it runs only "
            "in development (CONTACTPOINT_ENV=development)"
        )
    path = config.layout_dir(config.DEMO_DIR) / FILE_NAME
    existing = _demo_users()
    saved = read(path)
    if existing and saved and {c.email for c in saved} == {u.email for u in existing}:
        _keep_fresh(existing)
        progress(f"demo-users: the demo users exist already; their credentials are in {path}")
        show(saved)
        _children_note()
        return 0
    credentials = _renew(existing) if existing else _create()
    write(path, credentials)
    progress(f"demo-users: {len(credentials)} demo users; their credentials are in {path}")
    show(credentials)
    _children_note()
    return 0


def _children_note() -> None:
    path = config.layout_dir(config.DEMO_DIR) / CHILDREN_FILE
    count = write_children(path)
    progress(f"demo-users: {count} children to search for are listed in {path}")


def _demo_users() -> list[User]:
    found = User.objects.select_related("organisation__council_area")
    return list(found.filter(email__endswith=f"@{DOMAIN}").order_by("email"))


def _create() -> list[Credential]:
    """Make the national administrator directly, then the rest through the services."""
    today = dt.date.today()
    vetting, training = today - dt.timedelta(days=30), today - dt.timedelta(days=20)
    with transaction.atomic():
        places = _choose_areas()
        national, _ = Organisation.objects.get_or_create(
            code=NATIONAL_CODE,
            defaults={
                "kind": Organisation.Kind.COUNCIL_TEAM,
                "name": "contactpoint national team (demo)",
            },
        )
        accredit_for_a_year(national, None)
        admin, password = make_enabled_user(
            f"national-admin@{DOMAIN}",
            "Demo National Administrator",
            national,
            Role.NATIONAL_ADMIN,
            vetting,
            training,
        )
        made = [(admin, password)]
        actor = Actor.of(admin)
        for (area, school, team), slug in zip(places, _slugs([p[0] for p in places]), strict=True):
            for organisation in (school, team):
                users.accredit(actor, organisation, expires_on=add_years(today, 1))
            for role, where, prefix, title in AREA_ROLES:
                # Ready to use at once, with a password to print: made directly, as the
                # administrator is, not through `users.create_user` (which e-mails a link
                # and leaves enabling to a second person).
                user, password = make_enabled_user(
                    f"{prefix}.{slug}@{DOMAIN}",
                    f"Demo {title} ({area.name})",
                    school if where == "school" else team,
                    role,
                    vetting,
                    training,
                    authorised_by=admin,
                )
                made.append((user, password))
        first_social_worker = next(u for u, _ in made if u.email.startswith("social-worker."))
        _caseload(first_social_worker, places[0][1])
        return [_credential(user, password) for user, password in made]


def _caseload(social_worker: User, school: Organisation) -> None:
    """Register the social worker with a few of the school's pupils, so that the demo has
    children whom two services already work with (the school through its feed)."""
    waiting = set(_waiting_children())
    pupils = [c for c in _pupils_of({school.pk}).get(school.pk, []) if c not in waiting]
    pupils = pupils[:CASELOAD]
    if len(pupils) < CASELOAD:
        progress(
            f"demo-users: the school {school.code} has {len(pupils)} pupil(s) a practitioner "
            f"may be registered on (active, not shielded, not waiting for review), not "
            f"{CASELOAD}: the demo social worker works with {len(pupils)}; load a larger "
            "population for the whole demo journey"
        )
    details = Details("social_worker", "Social worker", "020 7946 0999")
    actor = Actor.of(social_worker)
    for child in Child.objects.filter(pk__in=pupils):
        # As though they had found the child by a search, which registering needs.
        remember(actor.principal.key, [child.pk])
        involvements.register(actor, child, details)


def _pupils_of(schools: set[int]) -> dict[int, list[uuid.UUID]]:
    """The children each school works with whom a practitioner may be registered on, in
    contactpoint ID order. An involvement's organisation is sealed under its child's key
    and nothing groups children by organisation, so this opens every such involvement, a
    batch at a time: a development command, on a demo population."""
    found: dict[int, dict[uuid.UUID, None]] = defaultdict(dict)
    ids = list(Involvement.objects.filter(_registrable()).order_by("child__cpid").values_list("pk"))
    for start in range(0, len(ids), BATCH):
        chunk = [pk for (pk,) in ids[start : start + BATCH]]
        rows = {i.pk: i for i in open_all(Involvement.objects.filter(pk__in=chunk))}
        for pk in chunk:
            if pk in rows and rows[pk].organisation_id in schools:
                found[rows[pk].organisation_id][rows[pk].child_id] = None
    shielded = shield_tags.shielded_among([c for children in found.values() for c in children])
    return {
        school: [c for c in children if c not in shielded] for school, children in found.items()
    }


def _waiting_children() -> set[uuid.UUID]:
    """Children an open review item names: a record waits for a person to decide on them."""
    items = ReviewItem.objects.filter(status=ReviewItem.Status.OPEN)
    return set().union(*(a.child_ids() for a in abouts(items).values()))


def write_children(path: Path) -> int:
    """Write what to type to find each demo social worker's children (0600, like the
    credentials; the population is synthetic: var/demo-feeds holds it all)."""
    people = set(
        Practitioner.objects.filter(
            user__email__startswith="social-worker.", user__email__endswith=f"@{DOMAIN}"
        ).values_list("pk", flat=True)
    )
    # Registered by a person, not kept by a feed: few, and each opened to see by whom.
    by_people = Involvement.objects.filter(source_record__isnull=True, end_date__isnull=True)
    registered = [i.child_id for i in open_all(by_people) if i.practitioner_id in people]
    found = golden.summaries(registered)
    lines = [
        "# Synthetic children the demo social worker works with. Search for one as another",
        "# demo practitioner (a typo in the name, or the day and month swapped, still finds",
        "# them); the social worker and the school's practitioner get an alert when you",
        "# register your involvement.",
    ]
    for child in found.values():
        born = child.date_of_birth.isoformat() if child.date_of_birth else "?"
        district = (child.postcode or "").split(" ")[0]
        lines.append(f"{child.given_name} {child.family_name}, born {born}, postcode {district}")
    _write_private(path, "\n".join(lines) + "\n")
    return len(found)


def _choose_areas() -> list[tuple[CouncilArea, Organisation, Organisation]]:
    """The two areas with most organisations that have a school; ties go by area code."""
    ranked = (
        CouncilArea.objects.annotate(
            organisations=Count("organisation"),
            schools=Count("organisation", filter=Q(organisation__kind=Organisation.Kind.SCHOOL)),
        )
        .filter(schools__gt=0)
        .order_by("-organisations", "code")[:2]
    )
    areas = list(ranked)
    if len(areas) < 2:
        raise TooSmall(
            "demo-users needs two council areas with schools; load the demo population "
            "first (`make demo`, or `contactpoint load var/demo-feeds`)"
        )
    schools = list(
        Organisation.objects.filter(council_area__in=areas, kind=Organisation.Kind.SCHOOL)
    )
    pupils = _pupils_of({s.pk for s in schools})
    places: list[tuple[CouncilArea, Organisation, Organisation]] = []
    for area in areas:
        # The school with most pupils a practitioner may be registered on, so the demo has
        # children to find and a caseload to give the social worker.
        in_area = [s for s in schools if s.council_area_id == area.pk]
        school = min(in_area, key=lambda s: (-len(pupils.get(s.pk, [])), s.code))
        places.append((area, school, _council_team(area)))
    return places


def _council_team(area: CouncilArea) -> Organisation:
    kind = Organisation.Kind.COUNCIL_TEAM
    team = Organisation.objects.filter(council_area=area, kind=kind).order_by("code").first()
    if team is not None:
        return team
    return Organisation.objects.create(
        code=f"DEMO-{area.code}", kind=kind, name=f"{area.name} local index team", council_area=area
    )


def _slugs(areas: list[CouncilArea]) -> list[str]:
    """Short names for the e-mail addresses: the area's name, or its code if names clash."""
    names = [slugify(a.name) for a in areas]
    if len(set(names)) == len(names) and all(names):
        return names
    return [a.code.lower() for a in areas]


def _renew(existing: list[User]) -> list[Credential]:
    """New passwords and authenticator secrets for the demo users (the file was lost)."""
    made = []
    with transaction.atomic():
        _keep_fresh(existing)
        for user in existing:
            password = users.new_password()
            user.set_password(password)
            user.save(update_fields=["password"])
            user.totp_devices.all().delete()
            user.security_keys.all().delete()
            users.end_sessions(user)
            made.append((user, password))
        return [_credential(user, password) for user, password in made]


def _keep_fresh(existing: list[User]) -> None:
    """Keep demo users able to sign in months later: certified, active, accredited."""
    today = dt.date.today()
    for user in existing:
        accredit_for_a_year(user.organisation, None)
        if user.vetting_checked_on is None or user.suspensions(today):
            user.vetting_checked_on = today - dt.timedelta(days=30)
            user.training_completed_on = today - dt.timedelta(days=20)
        user.enabled, user.certified_on, user.last_active_on = True, today, today
        user.save()


def _credential(user: User, password: str) -> Credential:
    device, secret = totp.start(user)
    TotpDevice.objects.filter(pk=device.pk).update(confirmed=True)
    area = user.organisation.council_area
    return Credential(
        email=user.email,
        role=user.role,
        organisation=f"{user.organisation.name} ({user.organisation.code})",
        area=f"{area.name} ({area.code})" if area else "national",
        password=password,
        totp_secret=secret,
        totp_uri=totp.provisioning_uri(user, secret),
    )


LABELS = {f.name: f.name.replace("_", " ") for f in fields(Credential)}


def write(path: Path, credentials: list[Credential]) -> None:
    """Write the file readable by its owner alone, replacing any old one in one step."""
    text = HEADER.format(address=settings.CONTACTPOINT_BASE_URL) + "".join(
        "\n" + "".join(f"{LABELS[k]}: {v}\n" for k, v in asdict(c).items()) for c in credentials
    )
    _write_private(path, text)


def _write_private(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(path.name + ".tmp")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.fchmod(fd, 0o600)  # in case an old temporary file had wider permissions
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(text)
    os.replace(temporary, path)


def read(path: Path) -> list[Credential] | None:
    """The credentials in the file, or None when it is missing or not in our format."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError:
        return None
    by_label = {label: name for name, label in LABELS.items()}
    found = []
    for block in text.split("\n\n")[1:]:
        values = dict(line.split(": ", 1) for line in block.strip().splitlines() if ": " in line)
        if set(values) != set(by_label):
            return None
        found.append(Credential(**{by_label[k]: v for k, v in values.items()}))
    return found or None


def show(credentials: list[Credential]) -> None:
    address = settings.CONTACTPOINT_BASE_URL
    print(f"Throw-away demo users: sign in at {address} (details in the data dir's")
    print(f"{FILE_NAME}). Scan a QR code with an authenticator app, or type its secret.")
    for c in credentials:
        print()
        print(f"{Role(c.role).label}: {c.email}")
        print(f"  area:         {c.area}")
        print(f"  organisation: {c.organisation}")
        print(f"  password:     {c.password}")
        print(f"  TOTP secret:  {c.totp_secret}")
        print(totp.qr_terminal(c.totp_uri), end="")
