"""A bulk first load's writer process (load._pool starts them, one per core).

Started afresh by multiprocessing's spawn, so this module imports nothing of Django's
models at import time: Django is set up first, on the load's own databases.
"""

from __future__ import annotations

import os
import pickle
import threading
import time
from typing import TYPE_CHECKING

import django

if TYPE_CHECKING:
    from contactpoint.ingest.bulk.plan import Unit
    from contactpoint.ingest.bulk.write import ChunkWriter, Written

_WRITER: ChunkWriter | None = None


def start(parent: int, names: dict[str, str], made: bytes) -> None:
    """Set up Django on the databases named (alias to NAME, as the load's process has
    them: under test, the test databases), make the load's writer, and watch the load:
    once it is gone (killed) this process ends, so none lingers. A chunk it was writing
    then commits whole or not at all."""
    django.setup()
    from django.db import connections

    for alias, name in names.items():
        connections[alias].settings_dict["NAME"] = name
    global _WRITER
    _WRITER = writer_in_worker(made)

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(0.5)
        os._exit(1)

    threading.Thread(target=watch, daemon=True, name="parent-watch").start()


def write(chunk: list[Unit]) -> tuple[int, Written | None]:
    assert _WRITER is not None, "start runs first, as the pool's initializer"
    return write_chunk(_WRITER, chunk)


def writer_in_worker(made: bytes) -> ChunkWriter:
    """The writer load._pool described, made again in a worker process."""
    from contactpoint.ingest.bulk.write import ChunkWriter
    from contactpoint.ingest.models import LoadedFile
    from contactpoint.ingest.rows import FeedError
    from contactpoint.linkage import store

    model_id, loaded_ids, named = pickle.loads(made)  # noqa: S301 (from the parent process)
    model = store.active()
    if model.record.pk != model_id:
        raise FeedError("the active linkage model changed during the bulk load: run it again")
    files = LoadedFile.objects.in_bulk(loaded_ids)
    return ChunkWriter(model, [files[i] for i in loaded_ids], named)


def write_chunk(writer: ChunkWriter, chunk: list[Unit]) -> tuple[int, Written | None]:
    """Write one chunk; return how many records it holds, and what was written."""
    return sum(len(u.records) for u in chunk), writer.write(chunk)
