"""The JSON API through HTTP: tokens, operations, the practitioner's work through the API."""
