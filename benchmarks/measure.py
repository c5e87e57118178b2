"""What every benchmark shares: the machine, the commit, the peak memory of a process tree,
and running `contactpoint` (a synthetic population, a timed command, Django in-process)."""

from __future__ import annotations

import json
import os
import pathlib
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass

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


# Benchmarks only: blind indexes truncated to this many fewer bits (see narrow_indexes).
NARROW = "CONTACTPOINT_BENCH_INDEX_BITS_LESS"
# Benchmarks only: "1" writes the bulk paths' rows with executemany on PostgreSQL too, as
# before COPY (see executemany_everywhere), for a before-and-after in one run.
EXECUTEMANY = "CONTACTPOINT_BENCH_EXECUTEMANY"


def narrow_indexes(less: int) -> None:
    """Truncate every blind index to `less` fewer bits in this process, so that a registry
    of N children has buckets as full as one of N * 2**less children has with the real
    sizes (docs/blind-indexes.md). For measuring the cost of full buckets on a registry
    small enough to build; never for data anyone keeps."""
    import dataclasses

    from contactpoint.registry import blind_index

    for index, spec in list(blind_index.SPECS.items()):
        blind_index.SPECS[index] = dataclasses.replace(spec, bits=spec.bits - less)


def narrow_everywhere(less: int) -> None:
    """narrow_indexes in this process and in the processes a bulk load starts afresh to
    write its chunks (spawned: they would otherwise write full-width indexes)."""
    narrow_indexes(less)
    from contactpoint.ingest.bulk import worker as bulkworker

    bulkworker.start = _narrowed_worker_start


def _narrowed_worker_start(parent: int, names: dict[str, str], made: bytes) -> None:
    """bulkworker.start, then narrow_indexes by NARROW's bits (a spawned process has this
    module's directory on its path, and the parent's environment)."""
    from contactpoint.ingest.bulk import worker as bulkworker

    bulkworker.start(parent, names, made)
    narrow_indexes(int(os.environ[NARROW]))


def executemany_everywhere() -> None:
    """Inserter writes with executemany on PostgreSQL, in this process and in the processes
    a bulk load spawns to write its chunks."""
    from contactpoint.ingest.bulk import worker as bulkworker
    from contactpoint.registry import inserts

    inserts.COPY_ON_POSTGRESQL = False
    bulkworker.start = _executemany_worker_start


def _executemany_worker_start(parent: int, names: dict[str, str], made: bytes) -> None:
    """bulkworker.start, then executemany as in the process that spawned this one."""
    from contactpoint.ingest.bulk import worker as bulkworker
    from contactpoint.registry import inserts

    bulkworker.start(parent, names, made)
    inserts.COPY_ON_POSTGRESQL = False


def check_narrowed(less: int) -> None:
    """Refuse a registry whose blind indexes are wider than `less` bits narrower."""
    from contactpoint.registry import blind_index
    from contactpoint.registry.models import BlindIndexEntry

    for index, spec in blind_index.SPECS.items():
        if BlindIndexEntry.objects.filter(index=int(index), value__gte=2**spec.bits).exists():
            raise SystemExit(
                f"the registry's {spec.name} index is wider than {spec.bits} bits: it was not "
                f"built with indexes {less} bits narrower (--occupancy)"
            )


def entry(env: dict[str, str]) -> list[str]:
    """How to run `contactpoint` in `env`: with NARROW, with narrowed indexes
    (narrow_indexes); with EXECUTEMANY, writing bulk rows with executemany on PostgreSQL."""
    if env.get(NARROW):
        return [str(REPO / "benchmarks" / "narrowed.py")]
    if env.get(EXECUTEMANY):
        return [str(REPO / "benchmarks" / "executemany.py")]
    return ["-m", "contactpoint"]


