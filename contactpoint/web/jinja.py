"""The Jinja2 environment for GOV.UK Frontend templates."""

from __future__ import annotations

from typing import Any

from django.templatetags.static import static
from jinja2 import Environment


def environment(**options: Any) -> Environment:
    env = Environment(**options)  # noqa: S701 - autoescape comes from Django's backend
    env.globals.update(static=static)
    return env
