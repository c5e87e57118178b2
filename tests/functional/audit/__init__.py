"""The audit log: every read written before it is shown, fail-closed, administered; logs
hold no identifier."""
