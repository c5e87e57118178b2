"""A form that meets the second-factor check keeps what was typed.

When `@step_up` sends a POST to confirm the second factor, the form's fields are held in
the user's server-side session, sealed (AES-256-GCM under a key derived from the secret key,
bound to the user and the address), never in a URL. The first GET of the same address after
the second factor is given again replays them once, as the POST the user made: the form
comes back with its errors, or the action is done. Fields held longer than HELD_FOR, or
held before a sign-in of another user, are dropped unread.
"""

from __future__ import annotations

import json
import time

from django.conf import settings
from django.http import HttpRequest, QueryDict

from contactpoint.lib import crypto

HELD = "cp_held_form"  # the session key: {"path": ..., "at": seconds, "sealed": hex}
HELD_FOR = 15 * 60  # long enough to find a phone and read a code; no longer
MAX_BYTES = 64 * 1024  # a form larger than this is not held (it is typed again)
_NOT_KEPT = ("csrfmiddlewaretoken",)


def _key() -> bytes:
    return crypto.derive_key(str(settings.SECRET_KEY).encode(), "web/held-form/v1")


def _bound(request: HttpRequest, path: str) -> bytes:
    return f"{getattr(request.user, 'pk', '')}|{path}".encode()


def hold(request: HttpRequest) -> None:
    """Keep this POST's fields for a replay after the second factor."""
    path = request.get_full_path()
    fields = [(k, v) for k, values in request.POST.lists() if k not in _NOT_KEPT for v in values]
    plain = json.dumps(fields).encode()
    if len(plain) > MAX_BYTES:
        request.session.pop(HELD, None)
        return
    sealed = crypto.seal(_key(), plain, _bound(request, path))
    request.session[HELD] = {"path": path, "at": time.time(), "sealed": sealed.hex()}


def replay(request: HttpRequest, factor_at: float) -> bool:
    """Turn this GET into the POST held for its address, once, if the second factor was
    given after it was held; whether it did."""
    held = request.session.get(HELD)
    if request.method != "GET" or not isinstance(held, dict):
        return False
    path, at = str(held.get("path", "")), float(held.get("at", 0))
    if path != request.get_full_path():
        if time.time() - at > HELD_FOR:
            request.session.pop(HELD, None)
        return False
    request.session.pop(HELD, None)
    if time.time() - at > HELD_FOR or factor_at < at:
        return False
    try:
        plain = crypto.open_sealed(_key(), bytes.fromhex(held["sealed"]), _bound(request, path))
    except (crypto.DecryptionError, ValueError, KeyError):
        return False
    data = QueryDict(mutable=True)
    for key, value in json.loads(plain):
        data.appendlist(str(key), str(value))
    data._mutable = False
    request.method = "POST"
    request.POST = data  # type: ignore[assignment]
    return True
