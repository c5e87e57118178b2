"""Whether this process may fork worker processes."""

from __future__ import annotations

import threading


def may_fork() -> bool:
    """Fork only a process with one thread: a lock another thread holds at the moment of
    the fork stays held for ever in the child. Seen as a bulk load that hung inside a
    pytest-xdist worker, whose execnet thread runs beside the tests; the same would hold
    for any caller with a thread of its own. The command line has one thread."""
    return threading.active_count() == 1
