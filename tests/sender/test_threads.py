"""The sender's reusable threads: reuse, a bounded count, and waiting for work in hand."""

import threading

from leaddesk.sender.threads import SendingThreads


def test_threads_are_reused_and_never_exceed_the_limit():
    threads = SendingThreads(limit=3)
    seen: set[str] = set()
    release = threading.Event()
    lock = threading.Lock()

    def task() -> None:
        with lock:
            seen.add(threading.current_thread().name + str(threading.get_ident()))
        release.wait(5)

    for _ in range(10):
        threads.submit(task)
    assert threads.pending == 10
    assert threads.wait_idle(0.2) == 10
    release.set()

    assert threads.wait_idle(5) == 0
    assert 1 <= len(seen) <= 3
    assert all(thread.daemon for thread in threading.enumerate() if thread.name == "leaddesk-send")


def test_waiting_is_bounded_when_a_task_hangs():
    threads = SendingThreads(limit=2)
    stuck = threading.Event()
    threads.submit(lambda: stuck.wait(10))
    threads.submit(lambda: None)

    assert threads.wait_idle(0.3) == 1
    stuck.set()
    assert threads.wait_idle(5) == 0
