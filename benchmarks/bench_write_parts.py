"""Benchmark the CPU of a bulk load's write, by part, without a profiler.

Generates a population with `synth`, then bulk loads it `--repeat` times with one writer
(`--workers 1`: every chunk is written in the loading process) into the PostgreSQL
database of --database-url (made afresh each time; its name must end with `_bench` or
start with `bench_`), and prints the CPU seconds (`time.thread_time`: of the thread that
writes, so no other thread of the loading process counts) of
the whole write (`ChunkWriter.write`) and of the parts it calls: the golden record and
blind-index entries (`golden.choose_new`), the data keys (`keys.ensure_data_keys`) and the
contactpoint IDs (`children.issue_cpids`), then the medians. With --profile, one more load
runs with the write under cProfile and prints each part's share of it.

The parts are timed by wrapping those functions in the loading process (benchmarks only),
so the script measures any commit that has them: copy it into a worktree of that commit.

Usage: .venv/bin/python benchmarks/bench_write_parts.py --children 5000 --repeat 3 \
           --database-url postgres://postgres@127.0.0.1:5432/cp_golden_bench [--profile]
"""

from __future__ import annotations

import argparse
import json
import os
import pathlib
import statistics
import subprocess
import sys
import tempfile

from measure import REPO, commit, contactpoint, fresh_postgres, machine, registry_env, synth

PARTS = (
    ("write", "contactpoint.ingest.bulk.write", "ChunkWriter.write"),
    ("golden", "contactpoint.registry.golden", "choose_new"),
    ("keys", "contactpoint.keystore.service", "ensure_data_keys"),
    ("cpids", "contactpoint.registry.children", "issue_cpids"),
)
RESULT = "CONTACTPOINT_BENCH_PARTS_OUT"
PROFILE = "CONTACTPOINT_BENCH_PARTS_PROFILE"


def _instrument() -> None:
    """Wrap each part so its CPU seconds add up; write them to RESULT when the load ends."""
    import atexit
    import cProfile
    import functools
    import importlib
    import pstats
    import time
    from typing import Any

    spent = dict.fromkeys((name for name, _, _ in PARTS), 0.0)
    profiler = cProfile.Profile() if os.environ.get(PROFILE) else None

    def timed(name: str, function: Any) -> Any:
        @functools.wraps(function)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            started = time.thread_time()
            try:
                if name == "write" and profiler is not None:
                    return profiler.runcall(function, *args, **kwargs)
                return function(*args, **kwargs)
            finally:
                spent[name] += time.thread_time() - started

        return wrapper

    for name, module, attribute in PARTS:
        owner: Any = importlib.import_module(module)
        *path, last = attribute.split(".")
        for step in path:
            owner = getattr(owner, step)
        setattr(owner, last, timed(name, getattr(owner, last)))

    def report() -> None:
        result: dict[str, Any] = {"cpu": spent}
        if profiler is not None:
            stats = pstats.Stats(profiler)
            result["profile"] = {
                f"{pathlib.Path(file).name}:{function}": entry[3]
                for (file, _, function), entry in stats.stats.items()  # type: ignore[attr-defined]
            }
        pathlib.Path(os.environ[RESULT]).write_text(json.dumps(result))

    atexit.register(report)


def load(feeds: pathlib.Path, url: str, tmp: pathlib.Path, profile: bool) -> dict[str, object]:
    """One bulk load with one writer into fresh databases; the parts' CPU seconds, the
    load's summary and, with `profile`, cumulative seconds by function."""
    data = pathlib.Path(tempfile.mkdtemp(prefix="var-", dir=tmp))
    fresh_postgres(url)
    env = registry_env(data, 0, url)
    env[RESULT] = str(data / "parts.json")
    if profile:
        env[PROFILE] = "1"
    contactpoint(env, "init", "--quiet")
    command = [sys.executable, __file__, "--run", "load", "--bulk", "--workers", "1", str(feeds)]
    done = subprocess.run(command, env=env, cwd=REPO, check=True, capture_output=True, text=True)
    result: dict[str, object] = json.loads((data / "parts.json").read_text())
    result["summary"] = done.stdout.strip()
    return result


# What the profile table shows: the part, and the function whose cumulative time it is.
PROFILED = (
    ("golden record and blind index entries", "golden.py:choose_new"),
    ("of which blind index entries", "golden.py:index_entries"),
    ("of which survivorship", "record_facts.py:choose"),
    ("HMACs (`crypto.keyed_digest`, every caller)", "crypto.py:keyed_digest"),
    ("data keys", "service.py:ensure_data_keys"),
    ("contactpoint IDs", "children.py:issue_cpids"),
)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--children", type=int, default=5000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--profile", action="store_true", help="one more load under cProfile")
    parser.add_argument("--database-url", required=True)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-parts-") as name:
        tmp = pathlib.Path(name)
        feeds = tmp / "feeds"
        rows = synth(registry_env(tmp / "synth", 0), args.children, args.seed, feeds)
        print(f"machine:   {machine()}, load average {os.getloadavg()[0]:.1f}")
        print(f"commit:    {commit()}")
        print(f"children:  {args.children:,} (seed {args.seed}), {rows:,} feed rows")
        runs: dict[str, list[float]] = {part: [] for part, _, _ in PARTS}
        for round_ in range(args.repeat):
            result = load(feeds, args.database_url, tmp, False)
            cpu: dict[str, float] = result["cpu"]  # type: ignore[assignment]
            for part, seconds in cpu.items():
                runs[part].append(seconds)
            said = ", ".join(f"{part} {seconds:.2f} s" for part, seconds in cpu.items())
            print(f"run {round_ + 1}:     CPU {said}; {result['summary']}", flush=True)
        said = ", ".join(f"{part} {statistics.median(got):.2f} s" for part, got in runs.items())
        print(f"median:    CPU {said}")
        if args.profile:
            result = load(feeds, args.database_url, tmp, True)
            cumulative: dict[str, float] = result["profile"]  # type: ignore[assignment]
            whole = cumulative["write.py:write"]
            print(f"profile:   whole write {whole:.1f} s under cProfile")
            for label, key in PROFILED:
                seconds = cumulative.get(key, 0.0)
                print(f"           {label}: {seconds:.2f} s, {seconds / whole:.0%}")
    return 0


if __name__ == "__main__":
    if sys.argv[1:2] == ["--run"]:
        sys.path.insert(0, str(REPO))
        os.environ.setdefault("DJANGO_SETTINGS_MODULE", "contactpoint.settings")
        import django

        django.setup()  # the command sets it up again, which changes nothing
        _instrument()
        sys.argv = ["contactpoint", *sys.argv[2:]]
        import runpy

        runpy.run_module("contactpoint", run_name="__main__", alter_sys=True)
    else:
        sys.exit(main())
