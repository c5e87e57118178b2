"""Hardening across the system: addresses, limits, forms, layout, logs, quotas, unavailability."""
