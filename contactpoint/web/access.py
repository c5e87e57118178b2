"""Every view declares its access rule; a test walks the URL map and proves it.

Issue 4 replaces PUBLIC with the permissions vocabulary (`scope:resource:action`); the
decorator and the test stay.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

PUBLIC = "public"  # shows no child data: service status, health checks, assets

V = TypeVar("V", bound=Callable[..., object])


def access_rule(rule: str) -> Callable[[V], V]:
    def mark(view: V) -> V:
        view.access_rule = rule  # type: ignore[attr-defined]
        return view

    return mark
