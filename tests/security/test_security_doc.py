"""docs/security.md names, for each threat, the test that proves its defence: every test it
names exists, so the document cannot point at a test that was renamed or moved."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "security.md"
# `tests/a/test_b.py`, `test_b.py::test_c`, or `::test_c` (a test of the file named last).
REFERENCE = re.compile(r"`(?:((?:tests/[\w/]+/)?test_\w+\.py)(?:::(\w+))?|::(\w+))`")


def files_by_name() -> dict[str, list[Path]]:
    """Each test file's name, to the paths that have it."""
    found: dict[str, list[Path]] = {}
    for path in (ROOT / "tests").rglob("test_*.py"):
        found.setdefault(path.name, []).append(path)
    return found


def dangling(text: str, files: dict[str, list[Path]]) -> list[str]:
    """The references in `text` to a test file or a test function that does not exist."""
    missing: list[str] = []
    last: list[Path] = []
    for match in REFERENCE.finditer(text):
        named, test, same = match.groups()
        if named is not None:
            last = [ROOT / named] if "/" in named else files.get(named, [])
            last = [p for p in last if p.is_file()]
            if not last:
                missing.append(named)
                continue
        name = test or same
        if name and not any(re.search(rf"def {name}\b", p.read_text()) for p in last):
            missing.append(f"{named or '...'}::{name}")
    return missing


def test_every_test_the_security_document_names_exists() -> None:
    text = DOC.read_text(encoding="utf-8")
    assert len(REFERENCE.findall(text)) > 100
    assert dangling(text, files_by_name()) == []


def test_a_moved_file_or_a_renamed_test_is_caught() -> None:
    files = files_by_name()
    here = "`tests/security/test_security_doc.py::test_a_moved_file_or_a_renamed_test_is_caught`"
    assert dangling(here, files) == []
    assert dangling("`tests/functional/test_sealed_practice.py`", files) == [
        "tests/functional/test_sealed_practice.py"
    ]
    assert dangling("`test_security_doc.py::test_gone`, `::files_by_name`", files) == [
        "test_security_doc.py::test_gone"
    ]
