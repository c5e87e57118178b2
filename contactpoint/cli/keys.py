"""`contactpoint keys status|rotate|retire`: key-encryption keys and the data keys they wrap.

A rotation and a retirement are audited (`keys:kek:rotate`, `keys:kek:retire`) before they
start, under no principal but the operating-system account that ran the command. The
keyring file and the key store are not the audit log's database, so the event cannot share
their transaction: it is written first, and when it cannot be, nothing is changed.
"""

from __future__ import annotations

import argparse

from contactpoint.access.users import cli_operator
from contactpoint.audit import log as audit_log
from contactpoint.cli import error, progress
from contactpoint.keystore import service
from contactpoint.keystore.models import DataKey
from contactpoint.keystore.provider import FileKeyProvider, get_provider
from contactpoint.registry.models import Child, SourceRecord


def add_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="action", required=True)
    status = sub.add_parser("status", help="which key-encryption key wraps how many data keys")
    status.add_argument(
        "--orphans",
        action="store_true",
        help="also count data keys whose child or record is not in the registry (reads every id)",
    )
    sub.add_parser("rotate", help="make a new key-encryption key and re-wrap every data key")
    retire = sub.add_parser("retire", help="remove an old key that wraps nothing any more")
    retire.add_argument("key_id")


def run(args: argparse.Namespace) -> int:
    action: int = {"status": _status, "rotate": _rotate, "retire": _retire}[args.action](args)
    return action


def _status(args: argparse.Namespace) -> int:
    status = service.status()
    print("key\tactive\tdata keys")
    for key_id in sorted(set(status.known) | set(status.wrapped_by)):
        held = "" if key_id in status.known else "\tMISSING FROM KEYRING"
        active = "yes" if key_id == status.active else "no"
        print(f"{key_id}\t{active}\t{status.wrapped_by.get(key_id, 0)}{held}")
    if args.orphans:
        print(f"data keys with no child or record in the registry: {count_orphans():,}")
    return 0


def count_orphans(chunk: int = 5000) -> int:
    """Data keys whose owner is neither a child nor a source record.

    A load interrupted between the key store's commit and the registry's can leave one; the
    next run of the same file reuses it (owner ids derive from the records), so a lasting
    orphan means a feed file changed or was withdrawn after an interrupted load.
    """
    orphans, last = 0, None
    while True:
        query = DataKey.objects.order_by("owner_id").values_list("owner_id", flat=True)
        ids = list((query.filter(owner_id__gt=last) if last else query)[:chunk])
        if not ids:
            return orphans
        known = set(Child.objects.filter(id__in=ids).values_list("id", flat=True))
        known |= set(SourceRecord.objects.filter(id__in=ids).values_list("id", flat=True))
        orphans += len(set(ids) - known)
        last = ids[-1]


UNAUDITED = "the key change cannot be recorded in the audit log just now, so nothing was changed"


def _audited(action: str, **details: str) -> bool:
    """Write the audit event of a key change before it; False when the log cannot be written."""
    try:
        audit_log.append(audit_log.entry(None, action, details=details | cli_operator()))
    except audit_log.AuditUnavailable:
        return False
    return True


def _file_provider() -> FileKeyProvider | None:
    provider = get_provider()
    return provider if isinstance(provider, FileKeyProvider) and provider.path else None


def _rotate(args: argparse.Namespace) -> int:
    provider = _file_provider()
    if provider is None:
        return error("rotation needs a keyring file (CONTACTPOINT_KEK_FILE)")
    if not _audited("keys:kek:rotate", replaces=provider.active_key_id()):
        return error(UNAUDITED)
    key_id = provider.add_active_key()
    progress(f"keys: {key_id} is now the active key-encryption key")
    done = service.rewrap_all(progress=lambda n: progress(f"keys: {n:,} data keys re-wrapped"))
    print(
        f"re-wrapped {done:,} data keys under {key_id}; retire old keys with "
        "`contactpoint keys retire KEY_ID` once no backup of the key store needs them"
    )
    return 0


def _retire(args: argparse.Namespace) -> int:
    provider = _file_provider()
    if provider is None:
        return error("retiring needs a keyring file (CONTACTPOINT_KEK_FILE)")
    if args.key_id not in provider.key_ids():
        return error(f"{args.key_id} is not in the keyring")
    if args.key_id == provider.active_key_id():
        return error("the active key cannot be retired; rotate first")
    still = DataKey.objects.filter(kek_id=args.key_id).count()
    if still:
        return error(f"{still:,} data keys are still wrapped under {args.key_id}; run rotate")
    if not _audited("keys:kek:retire", key=args.key_id):
        return error(UNAUDITED)
    provider.retire(args.key_id)
    print(f"retired {args.key_id}")
    return 0
