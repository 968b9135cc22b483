"""A soak run: many distributions at one lead a second, sent for minutes by the real Sender.

Creates 50 distributions of made-up leads, each sending one lead every second to a sandbox
advertiser (a process of its own) that answers after 200 ms, runs the Sender in a thread (as
`leaddesk run` does) for the given minutes, then prints the pacing error, CPU use, memory and
duplicates.

Pacing error of a lead is the moment the advertiser received it minus the moment the engine's
schedule makes it due: the distribution's anchor plus `offset_seconds(interval, seed, k)`,
computed from the data file's anchor exactly as the engine does. Positive means late.

Run: python benchmarks/soak.py [--minutes 10] [--distributions 50] [--latency-ms 200]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import resource
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from datetime import timezone
from pathlib import Path

from sqlalchemy import func, select

from leaddesk.core.lead_import import ImportResult, LeadRecord
from leaddesk.core.pacing import PeriodUnit, SendInterval, offset_seconds
from leaddesk.sender import engine
from leaddesk.sender.engine import Sender
from leaddesk.services import directory, distributions, lead_lists
from leaddesk.storage.database import Database, open_database
from leaddesk.storage.models import Delivery, Distribution

DEFAULT_MINUTES = 10.0
DEFAULT_DISTRIBUTIONS = 50
DEFAULT_LATENCY_MS = 200
INTERVAL_S = 1
# More leads than the run can send, so that no distribution finishes early.
SPARE_LEADS = 60
MEMORY_SAMPLE_EVERY_S = 30.0
# RSS growth under this is counted as flat: allocator noise, caches filling once.
FLAT_RSS_GROWTH_MB = 10.0
EMAIL_DOMAIN = "soak.example.com"


class _RestartCounter(logging.Handler):
    """Counts the engine's "fell behind its pace" restarts."""

    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.restarts = 0

    def emit(self, record: logging.LogRecord) -> None:
        if "fell behind" in record.getMessage():
            self.restarts += 1


def rss_mb() -> float:
    """The resident memory of this process now, from /proc/self/status."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def made_up_leads(distribution_number: int, count: int) -> list[LeadRecord]:
    """Leads whose e-mail names their distribution and position: d7-12@..."""
    return [
        LeadRecord(
            row_number=position + 2,
            first_name=f"Soak{distribution_number}",
            last_name=f"Lead{position}",
            email=f"d{distribution_number}-{position}@{EMAIL_DOMAIN}",
            phone=f"+4930{2000000 + distribution_number * 10000 + position}",
            country="DE",
        )
        for position in range(count)
    ]


def store_lists(database: Database, count: int, leads_each: int) -> list[int]:
    list_ids = []
    with database.writer() as session:
        for number in range(count):
            leads = made_up_leads(number, leads_each)
            result = ImportResult(len(leads), leads, [], "utf-8", ",", {})
            stored = lead_lists.store_list(session, f"Soak {number}", result, "Soak", "soak.csv")
            list_ids.append(stored.id)
        session.commit()
    return list_ids


def create_distributions(database: Database, list_ids: list[int], url: str) -> None:
    with database.writer() as session:
        product = directory.get_or_create_product(session, "Energy")
        affiliate = directory.add_affiliate(session, "Soak affiliate")
        offer = directory.add_offer(session, "Soak offer", url, product.id)
        session.commit()
        affiliate_id, offer_id = affiliate.id, offer.id
    interval = SendInterval(INTERVAL_S, PeriodUnit.SECONDS)
    for number, list_id in enumerate(list_ids):
        with database.writer() as session:
            new = distributions.NewDistribution(
                title=f"Soak {number}",
                lead_list_id=list_id,
                affiliate_id=affiliate_id,
                offer_id=offer_id,
                interval=interval,
                fixed_fields={},
                manager_name="Soak",
            )
            distributions.create_distribution(session, new)
            session.commit()


def schedule_errors(
    database: Database, received: list[dict], list_ids: list[int]
) -> tuple[list[float], list[float], int]:
    """Lateness of every lead and of leads after the first, against each distribution's final
    anchor; and the number of leads sent before that anchor (after a pace restart)."""
    anchors = {}
    with database.session() as session:
        for distribution in session.scalars(select(Distribution)):
            anchor_wall = distribution.anchor_at.replace(tzinfo=timezone.utc).timestamp()
            seed = engine._seed(distribution.id, distribution.anchor_index)
            number = list_ids.index(distribution.lead_list_id)
            anchors[number] = (anchor_wall, distribution.anchor_index, seed)
    errors, later, before_anchor = [], [], 0
    for entry in received:
        email = entry["payload"]["email"]
        number, position = (int(part) for part in email.split("@")[0][1:].split("-"))
        anchor_wall, anchor_index, seed = anchors[number]
        if position < anchor_index:
            before_anchor += 1
            continue
        due = anchor_wall + offset_seconds(INTERVAL_S, seed, position - anchor_index)
        errors.append(entry["received_at"] - due)
        if position > 0:
            later.append(errors[-1])
    return errors, later, before_anchor


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(int(share * len(ordered)), len(ordered) - 1)]


@contextlib.contextmanager
def advertiser_process(log_path: Path, latency_ms: int):
    """The sandbox advertiser in a process of its own, so figures are the sender's alone."""
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "leaddesk",
            "sandbox",
            "--port",
            "0",
            "--log",
            str(log_path),
            "--latency",
            str(latency_ms),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        line = process.stdout.readline()
        yield line.split(" on ", 1)[1].split()[0]
    finally:
        process.terminate()
        process.wait(timeout=10)


