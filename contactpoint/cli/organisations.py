"""`contactpoint organisations`: organisations and their accreditation (docs/users.md).

Organisations are reference data loaded from organisations.csv; what this command changes
is accreditation, through `contactpoint.access.users.accredit`, which asks the decider.
A lapsed or withdrawn accreditation suspends every user of the organisation at once.
"""

from __future__ import annotations

import argparse
import datetime as dt

from contactpoint.access import users
from contactpoint.access.models import Accreditation, accreditation_of
from contactpoint.cli.common import Stop, actor_by, answered, organisation_by, parse_date
from contactpoint.registry.models import CouncilArea, Organisation


def add_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="action", required=True)
    listing = sub.add_parser("list", help="organisations with their accreditation")
    listing.add_argument("--area", metavar="CODE", help="only this council area (ONS code)")
    accredit = sub.add_parser("accredit", help="record an accreditation, or withdraw one")
    accredit.add_argument("code", metavar="CODE", help="the organisation's code")
    accredit.add_argument("--by", required=True, help="the e-mail of the user recording it")
    accredit.add_argument(
        "--until", metavar="YYYY-MM-DD", help="when it expires (with --withdraw: today)"
    )
    accredit.add_argument(
        "--withdraw", action="store_true", help="withdraw it: the users are suspended at once"
    )


def run(args: argparse.Namespace) -> int:
    return answered(_list if args.action == "list" else _accredit, args)


def _list(args: argparse.Namespace) -> int:
    organisations = Organisation.objects.select_related("council_area", "accreditation")
    if args.area:
        area = CouncilArea.objects.filter(code=args.area.strip().upper()).first()
        if area is None:
            raise Stop(f"no council area with code {args.area}")
        organisations = organisations.filter(council_area=area)
    today = dt.date.today()
    count = 0
    print("code\tkind\tname\tarea\taccreditation")
    for o in organisations.order_by("council_area__code", "code"):
        area_code = o.council_area.code if o.council_area else "-"
        print(f"{o.code}\t{o.kind}\t{o.name}\t{area_code}\t{status(o, today)}")
        count += 1
    print(f"{count} organisation(s)")
    return 0


def status(organisation: Organisation, today: dt.date) -> str:
    """The accreditation in words: accredited until, lapsed on, withdrawn, or none."""
    a = accreditation_of(organisation)
    if a is None:
        return "not accredited"
    if a.status == Accreditation.Status.WITHDRAWN:
        return f"withdrawn (recorded {a.recorded_at.date().isoformat()})"
    if a.in_force(today):
        return f"accredited until {a.expires_on.isoformat()}"
    return f"lapsed on {a.expires_on.isoformat()}"


def _accredit(args: argparse.Namespace) -> int:
    actor = actor_by(args.by)
    today = dt.date.today()
    if args.until is None and not args.withdraw:
        raise Stop("say when the accreditation expires with --until YYYY-MM-DD")
    until = parse_date("--until", args.until) if args.until else today
    if until < today and not args.withdraw:
        raise Stop("--until is in the past; to end an accreditation now, use --withdraw")
    organisation = organisation_by(args.code)
    users.accredit(actor, organisation, expires_on=until, withdrawn=args.withdraw)
    if args.withdraw:
        print(
            f"withdrew the accreditation of {organisation.name} ({organisation.code}); "
            "its users are suspended and their sessions have ended"
        )
    else:
        print(f"accredited {organisation.name} ({organisation.code}) until {until.isoformat()}")
    return 0
