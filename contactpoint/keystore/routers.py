"""Send the key store's models to the 'keys' database and everything else to 'default'."""

from __future__ import annotations

from typing import Any

KEYS_ALIAS = "keys"
KEYSTORE_APP = "keystore"


class KeyStoreRouter:
    def db_for_read(self, model: Any, **hints: Any) -> str:
        return KEYS_ALIAS if model._meta.app_label == KEYSTORE_APP else "default"

    def db_for_write(self, model: Any, **hints: Any) -> str:
        return self.db_for_read(model)

    def allow_relation(self, obj1: Any, obj2: Any, **hints: Any) -> bool | None:
        first: str = obj1._meta.app_label
        second: str = obj2._meta.app_label
        return (first == KEYSTORE_APP) == (second == KEYSTORE_APP)

    def allow_migrate(self, db: str, app_label: str, **hints: Any) -> bool:
        return (db == KEYS_ALIAS) == (app_label == KEYSTORE_APP)
