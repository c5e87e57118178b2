"""Logical backups of the registry: gzip'd JSON lines, ciphertext only.

The key store is deliberately not in a registry backup (docs/adr/0002-separate-key-store.md):
that is what makes destroying a child's data key reach every backup.
"""
