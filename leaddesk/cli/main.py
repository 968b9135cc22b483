"""`leaddesk` and `python -m leaddesk`: argument parsing and the headless commands."""

from __future__ import annotations

import argparse
import json
import signal
import sys
import threading
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path

from sqlalchemy.exc import DatabaseError

from leaddesk import __version__
from leaddesk.core.data_setting import parse_fixed_fields
from leaddesk.core.durations import format_duration
from leaddesk.core.filters import DistributionFilter, SearchField
from leaddesk.core.pacing import SendInterval
from leaddesk.core.status import Action, Status
from leaddesk.errors import LeadDeskError
from leaddesk.logs import setup_logging
from leaddesk.paths import data_dir
from leaddesk.services import directory, distributions, integrity, lead_lists
from leaddesk.storage.database import Database, describe_error, open_database


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="leaddesk",
        description="Send lead lists to advertisers' offers at a natural pace. "
        "With no command, opens the app.",
    )
    parser.add_argument("--version", action="version", version=f"LeadDesk {__version__}")
    parser.add_argument(
        "--data-dir",
        metavar="DIR",
        help="folder of the data file (default: your user data folder, or $LEADDESK_DATA_DIR)",
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    imp = commands.add_parser("import", help="import a lead file as a new list")
    imp.add_argument("file", metavar="FILE")
    imp.add_argument("--list", required=True, metavar="TITLE", dest="list_title")
    imp.add_argument("--country", metavar="ISO2", help="country of phones written without one")
    imp.add_argument("--manager", metavar="NAME")

    affiliate = commands.add_parser("affiliate", help="manage affiliates")
    affiliate_commands = affiliate.add_subparsers(dest="affiliate_command", required=True)
    affiliate_add = affiliate_commands.add_parser("add", help="add an affiliate")
    affiliate_add.add_argument("name", metavar="NAME")

    offer = commands.add_parser("offer", help="manage offers")
    offer_commands = offer.add_subparsers(dest="offer_command", required=True)
    offer_add = offer_commands.add_parser("add", help="add an offer")
    offer_add.add_argument("name", metavar="NAME")
    offer_add.add_argument("--url", required=True, help="the advertiser's endpoint")
    offer_add.add_argument("--product", metavar="NAME")

    distribute = commands.add_parser("distribute", help="send a list to an offer")
    distribute.add_argument("--list", required=True, metavar="TITLE", dest="list_title")
    distribute.add_argument("--affiliate", required=True, metavar="NAME")
    distribute.add_argument("--offer", required=True, metavar="NAME")
    distribute.add_argument(
        "--every", required=True, metavar="INTERVAL", help="one lead every 5s, 2m, 1h or 1d"
    )
    distribute.add_argument("--title", metavar="TITLE")
    distribute.add_argument("--manager", metavar="NAME")
    distribute.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="FIELD=VALUE",
        dest="fixed",
        help="a fixed value added to every lead",
    )

    listing = commands.add_parser("distributions", help="list distributions")
    listing.add_argument("--status", choices=[s.value for s in Status])
    listing.add_argument("--by", choices=[f.value for f in SearchField])
    listing.add_argument("--value", metavar="TEXT", default="")
    listing.add_argument("--json", action="store_true")

    for action in Action:
        command = commands.add_parser(action.value, help=f"{action.value} a distribution")
        command.add_argument("id", type=int, metavar="ID")

    run = commands.add_parser("run", help="send headless")
    run.add_argument(
        "--until-done", action="store_true", help="return when no distribution is Active"
    )

    check = commands.add_parser("check", help="verify the data file")
    check.add_argument(
        "--repair",
        action="store_true",
        help="set the counters of distributions from their records",
    )

    sandbox = commands.add_parser("sandbox", help="a local advertiser on 127.0.0.1")
    sandbox.add_argument("--port", type=int, default=8765)
    sandbox.add_argument("--log", metavar="FILE")
    sandbox.add_argument("--latency", type=int, default=0, metavar="MS")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.command == "sandbox":
        from leaddesk.advertiser.sandbox import run_sandbox

        return run_sandbox(args.port, args.log, args.latency)
    folder = data_dir(args.data_dir)
    if args.command is None:
        from leaddesk.ui.app import run_app

        return run_app(folder)
    setup_logging(console=args.command == "run")
    try:
        database = open_database(folder)
    except LeadDeskError as error:
        return _fail(str(error))
    try:
        return _COMMANDS[args.command](database, args)
    except LeadDeskError as error:
        return _fail(str(error))
    except DatabaseError as error:
        # Damage or a lock found while working, after the file opened well.
        return _fail(describe_error(error, database.path))
    except KeyboardInterrupt:
        return 130
    finally:
        database.close()


def _fail(message: str) -> int:
    print(f"leaddesk: {message}", file=sys.stderr)
    return 1


def _import(database: Database, args: argparse.Namespace) -> int:
    with database.writer() as session:
        lead_list, result = lead_lists.import_file(
            session, Path(args.file), args.list_title, args.manager, args.country
        )
        session.commit()
    print(
        f"Imported '{lead_list.title}' (list {lead_list.id}): {result.rows_read} rows read, "
        f"{len(result.leads)} leads, {len(result.refused)} refused."
    )
    for refused in result.refused:
        print(f"  row {refused.row_number}: {refused.reason}")
    return 0


def _affiliate(database: Database, args: argparse.Namespace) -> int:
    with database.writer() as session:
        affiliate = directory.add_affiliate(session, args.name)
        session.commit()
    print(f"Added affiliate '{affiliate.name}' (ID {affiliate.id}).")
    return 0