def count_lines(path: Path) -> int:
    """Leads received so far, counted without loading them: the figures are of the sender."""
    if not path.exists():
        return 0
    with path.open("rb") as log_file:
        return sum(chunk.count(b"\n") for chunk in iter(lambda: log_file.read(1 << 20), b""))


def read_log(path: Path) -> list[dict]:
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=DEFAULT_MINUTES)
    parser.add_argument("--distributions", type=int, default=DEFAULT_DISTRIBUTIONS)
    parser.add_argument("--latency-ms", type=int, default=DEFAULT_LATENCY_MS)
    parser.add_argument("--data-dir", help="where to make the data file (default: a temp dir)")
    args = parser.parse_args()
    duration_s = args.minutes * 60
    restarts = _RestartCounter()
    logging.getLogger(engine.__name__).addHandler(restarts)
    logging.getLogger(engine.__name__).setLevel(logging.INFO)

    folder = Path(args.data_dir or tempfile.mkdtemp(prefix="leaddesk-soak-"))
    database = open_database(folder)
    leads_each = int(duration_s / INTERVAL_S) + SPARE_LEADS
    list_ids = store_lists(database, args.distributions, leads_each)
    print(
        f"{args.distributions} distributions x {leads_each} leads, one lead every "
        f"{INTERVAL_S} s each, advertiser latency {args.latency_ms} ms, for "
        f"{args.minutes:g} min; data file in {folder}",
        flush=True,
    )

    log_path = folder / "advertiser.jsonl"
    with advertiser_process(log_path, args.latency_ms) as url:
        sender = Sender(database)
        sender.start()
        stop = threading.Event()
        thread = threading.Thread(target=sender.run, kwargs={"stop": stop}, name="soak-sender")
        rss_start = rss_mb()
        cpu_start, wall_start = cpu_seconds(), time.monotonic()
        thread.start()
        create_distributions(database, list_ids, url)
        sender.wake()

        rss_samples = [(0.0, rss_start)]
        while (elapsed := time.monotonic() - wall_start) < duration_s:
            time.sleep(min(MEMORY_SAMPLE_EVERY_S, duration_s - elapsed))
            rss_samples.append((time.monotonic() - wall_start, rss_mb()))
            print(
                f"  {rss_samples[-1][0] / 60:5.1f} min: {count_lines(log_path):>7,} received, "
                f"RSS {rss_samples[-1][1]:.1f} MB",
                flush=True,
            )
        stop.set()
        sender.wake()
        thread.join()
        left_in_flight = sender.shutdown()
        wall_s = time.monotonic() - wall_start
        cpu_s = cpu_seconds() - cpu_start
        rss_end = rss_mb()
    received = read_log(log_path)

    errors, later, before_anchor = schedule_errors(database, received, list_ids)
    emails = Counter(entry["payload"]["email"] for entry in received)
    duplicates = sum(count - 1 for count in emails.values())
    with database.session() as session:
        states = dict(
            session.execute(select(Delivery.state, func.count()).group_by(Delivery.state)).all()
        )
    database.close()

    expected = args.distributions * wall_s / INTERVAL_S
    print(f"Ran {wall_s / 60:.2f} min; leads received by the advertiser: {len(received):,}")
    print(f"  (about {expected:,.0f} expected at the pace); delivery states: {states}")
    print(f"Duplicates (same lead received twice): {duplicates}")
    print(f"Pace restarts (a distribution fell > 5 s behind): {restarts.restarts}")
    if errors:
        print(
            "Pacing error, received_at minus scheduled time, over "
            f"{len(errors):,} leads: p50 {statistics.median(errors) * 1000:+.1f} ms, "
            f"p99 {percentile(errors, 0.99) * 1000:+.1f} ms, "
            f"max {max(errors) * 1000:+.1f} ms, min {min(errors) * 1000:+.1f} ms"
        )
    if later:
        print(
            "  the same without each distribution's first lead (sent when the engine first "
            f"sees it): p50 {statistics.median(later) * 1000:+.1f} ms, "
            f"p99 {percentile(later, 0.99) * 1000:+.1f} ms, max {max(later) * 1000:+.1f} ms"
        )
    if before_anchor:
        print(f"  ({before_anchor} leads sent before a restart are not in these figures)")
    print(
        f"CPU: {cpu_s:.1f} s user+sys over {wall_s:.0f} s wall = "
        f"{100 * cpu_s / wall_s:.1f} % of one core (the sender; the advertiser is another "
        "process)"
    )
    # The first sample is taken once threads, connections and caches have been made.
    warm = rss_samples[1][1] if len(rss_samples) > 1 else rss_start
    growth = rss_end - warm
    print(
        f"RSS: {rss_start:.1f} MB at start, {warm:.1f} MB once warm "
        f"({MEMORY_SAMPLE_EVERY_S:.0f} s in), {rss_end:.1f} MB at the end ({growth:+.1f} MB "
        f"since warm): {'flat' if growth < FLAT_RSS_GROWTH_MB else 'GREW'}"
    )
    print(f"Requests still in flight at shutdown: {left_in_flight}")
    return 0 if duplicates == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
