"""Front ends open no transaction: the web pages and the API parse, call one service and
render, and each service opens the transaction its work needs (docs/adr/0011-layers.md)."""

from __future__ import annotations

import ast
from pathlib import Path

import contactpoint

FRONT_ENDS = ("web", "api")


def transactions_opened(path: Path) -> list[str]:
    """Where a module opens a transaction: `transaction.atomic` (a block or a decorator),
    or `atomic` imported from django.db.transaction."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and node.attr in ("atomic", "non_atomic_requests"):
            found.append(f"{path.name}:{node.lineno}")
        if isinstance(node, ast.ImportFrom) and node.module == "django.db.transaction":
            found.append(f"{path.name}:{node.lineno}")
    return found


def test_no_web_page_or_api_operation_opens_a_transaction() -> None:
    root = Path(contactpoint.__file__).parent
    opened = [
        where
        for front_end in FRONT_ENDS
        for path in sorted((root / front_end).rglob("*.py"))
        for where in transactions_opened(path)
    ]
    assert opened == []
