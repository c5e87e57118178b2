"""The tamper-evident audit log: a Merkle tree of events with signed checkpoints."""
