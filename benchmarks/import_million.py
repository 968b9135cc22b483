"""Import a million-row lead file with full checks, and a naive per-row insert beside it.

Writes a CSV of realistic leads (several countries, mixed phone formats, 2% duplicates, 1%
broken rows) to a temporary folder, imports it through `import_stream` into a fresh data
file, and prints wall time and peak memory. Then inserts 50,000 leads one ORM object at a
time with one commit, the naive baseline. With --in-a-process the file is imported as the
window imports it, read in a process of its own (`import_in_process`), whose peak memory is
printed too.

    .venv/bin/python benchmarks/import_million.py [--rows N] [--baseline-rows N] [--in-a-process]
"""

from __future__ import annotations

import argparse
import csv
import random
import resource
import sys
import tempfile
import time
from pathlib import Path

from leaddesk.core.clock import utc_now
from leaddesk.core.lead_import import ReadOptions
from leaddesk.services.import_process import import_in_process
from leaddesk.services.lead_lists import import_stream
from leaddesk.storage.database import open_database
from leaddesk.storage.models import Lead, LeadList

ROWS = 1_000_000
BASELINE_ROWS = 50_000
DUPLICATE_SHARE = 0.02
BROKEN_SHARE = 0.01
SEED = 20_240_601
TARGET_S = 30.0
TARGET_MB = 400.0
FIRST_NAMES = ("Anna", "Jürgen", "Zoë", "Mateo", "Lucía", "Oliver", "Amélie", "Piotr", "Sven")
LAST_NAMES = ("Müller", "García", "Smith", "Dubois", "Kowalski", "Rossi", "Jensen", "O'Neil")
DOMAINS = ("example.com", "Example.ORG", "mail.example.net", "post.example.de")
# Country as written in the file, and a way to write a national number of it.
COUNTRIES = (
    ("DE", "0151 {b:03d}{a:04d}"),
    ("Germany", "+49 170 {b:03d}{a:04d}"),
    ("GB", "07700 {b:02d}{a:04d}"),
    ("United Kingdom", "+44 7911 {b:02d}{a:04d}"),
    ("FR", "06 {b:02d} {a:04d}12"),
    ("ES", "+34 612 {b:02d}{a:04d}"),
    ("US", "(202) 5{b:02d}-{a:04d}"),
    ("USA", "+1-415-5{b:02d}-{a:04d} x12"),
    ("IT", "0039 347 {b:03d} {a:04d}"),
)
HEADER = ["First Name", "Last Name", "Email", "Phone", "Country", "Language", "Source"]


def write_leads(path: Path, rows: int, rng: random.Random) -> None:
    written: list[list[str]] = []
    with path.open("w", newline="", encoding="utf-8") as file:
        writer = csv.writer(file)
        writer.writerow(HEADER)
        for index in range(rows):
            roll = rng.random()
            if written and roll < DUPLICATE_SHARE:
                row = list(rng.choice(written[-1000:]))
                row[2] = row[2].upper()  # the same e-mail, differently written
            elif roll < DUPLICATE_SHARE + BROKEN_SHARE:
                row = ["Broken", "Row", f"not-an-email-{index}", "12", "Atlantis", "", ""]
            else:
                country, phone = rng.choice(COUNTRIES)
                row = [
                    rng.choice(FIRST_NAMES),
                    rng.choice(LAST_NAMES),
                    f"lead{index}@{rng.choice(DOMAINS)}",
                    phone.format(a=index % 10_000, b=index // 10_000 % 100),
                    country,
                    rng.choice(("de", "en", "fr-FR", "Spanish", "")),
                    f"campaign-{index % 17}",
                ]
                if len(written) < 1000 or roll > 0.999:
                    written.append(row)
            writer.writerow(row)


def peak_mb(who: int = resource.RUSAGE_SELF) -> float:
    """Peak memory of this process, or of the largest of its ended child processes."""
    # ru_maxrss is in kilobytes on Linux (bytes on macOS).
    scale = 1024 * 1024 if sys.platform == "darwin" else 1024
    return resource.getrusage(who).ru_maxrss / scale


def naive_insert(folder: Path, rows: int) -> float:
    database = open_database(folder)
    started = time.perf_counter()
    with database.writer() as session:
        lead_list = LeadList(title="naive", created_at=utc_now(), rows_read=rows)
        session.add(lead_list)
        session.flush()
        for index in range(rows):
            session.add(
                Lead(
                    lead_list_id=lead_list.id,
                    row_number=index + 2,
                    first_name="Anna",
                    last_name="Müller",
                    email=f"lead{index}@example.com",
                    phone=f"+4915112{index:06d}",
                    country="DE",
                    language="de",
                    extra={"Source": "naive"},
                )
            )
        session.commit()
    elapsed = time.perf_counter() - started
    database.close()
    return elapsed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=ROWS)
    parser.add_argument("--baseline-rows", type=int, default=BASELINE_ROWS)
    parser.add_argument(
        "--in-a-process",
        action="store_true",
        help="import as the window does, reading the file in a process of its own",
    )
    args = parser.parse_args()
    importer = import_in_process if args.in_a_process else import_stream

    with tempfile.TemporaryDirectory(prefix="leaddesk-bench-") as temp:
        folder = Path(temp)
        source = folder / "leads.csv"
        started = time.perf_counter()
        write_leads(source, args.rows, random.Random(SEED))
        size_mb = source.stat().st_size / 1e6
        print(
            f"wrote {args.rows:,} rows ({size_mb:.0f} MB) in {time.perf_counter() - started:.1f} s"
        )

        memory_before = peak_mb()
        database = open_database(folder / "data")
        started = time.perf_counter()
        list_id, summary = importer(database, source, "Million", ReadOptions(default_country="DE"))
        elapsed = time.perf_counter() - started
        database.close()
        memory = peak_mb()
        if args.in_a_process:
            # Both processes run at once: the sum of their peaks bounds what they used.
            child_memory = peak_mb(resource.RUSAGE_CHILDREN)
            print(f"peak RSS: this process {memory:.0f} MB, the import's {child_memory:.0f} MB")
            memory += child_memory
        print(
            f"{importer.__name__}: {elapsed:.1f} s, {summary.rows_read / elapsed:,.0f} rows/s, "
            f"peak RSS {memory:.0f} MB (before the import {memory_before:.0f} MB); "
            f"{summary.leads:,} leads, {len(summary.refused):,} refused "
            f"({summary.duplicates:,} duplicates) in list {list_id}"
        )
        verdict = "met" if elapsed < TARGET_S and memory < TARGET_MB else "NOT met"
        print(f"target under {TARGET_S:.0f} s and {TARGET_MB:.0f} MB: {verdict}")

        naive_s = naive_insert(folder / "naive", args.baseline_rows)
        print(
            f"naive ORM insert (session.add per lead, one commit): {args.baseline_rows:,} rows "
            f"in {naive_s:.1f} s, {args.baseline_rows / naive_s:,.0f} rows/s, with no checks"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
