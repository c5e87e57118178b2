"""Second factors: TOTP authenticator apps and WebAuthn security keys or passkeys."""

from __future__ import annotations

from django.db import models

from contactpoint.access.models.users import User


class TotpDevice(models.Model):
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="totp_devices")
    name = models.CharField(max_length=60, default="Authenticator app")
    # The shared secret, sealed with AES-GCM under a key derived from the service secret.
    secret_sealed = models.BinaryField()
    confirmed = models.BooleanField(default=False)
    # The last 30-second step whose code was accepted: a code is never accepted twice.
    last_step = models.BigIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)


class SecurityKey(models.Model):
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="security_keys")
    name = models.CharField(max_length=60, default="Security key")
    credential_id = models.BinaryField(unique=True)
    public_key = models.BinaryField()
    sign_count = models.BigIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True)
