"""The second_factor_guessing rule's findings: wrong second factors after a right password.

A second factor is asked for only once the password was right, so wrong codes (or keys)
mean the password is known to whoever is typing, and a few in a day are worth a privacy
officer's look even when each burst stayed under the throttle (5 in any 15 minutes) and
the user was told at the time (contactpoint.access.guessing). Wrong passwords alone are
not counted here: anyone can type an e-mail address, and the sign-in throttles hold them.
Pure: it reads the day's accesses the rules hand it (contactpoint.oversight.rules).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from contactpoint.oversight.activity import REFUSED, Access

CODE_STEP = "access:sign-in:code"  # a second factor checked (contactpoint.access.signin)
PASSWORD_STEP = "access:sign-in:password"  # noqa: S105 (an action name)
# Three wrong codes in a UK day after a right password: above a slip or two (a code typed
# as it changed), below the throttle's five, so a guesser who stops short of being held
# is still seen.
GUESSES_MIN = 3


@dataclass(frozen=True)
class Guessing:
    refused: int  # second factors refused: wrong, expired, used or throttled
    passwords_right: int  # the right passwords they followed, that day


def found(accesses: Iterable[Access]) -> Guessing | None:
    """The day's refused second factors, when there are GUESSES_MIN or more."""
    refused = right = 0
    for access in accesses:
        if access.action == CODE_STEP and access.outcome == REFUSED:
            refused += 1
        elif access.action == PASSWORD_STEP and access.outcome != REFUSED:
            right += 1
    if refused < GUESSES_MIN:
        return None
    return Guessing(refused, right)


def reason(guessing: Guessing) -> str:
    times = "once" if guessing.passwords_right == 1 else f"{guessing.passwords_right} times"
    return (
        f"{guessing.refused} second factors refused after the right password "
        f"(the password was right {times} that day); someone else may know it"
    )
