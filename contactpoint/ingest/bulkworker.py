"""A bulk first load's writer process (bulkload._pool starts them, one per core).

Started afresh by multiprocessing's spawn, so this module imports nothing of Django's
models at import time: Django is set up first, on the load's own databases.
"""

from __future__ import annotations

import os
import threading
import time
from typing import TYPE_CHECKING

import django

if TYPE_CHECKING:
    from contactpoint.ingest.bulkplan import Unit
    from contactpoint.ingest.bulkwrite import ChunkWriter, Written

_WRITER: ChunkWriter | None = None


def start(parent: int, names: dict[str, str], made: bytes) -> None:
    """Set up Django on the databases named (alias to NAME, as the load's process has
    them: under test, the test databases), make the load's writer, and watch the load:
    once it is gone (killed) this process ends, so none lingers. A chunk it was writing
    then commits whole or not at all."""
    django.setup()
    from django.db import connections

    from contactpoint.ingest import bulkload

    for alias, name in names.items():
        connections[alias].settings_dict["NAME"] = name
    global _WRITER
    _WRITER = bulkload.writer_in_worker(made)

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(0.5)
        os._exit(1)

    threading.Thread(target=watch, daemon=True, name="parent-watch").start()


def write(chunk: list[Unit]) -> tuple[int, Written | None]:
    from contactpoint.ingest import bulkload

    assert _WRITER is not None, "start runs first, as the pool's initializer"
    return bulkload.write_chunk(_WRITER, chunk)
