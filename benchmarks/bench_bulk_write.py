"""Benchmark a bulk first load's write alone: CPU a record in one writing process.

Loads a synthetic population's feeds (made once, kept in --feeds) with
`contactpoint load --bulk --workers 1` as far as its write step, keeps the chunks the plan
gives, and writes them --rounds times into the emptied registry (the key store's data
keys too), timing each round's `ChunkWriter.write` calls with `time.process_time`: the
CPU of this process only, which is the writing process's, so the figure holds on a busy
machine where wall-clock time does not. PostgreSQL's own work runs in its server process
and is not counted.

It prints each round's CPU per record, their median, what the write made (children,
waiting and held records) and a fingerprint of the rows written (every source record's
ids, status, method, confidence, as-at date, digest and golden-record bits; every
involvement's child, source record, digests and last confirmation, with its opened facts
and start; every blind index entry; every payload opened): equal fingerprints mean the
same registry, whatever code wrote it. With --profile FILE, one more round runs under
cProfile and its statistics go to FILE.

The code measured is the `contactpoint` package first on `sys.path`, so an older commit is
measured by running this file with `PYTHONPATH` set to a checkout of that commit (and that
checkout as the working directory).

Usage: .venv/bin/python benchmarks/bench_bulk_write.py --database-url
       postgres://postgres@127.0.0.1:5432/cp_x_bench [--children N] [--rounds R]
       [--feeds DIR] [--data DIR] [--profile FILE]
"""

from __future__ import annotations

import argparse
import contextlib
import cProfile
import hashlib
import os
import pathlib
import statistics
import subprocess
import sys
import tempfile
import time
from typing import Any

HERE = pathlib.Path(__file__).resolve().parent
TMP = pathlib.Path(tempfile.gettempdir())  # the feeds and keys, kept from run to run


class _Captured(Exception):
    """Raised in place of the load's write step, once its chunks are kept."""


def prepare(args: argparse.Namespace) -> None:
    """The feeds (once), new databases and Django set up on them in this process."""
    sys.path.insert(1, str(HERE))
    from measure import fresh_postgres, synth

    feeds, data = pathlib.Path(args.feeds), pathlib.Path(args.data)
    data.mkdir(parents=True, exist_ok=True)
    env = {
        **os.environ,
        "CONTACTPOINT_ENV": "development",
        "CONTACTPOINT_DATA_DIR": str(data),
        "DATABASE_URL": args.database_url,
        "CONTACTPOINT_KEYSTORE_URL": args.database_url + "_keys",
    }
    if not (feeds / "manifest.json").exists():
        synth(env, args.children, args.seed, feeds)
    fresh_postgres(args.database_url)
    # The code measured makes its own databases (the package first on sys.path).
    init = [sys.executable, "-m", "contactpoint", "init", "--quiet"]
    subprocess.run(init, env=env, check=True, cwd=os.getcwd())
    os.environ.update({k: env[k] for k in env if k.startswith(("CONTACTPOINT_", "DATABASE_"))})
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "contactpoint.settings")
    import django

    django.setup()


def chunks_of(feeds: pathlib.Path) -> tuple[Any, list[Any]]:
    """The load's writer and every chunk it would write, the load stopped there."""
    from contactpoint.ingest.bulk import load

    kept: dict[str, Any] = {}

    def keep(chunks: Any, writer: Any, *_: Any) -> None:
        kept["writer"], kept["chunks"] = writer, list(chunks)
        raise _Captured

    load._write = keep  # type: ignore[assignment]
    with contextlib.suppress(_Captured):
        load.bulk_load_folder(feeds, workers=1)
    return kept["writer"], kept["chunks"]


def tables() -> dict[str, list[str]]:
    """Every table of each database, by alias."""
    from django.db import connections

    return {alias: connections[alias].introspection.table_names() for alias in ("default", "keys")}


def counts(names: dict[str, list[str]]) -> dict[tuple[str, str], int]:
    from django.db import connections

    found = {}
    for alias, tables_ in names.items():
        with connections[alias].cursor() as cursor:
            for table in tables_:
                cursor.execute(f'SELECT count(*) FROM "{table}"')  # noqa: S608 (introspected)
                found[(alias, table)] = cursor.fetchone()[0]
    return found


def empty(grown: list[tuple[str, str]]) -> None:
    """Empty the tables a write filled (each was empty before the first), and those that
    refer to them (empty too: `main` checks)."""
    from django.db import connections

    for alias in ("default", "keys"):
        names = ", ".join(f'"{t}"' for a, t in grown if a == alias)
        if names:
            with connections[alias].cursor() as cursor:
                cursor.execute(f"TRUNCATE {names} CASCADE")


