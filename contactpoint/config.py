"""Configuration from the environment, with `<NAME>_FILE` for every secret.

Read once by settings.py and by the CLI before Django starts. Nothing here logs a value.
"""

from __future__ import annotations

import ipaddress
import os
import re
from pathlib import Path

DEVELOPMENT_ENVIRONMENTS = frozenset({"development", "test"})
ENVIRONMENTS = DEVELOPMENT_ENVIRONMENTS | {"production"}

# Values people paste from examples. Refused outside development, as is any key file that
# `contactpoint init` wrote for a demo (it says so inside).
PLACEHOLDERS = frozenset(
    {"", "changeme", "change-me", "placeholder", "secret", "password", "demo", "example", "xxx"}
)


MIN_SECRET_LENGTH = 32


class ConfigurationError(RuntimeError):
    """The service cannot start safely with this configuration."""


def environment() -> str:
    """Return CONTACTPOINT_ENV; production unless a developer says otherwise."""
    value = os.environ.get("CONTACTPOINT_ENV", "production").strip().lower()
    if value not in ENVIRONMENTS:
        raise ConfigurationError(
            f"CONTACTPOINT_ENV must be one of {', '.join(sorted(ENVIRONMENTS))}"
        )
    return value


def is_development() -> bool:
    return environment() in DEVELOPMENT_ENVIRONMENTS


def data_dir() -> Path:
    return Path(os.environ.get("CONTACTPOINT_DATA_DIR", "./var")).resolve()


# The development layout: each kind of thing in a folder of its own under the data
# directory, so that copying, backing up or sharing the databases takes no key and no
# password with them. Production keeps the keys off this host altogether
# (`check_production_layout`, docs/configuration.md).
DATABASES_DIR = "db"  # the SQLite registry and key store, when no URL names them
KEYS_DIR = "keys"  # demo keys: key-encryption keyring, index key, audit signing key
DEMO_DIR = "demo"  # demo users' throw-away credentials, and the children to search for


def layout_dir(name: str) -> Path:
    """One folder of the development layout (DATABASES_DIR, KEYS_DIR, DEMO_DIR)."""
    return data_dir() / name


def secret(name: str) -> str | None:
    """Return the secret NAME from the environment or from the file named by NAME_FILE.

    Setting both is refused: which one wins would be a guess.
    """
    direct = os.environ.get(name)
    file_name = os.environ.get(f"{name}_FILE")
    if direct is not None and file_name is not None:
        raise ConfigurationError(f"set {name} or {name}_FILE, not both")
    if file_name is not None:
        try:
            return Path(file_name).read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise ConfigurationError(f"{name}_FILE cannot be read: {exc.strerror}") from exc
    return direct


def require_real_secret(name: str, value: str | None) -> str | None:
    """Refuse a missing or placeholder secret outside development."""
    if is_development():
        return value
    if value is None or value.strip().lower() in PLACEHOLDERS or "insecure" in value.lower():
        raise ConfigurationError(
            f"{name} is missing or a placeholder; set {name} or {name}_FILE "
            "(CONTACTPOINT_ENV=development allows demo secrets)"
        )
    if len(value.strip()) < MIN_SECRET_LENGTH:
        raise ConfigurationError(f"{name} is shorter than {MIN_SECRET_LENGTH} characters")
    return value


MEMORY = re.compile(r"\d{1,6}(\.\d{1,3})?\s?(MB|GB|TB|MiB|GiB|TiB)", re.IGNORECASE)


def linkage_memory() -> str | None:
    """CONTACTPOINT_LINKAGE_MEMORY: how much memory DuckDB may use for bulk linkage before it
    spills to disk ('12GB'); None leaves DuckDB's own limit, 80% of the machine's memory."""
    value = os.environ.get("CONTACTPOINT_LINKAGE_MEMORY", "").strip()
    if not value:
        return None
    if not MEMORY.fullmatch(value):
        raise ConfigurationError(
            "CONTACTPOINT_LINKAGE_MEMORY must be a size such as 12GB or 8000MiB"
        )
    return value


def networks(name: str) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
    """Comma-separated addresses or networks (`10.0.0.0/8, ::1`); none when unset."""
    found = []
    for part in os.environ.get(name, "").split(","):
        if not part.strip():
            continue
        try:
            found.append(ipaddress.ip_network(part.strip(), strict=False))
        except ValueError as exc:
            raise ConfigurationError(f"{name} holds something that is not an address") from exc
    return tuple(found)


def path_setting(name: str, default: Path) -> Path:
    value = os.environ.get(name)
    return Path(value).resolve() if value else default


def seconds(name: str, default: int) -> int:
    """A whole number of seconds from the environment (tests shorten session limits)."""
    return count(name, default, "a whole number of seconds")


def count(name: str, default: int, what: str = "a whole number") -> int:
    """A positive whole number from the environment (a quota, a limit, a duration)."""
    value = os.environ.get(name, "").strip()
    if not value:
        return default
    if not value.isdigit() or int(value) < 1:
        raise ConfigurationError(f"{name} must be {what}, at least 1")
    return int(value)


