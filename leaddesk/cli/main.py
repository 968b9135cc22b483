"""`leaddesk` and `python -m leaddesk`: argument parsing and the headless commands."""

from __future__ import annotations

import argparse
import getpass
import json
import os
import signal
import sys
import threading
from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime
from pathlib import Path

from sqlalchemy.exc import DatabaseError

from leaddesk import __version__
from leaddesk.core.caps import Caps
from leaddesk.core.data_setting import parse_fixed_fields
from leaddesk.core.filters import DistributionFilter, SearchField
from leaddesk.core.lead_fields import LEAD_FIELDS, recognise
from leaddesk.core.lead_import import ReadOptions, preview_file
from leaddesk.core.offer_config import (
    AUTH_SECRET,
    AuthKind,
    BodyFormat,
    Header,
    Method,
    OfferConfig,
    header_secret,
)
from leaddesk.core.pacing import SendInterval
from leaddesk.core.schedule import spread_interval
from leaddesk.core.send_windows import SendWindows
from leaddesk.core.status import RESENDABLE_STATES, Action, DeliveryState, Status
from leaddesk.core.time_zones import parse_time_zone
from leaddesk.errors import InputError, LeadDeskError
from leaddesk.logs import setup_logging
from leaddesk.paths import data_dir
from leaddesk.services import (
    delivery_log,
    directory,
    distributions,
    integrity,
    lead_lists,
    list_export,
    offer_secrets,
    offer_sharing,
    offer_test,
    preset_choice,
    send_rules,
)
from leaddesk.services.send_rules import SendRules
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
    imp.add_argument(
        "--map",
        action="append",
        default=[],
        metavar="COLUMN=FIELD",
        dest="mapping",
        help=f"map a column to a lead field ({', '.join(LEAD_FIELDS)}), '' or 'skip'",
    )
    imp.add_argument("--encoding", metavar="E", help="text encoding (default: detect)")
    imp.add_argument("--delimiter", metavar="D", help="field delimiter, e.g. ';' or tab")
    imp.add_argument("--header-row", type=int, metavar="N", help="row number of the header")
    imp.add_argument("--sheet", metavar="NAME", help="sheet of a workbook (default: the first)")
    imp.add_argument(
        "--require", action="append", default=[], metavar="FIELD", choices=LEAD_FIELDS
    )
    imp.add_argument("--json", action="store_true", help="print one JSON object")

    affiliate = commands.add_parser("affiliate", help="manage affiliates")
    affiliate_commands = affiliate.add_subparsers(dest="affiliate_command", required=True)
    affiliate_add = affiliate_commands.add_parser("add", help="add an affiliate")
    affiliate_add.add_argument("name", metavar="NAME")

    offer = commands.add_parser("offer", help="manage offers")
    offer_commands = offer.add_subparsers(dest="offer_command", required=True)
    _add_offer_parser(offer_commands)
    offer_export = offer_commands.add_parser(
        "export", help="write an offer's configuration as JSON, secrets left out"
    )
    offer_export.add_argument("name", metavar="NAME")
    offer_export.add_argument(
        "-o", "--out", metavar="FILE", help="the file to write (default: standard output)"
    )
    offer_import = offer_commands.add_parser(
        "import", help="add an offer from a JSON file made by `offer export`"
    )
    offer_import.add_argument("file", metavar="FILE", help="the file, or - for standard input")
    offer_import.add_argument("--name", metavar="NAME", help="the new offer's name")
    offer_secret = offer_commands.add_parser(
        "secret", help="enter an offer's API key, token or password, or a secret header's value"
    )
    offer_secret.add_argument("name", metavar="NAME")
    offer_secret.add_argument(
        "--header", metavar="HEADER", help="the secret header to set (default: the credentials)"
    )
    _add_secret_options(offer_secret, required=True)
    offer_test_command = offer_commands.add_parser(
        "test",
        help="show the exact request for a made-up test lead, secrets masked; --send sends it",
    )
    offer_test_command.add_argument("name", metavar="NAME")
    offer_test_command.add_argument(
        "--field",
        action="append",
        default=[],
        metavar="FIELD=VALUE",
        dest="sample",
        help="a value of the test lead, e.g. email=qa@brand.example (repeatable)",
    )
    offer_test_command.add_argument(
        "--send", action="store_true", help="send the test lead and show how the answer reads"
    )

    distribute = commands.add_parser("distribute", help="send a list to an offer")
    distribute.add_argument("--list", required=True, metavar="TITLE", dest="list_title")
    distribute.add_argument("--affiliate", required=True, metavar="NAME")
    distribute.add_argument("--offer", required=True, metavar="NAME")
    pace = distribute.add_mutually_exclusive_group(required=True)
    pace.add_argument("--every", metavar="INTERVAL", help="one lead every 5s, 2m, 1h or 1d")
    pace.add_argument(
        "--per-day",
        type=int,
        metavar="N",
        help="N leads a day spread evenly over the send window (LeadDesk picks the pace)",
    )
    distribute.add_argument(
        "--include-repeats",
        action="store_true",
        help="also send leads this offer already received (left out by default)",
    )
    _add_send_rule_options(distribute)
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

    lists = commands.add_parser("lists", help="list the lead lists, archived ones too")
    lists.add_argument("--json", action="store_true")

    export = commands.add_parser("export", help="export a lead list to a CSV or XLSX file")
    export.add_argument("--list", required=True, metavar="TITLE", dest="list_title")
    export.add_argument(
        "--out", required=True, metavar="FILE", help="the file to write, ending in .csv or .xlsx"
    )
    export.add_argument(
        "--refused",
        action="store_true",
        help="export the refused rows with their reasons instead of the leads",
    )

    log = commands.add_parser(
        "deliveries", help="list every lead's delivery of a distribution: its delivery log"
    )
    log.add_argument("id", type=int, metavar="ID", help="the distribution")
    log.add_argument(
        "--state",
        action="extend",
        nargs="+",
        default=[],
        choices=[state.value for state in DeliveryState],
        metavar="S",
        help="only deliveries in these states: "
        f"{', '.join(state.value for state in DeliveryState)}",
    )
    log.add_argument("--json", action="store_true", help="print a JSON list, every field")

    resend = commands.add_parser(
        "resend", help="send rejected, failed or outcome-unknown leads of a distribution again"
    )
    resend.add_argument("id", type=int, metavar="ID", help="the distribution")
    chosen = resend.add_mutually_exclusive_group(required=True)
    chosen.add_argument(
        "--state",
        action="extend",
        nargs="+",
        choices=sorted(state.value for state in RESENDABLE_STATES),
        metavar="S",
        help="every lead in these states: unknown, rejected or failed",
    )
    chosen.add_argument(
        "--delivery",
        action="extend",
        nargs="+",
        type=int,
        metavar="POSITION",
        help="the leads at these positions, as `leaddesk deliveries ID` numbers them",
    )
    resend.add_argument("--yes", action="store_true", help="send without asking first")

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


