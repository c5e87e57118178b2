"""Machine clients (case-management systems, source feeds) and their short-lived tokens."""

from __future__ import annotations

from django.db import models

from contactpoint.access.permissions import Role
from contactpoint.registry.models import Organisation


class ApiClient(models.Model):
    """An OAuth 2 client (client credentials grant) acting for an organisation in a role."""

    client_id = models.CharField(max_length=40, unique=True)
    secret_hash = models.CharField(max_length=200)  # Argon2, like a password
    name = models.CharField(max_length=120)
    organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="+")
    role = models.CharField(max_length=16, choices=[(r.value, r.label) for r in Role])
    enabled = models.BooleanField(default=True)
    session_epoch = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return self.client_id


class ApiToken(models.Model):
    """A bearer token: only its SHA-256 digest is stored, and it lives minutes."""

    digest = models.CharField(max_length=64, unique=True)
    client = models.ForeignKey(ApiClient, on_delete=models.CASCADE, related_name="tokens")
    epoch = models.PositiveIntegerField()
    expires_at = models.DateTimeField()