# A serving worker that waits longer than this for the database is killed by gunicorn, and
# its caller gets no answer at all; every wait below is shorter, so the caller gets a 503.
def worker_timeout_seconds() -> int:
    """CONTACTPOINT_WORKER_TIMEOUT_SECONDS: how long gunicorn lets a request run (30)."""
    return seconds("CONTACTPOINT_WORKER_TIMEOUT_SECONDS", 30)


def db_wait_seconds() -> int:
    """CONTACTPOINT_DB_WAIT_SECONDS (10): how long a connection waits for a lock before it
    gives up (SQLite busy_timeout, PostgreSQL lock_timeout); refused unless shorter than
    the worker timeout."""
    wait = seconds("CONTACTPOINT_DB_WAIT_SECONDS", 10)
    if wait >= worker_timeout_seconds():
        raise ConfigurationError(
            "CONTACTPOINT_DB_WAIT_SECONDS must be shorter than "
            "CONTACTPOINT_WORKER_TIMEOUT_SECONDS, or a locked database gets no answer at all"
        )
    return wait


def db_statement_seconds() -> int:
    """PostgreSQL statement_timeout for a serving process: what is left of the worker
    timeout after the lock wait, less 2 s to render the 503 page, and at least 1 s."""
    return max(1, worker_timeout_seconds() - db_wait_seconds() - 2)


def requests_in_progress() -> int:
    """CONTACTPOINT_REQUESTS_IN_PROGRESS (4): requests one serving process works on at once;
    the next is answered 503 at once (contactpoint.web.shedding). `contactpoint serve` gives
    each process twice this many threads, so the spare ones answer the 503s."""
    return count("CONTACTPOINT_REQUESTS_IN_PROGRESS", 4)


def is_serving() -> bool:
    """Whether this process serves requests (`contactpoint serve` says so to its workers)."""
    return os.environ.get("CONTACTPOINT_SERVING") == "1"


def audit_checkpoint_file() -> Path:
    """CONTACTPOINT_AUDIT_CHECKPOINT_FILE: where the audit log appends each checkpoint
    outside the database; by default $CONTACTPOINT_DATA_DIR/audit/checkpoints.jsonl, which
    production refuses (`check_production_layout`)."""
    return path_setting(
        "CONTACTPOINT_AUDIT_CHECKPOINT_FILE", data_dir() / "audit" / "checkpoints.jsonl"
    )


def audit_witness_url() -> str | None:
    """CONTACTPOINT_AUDIT_WITNESS_URL: the witness service the log pushes its checkpoints
    to and `contactpoint audit verify` asks (docs/audit.md); None when there is none."""
    value = os.environ.get("CONTACTPOINT_AUDIT_WITNESS_URL", "").strip().rstrip("/")
    if value and not re.fullmatch(r"https?://[^\s/?#]+(/[^\s?#]*)?", value):
        raise ConfigurationError("CONTACTPOINT_AUDIT_WITNESS_URL must be an http(s) URL")
    return value or None


# What an attacker with the database host's disk must not also hold: the files that let the
# log's tail be checked, or the keys that open the data. Each name is a file or folder
# setting; None means "set it" (its default is inside the data directory).
_KEPT_APART = (
    ("CONTACTPOINT_AUDIT_CHECKPOINT_FILE", "the audit log's checkpoint file"),
    ("CONTACTPOINT_KEK_FILE", "the key-encryption keyring"),
    ("CONTACTPOINT_AUDIT_SIGNING_KEY_FILE", "the audit log's signing key"),
    ("CONTACTPOINT_WITNESS_DIR", "the witness's store"),
)


def check_production_layout() -> None:
    """Refuse, outside development, a layout that keeps the audit log's outside evidence or
    a key beside the databases, or no witness (docs/configuration.md, "Production layout").

    Development keeps everything under the data directory, as `make demo` needs.
    """
    if is_development():
        return
    problems = layout_problems()
    if problems:
        raise ConfigurationError(
            "production keeps the checkpoint file, the keys and the witness off the data "
            f"directory ({data_dir()}) and pushes to a witness: " + "; ".join(problems)
        )


def layout_problems() -> list[str]:
    """What in the environment breaks the production layout, one phrase each."""
    data = data_dir()
    problems = []
    for name, what in _KEPT_APART:
        value = os.environ.get(name, "").strip()
        if not value:
            if name == "CONTACTPOINT_AUDIT_CHECKPOINT_FILE" or (
                name == "CONTACTPOINT_KEK_FILE" and "CONTACTPOINT_KEK" not in os.environ
            ):
                problems.append(f"set {name} ({what}); its default is in the data directory")
            continue
        if Path(value).resolve().is_relative_to(data):
            problems.append(f"{name} ({what}) is inside CONTACTPOINT_DATA_DIR")
    if audit_witness_url() is None:
        problems.append("set CONTACTPOINT_AUDIT_WITNESS_URL (the witness service)")
    return problems
