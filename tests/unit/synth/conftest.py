"""A small generated population shared by the synth tests (generated once per session)."""

from __future__ import annotations

import pytest

from contactpoint.synth import rates
from contactpoint.synth.households import build_shard
from tests.support.synth import CHILDREN, SEED, SHARD_SIZE, Generated, make


@pytest.fixture(scope="session")
def generated(tmp_path_factory: pytest.TempPathFactory) -> Generated:
    out = make(tmp_path_factory.mktemp("synth") / "out", workers=2)
    sizes = [min(SHARD_SIZE, CHILDREN - s) for s in range(0, CHILDREN, SHARD_SIZE)]
    shards = [build_shard(SEED, i, n, CHILDREN, SHARD_SIZE) for i, n in enumerate(sizes)]
    return Generated(out, shards)


@pytest.fixture(scope="session")
def sources() -> tuple[str, ...]:
    return rates.SOURCES