def _add_offer_parser(offer_commands) -> None:
    add = offer_commands.add_parser("add", help="add an offer")
    add.add_argument("name", metavar="NAME")
    add.add_argument("--url", required=True, help="the advertiser's endpoint")
    add.add_argument("--product", metavar="NAME")
    add.add_argument(
        "--preset",
        metavar="NAME",
        help="start from a preset: "
        + ", ".join(f"'{preset.name}'" for preset in preset_choice.available_presets()),
    )
    add.add_argument("--method", choices=[method.value for method in Method], type=str.upper)
    add.add_argument(
        "--body",
        choices=[body.value for body in BodyFormat],
        help="send the fields as JSON, form-encoded or in the query string",
    )
    add.add_argument(
        "--header",
        action="append",
        default=[],
        metavar="'NAME: VALUE'",
        dest="headers",
        help="an extra header sent with every lead (repeatable)",
    )
    add.add_argument(
        "--auth",
        choices=[kind.value for kind in AuthKind],
        help="header, query or body: an API key in that place; bearer: a token; basic: user "
        "and password",
    )
    add.add_argument(
        "--auth-name",
        metavar="NAME",
        help="the header or field carrying the API key, or the user name of basic auth",
    )
    _add_secret_options(add)
    add.add_argument(
        "--allow-http",
        action="store_true",
        help="allow plain http:// to another computer (leads then travel unencrypted)",
    )
    _add_send_rule_options(add)


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
    except BrokenPipeError:
        # The reader of our output went away (`leaddesk lists --json | head`): nothing to say.
        _silence_stdout()
        return 0
    finally:
        database.close()


