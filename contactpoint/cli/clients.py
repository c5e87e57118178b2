"""`contactpoint clients`: API clients for case-management systems and source feeds.

A client acts for one accredited organisation in one role and trades its id and secret
for short-lived tokens (`contactpoint.access.clients`, which asks the decider). The
secret is printed once, when the client is made; only its hash is kept.
"""

from __future__ import annotations

import argparse

from contactpoint.access.clients import create_client, disable_client
from contactpoint.access.models import ApiClient
from contactpoint.cli.common import Stop, actor_by, answered, organisation_by, parse_role


def add_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="action", required=True)
    create = sub.add_parser("create", help="register a client; prints its id and secret once")
    create.add_argument("--by", required=True, help="the e-mail of the user registering it")
    create.add_argument("--name", required=True, help="what the client is, e.g. the system")
    create.add_argument("--organisation", required=True, metavar="CODE", help="who it acts for")
    create.add_argument("--role", required=True, help="the role it acts in")
    disable = sub.add_parser("disable", help="stop a client; its tokens end at once")
    disable.add_argument("client_id", metavar="CLIENT_ID")
    disable.add_argument("--by", required=True, help="the e-mail of the user disabling it")


def run(args: argparse.Namespace) -> int:
    return answered(_create if args.action == "create" else _disable, args)


def _create(args: argparse.Namespace) -> int:
    actor = actor_by(args.by)
    organisation = organisation_by(args.organisation)
    role = parse_role(args.role)
    client, secret = create_client(actor, name=args.name, organisation=organisation, role=role)
    print(f"created client {client.name!r} for {organisation.name} ({organisation.code})")
    print(f"client id:     {client.client_id}")
    print(f"client secret: {secret}")
    print(
        "The secret is shown this once and never kept: put it straight into the client's "
        "configuration or secret store, never into e-mail, chat or a ticket."
    )
    return 0


def _disable(args: argparse.Namespace) -> int:
    actor = actor_by(args.by)
    client = ApiClient.objects.filter(client_id=args.client_id.strip()).first()
    if client is None:
        raise Stop(f"no client {args.client_id}")
    disable_client(actor, client)
    print(f"disabled client {client.client_id}; every token it held has ended")
    return 0