def server_cpu() -> float | None:
    """The CPU seconds the database server's processes serving this one have used (None:
    not PostgreSQL on this machine, or not readable)."""
    from django.db import connections

    total = 0.0
    for alias in ("default", "keys"):
        connection = connections[alias]
        if connection.vendor != "postgresql":
            return None
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_backend_pid()")
            pid = cursor.fetchone()[0]
        try:
            stat = pathlib.Path(f"/proc/{pid}/stat").read_text()
        except OSError:
            return None
        ticks = stat.rsplit(")", 1)[1].split()[11:13]  # utime and stime
        total += sum(int(t) for t in ticks) / os.sysconf("SC_CLK_TCK")
    return total


def write_all(writer: Any, chunks: list[Any]) -> tuple[float, float | None, tuple[int, int, int]]:
    """Write every chunk; the CPU seconds it took here and in the database server, and
    what was written."""
    made = [0, 0, 0]
    server = server_cpu()
    started = time.process_time()
    for chunk in chunks:
        written = writer.write(chunk)
        made[0] += written.children
        made[1] += written.waiting
        made[2] += written.held
    seconds = time.process_time() - started
    after = server_cpu()
    served = None if server is None or after is None else after - server
    return seconds, served, (made[0], made[1], made[2])


def fingerprint() -> str:
    """A digest of the rows written, the random parts (nonces, involvement ids) left out
    and every sealed value opened instead."""
    from contactpoint.registry import involvement_facts, origins, payloads
    from contactpoint.registry.children import ciphers_for
    from contactpoint.registry.models import BlindIndexEntry, Child, Involvement, SourceRecord

    digest = hashlib.sha256()
    records = SourceRecord.objects.order_by("pk")
    ciphers = ciphers_for(set(records.values_list("child_id", flat=True)) - {None})
    ciphers |= ciphers_for(set(records.filter(child=None).values_list("pk", flat=True)))
    for sr in records:
        cipher = ciphers[sr.child_id or sr.pk]
        opened = payloads.open_payload(cipher, sr.pk, sr.payload)
        source = origins.open_origin(cipher, sr.pk, sr.origin)
        row: list[Any] = [sr.pk, source, bytes(sr.record_ref), sr.child_id, sr.status]
        row += [sr.method, sr.confidence, sr.as_at, bytes(sr.digest), sr.preferred]
        digest.update(repr([*row, opened, sr.history]).encode())
    digest.update(repr(sorted(Child.objects.values_list("pk", flat=True))).encode())
    inv = sorted(
        Involvement.objects.all(), key=lambda i: (i.child_id, bytes(i.slot), i.source_record_id)
    )
    for i in inv:
        facts = involvement_facts.facts_one(i)
        start = involvement_facts.started(ciphers[i.child_id], i)
        row = [i.child_id, i.source_record_id, bytes(i.slot), bytes(i.member)]
        row += [bytes(i.area_member), i.last_confirmed, i.end_date, facts, start]
        digest.update(repr([*row, i.organisation_id, i.practitioner_id]).encode())
    entries = BlindIndexEntry.objects.order_by().values_list()
    digest.update(repr(sorted((e[1:] for e in entries), key=repr)).encode())
    return digest.hexdigest()[:16]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--database-url", required=True, help="a name ending _bench")
    parser.add_argument("--children", type=int, default=5000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--feeds", default=str(TMP / "bench_bulk_write_feeds"))
    parser.add_argument("--data", default=str(TMP / "bench_bulk_write_data"))
    parser.add_argument("--profile", help="one more round under cProfile, its stats here")
    args = parser.parse_args()
    prepare(args)
    writer, chunks = chunks_of(pathlib.Path(args.feeds))
    records = sum(len(u.records) for c in chunks for u in c)
    names = tables()
    before = counts(names)
    grown: list[tuple[str, str]] = []
    per_record = []
    for round_ in range(args.rounds):
        empty(grown)
        if grown and counts(names) != {t: 0 if t in grown else n for t, n in before.items()}:
            raise SystemExit("emptying the registry emptied more than the write filled")
        seconds, served, made = write_all(writer, chunks)
        per_record.append(seconds / records * 1000)
        server = "" if served is None else f"; the server {served / records * 1000:.3f} ms"
        print(
            f"round {round_ + 1}: {records:,} records, {seconds:.2f} s CPU, "
            f"{per_record[-1]:.3f} ms a record{server}",
            flush=True,
        )
        if not grown:
            grown = [t for t, n in counts(names).items() if n > before[t]]
            if any(before[t] for t in grown):
                raise SystemExit("a table the write fills held rows before it")
    print(f"median: {statistics.median(per_record):.3f} ms CPU a record")
    print(f"written: {made[0]:,} children, {made[1]:,} records waiting, {made[2]:,} held")
    print(f"fingerprint: {fingerprint()}")
    if args.profile:
        empty(grown)
        profile = cProfile.Profile()
        profile.enable()
        write_all(writer, chunks)
        profile.disable()
        profile.dump_stats(args.profile)
    return 0


if __name__ == "__main__":
    sys.exit(main())
