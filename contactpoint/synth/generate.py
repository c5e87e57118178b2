"""Generate the whole population: shards in parallel, then the manifest."""

from __future__ import annotations

import datetime as dt
import json
import multiprocessing
import os
import pathlib
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field

from contactpoint.synth import feeds, ids, organisations, rates, writer
from contactpoint.synth.households import build_shard


@dataclass(frozen=True)
class SourceSummary:
    """Rows and part files of one source."""

    rows: int
    files: list[str]


@dataclass(frozen=True)
class Manifest:
    """What was generated: written as OUT/manifest.json."""

    seed: int
    children: int
    generated_at: str
    as_at: str
    sources: dict[str, SourceSummary]
    organisations: int
    bytes_written: int = field(default=0, compare=False)
    format: str = rates.FORMAT

    def to_json(self) -> str:
        """Return the manifest as the JSON the loader reads."""
        body = asdict(self)
        body.pop("bytes_written")
        ordered = {
            k: body[k]
            for k in (
                "format",
                "seed",
                "children",
                "generated_at",
                "as_at",
                "sources",
                "organisations",
            )
        }
        return json.dumps(ordered, indent=2) + "\n"


@dataclass(frozen=True)
class _Job:
    seed: int
    shard: int
    size: int
    children: int
    out: str
    shard_size: int


def _run_shard(job: _Job) -> tuple[int, dict[str, int], int]:
    """Build and write one shard; return (shard, rows per source, bytes written)."""
    _single_threaded_arrow()
    orgs = organisations.build(job.children, job.seed)
    population = build_shard(job.seed, job.shard, job.size, job.children, job.shard_size)
    out = pathlib.Path(job.out)
    built = [feeds.build(population, s, job.seed, orgs) for s in rates.SOURCES]
    size = sum(writer.write_feed(f, out, job.shard) for f in built)
    size += writer.write_truth(built, population, out)
    return job.shard, {f.source: len(f.child) for f in built}, size


def _single_threaded_arrow() -> None:
    # One process per core already: arrow's own thread pools would only contend.
    import pyarrow as pa

    pa.set_cpu_count(1)
    pa.set_io_thread_count(1)


def generated_at(seed: int) -> str:
    """Return a timestamp derived from the seed, so the output is byte-identical."""
    moment = dt.datetime.combine(rates.AS_AT, dt.time(), dt.UTC) + dt.timedelta(
        seconds=seed % 86_400
    )
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def shard_jobs(children: int, seed: int, out: pathlib.Path, shard_size: int) -> list[_Job]:
    """Split the population into fixed-size shards (independent of the worker count)."""
    starts = range(0, children, shard_size)
    return [
        _Job(seed, i, min(shard_size, children - s), children, str(out), shard_size)
        for i, s in enumerate(starts)
    ]


def generate(
    children: int,
    seed: int,
    out: pathlib.Path,
    *,
    workers: int | None = None,
    progress: Callable[[str], None] | None = None,
    shard_size: int = rates.SHARD_SIZE,
) -> Manifest:
    """Generate children synthetic children and every source's feed into out.

    Args:
        children: how many children (the national population is about 11,000,000).
        seed: the same seed and size give byte-identical output, whatever the workers.
        out: an existing, empty directory (the CLI checks; this function overwrites).
        workers: processes to use; default os.cpu_count().
        progress: called with a one-line message (counts only) as shards finish.
        shard_size: children per shard; part of what fixes the output (tests use small ones).

    Returns:
        The manifest, also written to out/manifest.json.
    """
    if children < 1 or shard_size < 1:
        raise ValueError("children and shard_size must be at least 1")
    if children > ids.NHS_SPACE // 2:
        raise ValueError("too many children for distinct NHS numbers")
    out.mkdir(parents=True, exist_ok=True)
    orgs = organisations.build(children, seed)
    organisations.write(orgs, out / "organisations.csv")
    jobs = shard_jobs(children, seed, out, shard_size)
    rows, size = _run_all(jobs, workers or os.cpu_count() or 1, progress)
    sources = {
        s: SourceSummary(rows[s], [f"{s}/{writer.part_name(j.shard)}" for j in jobs])
        for s in rates.SOURCES
    }
    manifest = Manifest(
        seed, children, generated_at(seed), rates.AS_AT.isoformat(), sources, len(orgs.rows)
    )
    (out / "manifest.json").write_text(manifest.to_json(), encoding="utf-8")
    size += (out / "manifest.json").stat().st_size + (out / "organisations.csv").stat().st_size
    return Manifest(**{**manifest.__dict__, "bytes_written": size})


def _run_all(
    jobs: list[_Job], workers: int, progress: Callable[[str], None] | None
) -> tuple[dict[str, int], int]:
    rows = dict.fromkeys(rates.SOURCES, 0)
    size, done, total = 0, 0, sum(j.size for j in jobs)
    started = time.monotonic()
    sizes = {j.shard: j.size for j in jobs}
    with multiprocessing.get_context("spawn").Pool(min(workers, len(jobs))) as pool:
        for shard, counts, written in pool.imap_unordered(_run_shard, jobs):
            for s, n in counts.items():
                rows[s] += n
            size += written
            done += sizes[shard]
            if progress:
                pct = 100 * done // total
                progress(
                    f"synth: {done:,}/{total:,} children ({pct}%) "
                    f"{time.monotonic() - started:.0f} s"
                )
    return rows, size