def _add_secret_options(parser: argparse.ArgumentParser, required: bool = False) -> None:
    """A secret is typed unseen or read from the environment, never given as an argument."""
    secret = parser.add_mutually_exclusive_group(required=required)
    secret.add_argument(
        "--secret",
        action="store_true",
        help="ask for the API key, token or password without showing it",
    )
    secret.add_argument(
        "--secret-env",
        metavar="VAR",
        help="read the API key, token or password from this environment variable",
    )


def _add_send_rule_options(parser: argparse.ArgumentParser) -> None:
    rules = parser.add_argument_group("send windows and caps")
    rules.add_argument(
        "--window",
        action="append",
        metavar="DAYS HOURS",
        help="when leads may go, e.g. 'mon-fri 09:00-18:00' or 'daily 22:00-06:00' (repeatable)",
    )
    rules.add_argument(
        "--timezone", metavar="ZONE", help="the advertiser's time zone, e.g. Europe/Berlin"
    )
    rules.add_argument("--cap-hour", metavar="N", help="at most N leads in a clock hour")
    rules.add_argument("--cap-day", metavar="N", help="at most N leads in a day")
    rules.add_argument("--cap-total", metavar="N", help="at most N leads in all")
    rules.add_argument(
        "--cap-country", metavar="CC:N,...", help="at most N leads a day per country, e.g. DE:50"
    )


def _send_rules(args: argparse.Namespace, offer_time_zone: str | None = None) -> SendRules:
    """The rules given; a distribution's window is read on its offer's clock unless told."""
    window = "; ".join(args.window or [])
    if offer_time_zone is not None and args.timezone and not window:
        raise InputError(
            "--timezone goes with --window here: a distribution without a window of its own "
            "keeps its offer's, on the advertiser's clock."
        )
    windows = SendWindows()
    if window or args.timezone:
        zone = args.timezone or offer_time_zone or "UTC"
        windows = SendWindows.parse(window, parse_time_zone(zone))
    caps = Caps.parse(args.cap_hour, args.cap_day, args.cap_total, args.cap_country)
    return SendRules(windows, caps)


