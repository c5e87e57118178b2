"""Helpers shared between test files: actors, children, feeds, the API, pages, the CLI."""
