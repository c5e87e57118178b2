"""The log's side of its witness service: bundles, pushes, and what the witness holds.

The witness (`contactpoint witness serve`, contactpoint.audit.witness_service) runs as its
own service with its own store, at CONTACTPOINT_AUDIT_WITNESS_URL. It answers

    GET  <url>/checkpoint       the last checkpoint it countersigned (404: none yet)
    POST <url>/add-checkpoint   a bundle (contactpoint.audit.witness): 200 and the
                                countersigned note; 409 and its own note when the bundle
                                is older than it or proves from another size (ask again);
                                422 on a split view (its alarm); 400 or 403 when refused

`push` sends the newest checkpoint with a consistency proof from the size the witness
holds, computed from the frontier kept with that checkpoint and the events since (so a
push reads seconds of events, not the log). `contactpoint audit verify` reads the
witness's checkpoint back with `fetch`: a log shorter than it, or that does not extend it,
has lost its tail.
"""

from __future__ import annotations

import base64
import json
import urllib.error
import urllib.request
from collections.abc import Sequence
from typing import Any

from contactpoint.audit import checkpoint as notes
from contactpoint.audit import keys, merkle
from contactpoint.audit.models import Checkpoint, Event

BUNDLE_FORMAT = "contactpoint-audit-bundle/v1"
TIMEOUT_SECONDS = 5.0
MAX_NOTE_BYTES = notes.MAX_NOTE_BYTES


class WitnessUnreachable(Exception):
    """The witness could not be asked, or answered something other than the protocol."""


class BehindWitness(Exception):
    """The witness holds a larger tree than the log: the log has lost its tail."""


def fetch(url: str) -> bytes | None:
    """The checkpoint the witness at `url` last countersigned; None when it holds none.

    Raises:
        WitnessUnreachable: no answer, or not one the protocol allows.
    """
    try:
        with urllib.request.urlopen(f"{url}/checkpoint", timeout=TIMEOUT_SECONDS) as answer:  # noqa: S310 - the operator's URL, http(s) only (config)
            return bytes(answer.read(MAX_NOTE_BYTES + 1))
    except urllib.error.HTTPError as exc:
        if exc.code == 404:
            return None
        raise WitnessUnreachable(f"the witness answered {exc.code}") from exc
    except (urllib.error.URLError, OSError) as exc:
        raise WitnessUnreachable(f"the witness cannot be reached: {_reason(exc)}") from exc


def push(url: str) -> bytes | None:
    """Send the newest checkpoint to the witness; return its countersigned note, or None
    when the log has no checkpoint yet.

    Raises:
        BehindWitness: the witness holds more events than the log.
        WitnessUnreachable: the witness could not be asked, or refused the checkpoint.
    """
    for _ in range(2):  # a 409 means another process pushed meanwhile: ask once more
        held = fetch(url)
        since = [] if held is None else [notes.verify(held, keys.public_key()).size]
        document = bundle(since)
        if document is None:
            return None
        code, answer = _post(f"{url}/add-checkpoint", json.dumps(document).encode())
        if code == 200:
            return answer
        if code != 409:
            raise WitnessUnreachable(
                f"the witness refused the checkpoint ({code}): {_text(answer)}"
            )
    raise WitnessUnreachable("the witness kept moving on while the log pushed")


def bundle(since: Sequence[int]) -> dict[str, Any] | None:
    """The newest checkpoint, with a consistency proof from each size in `since`.

    Returns None when the log has no checkpoint.

    Raises:
        BehindWitness: a size in `since` is larger than the newest checkpoint.
    """
    latest = Checkpoint.objects.order_by("-size", "-at").first()
    if latest is None:
        return None
    proofs = {}
    for size in since:
        if size > latest.size:
            raise BehindWitness(
                f"the witness holds {size:,} events but the log's newest checkpoint "
                f"{latest.size:,}: the log has lost its tail"
            )
        proof = proof_between(size, latest.size)
        proofs[str(size)] = [base64.b64encode(h).decode() for h in proof]
    return {"format": BUNDLE_FORMAT, "checkpoint": latest.note, "proofs": proofs}


def proof_between(old_size: int, new_size: int) -> list[bytes]:
    """The consistency proof from old_size to new_size, from the frontier kept with the
    checkpoint at old_size when there is one, else from every event."""
    kept = (
        Checkpoint.objects.filter(size=old_size, frontier__isnull=False)
        .values_list("frontier", flat=True)
        .first()
    )
    if kept is not None or old_size == 0:
        raw = bytes(kept or b"")
        step = merkle.HASH_SIZE
        old = merkle.Frontier(old_size, tuple(raw[i : i + step] for i in range(0, len(raw), step)))
        return merkle.consistency_proof_from(old, _leaves(old_size, new_size))
    return merkle.consistency_proof(_leaves(0, new_size), old_size)


def _leaves(start: int, end: int) -> list[bytes]:
    leaves = [
        merkle.leaf_hash(bytes(c))
        for c in Event.objects.filter(index__gte=start, index__lt=end)
        .order_by("index")
        .values_list("commitment", flat=True)
        .iterator(chunk_size=5000)
    ]
    if len(leaves) != end - start:
        raise BehindWitness(
            f"the log holds {len(leaves):,} of the events {start:,} to {end - 1:,} its "
            "checkpoints cover: run `contactpoint audit verify`"
        )
    return leaves


def _post(url: str, body: bytes) -> tuple[int, bytes]:
    request = urllib.request.Request(  # noqa: S310 - as in fetch
        url, data=body, method="POST", headers={"Content-Type": "application/json"}
    )
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS) as answer:  # noqa: S310
            return answer.status, bytes(answer.read(MAX_NOTE_BYTES + 1))
    except urllib.error.HTTPError as exc:
        return exc.code, bytes(exc.read(MAX_NOTE_BYTES + 1))
    except (urllib.error.URLError, OSError) as exc:
        raise WitnessUnreachable(f"the witness cannot be reached: {_reason(exc)}") from exc


def _reason(exc: BaseException) -> str:
    reason = getattr(exc, "reason", None) or exc
    return str(reason)[:200]


def _text(answer: bytes) -> str:
    return answer.decode("utf-8", "replace").strip()[:200]
