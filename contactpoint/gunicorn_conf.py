"""gunicorn's settings for `contactpoint serve`: its logs go through the same redaction as
Django's (contactpoint.lib.logs), access log to stdout, errors to stderr."""

from __future__ import annotations

# gunicorn reads each public name here as a setting (`config` is one of its own).
from contactpoint import config as _config

_REDACT = {"redact": {"()": "contactpoint.lib.logs.Redact"}}

logconfig_dict = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": _REDACT,
    "formatters": {
        "generic": {"format": "%(asctime)s [%(process)d] [%(levelname)s] %(message)s"},
        "access": {"format": "%(message)s"},
    },
    "handlers": {
        "access": {
            "class": "logging.StreamHandler",
            "formatter": "access",
            "filters": ["redact"],
            "stream": "ext://sys.stdout",
        },
        "error": {
            "class": "logging.StreamHandler",
            "formatter": "generic",
            "filters": ["redact"],
            "stream": "ext://sys.stderr",
        },
    },
    "loggers": {
        "gunicorn.access": {"handlers": ["access"], "level": "INFO", "propagate": False},
        "gunicorn.error": {"handlers": ["error"], "level": "INFO", "propagate": False},
    },
    "root": {"handlers": ["error"], "level": "INFO"},
}


def post_worker_init(worker: object) -> None:
    """Each worker signs the audit log's pending events and pushes its checkpoints to the
    witness from a thread of its own (contactpoint.audit.checkpointer)."""
    from contactpoint.audit import checkpointer

    checkpointer.start()


# A worker silent this long is killed and its caller gets no answer: every database wait is
# shorter (contactpoint.config.db_wait_seconds), so a locked database answers 503 first.
timeout = _config.worker_timeout_seconds()

# gunicorn's default access line holds %(u)s, the user name of HTTP Basic authentication:
# for a token grant, the API client's id. This one holds no credential and no query string
# beyond the path's (redacted) line: address, time, request line, status, size, duration.
access_log_format = '%(h)s [%(t)s] "%(r)s" %(s)s %(b)s %(M)sms'

# Threaded workers: a thread waiting (a sign-in's floor, the database) holds only itself.
# Each process works on CONTACTPOINT_REQUESTS_IN_PROGRESS requests at once and has twice
# as many threads, so a request over the limit finds a free thread that answers 503 at
# once (contactpoint.web.shedding) rather than waiting for one. `serve --threads` overrides.
worker_class = "gthread"
threads = 2 * _config.requests_in_progress()
# Connections a worker holds (idle kept-alive ones included) before it stops accepting,
# and connections the kernel queues for the workers beyond that (gunicorn's defaults are
# 1,000 and 2,048): a flood waits in neither for long, it is refused.
worker_connections = 200
backlog = 64
# Longer than a person's pause between clicks (1 to 3 s), or a kept-alive connection is
# closed under them; an idle connection holds no thread.
keepalive = 5
