"""The main job end to end: a real sample file, the command line, and the sandbox's log."""

from __future__ import annotations

import itertools
import json
import statistics
import subprocess
import sys
import time

import pytest

from leaddesk.advertiser.sandbox import SandboxAdvertiser
from leaddesk.cli.main import main
from leaddesk.core.lead_import import read_lead_file

SAMPLE = "datablist-leads-100.csv"
INTERVAL_S = 1.0


def logged(path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def check_pacing(requests: list[dict], lead_count: int, started_at: float) -> dict[str, float]:
    times = [request["received_at"] for request in requests]
    gaps = [later - earlier for earlier, later in itertools.pairwise(times)]
    figures = {
        "first_after_s": times[0] - started_at,
        "min_gap": min(gaps),
        "max_gap": max(gaps),
        "mean_gap": statistics.mean(gaps),
        "variation": statistics.pstdev(gaps) / statistics.mean(gaps),
        "total_s": times[-1] - times[0],
    }
    assert figures["first_after_s"] < 1.0
    assert figures["min_gap"] >= 0.3 * INTERVAL_S and figures["max_gap"] <= 1.7 * INTERVAL_S
    assert figures["mean_gap"] == pytest.approx(INTERVAL_S, rel=0.05)
    assert figures["variation"] >= 0.15
    estimate = (lead_count - 1) * INTERVAL_S
    assert abs(figures["total_s"] - estimate) <= INTERVAL_S
    return figures


@pytest.mark.slow
def test_a_sample_file_reaches_the_advertiser_once_per_lead_at_its_pace(
    tmp_path, samples_dir, capsys
):
    data = str(tmp_path / "data")
    sample = samples_dir / SAMPLE
    expected = {lead.email for lead in read_lead_file(sample).leads}
    quick_log, slow_log = tmp_path / "quick.jsonl", tmp_path / "slow.jsonl"

    with (
        SandboxAdvertiser(port=0, log_path=quick_log) as quick,
        SandboxAdvertiser(port=0, log_path=slow_log, latency_ms=2000) as slow,
    ):
        assert main(["--data-dir", data, "import", str(sample), "--list", "Sample"]) == 0
        assert main(["--data-dir", data, "affiliate", "add", "North"]) == 0
        for name, advertiser in (("Quick", quick), ("Slow", slow)):
            assert main(["--data-dir", data, "offer", "add", name, "--url", advertiser.url]) == 0
            assert (
                main(
                    [
                        "--data-dir",
                        data,
                        "distribute",
                        "--list",
                        "Sample",
                        "--affiliate",
                        "North",
                        "--offer",
                        name,
                        "--every",
                        "1s",
                        "--title",
                        f"Sample to {name}",
                    ]
                )
                == 0
            )
        sender = subprocess.Popen(
            [sys.executable, "-m", "leaddesk", "--data-dir", data, "run", "--until-done"],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        # The sender says so once it is up; the first lead must follow within a second.
        assert sender.stdout.readline().startswith("Sending")
        started_at = time.time()
        _out, errors = sender.communicate(timeout=300)
    assert sender.returncode == 0, errors

    capsys.readouterr()
    assert main(["--data-dir", data, "distributions", "--status", "done", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert sorted((row["offers"], row["accepted"], row["sent"]) for row in rows) == [
        ("Quick", 100, 100),
        ("Slow", 100, 100),
    ]
    assert all(row["last_send"] for row in rows)
    for log_path in (quick_log, slow_log):
        requests = logged(log_path)
        emails = [request["payload"]["email"] for request in requests]
        assert len(emails) == len(expected) == 100
        assert set(emails) == expected
        figures = check_pacing(requests, len(expected), started_at)
        with capsys.disabled():
            print(log_path.stem, {name: round(value, 3) for name, value in figures.items()})
