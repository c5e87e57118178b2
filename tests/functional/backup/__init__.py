"""Backups and restores of the registry and the key store."""