def _silence_stdout() -> None:
    """Point stdout at nothing, so Python's own flush at exit finds no closed pipe."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    os.close(devnull)


def _fail(message: str) -> int:
    print(f"leaddesk: {message}", file=sys.stderr)
    return 1


def _import(database: Database, args: argparse.Namespace) -> int:
    options = ReadOptions(
        encoding=args.encoding,
        delimiter=_delimiter(args.delimiter),
        header_row=args.header_row,
        sheet=args.sheet,
        mapping=_column_mapping(args) if args.mapping else None,
        default_country=args.country,
        required=frozenset(args.require),
    )
    lead_list_id, summary = lead_lists.import_stream(
        database, Path(args.file), args.list_title, options, args.manager
    )
    refused = [{"row": r.row_number, "reason": r.reason} for r in summary.refused]
    if args.json:
        report = {
            "list_id": lead_list_id,
            "list": args.list_title,
            "rows_read": summary.rows_read,
            "leads": summary.leads,
            "refused": refused,
            "duplicates": summary.duplicates,
            "kind": summary.kind,
            "encoding": summary.encoding,
            "delimiter": summary.delimiter,
            "header_row": summary.header_row,
            "mapping": summary.mapping,
            "notes": summary.notes,
        }
        print(json.dumps(report, ensure_ascii=False))
        return 0
    print(
        f"Imported '{args.list_title}' (list {lead_list_id}): {summary.rows_read} rows read, "
        f"{summary.leads} leads, {len(summary.refused)} refused "
        f"({summary.duplicates} duplicates)."
    )
    for row in refused:
        print(f"  row {row['row']}: {row['reason']}")
    for note in summary.notes:
        print(f"Note: {note}")
    return 0


def _delimiter(text: str | None) -> str | None:
    if text is None:
        return None
    named = {"tab": "\t", "\\t": "\t", "comma": ",", "semicolon": ";", "pipe": "|"}
    return named.get(text.lower(), text)


def _column_mapping(args: argparse.Namespace) -> dict[str, str]:
    """The columns given with --map; the others keep the field their header names."""
    given = {}
    for item in args.mapping:
        column, sep, name = item.rpartition("=")
        if not sep or not column:
            raise InputError(f"--map {item}: write it as COLUMN=FIELD, e.g. 'Mobil=phone'.")
        given[column.strip()] = name.strip()
    recognised = preview_file(
        Path(args.file),
        ReadOptions(
            encoding=args.encoding,
            delimiter=_delimiter(args.delimiter),
            header_row=args.header_row,
            sheet=args.sheet,
            mapping=given,
        ),
    ).headers
    return {header: given.get(header, recognise(header)) for header in recognised}


def _affiliate(database: Database, args: argparse.Namespace) -> int:
    with database.writer() as session:
        affiliate = directory.add_affiliate(session, args.name)
        session.commit()
    print(f"Added affiliate '{affiliate.name}' (ID {affiliate.id}).")
    return 0


def _offer(database: Database, args: argparse.Namespace) -> int:
    return {
        "add": _offer_add,
        "export": _offer_export,
        "import": _offer_import,
        "test": _offer_test,
        "secret": _offer_secret,
    }[args.offer_command](database, args)


def _offer_secret(database: Database, args: argparse.Namespace) -> int:
    with database.writer() as session:
        offer = directory.offer_by_name(session, args.name)
        config = directory.offer_config(offer)
        name = header_secret(args.header) if args.header else AUTH_SECRET
        if name not in config.secret_names():
            needed = ", ".join(
                offer_secrets.secret_label(config, each) for each in config.secret_names()
            )
            raise InputError(
                f"The offer '{offer.name}' keeps no such secret. It needs: {needed or 'none'}."
            )
        value = _secret_value(args, offer_secrets.secret_label(config, name))
        kept = offer_secrets.store(session, offer.id, name, value)
        session.commit()
    print(f"The {offer_secrets.secret_label(config, name)} of '{offer.name}' is kept in {kept}.")
    if kept == offer_secrets.IN_DATA_FILE:
        print(NO_KEYRING_NOTE, file=sys.stderr)
    return 0


def _offer_test(database: Database, args: argparse.Namespace) -> int:
    sample = {}
    for item in args.sample:
        name, sep, value = item.partition("=")
        if not sep or not name.strip():
            raise InputError(f"--field {item}: write it as FIELD=VALUE, e.g. email=qa@x.example.")
        sample[name.strip()] = value.strip()
    with database.session() as session:
        offer = directory.offer_by_name(session, args.name)
        config = directory.offer_config(offer)
        secrets = offer_test.secrets_for(session, offer.id, config, {})
    request = offer_test.prepare(config, secrets, sample)
    print(request.preview())
    if not args.send:
        print("\n(Not sent: add --send to send this test lead.)")
        return 0
    result = offer_test.send(request, config)
    print()
    for line in result.lines():
        print(line)
    if result.answer:
        print(f"Answer: {result.answer}")
    return 0 if result.label == "Accepted" else 1


def _offer_add(database: Database, args: argparse.Namespace) -> int:
    config = _offer_config(args)
    secret = _secret(args, config)
    with database.writer() as session:
        product_id = None
        if args.product:
            product_id = directory.get_or_create_product(session, args.product).id
        rules = _send_rules(args)
        offer = directory.add_offer(
            session, args.name, args.url, product_id, config, send_rules=rules
        )
        kept = offer_secrets.store(session, offer.id, AUTH_SECRET, secret) if secret else ""
        session.commit()
    print(f"Added offer '{offer.name}' (ID {offer.id}) sending to {offer.url}.")
    if not rules.empty:
        print(f"Sending {rules.describe()}.")
    if kept:
        print(f"Its secret is kept in {kept}.")
    if kept == offer_secrets.IN_DATA_FILE:
        print(NO_KEYRING_NOTE, file=sys.stderr)
    if config.endpoint.auth is not AuthKind.NONE and not secret:
        label = offer_secrets.secret_label(config, AUTH_SECRET)
        print(
            f"No secret was given: enter the {label} in the app (Directory, Offers, Edit) "
            "before sending.",
            file=sys.stderr,
        )
    return 0


NO_KEYRING_NOTE = (
    "Warning: this computer has no system keyring, so the secret is kept in the data file: "
    "anyone who can read that file can read it."
)


def _offer_config(args: argparse.Namespace) -> OfferConfig:
    """The configuration `offer add` was given: a preset's or the plain one, then the options."""
    if args.preset:
        config = preset_choice.preset_by_name(args.preset).config_for(args.url)
    else:
        config = OfferConfig.for_url(args.url)
    endpoint = config.endpoint
    given = {
        "method": Method(args.method) if args.method else None,
        "body_format": BodyFormat(args.body) if args.body else None,
        "auth": AuthKind(args.auth) if args.auth else None,
        "auth_name": args.auth_name,
        "allow_plain_http": True if args.allow_http else None,
    }
    chosen = {key: value for key, value in given.items() if value is not None}
    endpoint = replace(endpoint, **chosen)
    if args.headers:
        headers = tuple(_header(text) for text in args.headers)
        endpoint = replace(endpoint, headers=endpoint.headers + headers)
    return replace(config, endpoint=endpoint)


