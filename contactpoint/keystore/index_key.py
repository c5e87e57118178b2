"""The root key of the blind indexes: CONTACTPOINT_INDEX_KEY(_FILE), or the demo file.

It never rotates with the key-encryption key: changing it means recomputing every blind
index (a rebuild, not a rotation).
"""

from __future__ import annotations

import base64
import functools
import json
import os
from pathlib import Path

from contactpoint import config
from contactpoint.keystore.provider import write_private
from contactpoint.lib import crypto

INDEX_KEY_FORMAT = "contactpoint-index-key/1"


def demo_index_key_path() -> Path:
    return config.layout_dir(config.KEYS_DIR) / "demo-index-key.json"


def create_demo_index_key(path: Path) -> None:
    key = base64.b64encode(crypto.new_key()).decode()
    doc = {"format": INDEX_KEY_FORMAT, "demo": True, "key": key}
    write_private(path, json.dumps(doc, indent=2) + "\n")


def _parse(text: str, origin: str) -> bytes:
    try:
        doc = json.loads(text)
        if doc.get("format") != INDEX_KEY_FORMAT:
            raise ValueError("unknown format")
        key = base64.b64decode(doc["key"], validate=True)
        demo = bool(doc.get("demo", False))
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise config.ConfigurationError(f"{origin} is not a valid index key") from exc
    if len(key) < 32:
        raise config.ConfigurationError(f"{origin}: the index key must be at least 256 bits")
    if demo and not config.is_development():
        raise config.ConfigurationError(f"{origin} is a demo key; refused outside development")
    return key


@functools.cache
def index_root_key() -> bytes:
    """Return the blind-index root key, read once per process."""
    text = config.secret("CONTACTPOINT_INDEX_KEY")
    if text is not None:
        origin = "CONTACTPOINT_INDEX_KEY" + (
            "_FILE" if "CONTACTPOINT_INDEX_KEY_FILE" in os.environ else ""
        )
        return _parse(text, origin)
    path = demo_index_key_path()
    if not config.is_development() or not path.exists():
        raise config.ConfigurationError(
            "CONTACTPOINT_INDEX_KEY(_FILE) is not set"
            + ("; run `contactpoint init` for a demo key" if config.is_development() else "")
        )
    return _parse(path.read_text(encoding="utf-8"), str(path))


@functools.cache
def derived_key(purpose: str) -> bytes:
    return crypto.derive_key(index_root_key(), purpose)
