"""The key store: key-encryption keys (through a provider) and each child's wrapped data key."""
