"""Run a `contactpoint` command whose bulk rows go in with executemany on PostgreSQL too (as
before COPY), in this process and in the writing processes of a bulk load
(measure.executemany_everywhere). Benchmarks only.

Usage: .venv/bin/python benchmarks/executemany.py ARGS...
"""

from __future__ import annotations

import runpy
import sys

from measure import REPO, executemany_everywhere

if __name__ == "__main__":
    sys.path.insert(0, str(REPO))
    executemany_everywhere()
    sys.argv = ["contactpoint", *sys.argv[1:]]
    runpy.run_module("contactpoint", run_name="__main__", alter_sys=True)
