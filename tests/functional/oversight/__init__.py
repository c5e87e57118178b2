"""Misuse detection and the privacy officer's workspace."""
