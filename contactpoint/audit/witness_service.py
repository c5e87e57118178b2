"""`contactpoint witness serve`: the witness as a service of its own, with its own store.

It runs on another host (ideally in another organisation) with its own Ed25519 key and a
state directory no one else writes (CONTACTPOINT_WITNESS_DIR or --state; production
refuses one inside CONTACTPOINT_DATA_DIR). It needs no database and no key of the log but
its public one, and Django is never loaded. The log pushes each checkpoint to it
(contactpoint.audit.push); it countersigns those that extend the last it countersigned
(contactpoint.audit.witness) and keeps the evidence of a split view under DIR/alarms.

    GET  /checkpoint       200: the last checkpoint countersigned; 404: none yet
    POST /add-checkpoint   a bundle; 200: the countersigned note; 409: older than the one
                           held, or no proof from its size (body: the note held); 422: a
                           split view, alarm written; 403: not signed by the log; 400:
                           malformed; 503: the store could not be used

Anyone may post: only checkpoints the log signed are countersigned, and an old one posted
again gets 409, never an alarm. Put TLS in front of it outside one host. At start it
prints its verifier key, which the log's operator sets as CONTACTPOINT_AUDIT_WITNESS_KEY.
"""

from __future__ import annotations

import argparse
import os
import sys
import threading
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from contactpoint import config
from contactpoint.audit import keys as log_keys
from contactpoint.audit import witness
from contactpoint.audit.checkpoint import vkey

WITNESS_DIR = "CONTACTPOINT_WITNESS_DIR"
REQUEST_TIMEOUT_SECONDS = 10


def add_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="action", required=True)
    serve = sub.add_parser("serve", help="countersign the checkpoints the log pushes")
    serve.add_argument("--listen", default="127.0.0.1:8790", help="address:port (127.0.0.1:8790)")
    serve.add_argument("--state", type=Path, help=f"the witness's own store (${WITNESS_DIR})")
    serve.add_argument("--log-key", type=Path, required=True, help="the log's public key (PEM)")
    serve.add_argument("--log-name", default=None, help="the log's name (its checkpoints' origin)")
    serve.add_argument("--key", type=Path, required=True, help="the witness's private key (PEM)")
    serve.add_argument("--name", required=True, help="the witness's key name")


def run(args: argparse.Namespace) -> int:
    state = store(args.state)
    try:
        keys = witness.WitnessKeys(
            log_name=args.log_name or log_keys.log_name(),
            log_key=witness.load_public_key(args.log_key),
            witness_name=args.name,
            witness_key=witness.load_private_key(args.key),
        )
    except witness.BadKeyFile as exc:
        raise config.ConfigurationError(str(exc)) from exc
    host, _, port = args.listen.rpartition(":")
    server = make_server(host, int(port), state, keys)
    print(f"witness of {keys.log_name} listening on {args.listen}, store {state}", flush=True)
    # What the log's operator sets as CONTACTPOINT_AUDIT_WITNESS_KEY, so that verify trusts
    # only notes this witness countersigned.
    print(f"verifier key: {vkey(keys.witness_name, keys.witness_key.public_key())}", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return 0


def store(given: Path | None) -> Path:
    """The witness's state directory: --state, else CONTACTPOINT_WITNESS_DIR; outside
    development never inside the log's data directory (the store must outlive its host)."""
    named = given or (Path(os.environ[WITNESS_DIR]) if os.environ.get(WITNESS_DIR) else None)
    if named is None:
        raise config.ConfigurationError(f"give --state or set {WITNESS_DIR}")
    path = named.resolve()
    if not config.is_development() and path.is_relative_to(config.data_dir()):
        raise config.ConfigurationError(
            f"the witness's store {path} is inside CONTACTPOINT_DATA_DIR: keep it on another "
            "host than the log's database"
        )
    return path


def make_server(
    host: str, port: int, state: Path, keys: witness.WitnessKeys
) -> ThreadingHTTPServer:
    """An HTTP server of the witness protocol over `state`, not yet serving."""
    lock = threading.Lock()  # one countersigning at a time: the state's own lock never waits

    class Handler(BaseHTTPRequestHandler):
        timeout = REQUEST_TIMEOUT_SECONDS
        server_version = "contactpoint-witness"

        def do_GET(self) -> None:
            if self.path != "/checkpoint":
                return self._answer(404, b"not found\n")
            try:
                note = (state / witness.STATE_FILE).read_bytes()
            except FileNotFoundError:
                return self._answer(404, b"no checkpoint yet\n")
            self._answer(200, note)

        def do_POST(self) -> None:
            if self.path != "/add-checkpoint":
                return self._answer(404, b"not found\n")
            length = int(self.headers.get("Content-Length") or 0)
            if not 0 < length < witness.MAX_BUNDLE_BYTES:
                return self._answer(400, b"a bundle of under 1 MiB is needed\n")
            body = self.rfile.read(length)
            with lock:
                code, answer = countersign(state, keys, body)
            self._answer(code, answer)

        def _answer(self, code: int, body: bytes) -> None:
            self.send_response(code)
            self.send_header("Content-Type", "text/plain; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    return ThreadingHTTPServer((host, port), Handler)


def countersign(state: Path, keys: witness.WitnessKeys, body: bytes) -> tuple[int, bytes]:
    """Answer one pushed bundle: the status code and body of the protocol."""
    try:
        note = witness.witness(state, keys, body, datetime.now(UTC), replay_is_alarm=False)
    except witness.Stale as exc:
        return 409, exc.last
    except witness.SplitView as alarm:
        print(f"ALARM: split view: {alarm.reason}; evidence in {alarm.evidence}", file=sys.stderr)
        return 422, f"split view: {alarm.reason}\n".encode()
    except witness.BadBundle as exc:
        code = 403 if "not signed by the log" in str(exc) else 400
        return code, f"{exc}\n".encode()
    except (witness.StateError, OSError) as exc:
        print(f"witness: the store cannot be used: {exc}", file=sys.stderr)
        return 503, b"the witness's store cannot be used\n"
    return 200, note
