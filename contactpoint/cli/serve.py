"""`contactpoint serve`: the web application under gunicorn, a production WSGI server."""

from __future__ import annotations

import argparse
import os
import sys

from django.core.management import call_command


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--bind", default="127.0.0.1:8000", help="address:port (127.0.0.1:8000)")
    parser.add_argument("--workers", type=int, default=2, help="worker processes (2)")
    parser.add_argument(
        "--threads",
        type=int,
        default=None,
        help="threads a worker (twice CONTACTPOINT_REQUESTS_IN_PROGRESS, 8)",
    )


def run(args: argparse.Namespace) -> int:
    call_command("collectstatic", interactive=False, verbosity=0)
    argv = [
        sys.executable,
        "-m",
        "gunicorn",
        "contactpoint.wsgi:application",
        "--bind",
        args.bind,
        "--workers",
        str(args.workers),
        # Access log to stdout, every log through the contactpoint-ID redaction.
        "--config",
        "python:contactpoint.gunicorn_conf",
        "--graceful-timeout",
        "20",
    ]
    if args.threads is not None:
        argv += ["--threads", str(args.threads)]
    # The workers wait for the database less than their timeout (contactpoint.config).
    os.environ["CONTACTPOINT_SERVING"] = "1"
    os.execv(sys.executable, argv)  # noqa: S606 - fixed argv, no shell
