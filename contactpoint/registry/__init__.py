"""The registry: what a child record is, stored encrypted, with provenance on every fact."""
