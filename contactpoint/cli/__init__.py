"""The `contactpoint` command: the one entry point for operators.

Each subcommand lives in its own module with `add_arguments(parser)` and `run(args)`.
Django is set up only for the subcommands that need it, so `contactpoint synth` runs
without any database or key.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
import traceback
from collections.abc import Sequence
from pathlib import Path

# name -> (module, needs Django, one-line help)
COMMANDS: dict[str, tuple[str, bool, str]] = {
    "init": ("contactpoint.cli.init", True, "create the databases and, for a demo, the keys"),
    "synth": ("contactpoint.synth.cli", False, "write a synthetic population and its feeds"),
    "load": ("contactpoint.cli.load", True, "load a feed folder"),
    "quarantine": ("contactpoint.cli.quarantine", True, "list rows that could not be loaded"),
    "keys": ("contactpoint.cli.keys", True, "key status, rotation and retirement"),
    "linkage": ("contactpoint.cli.linkage", True, "train the linkage model, evaluate links"),
    "review": ("contactpoint.cli.review", True, "the review queue and linkage decisions"),
    "indexes": ("contactpoint.cli.indexes", True, "rebuild the blind indexes from the facts"),
    "backup": ("contactpoint.cli.backup", True, "write a backup of the registry (ciphertext)"),
    "restore": ("contactpoint.cli.restore", True, "restore a backup into an empty registry"),
    "users": ("contactpoint.cli.users", True, "create, enable, recertify and disable users"),
    "organisations": ("contactpoint.cli.organisations", True, "organisations' accreditation"),
    "clients": ("contactpoint.cli.clients", True, "API clients for case-management systems"),
    "involvements": ("contactpoint.cli.involvements", True, "remind, then expire, involvements"),
    "shielding": ("contactpoint.cli.shielding", True, "remind of shieldings due for review"),
    "retention": ("contactpoint.cli.retention", True, "archive at 18, purge six years on"),
    "audit": ("contactpoint.cli.audit", True, "verify the audit log, sign and export checkpoints"),
    "witness": ("contactpoint.audit.witness_service", False, "the audit log's witness service"),
    "oversight": (
        "contactpoint.cli.oversight",
        True,
        "nightly misuse detection for privacy officers",
    ),
    "demo-users": ("contactpoint.cli.demo_users", True, "demo users for every role (development)"),
    "demo-activity": (
        "contactpoint.cli.demo_activity",
        True,
        "yesterday's demo activity and its misuse alert (development)",
    ),
    "serve": ("contactpoint.cli.serve", True, "run the web application under gunicorn"),
}


def build_parser() -> argparse.ArgumentParser:
    """The top-level parser; each command's own options are read by `command_parser`."""
    parser = argparse.ArgumentParser(
        prog="contactpoint",
        description=__doc__.splitlines()[0],
        epilog="commands:\n"
        + "\n".join(f"  {n:<12} {h}" for n, (_, _, h) in COMMANDS.items())
        + "\n\n`contactpoint COMMAND --help` tells more.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("command", choices=COMMANDS, metavar="COMMAND")
    parser.add_argument("args", nargs=argparse.REMAINDER, help=argparse.SUPPRESS)
    return parser


def command_parser(name: str) -> argparse.ArgumentParser:
    """Import only the chosen command's module: `synth` then never loads Django."""
    module, _, help_text = COMMANDS[name]
    parser = argparse.ArgumentParser(prog=f"contactpoint {name}", description=help_text)
    importlib.import_module(module).add_arguments(parser)
    return parser


def error(message: str) -> int:
    print(f"contactpoint: error: {message}", file=sys.stderr)
    return 2


def main(argv: Sequence[str] | None = None) -> int:
    from contactpoint.config import ConfigurationError
    from contactpoint.lib.errors import Refusal

    top = build_parser().parse_args(argv)
    module, needs_django, _ = COMMANDS[top.command]
    try:
        if needs_django:
            os.environ.setdefault("DJANGO_SETTINGS_MODULE", "contactpoint.settings")
            import django

            django.setup()
        args = command_parser(top.command).parse_args(top.args)
        try:
            result: int = importlib.import_module(module).run(args)
        finally:
            if needs_django:  # what the command appended is signed before it ends
                from contactpoint.audit import checkpointer

                checkpointer.finish()
        sys.stdout.flush()  # a closed pipe shows here, not at exit where it cannot be caught
        return result
    except (ConfigurationError, Refusal) as exc:  # written to be read: no child's data
        return error(str(exc))
    except KeyboardInterrupt:
        return error("interrupted; everything committed so far is kept, run it again to resume")
    except BrokenPipeError:
        return closed_pipe()
    except Exception as exc:  # the last line of defence for what we print
        return error(unexpected(top.command, exc))


def closed_pipe() -> int:
    """The reader went away (`contactpoint quarantine list | head`): stop quietly.

    Python would otherwise report the pipe again when it flushes stdout at exit, so stdout
    is pointed at the null device first (as the Python documentation on SIGPIPE advises).
    """
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    return 141  # 128 + SIGPIPE, as a program killed by the signal would end


def unexpected(command: str, exc: BaseException) -> str:
    """Describe an unexpected failure by command, type and place, never by message.

    An exception's message can quote the value that caused it, which may be a child's
    data; the type and the line are enough to find the fault. Every command changes the
    databases in transactions, so what was not committed when it stopped is not kept.
    CONTACTPOINT_TRACEBACK=1 prints the whole traceback for a developer on synthetic data.
    """
    if os.environ.get("CONTACTPOINT_TRACEBACK") == "1":
        traceback.print_exception(exc)
    frame = traceback.extract_tb(exc.__traceback__)[-1] if exc.__traceback__ else None
    where = f" at {Path(frame.filename).name}:{frame.lineno}" if frame else ""
    return (
        f"`contactpoint {command}` stopped on an unexpected {type(exc).__name__}{where}; "
        "any change it had not committed was not kept (set CONTACTPOINT_TRACEBACK=1 to see "
        "the traceback)"
    )


def progress(message: str) -> None:
    """Progress for people, on stderr so stdout stays for results."""
    print(message, file=sys.stderr, flush=True)
