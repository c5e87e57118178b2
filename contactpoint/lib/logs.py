"""Log records never carry a contactpoint ID: it is in the addresses of a child's pages and
API operations, and so in gunicorn's access log and Django's "Not Found: /children/…".

`Redact` is a logging filter on every handler (Django's LOGGING and gunicorn's
`logconfig_dict` in contactpoint.gunicorn_conf). It formats the message, replaces each
contactpoint ID with a fixed mark, and keeps the rest, so a log still shows which page
was asked for and how it was answered.
"""

from __future__ import annotations

import logging
import re

# The 12-character body is what identifies a child; the check symbol may be one of
# Crockford's * ~ $ = (or its percent-encoding, as a path or a ?next= holds it).
CPID = re.compile(
    r"CP-?[0-9A-Z]{4}-?[0-9A-Z]{4}-?[0-9A-Z]{4}(?:-?(?:%25|%)[0-9A-F]{2}|-?[0-9A-Z*~$=])?",
    re.IGNORECASE,
)
MARK = "CP-[redacted]"


def redact(text: str) -> str:
    return CPID.sub(MARK, text)


class Redact(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = redact(message)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        return True