def contactpoint(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    """Run a `contactpoint` command to the end (as `entry` says); its failure ends the
    benchmark."""
    command = [sys.executable, *entry(env), *args]
    return subprocess.run(command, env=env, cwd=REPO, check=True, capture_output=True, text=True)


def synth(env: dict[str, str], children: int, seed: int, out: pathlib.Path) -> int:
    """Write a synthetic population's feeds to `out`; return how many feed rows it wrote."""
    contactpoint(env, "synth", "--children", str(children), "--seed", str(seed), "--out", str(out))
    sources = json.loads((out / "manifest.json").read_text())["sources"]
    return sum(int(s["rows"]) for s in sources.values())


@dataclass(frozen=True)
class Timed:
    seconds: float
    peak: int  # bytes: the process tree's largest summed RSS
    stdout: str
    stderr: str


def run_timed(env: dict[str, str], *args: str) -> Timed:
    """Run a `contactpoint` command (as `entry` says), sampling its process tree's memory
    as it goes.

    Its output goes to files, not pipes, so a chatty command never blocks on a full pipe.
    """
    command = [sys.executable, *entry(env), *args]
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        started = time.monotonic()
        child = subprocess.Popen(command, env=env, cwd=REPO, stdout=out, stderr=err, text=True)
        peak = 0
        while child.poll() is None:
            peak = max(peak, tree_rss(child.pid))
            time.sleep(SAMPLE_SECONDS)
        seconds = time.monotonic() - started
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read().strip(), err.read()
    if child.returncode != 0:
        tail = stderr.strip().splitlines()[-1:]
        raise SystemExit(f"contactpoint {args[0]} failed with status {child.returncode}: {tail}")
    return Timed(seconds, peak, stdout, stderr)


def interleaved(
    ways: list[str], repeat: int, run: Callable[[str], tuple[float, str]]
) -> dict[str, float]:
    """Run each way in turn, `repeat` rounds; `run(way)` gives a rate in rows per second
    and what to print beside it. Prints every run and the medians; returns the medians."""
    rates: dict[str, list[float]] = {way: [] for way in ways}
    for round_ in range(repeat):
        for way in ways:
            rate, said = run(way)
            rates[way].append(rate)
            print(f"round {round_ + 1} {way:12} {said}, {rate:,.0f} rows/s", flush=True)
    medians = {way: statistics.median(got) for way, got in rates.items()}
    for way, median in medians.items():
        print(f"median {way:12} {median:,.0f} rows/s")
    return medians


def timed(read: Callable[[], int], repeat: int) -> tuple[list[float], int]:
    """Run `read` `repeat` times: each run's milliseconds, and what the last one returned
    (how many rows it read)."""
    times, shown = [], 0
    for _ in range(repeat):
        started = time.perf_counter()
        shown = read()
        times.append((time.perf_counter() - started) * 1000)
    return times, shown


def percentile(values: list[float], share: float) -> float:
    """Return the value at this share of the sorted values (nearest rank)."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def registry_env(data: pathlib.Path, less: int, database_url: str | None = None) -> dict[str, str]:
    """The environment of `contactpoint` commands on the registry in `data` (development
    keys), with indexes `less` bits narrower and, with `database_url`, on PostgreSQL (the
    key store in the database of the same name plus `_keys`)."""
    env = {**os.environ, "CONTACTPOINT_ENV": "development", "CONTACTPOINT_DATA_DIR": str(data)}
    if less:
        env[NARROW] = str(less)
    for name in ("DATABASE_URL", "CONTACTPOINT_KEYSTORE_URL"):
        env.pop(name, None)  # never the caller's databases
    if database_url:
        env["DATABASE_URL"] = database_url
        env["CONTACTPOINT_KEYSTORE_URL"] = database_url + "_keys"
    return env


def build_registry(env: dict[str, str], children: int, seed: int, feeds: pathlib.Path) -> float:
    """Write a synthetic population to `feeds` and bulk load it into new databases (as set
    in `env`, see registry_env); return the seconds the load took."""
    synth(env, children, seed, feeds)
    contactpoint(env, "init", "--quiet")
    started = time.monotonic()
    contactpoint(env, "load", "--bulk", "--quiet", str(feeds))
    return time.monotonic() - started


def setup_django(data: pathlib.Path) -> None:
    """Set Django up in this process on the data directory `data` (development settings)."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "contactpoint.settings")
    os.environ.setdefault("CONTACTPOINT_ENV", "development")
    os.environ.setdefault("CONTACTPOINT_DATA_DIR", str(data))
    sys.path.insert(0, str(REPO))
    import django

    django.setup()


def fresh_postgres(url: str) -> None:
    """Drop and make again the database of `url` and its key store (`<name>_keys`)."""
    import urllib.parse

    import psycopg

    parts = urllib.parse.urlsplit(url)
    name = parts.path.lstrip("/")
    if not (name.startswith("bench_") or name.endswith("_bench")):
        raise SystemExit(
            "--database-url: the database name must start with bench_ or end with _bench"
        )
    admin = urllib.parse.urlunsplit(parts._replace(path="/postgres"))
    with psycopg.connect(admin, autocommit=True) as connection:
        for db in (name, name + "_keys"):
            connection.execute(f'DROP DATABASE IF EXISTS "{db}"')
            connection.execute(f'CREATE DATABASE "{db}"')


def registry_here(
    tmp: pathlib.Path, children: int, seed: int, database_url: str | None = None
) -> tuple[pathlib.Path, float]:
    """Build a synthetic registry of `children` in the temporary directory `tmp` (SQLite
    there, or the PostgreSQL database of `database_url`, made afresh) and set Django up in
    this process on it. Returns the feeds folder the registry was loaded from and the
    seconds the bulk load took."""
    data, feeds = tmp / "data", tmp / "feeds"
    data.mkdir()
    if database_url:
        fresh_postgres(database_url)
    env = registry_env(data, 0, database_url)
    load = build_registry(env, children, seed, feeds)
    for name in ("DATABASE_URL", "CONTACTPOINT_KEYSTORE_URL"):
        if name in env:
            os.environ[name] = env[name]
    setup_django(data)
    return feeds, load
