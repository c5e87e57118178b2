"""`contactpoint audit`: check the tamper-evident audit log, sign its checkpoints, and
export them to a witness (docs/audit.md).

- `verify [--checkpoint NOTE ...] [--witness URL]`: check every event against the signed
  checkpoints (and those held elsewhere: the log's file, the witness service's, a copy),
  and that the log was signed and witnessed on time; exit 1 and say what is wrong.
- `checkpoint`: sign a checkpoint now, and push it to the witness service.
- `public-key`: print the log's public key (PEM), for witnesses and auditors.
- `export [--since SIZE]`: the latest checkpoint and a consistency proof from SIZE, as
  the bundle a witness reads.
- `witness --state DIR --log-key PEM --key PEM --name NAME BUNDLE`: be the witness by hand
  (`contactpoint witness serve` is the same as a service the log pushes to): countersign
  a checkpoint that extends the last one seen, or raise the alarm on a split view (exit 3;
  the evidence is kept under DIR/alarms).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
from pathlib import Path

from contactpoint import config
from contactpoint.audit import keys, log, push, witness
from contactpoint.audit.verify import verify
from contactpoint.cli import progress


def add_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="action", required=True)
    check = sub.add_parser("verify", help="check every event against the signed checkpoints")
    check.add_argument(
        "--checkpoint",
        type=Path,
        action="append",
        default=[],
        help="a signed checkpoint kept outside the database (a witness's copy); repeatable",
    )
    check.add_argument(
        "--witness",
        metavar="URL",
        help="the witness service to check against (default: CONTACTPOINT_AUDIT_WITNESS_URL)",
    )
    sub.add_parser("checkpoint", help="sign a checkpoint of the log now")
    sub.add_parser("public-key", help="print the log's public key (PEM)")
    export = sub.add_parser("export", help="the latest checkpoint for a witness, with a proof")
    export.add_argument("--since", type=int, action="append", default=[], metavar="SIZE")
    watch = sub.add_parser("witness", help="countersign a checkpoint as an independent witness")
    watch.add_argument("bundle", type=Path, help="the bundle `audit export` wrote")
    watch.add_argument("--state", type=Path, required=True, help="the witness's own directory")
    watch.add_argument("--log-key", type=Path, required=True, help="the log's public key (PEM)")
    watch.add_argument("--log-name", default=None, help="the log's name (default: this log's)")
    watch.add_argument("--key", type=Path, required=True, help="the witness's private key (PEM)")
    watch.add_argument("--name", required=True, help="the witness's key name")


def run(args: argparse.Namespace) -> int:
    action: str = args.action
    if action == "verify":
        return _verify(args.checkpoint, args.witness)
    if action == "checkpoint":
        row = log.sign_checkpoint()
        print(f"signed a checkpoint at size {row.size:,}")
        return _push()
    if action == "witness":
        return _witness(args)
    if action == "public-key":
        print(keys.public_pem(keys.public_key()), end="")
        return 0
    return _export(args.since)


def _push() -> int:
    url = config.audit_witness_url()
    if url is None:
        return 0
    try:
        push.push(url)
    except (push.WitnessUnreachable, push.BehindWitness) as exc:
        print(f"contactpoint: error: not witnessed: {exc}", file=sys.stderr)
        return 1
    print(f"pushed to the witness at {url}")
    return 0


def _verify(paths: list[Path], witness_url: str | None) -> int:
    outside = []
    for path in paths:
        try:
            outside.append((f"the checkpoint in {path}", path.read_bytes()))
        except OSError as exc:
            print(f"contactpoint: error: {path} cannot be read: {exc.strerror}", file=sys.stderr)
            return 2
    progress("audit: verifying every event")
    report = verify(outside, witness_url)
    for problem in report.problems:
        print(f"PROBLEM: {problem}")
    for period, count in sorted(report.shredded.items()):
        print(f"shredded: {count:,} events of {period} (their key was destroyed; proofs hold)")
    latest = report.latest
    signed = f"latest at size {latest.size:,}, {latest.at:%Y-%m-%d %H:%M:%S} UTC" if latest else ""
    held = report.witness
    if held is not None:
        print(f"witness: holds size {held.size:,}, signed {held.at:%Y-%m-%d %H:%M:%S} UTC")
    elif not (witness_url or config.audit_witness_url()):
        print("no witness (CONTACTPOINT_AUDIT_WITNESS_URL): a cut tail shows only by time")
    verdict = "FAILED" if report.problems else "OK"
    print(
        f"{verdict}: {report.events:,} events, {report.checkpoints:,} signed checkpoints"
        + (f" ({signed})" if signed else "")
        + (f", {len(report.problems)} problems" if report.problems else "")
    )
    return 1 if report.problems else 0


def _export(since: list[int]) -> int:
    bad = [s for s in since if s < 0]
    if bad:
        print(f"contactpoint: error: --since {bad[0]} is not a size", file=sys.stderr)
        return 2
    try:
        bundle = push.bundle(since)
    except push.BehindWitness as exc:
        print(f"contactpoint: error: {exc}", file=sys.stderr)
        return 1
    if bundle is None:
        print("contactpoint: error: the log has no checkpoint yet", file=sys.stderr)
        return 2
    print(json.dumps(bundle, indent=2))
    return 0


def _witness(args: argparse.Namespace) -> int:
    try:
        keys_of = witness.WitnessKeys(
            log_name=args.log_name or keys.log_name(),
            log_key=witness.load_public_key(args.log_key),
            witness_name=args.name,
            witness_key=witness.load_private_key(args.key),
        )
        bundle = args.bundle.read_bytes()
        note = witness.witness(args.state, keys_of, bundle, dt.datetime.now(dt.UTC))
    except witness.SplitView as alarm:
        print(f"ALARM: split view: {alarm.reason}; evidence in {alarm.evidence}", file=sys.stderr)
        return 3
    except (witness.BadBundle, witness.StateError, witness.BadKeyFile, OSError) as exc:
        print(f"contactpoint: error: {exc}", file=sys.stderr)
        return 2
    sys.stdout.write(note.decode())
    return 0
