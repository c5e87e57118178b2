"""Attempts counted for throttling sign-in and second-factor guesses (and quotas)."""

from __future__ import annotations

from django.db import models


class Throttle(models.Model):
    """One counted thing: the row each attempt locks, so two requests cannot both take the
    last place in a window."""

    # A digest of what is counted ("signin:<email>:<ip>"), never the email or address itself.
    key = models.CharField(max_length=64, unique=True)


class ThrottleAttempt(models.Model):
    """One attempt counted under a key: a window is the attempts of its last N seconds,
    wherever it starts (a sliding window, not a fixed bucket)."""

    key = models.CharField(max_length=64)
    at = models.DateTimeField()

    class Meta:
        indexes = [
            models.Index(fields=["key", "at"], name="throttle_attempts"),
            models.Index(fields=["at"], name="throttle_attempts_at"),  # the oldest pruned
        ]
