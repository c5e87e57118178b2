"""Oversight: misuse detection over the audit log, alerts to privacy officers."""
