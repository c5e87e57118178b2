"""What every benchmark prints: the machine, the commit, and the peak memory of a process tree."""

from __future__ import annotations

import os
import pathlib
import platform
import subprocess

SAMPLE_SECONDS = 0.5
REPO = pathlib.Path(__file__).resolve().parent.parent


def children_of(pid: int) -> list[int]:
    """Return the pids of every descendant of pid."""
    found: list[int] = []
    todo = [pid]
    while todo:
        parent = todo.pop()
        for task in pathlib.Path(f"/proc/{parent}/task").glob("*"):
            try:
                kids = (task / "children").read_text().split()
            except OSError:
                continue
            found.extend(int(k) for k in kids)
            todo.extend(int(k) for k in kids)
    return found


def rss_bytes(pid: int) -> int:
    """Return the resident set size of one process, or 0 if it has gone."""
    try:
        for line in pathlib.Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def tree_rss(pid: int) -> int:
    """Return the summed RSS of pid and all its descendants."""
    return sum(rss_bytes(p) for p in [pid, *children_of(pid)])


def machine() -> str:
    """Return CPU model, core count and RAM."""
    model = "unknown CPU"
    for line in pathlib.Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            model = line.split(":", 1)[1].strip()
            break
    mem_kb = int(pathlib.Path("/proc/meminfo").read_text().split()[1])
    ram = mem_kb / 1024**2
    return f"{model}, {os.cpu_count()} cores, {ram:.1f} GiB RAM, Python {platform.python_version()}"


def commit() -> str:
    """Return the short git commit, or a note that there is none."""
    try:
        done = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            cwd=REPO,
            capture_output=True,
            text=True,
            check=False,
        )
    except OSError:
        return "(no git)"
    return done.stdout.strip() or "(no commit)"
