"""Whether this process may fork worker processes."""

from __future__ import annotations

import sys


def may_fork() -> bool:
    """Fork only a process with one Python thread: a lock another thread holds at the
    moment of the fork stays held for ever in the child. Seen as a bulk load that hung, and
    forked readers that crashed, inside a pytest-xdist worker, whose execnet thread runs
    beside the tests; the same would hold for any caller with a thread of its own. The
    command line has one.

    Every thread running Python code counts, including those started with `_thread` as
    execnet's is, which `threading.active_count()` does not see. The native pools of
    numpy, Arrow and DuckDB hold no Python lock and do not count (the command line has
    them too)."""
    return len(sys._current_frames()) == 1