def _header(text: str) -> Header:
    name, sep, value = text.partition(":")
    if not sep or not name.strip():
        raise InputError(f"--header {text}: write it as 'Name: value', e.g. 'X-Source: web'.")
    return Header(name.strip(), value.strip())


def _secret(args: argparse.Namespace, config: OfferConfig) -> str:
    """The secret of `offer add`, from the environment or typed unseen; never an argument."""
    if not (args.secret or args.secret_env):
        return ""
    if config.endpoint.auth is AuthKind.NONE:
        raise InputError("A secret needs an authentication: add --auth (and --auth-name).")
    return _secret_value(args, offer_secrets.secret_label(config, AUTH_SECRET))


def _secret_value(args: argparse.Namespace, label: str) -> str:
    """A secret from the environment variable named, or typed unseen."""
    if args.secret_env:
        value = os.environ.get(args.secret_env, "")
        if not value:
            raise InputError(f"The environment variable {args.secret_env} is not set or empty.")
        return value
    value = getpass.getpass(f"{label}: ")
    if not value:
        raise InputError("No secret was typed; nothing was kept.")
    return value


def _offer_export(database: Database, args: argparse.Namespace) -> int:
    with database.session() as session:
        offer = directory.offer_by_name(session, args.name)
        data = offer_sharing.export_offer(session, offer.id)
    text = offer_sharing.export_text(data)
    if args.out:
        path = Path(args.out).expanduser()
        try:
            path.write_text(text, encoding="utf-8")
        except OSError as error:
            raise InputError(f"Cannot write {path}: {error.strerror or error}.") from error
        print(f"Exported offer '{data['name']}' to {path}.")
    else:
        sys.stdout.write(text)
    left_out = [item["label"] for item in data["secrets_to_enter"]]
    if left_out:
        print(
            f"Left out {len(left_out)} secret{'' if len(left_out) == 1 else 's'} the receiver "
            f"must enter: {'; '.join(left_out)}.",
            file=sys.stderr,
        )
    return 0


def _offer_import(database: Database, args: argparse.Namespace) -> int:
    if args.file == "-":
        data = offer_sharing.parse_offer_text(sys.stdin.buffer.read(), "The standard input")
    else:
        data = offer_sharing.read_offer_file(Path(args.file).expanduser())
    with database.writer() as session:
        offer = offer_sharing.import_offer(session, data, args.name)
        session.commit()
        config = directory.offer_config(offer)
    print(f"Imported offer '{offer.name}' (ID {offer.id}) sending to {offer.url}.")
    labels = [offer_secrets.secret_label(config, name) for name in config.secret_names()]
    if labels:
        print(
            f"Enter its secrets in the app (Directory, Offers, Edit) before sending: "
            f"{'; '.join(labels)}."
        )
    return 0


