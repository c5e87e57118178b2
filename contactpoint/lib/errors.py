"""The one base class of refusals that people are meant to read.

A service raises a `Refusal` when it declines what was asked for a reason the person can
act on (not allowed, not possible as asked, nothing by that id). Its message is written
for that person and names no child's data, so every interface may show it as it is: the
command line prints it and exits non-zero (contactpoint/cli/__init__.py). Anything else
that escapes is a fault, described by its type and place only.
"""

from __future__ import annotations


class Refusal(Exception):
    """An expected refusal; its message (or, without one, its class's first docstring
    line) is safe to show."""

    def __str__(self) -> str:
        if self.args and str(self.args[0]):
            return str(self.args[0])
        doc = type(self).__doc__ or "refused"
        return doc.strip().splitlines()[0].rstrip(".")
