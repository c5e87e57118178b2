"""Run a `contactpoint` command with narrowed blind indexes (measure.narrow_indexes), by
the number of bits in CONTACTPOINT_BENCH_INDEX_BITS_LESS, in this process and in the
writing processes of a bulk load (measure.narrow_everywhere). Benchmarks only.

Usage: CONTACTPOINT_BENCH_INDEX_BITS_LESS=7 .venv/bin/python benchmarks/narrowed.py ARGS...
"""

from __future__ import annotations

import os
import runpy
import sys

from measure import NARROW, REPO, narrow_everywhere

if __name__ == "__main__":
    sys.path.insert(0, str(REPO))
    narrow_everywhere(int(os.environ[NARROW]))
    sys.argv = ["contactpoint", *sys.argv[1:]]
    runpy.run_module("contactpoint", run_name="__main__", alter_sys=True)
