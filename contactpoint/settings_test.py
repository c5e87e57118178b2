"""Settings for the test suite: the test environment and a data directory of its own.

Under pytest-xdist each worker process gets a data directory of its own (keys, mail,
spill files), as it gets databases of its own from pytest-django.
"""

import os
from pathlib import Path

os.environ.setdefault("CONTACTPOINT_ENV", "test")
_data = os.environ.get("CONTACTPOINT_DATA_DIR") or str(
    Path(__file__).resolve().parents[1] / "var" / "test"
)
_worker = os.environ.get("PYTEST_XDIST_WORKER", "")
if _worker and Path(_data).name != _worker:  # a CLI process of a worker inherits both
    _data = str(Path(_data) / _worker)
os.environ["CONTACTPOINT_DATA_DIR"] = _data

from contactpoint.settings import *  # noqa: E402, F403
