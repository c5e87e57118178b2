"""contactpoint in a process of its own, on this run's test databases: a command, or the server."""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from django.db import connections

from contactpoint import config


def _url(alias: str) -> str:
    s = connections[alias].settings_dict
    if s["ENGINE"].endswith("sqlite3"):
        return f"sqlite:///{s['NAME']}"
    return f"postgres://{s['USER']}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}"


def cli_env() -> dict[str, str]:
    """The environment for a `contactpoint` process that uses this run's test databases."""
    env = dict(os.environ)
    env["DATABASE_URL"] = _url("default")
    env["CONTACTPOINT_KEYSTORE_URL"] = _url("keys")
    env["CONTACTPOINT_ENV"] = "test"
    env["CONTACTPOINT_DATA_DIR"] = str(config.data_dir())
    return env


def run_cli(
    *args: str, check: bool = True, env_extra: dict[str, str] | None = None, **kwargs: Any
) -> subprocess.CompletedProcess[str]:
    """Run `contactpoint ARGS` in a new process against this run's test databases."""
    result = subprocess.run(
        [sys.executable, "-m", "contactpoint", *args],
        env={**cli_env(), **(env_extra or {})},
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
        **kwargs,
    )
    if check and result.returncode != 0:
        raise AssertionError(f"contactpoint {' '.join(args)} failed:\n{result.stderr}")
    return result


@contextlib.contextmanager
def serving(env_extra: dict[str, str] | None = None, log: Path | None = None) -> Iterator[str]:
    """`contactpoint serve` on a free port, using this run's test databases.

    The address is http://localhost:PORT: the session cookies are `__Host-` and Secure,
    which browsers accept over plain HTTP from localhost only.
    """
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = int(s.getsockname()[1])
    output: Any = log.open("ab") if log else subprocess.DEVNULL
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "contactpoint",
            "serve",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            "1",
        ],
        env={**cli_env(), **(env_extra or {})},
        stdout=output,
        stderr=subprocess.STDOUT if log else subprocess.DEVNULL,
    )
    url = f"http://localhost:{port}"
    try:
        for _ in range(150):
            try:
                urllib.request.urlopen(url + "/health", timeout=2).close()
                break
            except OSError:
                time.sleep(0.2)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=30)
        if log:
            output.close()
