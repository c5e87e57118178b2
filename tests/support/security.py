"""Figures the security suite measured, kept for the summary its conftest prints."""

from __future__ import annotations

FIGURES: list[str] = []


def report(line: str) -> None:
    """Keep a measured figure for the summary (never a child's data)."""
    FIGURES.append(line)
    print(line)
