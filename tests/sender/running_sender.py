"""Running the real Sender in a thread, as `leaddesk run` does, for the sender's tests."""

from __future__ import annotations

import threading
import time

from leaddesk.sender.engine import Sender

FAST_RETRIES = (0.05, 0.05)


def wait_until(condition, timeout_s: float = 20.0, poll_s: float = 0.05) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        time.sleep(poll_s)


class RunningSender:
    """A Sender looping in a thread, keeping what it changed and what it reported."""

    def __init__(self, database) -> None:
        self.changes: list[int] = []
        self.errors: list[str] = []
        self.sender = Sender(
            database,
            on_change=self.changes.append,
            on_error=self.errors.append,
            retry_backoff_s=FAST_RETRIES,
        )
        self.stop_event = threading.Event()
        self.sender.start()
        self.thread = threading.Thread(target=self.sender.run, kwargs={"stop": self.stop_event})
        self.thread.start()

    def stop(self) -> None:
        self.stop_event.set()
        self.sender.wake()
        self.thread.join(10)
        assert self.sender.shutdown(5) == 0
