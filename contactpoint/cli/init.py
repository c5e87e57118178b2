"""`contactpoint init`: migrate both databases; in development, create demo keys."""

from __future__ import annotations

import argparse
import os

from django.core.management import call_command

from contactpoint import config
from contactpoint.audit import keys as audit_keys
from contactpoint.cli import progress
from contactpoint.keystore import index_key, provider


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--quiet", action="store_true", help="print only errors")


def run(args: argparse.Namespace) -> int:
    config.data_dir().mkdir(parents=True, exist_ok=True)
    if config.is_development():
        _demo_keys(args.quiet)
    # Fails with a clear message here, not at first use, when keys are missing or unsafe.
    provider.reset_provider()
    provider.get_provider()
    index_key.index_root_key()
    audit_keys.signing_key()
    for alias in ("default", "keys"):
        call_command("migrate", database=alias, verbosity=0, interactive=False)
    if not args.quiet:
        progress("init: databases ready")
    return 0


def _demo_keys(quiet: bool) -> None:
    kek = provider.kek_path()
    if not kek.exists() and "CONTACTPOINT_KEK" not in os.environ:
        provider.create_demo_keyring(kek)
        if not quiet:
            progress(f"init: wrote a throw-away demo key-encryption key to {kek}")
    idx = index_key.demo_index_key_path()
    if not idx.exists() and config.secret("CONTACTPOINT_INDEX_KEY") is None:
        index_key.create_demo_index_key(idx)
        if not quiet:
            progress(f"init: wrote a throw-away demo index key to {idx}")
    signing = audit_keys.demo_signing_key_path()
    if not signing.exists() and config.secret(audit_keys.SIGNING_KEY) is None:
        audit_keys.create_demo_signing_key(signing)
        if not quiet:
            progress(f"init: wrote a throw-away demo audit signing key to {signing}")
