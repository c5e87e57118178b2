"""Django settings, all from the environment (see docs/configuration.md)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import dj_database_url

from contactpoint import config

BASE_DIR = Path(__file__).resolve().parent
DATA_DIR = config.data_dir()
ENVIRONMENT = config.environment()
# Production keeps the audit log's outside evidence and the keys off the data directory.
config.check_production_layout()
LINKAGE_MEMORY = config.linkage_memory()
# A first load into an empty registry trains a model on its own records before it links
# (docs/linkage.md): off unless asked, until it does as well as the bootstrap model.
LINKAGE_TRAIN_FIRST_LOAD = os.environ.get("CONTACTPOINT_LINKAGE_TRAIN_FIRST_LOAD") == "1"

SECRET_KEY = config.require_real_secret(
    "CONTACTPOINT_SECRET_KEY", config.secret("CONTACTPOINT_SECRET_KEY")
) or ("django-insecure-development-only-" + str(DATA_DIR))
# Earlier secret keys, newest first (one per line): sessions signed with them and TOTP
# secrets sealed under them still open while users move to the new key (docs/access.md).
SECRET_KEY_FALLBACKS = [
    k.strip()
    for k in (config.secret("CONTACTPOINT_SECRET_KEY_FALLBACKS") or "").splitlines()
    if k.strip()
]
# Error pages must leak nothing, so DEBUG stays off even in development.
DEBUG = False
ALLOWED_HOSTS = [
    h.strip()
    for h in os.environ.get("CONTACTPOINT_ALLOWED_HOSTS", "127.0.0.1,localhost").split(",")
    if h.strip()
]

INSTALLED_APPS = [
    "django.contrib.contenttypes",
    "django.contrib.auth",
    "django.contrib.sessions",
    "contactpoint.keystore",
    "contactpoint.registry",
    "contactpoint.ingest",
    "contactpoint.linkage",
    "contactpoint.access",
    "contactpoint.practice",
    "contactpoint.audit",
    "contactpoint.oversight",
    "contactpoint.web",
]

MIDDLEWARE = [
    "contactpoint.access.middleware.SecurityHeaders",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # Before sessions and sign-in: a request over the limit costs almost nothing.
    "contactpoint.web.shedding.LoadShedding",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "contactpoint.access.middleware.SessionLifetime",
    "contactpoint.audit.middleware.RequestId",
    "contactpoint.access.middleware.InvalidRequests",
    "contactpoint.web.middleware.FormLimits",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]
# No form has more than a few dozen fields (Django's own bound is 1,000).
DATA_UPLOAD_MAX_NUMBER_FIELDS = 200

ROOT_URLCONF = "contactpoint.urls"
WSGI_APPLICATION = "contactpoint.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.jinja2.Jinja2",
        "DIRS": [BASE_DIR / "web" / "templates"],
        "APP_DIRS": False,
        "OPTIONS": {"environment": "contactpoint.web.jinja.environment"},
    },
]


def _database(url_env: str, default_file: str) -> dict[str, Any]:
    # A URL may hold a password, so it is a secret: also readable from <NAME>_FILE.
    default = config.layout_dir(config.DATABASES_DIR) / default_file
    url = config.secret(url_env) or f"sqlite:///{default}"
    db: dict[str, Any] = dict(dj_database_url.parse(url, conn_max_age=60))
    # A request waits for a lock less than the worker timeout, so a locked database answers
    # 503 (contactpoint.web.views.errors) rather than a killed worker's empty reply.
    wait_ms = config.db_wait_seconds() * 1000
    if db["ENGINE"] == "django.db.backends.postgresql":
        timeouts = f"-c lock_timeout={wait_ms}"
        if config.is_serving():
            timeouts += f" -c statement_timeout={config.db_statement_seconds() * 1000}"
        db["OPTIONS"] = {**db.get("OPTIONS", {}), "options": timeouts}
    if db["ENGINE"] == "django.db.backends.sqlite3":
        # WAL lets readers run beside the loader; IMMEDIATE takes the write lock at BEGIN so
        # two writers queue instead of failing half-way through a transaction.
        db["OPTIONS"] = {
            "transaction_mode": "IMMEDIATE",
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; "
            f"PRAGMA foreign_keys=ON; PRAGMA busy_timeout={wait_ms}",
        }
        db["CONN_MAX_AGE"] = 0
        # A file, not memory, so tests can scan the database and its WAL for plaintext.
        name = Path(db["NAME"])
        name.parent.mkdir(parents=True, exist_ok=True)  # SQLite makes the file, not folders
        db["TEST"] = {"NAME": str(name.with_name(f"test_{name.name}"))}
    return db


# Two databases: the registry, and the key store that holds each child's wrapped data key.
# Keeping the data keys out of the registry is what lets crypto-shredding reach backups of
# the registry (docs/adr/0002-separate-key-store.md).
DATABASES = {
    "default": _database("DATABASE_URL", "contactpoint.sqlite3"),
    "keys": _database("CONTACTPOINT_KEYSTORE_URL", "keystore.sqlite3"),
}
if all(DATABASES["default"].get(k) == DATABASES["keys"].get(k) for k in ("ENGINE", "NAME", "HOST")):
    raise config.ConfigurationError(
        "CONTACTPOINT_KEYSTORE_URL must name another database than DATABASE_URL: keys kept "
        "with the data they protect would be in every backup (docs/adr/0002-separate-key-store.md)"
    )


def replica_database(
    url: str, primary: dict[str, Any], keys: dict[str, Any], name: str = "CONTACTPOINT_REPLICA_URL"
) -> dict[str, Any]:
    """The settings of a read replica of the registry at `url`, or a refusal naming `name`.

    The connection is read-only (`default_transaction_read_only`), so a write sent there by
    mistake fails instead of landing on a copy; a hot standby refuses writes anyway. The
    URL may hold a password, so no message repeats it.
    """
    try:
        db: dict[str, Any] = dict(dj_database_url.parse(url, conn_max_age=60))
    except ValueError as exc:  # dj_database_url's parse and unknown-scheme errors
        raise config.ConfigurationError(
            f"{name} is not a database URL (postgres://user@host:5432/contactpoint)"
        ) from exc
    postgres = "django.db.backends.postgresql"
    if db["ENGINE"] != postgres or primary["ENGINE"] != postgres or not db["NAME"]:
        raise config.ConfigurationError(
            f"{name} must name a database on a PostgreSQL replica of a PostgreSQL DATABASE_URL: "
            "SQLite has no replicas (docs/deployment.md)"
        )
    if all(db.get(k) == keys.get(k) for k in ("NAME", "HOST", "PORT")):
        raise config.ConfigurationError(
            f"{name} names the key store: the replica copies the registry (docs/deployment.md)"
        )
    if not config.is_development() and all(
        db.get(k) == primary.get(k) for k in ("NAME", "HOST", "PORT")
    ):
        raise config.ConfigurationError(
            f"{name} names the primary itself, which takes no reads off it: name a replica, "
            "or leave it unset"
        )
    options = primary.get("OPTIONS", {}).get("options", "")
    db["OPTIONS"] = {"options": f"{options} -c default_transaction_read_only=on".strip()}
    # Tests reach the test database through it, and never create, migrate or empty it.
    db["TEST"] = {"MIRROR": "default"}
    return db


# A read replica of the registry (docs/adr/0014-read-replica-for-stale-reads.md): only the
# reads contactpoint.registry.replica allows go there; absent, every read stays on the primary.
if _replica_url := config.secret("CONTACTPOINT_REPLICA_URL"):
    DATABASES["replica"] = replica_database(_replica_url, DATABASES["default"], DATABASES["keys"])
DATABASE_ROUTERS = [
    "contactpoint.registry.replica.ReplicaRouter",
    "contactpoint.keystore.routers.KeyStoreRouter",
]
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Key material never comes from settings: contactpoint.keystore.secrets reads it from
# CONTACTPOINT_KEK(_FILE) and CONTACTPOINT_INDEX_KEY(_FILE) when first needed.

LANGUAGE_CODE = "en-gb"
TIME_ZONE = "Europe/London"
USE_I18N = False
USE_TZ = True

STATIC_URL = "/assets/"
STATIC_ROOT = DATA_DIR / "static"
# GOV.UK Frontend from npm: its CSS asks for fonts and images under /assets/.
_GOVUK = BASE_DIR.parent / "node_modules" / "govuk-frontend" / "dist" / "govuk"
STATICFILES_DIRS: list[Path | tuple[str, Path]] = [("contactpoint", BASE_DIR / "web" / "static")]
if _GOVUK.is_dir():
    STATICFILES_DIRS += [_GOVUK / "assets", ("govuk", _GOVUK)]
WHITENOISE_USE_FINDERS = True
INSTALLED_APPS.append("django.contrib.staticfiles")

# Users and sign-in (docs/access.md). Passwords are hashed with Argon2id.
AUTH_USER_MODEL = "access.User"
PASSWORD_HASHERS = ["django.contrib.auth.hashers.Argon2PasswordHasher"]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 12},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# Sessions live in the database: 15 minutes idle (the expiry moves on with every request),
# 10 hours at most (contactpoint.access.middleware), and the second factor is asked for
# again before a sensitive action when it is older than 5 minutes.
SESSION_ENGINE = "django.contrib.sessions.backends.db"
SESSION_COOKIE_AGE = config.seconds("CONTACTPOINT_SESSION_IDLE_SECONDS", 15 * 60)
SESSION_SAVE_EVERY_REQUEST = True
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
CONTACTPOINT_SESSION_ABSOLUTE_SECONDS = config.seconds(
    "CONTACTPOINT_SESSION_ABSOLUTE_SECONDS", 10 * 60 * 60
)
CONTACTPOINT_STEP_UP_SECONDS = config.seconds("CONTACTPOINT_STEP_UP_SECONDS", 5 * 60)
# __Host- cookies: Secure, no Domain, Path=/. Browsers accept Secure cookies from
# http://localhost, so the demo works without TLS; anything else needs HTTPS.
SESSION_COOKIE_NAME = "__Host-session"
SESSION_COOKIE_SECURE = True
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Strict"
CSRF_COOKIE_NAME = "__Host-csrftoken"
CSRF_COOKIE_SECURE = True
CSRF_COOKIE_HTTPONLY = True
CSRF_COOKIE_SAMESITE = "Strict"
CSRF_FAILURE_VIEW = "contactpoint.web.views.errors.csrf_failure"
# Django's SecurityMiddleware sets these; contactpoint.access.middleware.SecurityHeaders
# adds CSP, HSTS on every response, Permissions-Policy and no-store.
SECURE_CONTENT_TYPE_NOSNIFF = True
# same-origin, not no-referrer: with no-referrer Chromium sends "Origin: null" on form posts,
# which Django's CSRF check rightly refuses. No other site ever sees one of our URLs.
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
LOGIN_URL = "/sign-in"
# The proxies in front of the service, whose X-Forwarded-For names the client that sign-in
# throttles count (contactpoint.access.addresses); none: the socket's peer is the client.
CONTACTPOINT_TRUSTED_PROXIES = config.networks("CONTACTPOINT_TRUSTED_PROXIES")
# Behind a TLS-terminating proxy, say so, so redirects and Secure cookies are right.
if os.environ.get("CONTACTPOINT_BEHIND_TLS_PROXY") == "1":
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

# The practitioner journey (docs/practice.md): search quotas per user (or API client), how
# long emergency access lasts, and mail. Alert e-mails hold no child data; without SMTP
# settings they are written as files under the data directory.
CONTACTPOINT_SEARCHES_PER_HOUR = config.count("CONTACTPOINT_SEARCHES_PER_HOUR", 30)
CONTACTPOINT_SEARCHES_PER_DAY = config.count("CONTACTPOINT_SEARCHES_PER_DAY", 100)
# All of an organisation's users and clients together, in a day.
CONTACTPOINT_SEARCHES_PER_ORGANISATION = config.count(
    "CONTACTPOINT_SEARCHES_PER_ORGANISATION", 1000
)
# New involvements a day, per practitioner and per organisation: each opens a child's
# contacts in full (contactpoint/practice/involvements/registration.py).
CONTACTPOINT_REGISTRATIONS_PER_USER = config.count("CONTACTPOINT_REGISTRATIONS_PER_USER", 10)
CONTACTPOINT_REGISTRATIONS_PER_ORGANISATION = config.count(
    "CONTACTPOINT_REGISTRATIONS_PER_ORGANISATION", 100
)
# Changes to users, API clients and organisations one person or client may make (the
# command line is not limited): contactpoint.access.users.change_limits.
CONTACTPOINT_ADMIN_CHANGES_PER_HOUR = config.count("CONTACTPOINT_ADMIN_CHANGES_PER_HOUR", 60)
CONTACTPOINT_ADMIN_CHANGES_PER_DAY = config.count("CONTACTPOINT_ADMIN_CHANGES_PER_DAY", 300)
CONTACTPOINT_EMERGENCY_ACCESS_SECONDS = config.seconds(
    "CONTACTPOINT_EMERGENCY_ACCESS_SECONDS", 30 * 60
)
# The audit log signs a checkpoint at least this often while events arrive: on an append
# when its last is older, and from each serving process's checkpointer for the events after
# it (docs/audit.md). `contactpoint audit verify` fails when an event waited longer than
# this plus the margin for its checkpoint, or when the log is behind its witness.
CONTACTPOINT_AUDIT_CHECKPOINT_SECONDS = config.seconds("CONTACTPOINT_AUDIT_CHECKPOINT_SECONDS", 10)
CONTACTPOINT_AUDIT_CHECKPOINT_MARGIN_SECONDS = config.seconds(
    "CONTACTPOINT_AUDIT_CHECKPOINT_MARGIN_SECONDS", 20
)
# The witness service (CONTACTPOINT_AUDIT_WITNESS_URL) is read where it is used,
# contactpoint.config.audit_witness_url; production refuses to start without one.
# The address users reach the service at, for links in e-mails.
CONTACTPOINT_BASE_URL = os.environ.get("CONTACTPOINT_BASE_URL", "http://localhost:8000").rstrip("/")
DEFAULT_FROM_EMAIL = os.environ.get("CONTACTPOINT_MAIL_FROM", "contactpoint <no-reply@localhost>")
# A Unicode TrueType font for PDFs (subject-access reports), so that every name prints as
# held; without one, PDFs fall back to Latin-1 Helvetica (docs/families.md).
CONTACTPOINT_PDF_FONT = os.environ.get(
    "CONTACTPOINT_PDF_FONT", "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"
)
if smtp_host := os.environ.get("CONTACTPOINT_SMTP_HOST"):
    EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    EMAIL_HOST = smtp_host
    EMAIL_PORT = int(os.environ.get("CONTACTPOINT_SMTP_PORT", "587"))
    EMAIL_HOST_USER = os.environ.get("CONTACTPOINT_SMTP_USER", "")
    EMAIL_HOST_PASSWORD = config.secret("CONTACTPOINT_SMTP_PASSWORD") or ""
    EMAIL_USE_TLS = True
else:
    EMAIL_BACKEND = "django.core.mail.backends.filebased.EmailBackend"
    EMAIL_FILE_PATH = DATA_DIR / "mail"

# Every handler redacts contactpoint IDs (they are in the addresses of children's pages).
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"redact": {"()": "contactpoint.lib.logs.Redact"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "filters": ["redact"]}},
    "root": {"handlers": ["console"], "level": "INFO"},
}
