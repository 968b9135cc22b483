"""Real processes on one data file: the app beside `leaddesk run`, and a sender frozen a while."""

from __future__ import annotations

import itertools
import os
import signal
import subprocess
import sys
import time

from leaddesk.advertiser.sandbox import SandboxAdvertiser
from leaddesk.cli.main import main
from leaddesk.services import directory
from leaddesk.storage.database import open_database

LEADS = 10


def prepare(tmp_path, advertiser: SandboxAdvertiser) -> str:
    data = str(tmp_path / "job")
    leads = tmp_path / "leads.csv"
    leads.write_text(
        "First Name,Email\n" + "".join(f"P{n},p{n}@example.com\n" for n in range(LEADS)),
        encoding="utf-8",
    )
    for args in (
        ["import", str(leads), "--list", "Job"],
        ["affiliate", "add", "North"],
        ["offer", "add", "Solar", "--url", advertiser.url],
        [
            "distribute",
            "--list",
            "Job",
            "--affiliate",
            "North",
            "--offer",
            "Solar",
            "--every",
            "1s",
            "--manager",
            "Dana",
        ],
    ):
        assert main(["--data-dir", data, *args]) == 0
    return data


def start(data: str, *args: str) -> subprocess.Popen:
    environment = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    return subprocess.Popen(
        [sys.executable, "-m", "leaddesk", "--data-dir", data, *args],
        env=environment,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def wait_for(condition, timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.1)


def gaps(advertiser: SandboxAdvertiser) -> list[float]:
    times = [request["received_at"] for request in advertiser.received]
    return [later - earlier for earlier, later in itertools.pairwise(times)]


def emails(advertiser: SandboxAdvertiser) -> list[str]:
    return [request["payload"]["email"] for request in advertiser.received]


def stop(process: subprocess.Popen) -> str:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
    try:
        _out, errors = process.communicate(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
        _out, errors = process.communicate()
    return errors


def test_the_app_and_a_headless_run_on_one_file_send_each_lead_once(tmp_path, sandbox):
    data = prepare(tmp_path, sandbox)
    database = open_database(tmp_path / "job")
    with database.writer() as session:
        directory.set_current_manager(session, "Dana")
        session.commit()
    database.close()

    app = start(data)
    headless = start(data, "run", "--until-done")
    try:
        assert headless.wait(timeout=60) == 0
    finally:
        stop(headless)
        app_errors = stop(app)

    assert "Traceback" not in app_errors
    assert sorted(emails(sandbox)) == sorted(f"p{n}@example.com" for n in range(LEADS))
    # One of the two sent, so the pace was not doubled.
    assert min(gaps(sandbox)) >= 0.3


def test_a_sender_frozen_for_a_while_goes_on_without_a_burst(tmp_path, sandbox):
    data = prepare(tmp_path, sandbox)
    sender = start(data, "run", "--until-done")
    try:
        wait_for(lambda: len(sandbox.received) >= 3, 20)
        sender.send_signal(signal.SIGSTOP)
        time.sleep(8)
        sender.send_signal(signal.SIGCONT)
        assert sender.wait(timeout=60) == 0
    finally:
        stop(sender)

    assert len(emails(sandbox)) == LEADS == len(set(emails(sandbox)))
    found = gaps(sandbox)
    assert min(found) >= 0.3, found
    assert max(found) >= 7, found
    assert sorted(found)[-2] <= 1.7, found
