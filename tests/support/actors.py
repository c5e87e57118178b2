"""The standard actors of access tests, made with one call.

Two council areas, A (Camden) and B (Hackney). At school A: Alice, a practitioner, and Bob,
her colleague; Petra, school A's privacy officer. At council B: Charlie, a social worker
(practitioner). Ian runs area A's local index team and Isla area B's. Nadia is a national
administrator. Everyone is enabled, vetted, trained, certified today and has a confirmed
TOTP device whose secret is `actors.secret`; their password is PASSWORD. Everyone but
Nadia was enabled by Nadia (a third party to any two of them) and has held their role for
30 days, as two-person decisions need (docs/shielding.md).
"""

from __future__ import annotations

import datetime as dt
import functools
import time
from dataclasses import dataclass

import pyotp
from django.contrib.auth.hashers import make_password
from django.test import Client
from django.utils import timezone

from contactpoint.access import totp
from contactpoint.access.middleware import FACTOR_AT, SIGNED_IN_AT
from contactpoint.access.models import Accreditation, TotpDevice, User
from contactpoint.access.permissions import Role
from contactpoint.registry.models import CouncilArea, Organisation

PASSWORD = "correct horse battery staple"
AREA_A = "E09000007"
AREA_B = "E09000012"


@dataclass
class Actors:
    area_a: CouncilArea
    area_b: CouncilArea
    school_a: Organisation
    council_a: Organisation
    council_b: Organisation
    national: Organisation
    alice: User
    bob: User
    petra: User
    charlie: User
    ian: User
    isla: User
    nadia: User
    secrets: dict[str, str]

    def secret(self, user: User) -> str:
        return self.secrets[user.email]

    def code(self, user: User, at: float | None = None) -> str:
        """A current TOTP code for the user."""
        return pyotp.TOTP(self.secret(user)).at(at or time.time())

    def all(self) -> list[User]:
        return [self.alice, self.bob, self.petra, self.charlie, self.ian, self.isla, self.nadia]


def organisation(
    code: str, kind: str, name: str, area: CouncilArea | None, accredited: bool = True
) -> Organisation:
    org = Organisation.objects.create(code=code, kind=kind, name=name, council_area=area)
    if accredited:
        Accreditation.objects.create(
            organisation=org,
            status=Accreditation.Status.ACCREDITED,
            expires_on=dt.date.today() + dt.timedelta(days=365),
        )
    return org


@functools.cache
def _password_hash() -> str:
    # Argon2 costs ~0.1 s a hash by design; every actor shares one hash of PASSWORD.
    return make_password(PASSWORD)


def user(
    email: str,
    name: str,
    org: Organisation,
    role: Role,
    secrets: dict[str, str],
    enabled_by: User | None = None,
) -> User:
    """An enabled user with a confirmed TOTP device; `enabled_by` is recorded as the person
    who enabled and authorised them (by default the national administrator, if one)."""
    today = dt.date.today()
    if enabled_by is None:
        enabled_by = User.objects.filter(role=Role.NATIONAL_ADMIN.value).first()
    u = User(
        email=email,
        name=name,
        organisation=org,
        role=role.value,
        enabled=True,
        vetting_checked_on=today - dt.timedelta(days=30),
        training_completed_on=today - dt.timedelta(days=20),
        certified_on=today,
        last_active_on=today,
        enabled_by=enabled_by,
        authorised_by=enabled_by,
        role_since=timezone.now() - dt.timedelta(days=30),
    )
    u.password = _password_hash()
    u.save()
    device, secret = totp.start(u)
    TotpDevice.objects.filter(pk=device.pk).update(confirmed=True)
    secrets[u.email] = secret
    return u


def make_actors() -> Actors:
    area_a = CouncilArea.objects.get_or_create(code=AREA_A, defaults={"name": "Camden"})[0]
    area_b = CouncilArea.objects.get_or_create(code=AREA_B, defaults={"name": "Hackney"})[0]
    school_a = organisation("T100001", "school", "Parkside Primary School", area_a)
    council_a = organisation("TCAMDEN", "council_team", "Camden Children's Services", area_a)
    council_b = organisation("THACKNEY", "council_team", "Hackney Children's Services", area_b)
    national = organisation("TNATIONAL", "council_team", "contactpoint national team", None)
    s: dict[str, str] = {}
    # Nadia first: she enabled everyone else.
    nadia = user("nadia@national.example", "Nadia Nash", national, Role.NATIONAL_ADMIN, s)
    return Actors(
        area_a=area_a,
        area_b=area_b,
        school_a=school_a,
        council_a=council_a,
        council_b=council_b,
        national=national,
        alice=user("alice@school-a.example", "Alice Adams", school_a, Role.PRACTITIONER, s),
        bob=user("bob@school-a.example", "Bob Brown", school_a, Role.PRACTITIONER, s),
        petra=user("petra@school-a.example", "Petra Price", school_a, Role.PRIVACY_OFFICER, s),
        charlie=user("charlie@council-b.example", "Charlie Clark", council_b, Role.PRACTITIONER, s),
        ian=user("ian@council-a.example", "Ian Irving", council_a, Role.INDEX_TEAM, s),
        isla=user("isla@council-b.example", "Isla Ince", council_b, Role.INDEX_TEAM, s),
        nadia=nadia,
        secrets=s,
    )


def signed_in(user: User) -> Client:
    """A test client holding a fully signed-in session (password and second factor)."""
    client = Client()
    client.force_login(user)
    session = client.session
    now = time.time()
    session[SIGNED_IN_AT] = now
    session[FACTOR_AT] = now
    session.save()
    return client
