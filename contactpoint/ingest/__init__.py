"""Ingest: read source feeds, validate each row, quarantine bad ones, load the rest."""
