"""A process with other threads checks rows itself rather than fork readers that could hang."""

from __future__ import annotations

import _thread
import threading
from collections.abc import Iterator

import pytest

from contactpoint.ingest.bulk.read import Readers
from contactpoint.lib.processes import may_fork


@pytest.fixture
def another_thread() -> Iterator[None]:
    stop = threading.Event()
    thread = threading.Thread(target=stop.wait, name="beside-the-test")
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join()


def test_a_process_with_another_thread_may_not_fork(another_thread: None) -> None:
    assert threading.active_count() > 1
    assert not may_fork()


def test_a_thread_started_below_threading_counts_too() -> None:
    """execnet (pytest-xdist) starts its thread with `_thread`, which threading does not list."""
    started, stop = _thread.allocate_lock(), _thread.allocate_lock()
    started.acquire()
    stop.acquire()

    def wait() -> None:
        started.release()
        with stop:
            pass

    _thread.start_new_thread(wait, ())
    started.acquire()
    try:
        assert not may_fork()
    finally:
        stop.release()


@pytest.mark.django_db(transaction=True)
def test_readers_check_rows_in_this_process_when_another_thread_runs(
    another_thread: None,
) -> None:
    with Readers(2) as readers:
        assert readers.pool is None and readers.workers == 1