def _offer(database: Database, args: argparse.Namespace) -> int:
    with database.writer() as session:
        product_id = None
        if args.product:
            product_id = directory.get_or_create_product(session, args.product).id
        offer = directory.add_offer(session, args.name, args.url, product_id)
        session.commit()
    print(f"Added offer '{offer.name}' (ID {offer.id}) sending to {offer.url}.")
    return 0


def _distribute(database: Database, args: argparse.Namespace) -> int:
    interval = SendInterval.parse(args.every)
    fixed = parse_fixed_fields(args.fixed)
    with database.writer() as session:
        lead_list = lead_lists.list_by_title(session, args.list_title)
        new = distributions.NewDistribution(
            title=args.title or lead_list.title,
            lead_list_id=lead_list.id,
            affiliate_id=directory.affiliate_by_name(session, args.affiliate).id,
            offer_id=directory.offer_by_name(session, args.offer).id,
            interval=interval,
            fixed_fields=fixed,
            manager_name=args.manager,
        )
        distribution = distributions.create_distribution(session, new)
        session.commit()
    period = format_duration(distribution.total and (distribution.total - 1) * interval.seconds)
    print(
        f"Distribution {distribution.id} is Active: {distribution.total} leads, "
        f"{interval.describe()}, about {period} in all. Leads go out while the app or "
        "`leaddesk run` is running."
    )
    return 0


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat(timespec="seconds") + "Z" if moment else None


def row_as_json(row: distributions.DistributionRow) -> dict[str, object]:
    """A distribution as `distributions --json` prints it: the table's columns and counts."""
    return {
        "id": row.id,
        "list_title": row.title,
        "lead_list": row.list_title,
        "managers": row.manager,
        "send_interval": {
            "start": _iso(row.started_at),
            "end": _iso(row.finished_at or row.estimated_end),
            "end_is_estimate": row.finished_at is None,
        },
        "every": row.interval.short,
        "period": format_duration(row.period_seconds),
        "period_seconds": row.period_seconds,
        "affiliates": row.affiliate,
        "offers": row.offer,
        "product": row.product,
        "data_setting": row.data_setting,
        "last_send_lead": row.last_lead_label,
        "last_send_lead_at": _iso(row.last_sent_at),
        "last_send": _iso(row.finished_at),
        "status": row.status.value,
        "created_at": _iso(row.created_at),
        "total": row.total,
        "sent": row.sent,
        "accepted": row.accepted,
        "rejected": row.rejected,
        "failed": row.failed,
        "unknown": row.unknown,
    }


def _distributions(database: Database, args: argparse.Namespace) -> int:
    wanted = DistributionFilter(
        field=SearchField(args.by or SearchField.LIST.value),
        text=args.value,
        status=Status(args.status) if args.status else None,
    )
    with database.session() as session:
        rows = distributions.find_rows(session, wanted)
    if args.json:
        print(json.dumps([row_as_json(row) for row in rows], indent=2))
        return 0
    if not rows:
        print("No distributions.")
    for row in rows:
        print(
            f"{row.id:>5}  {row.status.label:<8} {row.sent:>6}/{row.total:<6} "
            f"every {row.interval.short:<5} {row.title}  ->  {row.offer}"
        )
    return 0


def _action(database: Database, args: argparse.Namespace) -> int:
    action = Action(args.command)
    with database.writer() as session:
        distribution = distributions.apply_action(session, args.id, action)
        session.commit()
    print(f"Distribution {distribution.id} is now {Status(distribution.status).label}.")
    return 0


def _run(database: Database, args: argparse.Namespace) -> int:
    from leaddesk.sender.engine import Sender

    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    sender = Sender(database, on_error=lambda message: print(message, file=sys.stderr))
    try:
        sender.start()
        if not sender.holds_lease:
            print(
                "Another LeadDesk (the app or `leaddesk run`) is sending from this data file; "
                "this one waits and takes over if it stops.",
                file=sys.stderr,
            )
        print("Sending; press Ctrl+C to stop.", flush=True)
        sender.run(until_done=args.until_done, stop=stop)
    except KeyboardInterrupt:
        print("Stopping: waiting for requests in flight...", file=sys.stderr)
        stop.set()
    finally:
        sender.shutdown()
    if args.until_done and not stop.is_set():
        print("No distribution is Active any more.")
    return 0


def _check(database: Database, args: argparse.Namespace) -> int:
    with database.writer() as session:
        report = integrity.check(session)
        if args.repair and report.counter_mismatches and not report.damage:
            repaired = integrity.repair_counters(session)
            session.commit()
            print(f"Repaired the counters of {repaired} distributions.")
            report = integrity.check(session)
    print(f"Data file: {database.path}")
    for line in report.damage:
        print(f"  damaged: {line}")
    for line in report.counter_mismatches:
        print(f"  counter: {line}")
    if report.in_flight:
        print(
            f"  {report.in_flight} deliveries are in flight; if no LeadDesk is sending, they "
            "become outcome unknown when one starts."
        )
    if report.damage:
        print(
            "The file is damaged. Restore the newest copy from the backups folder beside it, "
            "or move it aside to start afresh.",
            file=sys.stderr,
        )
        return 1
    if report.counter_mismatches:
        print(
            "Counters disagree with the records; `leaddesk check --repair` sets them right.",
            file=sys.stderr,
        )
        return 1
    print("The data file is sound.")
    return 0


_COMMANDS = {
    "check": _check,
    "import": _import,
    "affiliate": _affiliate,
    "offer": _offer,
    "distribute": _distribute,
    "distributions": _distributions,
    "run": _run,
    **{action.value: _action for action in Action},
}
