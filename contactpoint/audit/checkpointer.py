"""Keep the audit log signed and witnessed on time, outside the append path.

An append signs a checkpoint itself only when the last is older than
CONTACTPOINT_AUDIT_CHECKPOINT_SECONDS (10). The events after that checkpoint are signed by
a thread in each serving process (`start`, from the gunicorn worker hook in
contactpoint.gunicorn_conf), which every second signs a checkpoint when there are unsigned
events and the last is that old, and pushes each new checkpoint to the witness service
(CONTACTPOINT_AUDIT_WITNESS_URL). A command signs and pushes what it appended before it
exits (`finish`). So an event waits at most about the interval and a second for its
checkpoint, the witness holds it a moment later, and an append pays for neither the
witness nor, but once per interval, the signature.

Failures are logged (ids and reasons only) and tried again on the next tick; `contactpoint
audit verify` fails when an event waited too long or the witness fell behind.
"""

from __future__ import annotations

import logging
import threading

from django.conf import settings
from django.db import close_old_connections, connection

from contactpoint import config
from contactpoint.audit import log, push
from contactpoint.audit.models import Checkpoint

TICK_SECONDS = 1.0
logger = logging.getLogger(__name__)

_started: threading.Thread | None = None
_pushed: tuple[int, str] | None = None  # the (size, note) this process last pushed
_failing = False


def start() -> threading.Thread:
    """Start this process's checkpointer thread (once; a daemon, it ends with the process)."""
    global _started
    if _started is None or not _started.is_alive():
        _started = threading.Thread(target=_loop, name="audit-checkpointer", daemon=True)
        _started.start()
    return _started


def _loop() -> None:
    stop = threading.Event()
    while not stop.wait(TICK_SECONDS):
        tick()


def tick() -> None:
    """Sign a checkpoint if one is due, and push the newest to the witness if it is new."""
    global _failing
    try:
        log.sign_if_pending(older_than=settings.CONTACTPOINT_AUDIT_CHECKPOINT_SECONDS)
        push_if_new()
        if _failing:
            logger.info("audit checkpointer: signing and pushing again")
        _failing = False
    except Exception as exc:  # the thread must outlive any one failure; each is reported
        if not _failing:  # once per run of failures, not every second
            logger.warning("audit checkpointer: %s: %s", type(exc).__name__, exc)
        _failing = True
    finally:
        # A thread's connection is its own: give it back as a request would.
        close_old_connections()
        if connection.vendor == "sqlite":
            connection.close()


def push_if_new() -> None:
    """Push the newest checkpoint to the witness, unless this process already did."""
    global _pushed
    url = config.audit_witness_url()
    if url is None:
        return
    newest = Checkpoint.objects.order_by("-size", "-at").values_list("size", "note").first()
    if newest is None or newest == _pushed:
        return
    push.push(url)
    _pushed = newest


def finish() -> None:
    """At a command's end: sign what it appended and push it. Never raises: the command's
    own work is done, and the serving processes' checkpointer will try again."""
    if not log.appended_here():
        return
    try:
        log.sign_if_pending()
        push_if_new()
    except Exception as exc:  # reported, and retried by the serving processes
        logger.warning("audit: the command's events are not yet signed or witnessed: %s", exc)
