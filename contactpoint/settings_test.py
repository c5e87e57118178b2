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
# Only in the worker itself: a command a test runs inherits the marker and keeps whatever
# data directory the test gives it.
if _worker and os.environ.get("CONTACTPOINT_TEST_WORKER") != _worker:
    _data = str(Path(_data) / _worker)
    os.environ["CONTACTPOINT_TEST_WORKER"] = _worker
os.environ["CONTACTPOINT_DATA_DIR"] = _data

from contactpoint.settings import *  # noqa: E402, F403