def _distribute(database: Database, args: argparse.Namespace) -> int:
    fixed = parse_fixed_fields(args.fixed)
    with database.writer() as session:
        lead_list = lead_lists.list_by_title(session, args.list_title)
        offer = directory.offer_by_name(session, args.offer)
        offer_zone = SendRules.from_json(offer.send_rules).windows.time_zone
        own_rules = _send_rules(args, offer_zone)
        if args.every:
            interval = SendInterval.parse(args.every)
        else:
            rules = send_rules.effective_rules(offer.id, offer.send_rules, own_rules.to_json())
            interval = spread_interval(rules.windows, args.per_day)
        new = distributions.NewDistribution(
            title=args.title or lead_list.title,
            lead_list_id=lead_list.id,
            affiliate_id=directory.affiliate_by_name(session, args.affiliate).id,
            offer_id=offer.id,
            interval=interval,
            fixed_fields=fixed,
            manager_name=args.manager,
            include_repeats=args.include_repeats,
            send_rules=own_rules,
        )
        distribution = distributions.create_distribution(session, new)
        session.commit()
        row = distributions.load_rows(session, [distribution.id])[distribution.id]
    print(
        f"Distribution {distribution.id} is Active: {distribution.total} leads, "
        f"{interval.describe()}, about {row.period_description} in all. Leads go out while "
        "the app or `leaddesk run` is running."
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
        "period": row.period_duration_text,
        "period_seconds": row.period_seconds,
        "affiliates": row.affiliate,
        "offers": row.offer,
        "product": row.product,
        "data_setting": row.data_setting,
        "send_rules": row.rules_text,
        "waiting_reason": row.waiting_reason,
        "waiting_until": _iso(row.waiting_until),
        "status_reason": row.status_reason,
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


def list_as_json(summary: lead_lists.ListSummary) -> dict[str, object]:
    """A lead list as `lists --json` prints it: the columns of the Lead lists page."""
    return {
        "id": summary.id,
        "title": summary.title,
        "leads": summary.rows_read,
        "valid": summary.lead_count,
        "refused": summary.refused_count,
        "duplicates": summary.duplicate_count,
        "created_by": summary.created_by,
        "created_at": _iso(summary.created_at),
        "distributions": summary.distribution_count,
        "archived": summary.archived,
        "source": summary.source_file,
    }


def _lists(database: Database, args: argparse.Namespace) -> int:
    with database.session() as session:
        summaries = lead_lists.list_summaries(session, include_archived=True)
    if args.json:
        print(json.dumps([list_as_json(summary) for summary in summaries], indent=2))
        return 0
    if not summaries:
        print("No lead lists. Import one with `leaddesk import FILE --list TITLE`.")
    for summary in summaries:
        archived = "  (archived)" if summary.archived else ""
        print(
            f"{summary.id:>5}  {summary.title}{archived}: {summary.rows_read} leads, "
            f"{summary.lead_count} valid, {summary.refused_count} refused "
            f"({summary.duplicate_count} duplicates), in {summary.distribution_count} "
            f"distribution{'' if summary.distribution_count == 1 else 's'}"
        )
    return 0


def _export(database: Database, args: argparse.Namespace) -> int:
    path = Path(args.out).expanduser()
    with database.session() as session:
        lead_list = lead_lists.list_by_title(session, args.list_title)
        if args.refused:
            count = list_export.export_refused(session, lead_list.id, path)
            what = f"{count} refused row{'' if count == 1 else 's'}"
        else:
            count = list_export.export_list(session, lead_list.id, path)
            what = f"{count} lead{'' if count == 1 else 's'}"
    print(f"Exported {what} of '{lead_list.title}' to {path}.")
    return 0


# Widths of the columns of `leaddesk deliveries`; a longer reason is cut short there.
REASON_WIDTH = 48


def delivery_as_json(row: delivery_log.DeliveryLogRow) -> dict[str, object]:
    """A delivery as `deliveries --json` prints it: every field of the log."""
    return {
        "id": row.id,
        "position": row.position,
        "lead": row.lead_label,
        "email": row.email,
        "phone": row.phone,
        "state": row.state.value,
        "verdict": row.verdict,
        "time": _iso(row.time),
        "attempts": row.attempts,
        "http_status": row.http_status,
        "duration_ms": row.duration_ms,
        "advertiser_lead_id": row.advertiser_lead_id,
        "autologin_url": row.autologin_url,
        "generated_password": row.generated_password,
        "reason": row.reason,
        "history": list(row.history),
    }


def delivery_line(row: delivery_log.DeliveryLogRow) -> str:
    """One delivery as `deliveries` prints it, under DELIVERY_HEADER."""
    reason = " ".join(row.reason.split())
    if len(reason) > REASON_WIDTH:
        reason = reason[: REASON_WIDTH - 1] + "…"
    http = "" if row.http_status is None else str(row.http_status)
    return (
        f"{row.position:>8}  {row.state.label:<15}  {delivery_log.local_time_text(row.time):<19}"
        f"  {http:>4}  {delivery_log.duration_text(row.duration_ms):>8}  "
        f"{row.advertiser_lead_id:<14}  {reason:<{REASON_WIDTH}}  {row.lead_label}"
    ).rstrip()


DELIVERY_HEADER = (
    f"{'Position':>8}  {'State':<15}  {'Sent':<19}  {'HTTP':>4}  {'Duration':>8}  "
    f"{'Lead id':<14}  {'Reason':<{REASON_WIDTH}}  Lead"
)


def _deliveries(database: Database, args: argparse.Namespace) -> int:
    with database.session() as session:
        # Read first, so that an unknown distribution is told before anything is printed.
        summary = delivery_log.log_summary(session, args.id)
        rows = delivery_log.iter_rows(session, args.id, args.state)
        if args.json:
            sys.stdout.write("[")
            for number, row in enumerate(rows):
                text = json.dumps(delivery_as_json(row), ensure_ascii=False)
                sys.stdout.write(f"{',' if number else ''}\n  {text}")
            sys.stdout.write("\n]\n")
            return 0
        print(
            f"Distribution {args.id} '{summary.title}' is {summary.status.label}: "
            f"{delivery_log.counts_text(summary.counts)}."
        )
        shown = 0
        for row in rows:
            if not shown:
                print(DELIVERY_HEADER)
            print(delivery_line(row))
            shown += 1
    if not shown:
        print("No deliveries in these states." if args.state else "No deliveries.")
    return 0


def _resend(database: Database, args: argparse.Namespace) -> int:
    with database.session() as session:
        if args.delivery:
            ids = delivery_log.ids_at_positions(session, args.id, args.delivery)
        else:
            ids = delivery_log.find_delivery_ids(session, args.id, args.state)
        preview = delivery_log.resend_preview(session, args.id, ids)
    if preview.status is Status.DELETED:
        raise InputError(delivery_log.deleted_refusal(args.id))
    if not preview.count:
        raise InputError(
            "None of these leads can be sent again: only rejected, failed and "
            "outcome-unknown leads can."
        )
    if not args.yes:
        print(delivery_log.resend_question(preview))
        if not _confirm("Send them again? [y/N] "):
            print("Nothing was sent again.", file=sys.stderr)
            return 1
    with database.writer() as session:
        count = delivery_log.send_again(session, args.id, ids)
        status = Status(distributions.get_distribution(session, args.id).status)
        session.commit()
    leads = "1 lead goes" if count == 1 else f"{count} leads go"
    when = (
        "when it is resumed"
        if status is Status.PAUSED
        else "while the app or `leaddesk run` is running"
    )
    print(f"Distribution {args.id} is {status.label}: {leads} again {when}.")
    return 0


def _confirm(prompt: str) -> bool:
    try:
        answer = input(prompt)
    except EOFError:
        return False
    return answer.strip().lower() in ("y", "yes")


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
    "lists": _lists,
    "export": _export,
    "deliveries": _deliveries,
    "resend": _resend,
    "run": _run,
    **{action.value: _action for action in Action},
}
