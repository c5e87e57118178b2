"""Write feeds and ground truth as CSV at C speed with pyarrow."""

from __future__ import annotations

import pathlib

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv

from contactpoint.synth import ids
from contactpoint.synth.feeds import Feed
from contactpoint.synth.population import IntArray, ObjArray, Shard

# Unquoted values: every value the generator makes is free of commas, quotes and line
# breaks, and pyarrow refuses to write one that is not, so the files stay valid RFC 4180.
OPTIONS = pacsv.WriteOptions(
    quoting_style="none", quoting_header="none", eol="\n", batch_size=65_536
)
TRUTH_COLUMNS = ("source", "record_id", "child_key")


def part_name(shard: int) -> str:
    """Return the file name of one shard's part."""
    return f"part-{shard:05d}.csv"


def child_keys(keys: IntArray) -> ObjArray:
    """Return the synthetic person ids, for example C000001234."""
    return np.asarray("C" + ids.zero_padded(keys, 9), dtype=object)


def write_table(columns: dict[str, ObjArray], names: tuple[str, ...], path: pathlib.Path) -> int:
    """Write columns as CSV; return bytes written."""
    table = pa.table({c: pa.array(columns[c], type=pa.string()) for c in names})
    pacsv.write_csv(table, str(path), write_options=OPTIONS)
    return path.stat().st_size


def write_feed(feed: Feed, out: pathlib.Path, shard: int) -> int:
    """Write one source's part file; return bytes written. A shard with no record of the
    source writes none: a source sends no file with nothing in it (a load refuses one)."""
    if len(feed.child) == 0:
        return 0
    folder = out / feed.source
    folder.mkdir(parents=True, exist_ok=True)
    return write_table(feed.columns, tuple(feed.columns), folder / part_name(shard))


def write_truth(feeds: list[Feed], population: Shard, out: pathlib.Path) -> int:
    """Write the ground truth for every row of every source in this shard."""
    source = np.concatenate([np.full(len(f.child), f.source, dtype=object) for f in feeds])
    record = np.concatenate([f.columns["record_id"] for f in feeds])
    child = np.concatenate([child_keys(population.key[f.child]) for f in feeds])
    path = out / "truth" / f"ground_truth-{population.index:05d}.csv"
    path.parent.mkdir(parents=True, exist_ok=True)
    return write_table(
        {"source": source, "record_id": record, "child_key": child}, TRUTH_COLUMNS, path
    )
