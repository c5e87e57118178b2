"""Settings for the test suite: the test environment and a data directory of its own."""

import os
from pathlib import Path

os.environ.setdefault("CONTACTPOINT_ENV", "test")
os.environ.setdefault(
    "CONTACTPOINT_DATA_DIR", str(Path(__file__).resolve().parents[1] / "var" / "test")
)

from contactpoint.settings import *  # noqa: F403
