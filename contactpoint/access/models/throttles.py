"""Attempt counters for throttling sign-in and second-factor guesses."""

from __future__ import annotations

from django.db import models


class Throttle(models.Model):
    # A digest of what is counted ("signin:<email>:<ip>"), never the email or address itself.
    key = models.CharField(max_length=64, unique=True)
    window_start = models.DateTimeField()
    count = models.PositiveIntegerField(default=0)
