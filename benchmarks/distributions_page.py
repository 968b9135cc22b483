"""How fast the Distributions page opens and filters on a large data file.

Fills a data file with 10,000 distributions and 1,000,000 deliveries (once; reused when it
exists), then prints how long the page takes to open and to apply a filter, and the memory.
Run: QT_QPA_PLATFORM=offscreen python benchmarks/distributions_page.py [--data-dir DIR]
"""

from __future__ import annotations

import argparse
import os
import random
import resource
import sqlite3
import statistics
import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from leaddesk.core.filters import DistributionFilter, SearchField
from leaddesk.paths import DATA_FILE_NAME
from leaddesk.storage.database import open_database

DISTRIBUTIONS = 10_000
LEADS_PER_DISTRIBUTION = 100
LISTS = 100
AFFILIATES = 40
OFFERS = 60
PRODUCTS = 12
MANAGERS = 15
REPEATS = 5


def fill(folder: Path) -> None:
    """Write the large data file with plain SQL: the point is reading it, not writing it."""
    open_database(folder).close()
    rng = random.Random(7)
    now = datetime(2026, 12, 1, 12, 0)
    connection = sqlite3.connect(folder / DATA_FILE_NAME)
    with connection:
        connection.executemany(
            "INSERT INTO manager (id, name, created_at) VALUES (?, ?, ?)",
            [(i, f"Manager {i}", now) for i in range(1, MANAGERS + 1)],
        )
        for table, count in (("affiliate", AFFILIATES), ("product", PRODUCTS)):
            connection.executemany(
                f"INSERT INTO {table} (id, name, created_at) VALUES (?, ?, ?)",
                [(i, f"{table.title()} {i}", now) for i in range(1, count + 1)],
            )
        connection.executemany(
            "INSERT INTO offer (id, name, product_id, url, created_at) VALUES (?, ?, ?, ?, ?)",
            [
                (i, f"Offer {i}", rng.randint(1, PRODUCTS), "http://127.0.0.1:9/leads", now)
                for i in range(1, OFFERS + 1)
            ],
        )
        connection.executemany(
            "INSERT INTO lead_list (id, title, created_at, created_by_id, rows_read, lead_count,"
            " refused_count) VALUES (?, ?, ?, 1, ?, ?, 0)",
            [
                (i, f"List {i}", now, LEADS_PER_DISTRIBUTION, LEADS_PER_DISTRIBUTION)
                for i in range(1, LISTS + 1)
            ],
        )
        connection.executemany(
            "INSERT INTO lead (id, lead_list_id, row_number, first_name, last_name, email, phone,"
            " country, language, extra) VALUES (?, ?, ?, ?, ?, ?, '', 'DE', '', '{}')",
            [
                (
                    n * LEADS_PER_DISTRIBUTION + r + 1,
                    n + 1,
                    r + 2,
                    f"F{r}",
                    f"L{r}",
                    f"lead{n}-{r}@example.com",
                )
                for n in range(LISTS)
                for r in range(LEADS_PER_DISTRIBUTION)
            ],
        )
        statuses = ["active"] * 3 + ["paused"] + ["done"] * 5 + ["deleted"]
        rows = []
        for i in range(1, DISTRIBUTIONS + 1):
            created = now - timedelta(minutes=rng.randint(0, 60 * 24 * 365))
            status = rng.choice(statuses)
            sent = LEADS_PER_DISTRIBUTION if status == "done" else rng.randint(0, 99)
            rows.append(
                (
                    i,
                    f"Distribution {i}",
                    rng.randint(1, MANAGERS),
                    rng.randint(1, LISTS),
                    rng.randint(1, AFFILIATES),
                    rng.randint(1, OFFERS),
                    rng.choice(["seconds", "minutes", "hours"]),
                    rng.randint(1, 30),
                    "first_name, email",
                    status,
                    created,
                    created,
                    created if status == "done" else None,
                    created,
                    LEADS_PER_DISTRIBUTION,
                    sent,
                    sent,
                    f"F{sent} L{sent}",
                    created,
                )
            )
        connection.executemany(
            "INSERT INTO distribution (id, title, manager_id, lead_list_id, affiliate_id,"
            " offer_id, period_unit, period_value, fixed_fields, data_setting, status,"
            " created_at, started_at, finished_at, anchor_at, anchor_index, total, sent,"
            " accepted, rejected, failed, unknown, last_lead_label, last_sent_at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, '{}', ?, ?, ?, ?, ?, ?, 0, ?, ?, ?, 0, 0, 0, ?, ?)",
            rows,
        )
        connection.executemany(
            "INSERT INTO delivery (distribution_id, lead_id, position, state, attempts,"
            " response_text, advertiser_lead_id, reason) VALUES (?, ?, ?, ?, 1, '', '', '')",
            _deliveries(rows),
        )
    connection.close()


def _deliveries(distribution_rows):
    for row in distribution_rows:
        distribution_id, list_id, sent = row[0], row[3], row[15]
        first_lead = (list_id - 1) * LEADS_PER_DISTRIBUTION + 1
        for position in range(LEADS_PER_DISTRIBUTION):
            state = "accepted" if position < sent else "queued"
            yield distribution_id, first_lead + position, position, state


def timed(action) -> float:
    started = time.perf_counter()
    action()
    return (time.perf_counter() - started) * 1000


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", help="reuse or create the large data file here")
    args = parser.parse_args()
    folder = Path(args.data_dir or Path(tempfile.gettempdir()) / "leaddesk-benchmark")
    if not (folder / DATA_FILE_NAME).exists():
        print(
            f"Filling {folder} with {DISTRIBUTIONS:,} distributions and "
            f"{DISTRIBUTIONS * LEADS_PER_DISTRIBUTION:,} deliveries...",
            flush=True,
        )
        print(f"  filled in {timed(lambda: fill(folder)) / 1000:.1f} s")

    from PySide6.QtCore import Qt
    from PySide6.QtWidgets import QApplication

    from leaddesk.ui.distributions_page import DistributionsPage

    app = QApplication.instance() or QApplication(sys.argv)
    database = open_database(folder)
    opens, filters, sorts = [], [], []
    for _ in range(REPEATS):
        holder: list[DistributionsPage] = []

        def open_page(holder=holder) -> None:
            page = DistributionsPage(database)
            page.resize(1400, 800)
            page.show()
            app.processEvents()
            holder.append(page)

        opens.append(timed(open_page))
        page = holder[0]

        def apply_filter(page=page) -> None:
            page.model.set_filter(DistributionFilter(field=SearchField.OFFER, text="offer 1"))
            app.processEvents()

        def sort_by_period(page=page) -> None:
            page.table.sortByColumn(4, Qt.SortOrder.DescendingOrder)
            app.processEvents()

        filters.append(timed(apply_filter))
        sorts.append(timed(sort_by_period))
        shown = page.model.rowCount()
        page.close()
        page.deleteLater()
        app.processEvents()

    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        f"Data file: {folder / DATA_FILE_NAME} "
        f"({(folder / DATA_FILE_NAME).stat().st_size / 1e6:.0f} MB)"
    )
    print(
        f"Open the Distributions page: median {statistics.median(opens):.0f} ms, "
        f"max {max(opens):.0f} ms (aim: under 200 ms)"
    )
    print(
        f"Apply a filter (offer contains 'offer 1', {shown:,} rows): median "
        f"{statistics.median(filters):.0f} ms, max {max(filters):.0f} ms (aim: under 200 ms)"
    )
    print(f"Sort by Period: median {statistics.median(sorts):.0f} ms")
    print(f"Peak memory of the process: {rss_mb:.0f} MB")
    database.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
