"""A small generated population for the synth tests: its size, seed and shards, and
reading its output back."""

from __future__ import annotations

import csv
import pathlib
from dataclasses import dataclass

from contactpoint.synth import generate
from contactpoint.synth.population import Shard

CHILDREN = 20_000
SEED = 7
SHARD_SIZE = 6_000  # four shards, so worker count and shard order are exercised


@dataclass
class Generated:
    out: pathlib.Path
    shards: list[Shard]

    def rows(self, source: str) -> list[dict[str, str]]:
        """Return every row of one source, all parts."""
        found: list[dict[str, str]] = []
        for part in sorted((self.out / source).glob("part-*.csv")):
            with part.open(encoding="utf-8", newline="") as f:
                found.extend(csv.DictReader(f))
        return found

    def truth(self) -> dict[tuple[str, str], str]:
        """Return (source, record_id) -> child_key."""
        pairs: dict[tuple[str, str], str] = {}
        for part in sorted((self.out / "truth").glob("*.csv")):
            with part.open(encoding="utf-8", newline="") as f:
                for r in csv.DictReader(f):
                    assert (r["source"], r["record_id"]) not in pairs
                    pairs[(r["source"], r["record_id"])] = r["child_key"]
        return pairs

    def child(self, child_key: str) -> tuple[Shard, int]:
        """Return the true shard and row of a child."""
        key = int(child_key[1:])
        return self.shards[key // SHARD_SIZE], key % SHARD_SIZE


def make(out: pathlib.Path, workers: int, seed: int = SEED) -> pathlib.Path:
    generate(CHILDREN, seed, out, workers=workers, shard_size=SHARD_SIZE)
    return out
