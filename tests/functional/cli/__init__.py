"""The contactpoint command as an operator meets it."""
