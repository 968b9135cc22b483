"""Reusable daemon threads for sending, and a count of the work they hold.

Threads are kept rather than made per lead, so each keeps its connections to advertisers
open between leads. They are daemons: a request stuck on a silent advertiser must never keep
LeadDesk from quitting; what it leaves in flight is settled as unknown at the next start.
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable


class SendingThreads:
    """Runs tasks on up to `limit` daemon threads, started as work needs them."""

    def __init__(self, limit: int, name: str = "leaddesk-send") -> None:
        self._limit = limit
        self._name = name
        self._tasks: queue.SimpleQueue[Callable[[], None]] = queue.SimpleQueue()
        self._changed = threading.Condition()
        self._threads = 0
        self._idle = 0
        self._pending = 0

    def submit(self, task: Callable[[], None]) -> None:
        with self._changed:
            self._pending += 1
            if self._idle == 0 and self._threads < self._limit:
                self._threads += 1
                threading.Thread(target=self._work, name=self._name, daemon=True).start()
        self._tasks.put(task)

    @property
    def pending(self) -> int:
        """Tasks submitted and not yet finished."""
        with self._changed:
            return self._pending

    def wait_idle(self, timeout_s: float) -> int:
        """Wait up to `timeout_s` for every task to finish; returns how many have not."""
        deadline = time.monotonic() + timeout_s
        with self._changed:
            while self._pending and (left := deadline - time.monotonic()) > 0:
                self._changed.wait(left)
            return self._pending

    def _work(self) -> None:
        while True:
            with self._changed:
                self._idle += 1
            task = self._tasks.get()
            with self._changed:
                self._idle -= 1
            try:
                task()
            finally:
                with self._changed:
                    self._pending -= 1
                    self._changed.notify_all()
