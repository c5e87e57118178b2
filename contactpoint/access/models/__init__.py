"""Access models: accreditation, users and their second factors, machine clients, throttles."""

from contactpoint.access.models.clients import ApiClient, ApiToken
from contactpoint.access.models.factors import SecurityKey, TotpDevice
from contactpoint.access.models.throttles import Throttle, ThrottleAttempt
from contactpoint.access.models.users import (
    Accreditation,
    Activation,
    ResetRequest,
    User,
    accreditation_of,
)

__all__ = [
    "Accreditation",
    "Activation",
    "ApiClient",
    "ApiToken",
    "ResetRequest",
    "SecurityKey",
    "Throttle",
    "ThrottleAttempt",
    "TotpDevice",
    "User",
    "accreditation_of",
]
