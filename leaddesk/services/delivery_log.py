"""The delivery log of a distribution: every lead's delivery, found, counted, exported and
sent again.

A distribution may hold a million deliveries, so a search returns ids in SQL order and the
rows are read afterwards, a page at a time.
"""

from __future__ import annotations

import json
import logging
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import case, func, literal_column, select, update
from sqlalchemy.orm import Session

from leaddesk.core.clock import to_local, utc_now
from leaddesk.core.status import RESENDABLE_STATES, DeliveryState, Status
from leaddesk.core.table_export import write_table
from leaddesk.errors import InputError, NotFoundError
from leaddesk.services.deliveries import label_of
from leaddesk.services.distributions import get_distribution, interval_of
from leaddesk.storage.models import Delivery, Distribution, Lead

log = logging.getLogger(__name__)

# Rows read in one query when a whole log is read through, for the command line or a file.
PAGE_ROWS = 1000
TIME_FORMAT = "%Y-%m-%d %H:%M:%S"

# The counters of a distribution, by the outcome each counts.
_COUNTERS = {
    DeliveryState.ACCEPTED: "accepted",
    DeliveryState.REJECTED: "rejected",
    DeliveryState.FAILED: "failed",
    DeliveryState.UNKNOWN: "unknown",
}


class LogColumn:
    """The columns of the delivery log, in order."""

    POSITION = 0
    LEAD = 1
    EMAIL = 2
    PHONE = 3
    STATE = 4
    TIME = 5
    HTTP = 6
    DURATION = 7
    ADVERTISER_LEAD_ID = 8
    AUTOLOGIN = 9
    REASON = 10

    TITLES = (
        "Position",
        "Lead",
        "E-mail",
        "Phone",
        "State",
        "Sent at",
        "HTTP",
        "Duration",
        "Advertiser lead id",
        "Auto-login link",
        "Reason",
    )


@dataclass(frozen=True)
class DeliveryLogRow:
    """One lead's delivery as the log shows it; `time` is when it ended, else when it left."""

    id: int
    position: int
    lead_label: str
    email: str
    phone: str
    state: DeliveryState
    verdict: str
    time: datetime | None
    attempts: int
    http_status: int | None
    duration_ms: int | None
    advertiser_lead_id: str
    autologin_url: str
    generated_password: str
    reason: str
    # Earlier outcomes of a lead sent again, oldest first.
    history: tuple[dict, ...] = ()

    @property
    def can_send_again(self) -> bool:
        return self.state in RESENDABLE_STATES


@dataclass(frozen=True)
class DeliveryLogSummary:
    """What the head of the log says about its distribution."""

    distribution_id: int
    title: str
    status: Status
    counts: dict[DeliveryState, int]
    waiting_reason: str
    waiting_until: datetime | None
    status_reason: str


@dataclass(frozen=True)
class ResendPreview:
    """What sending chosen deliveries again would do, for the question asked first."""

    distribution_id: int
    title: str
    status: Status
    count: int
    unknown: int
    left_alone: int


# Finding and reading ---------------------------------------------------------------------

_LEAD_NAME = func.ld_fold(func.trim(Lead.first_name + " " + Lead.last_name))
_STATE_ORDER = case(
    {state.value: order for order, state in enumerate(DeliveryState)}, value=Delivery.state
)
# A lead is shown at the moment it was sent; one never sent, at the moment it was skipped.
_TIME = func.coalesce(Delivery.claimed_at, Delivery.finished_at)

_SORT_KEYS = {
    LogColumn.POSITION: (Delivery.position,),
    LogColumn.LEAD: (_LEAD_NAME, Lead.row_number),
    LogColumn.EMAIL: (func.ld_fold(Lead.email),),
    LogColumn.PHONE: (Lead.phone,),
    LogColumn.STATE: (_STATE_ORDER,),
    LogColumn.TIME: (_TIME,),
    LogColumn.HTTP: (Delivery.http_status,),
    LogColumn.DURATION: (Delivery.duration_ms,),
    LogColumn.ADVERTISER_LEAD_ID: (Delivery.advertiser_lead_id,),
    LogColumn.AUTOLOGIN: (Delivery.autologin_url,),
    LogColumn.REASON: (func.ld_fold(Delivery.reason),),
}

# Sorting by these needs the lead beside its delivery.
_LEAD_COLUMNS = frozenset({LogColumn.LEAD, LogColumn.EMAIL, LogColumn.PHONE})

_ROW_COLUMNS = (
    Delivery.id,
    Delivery.position,
    Lead.first_name,
    Lead.last_name,
    Lead.row_number,
    Lead.email,
    Lead.phone,
    Delivery.state,
    Delivery.verdict,
    _TIME.label("time"),
    Delivery.attempts,
    Delivery.http_status,
    Delivery.duration_ms,
    Delivery.advertiser_lead_id,
    Delivery.autologin_url,
    Delivery.generated_password,
    Delivery.reason,
    Delivery.history,
)


def state_values(states: Iterable[DeliveryState | str] | None) -> list[str]:
    """The stored values of the states asked for; none asked for means every state."""
    chosen = {DeliveryState(state) for state in states or ()}
    return [state.value for state in DeliveryState if state in chosen or not chosen]


def find_delivery_ids(
    session: Session,
    distribution_id: int,
    states: Iterable[DeliveryState | str] | None = None,
    sort_column: int = LogColumn.POSITION,
    descending: bool = False,
) -> list[int]:
    """The ids of a distribution's deliveries in the states asked for, in the order shown."""
    get_distribution(session, distribution_id)
    keys = _SORT_KEYS.get(sort_column, _SORT_KEYS[LogColumn.POSITION])
    order = [key.desc() if descending else key.asc() for key in keys]
    query = (
        select(Delivery.id)
        .where(Delivery.distribution_id == distribution_id)
        .order_by(*order, Delivery.position)
    )
    if sort_column in _LEAD_COLUMNS:
        query = query.join(Lead, Lead.id == Delivery.lead_id)
    wanted = state_values(states)
    if len(wanted) < len(DeliveryState):
        query = query.where(Delivery.state.in_(wanted))
    return list(session.scalars(query))


def ids_at_positions(
    session: Session, distribution_id: int, positions: Iterable[int]
) -> list[int]:
    """The ids of the deliveries at these positions of the log (counted from 1)."""
    get_distribution(session, distribution_id)
    wanted = sorted(set(positions))
    found = dict(
        session.execute(
            select(Delivery.position, Delivery.id)
            .where(Delivery.distribution_id == distribution_id)
            .where(Delivery.position.in_(_id_values(position - 1 for position in wanted)))
        ).all()
    )
    missing = [position for position in wanted if position - 1 not in found]
    if missing:
        listed = ", ".join(str(position) for position in missing)
        raise NotFoundError(f"Distribution {distribution_id} has no lead at position {listed}.")
    return [found[position - 1] for position in wanted]


def load_rows(session: Session, ids: Sequence[int]) -> dict[int, DeliveryLogRow]:
    """The log rows of these deliveries, by id."""
    if not ids:
        return {}
    query = (
        select(*_ROW_COLUMNS)
        .join(Lead, Lead.id == Delivery.lead_id)
        .where(Delivery.id.in_(_id_values(ids)))
    )
    return {row.id: _row(row) for row in session.execute(query)}


def iter_rows(
    session: Session,
    distribution_id: int,
    states: Iterable[DeliveryState | str] | None = None,
    sort_column: int = LogColumn.POSITION,
    descending: bool = False,
) -> Iterator[DeliveryLogRow]:
    """Every row of the log in the states asked for, in order, read a page at a time."""
    ids = find_delivery_ids(session, distribution_id, states, sort_column, descending)
    for start in range(0, len(ids), PAGE_ROWS):
        page = ids[start : start + PAGE_ROWS]
        rows = load_rows(session, page)
        yield from (rows[delivery_id] for delivery_id in page if delivery_id in rows)


def _row(found) -> DeliveryLogRow:
    return DeliveryLogRow(
        id=found.id,
        # Positions are stored from 0; the log counts leads from 1, as a manager does.
        position=found.position + 1,
        lead_label=label_of(found.first_name, found.last_name, found.row_number),
        email=found.email,
        phone=found.phone,
        state=DeliveryState(found.state),
        verdict=found.verdict or "",
        time=found.time,
        attempts=found.attempts or 0,
        http_status=found.http_status,
        duration_ms=found.duration_ms,
        advertiser_lead_id=found.advertiser_lead_id or "",
        autologin_url=found.autologin_url or "",
        generated_password=found.generated_password or "",
        reason=found.reason or "",
        history=tuple(found.history or ()),
    )


def _id_values(ids: Iterable[int]):
    """Any number of ids as one JSON parameter, where a list of parameters has a limit."""
    values = json.dumps([int(delivery_id) for delivery_id in ids])
    return select(literal_column("value")).select_from(func.json_each(values))


# Counting --------------------------------------------------------------------------------


def count_by_state(session: Session, distribution_id: int) -> dict[DeliveryState, int]:
    """How many deliveries of the distribution are in each state, every state listed."""
    get_distribution(session, distribution_id)
    counts = dict.fromkeys(DeliveryState, 0)
    found = session.execute(
        select(Delivery.state, func.count())
        .where(Delivery.distribution_id == distribution_id)
        .group_by(Delivery.state)
    )
    for state, count in found:
        counts[DeliveryState(state)] = count
    return counts


def log_summary(session: Session, distribution_id: int) -> DeliveryLogSummary:
    distribution = get_distribution(session, distribution_id)
    return DeliveryLogSummary(
        distribution_id=distribution.id,
        title=distribution.title,
        status=Status(distribution.status),
        counts=count_by_state(session, distribution_id),
        waiting_reason=distribution.waiting_reason or "",
        waiting_until=distribution.waiting_until,
        status_reason=distribution.status_reason or "",
    )


SUMMARY_STATES = (
    DeliveryState.ACCEPTED,
    DeliveryState.REJECTED,
    DeliveryState.FAILED,
    DeliveryState.UNKNOWN,
    DeliveryState.QUEUED,
    DeliveryState.SKIPPED,
)


def counts_text(counts: dict[DeliveryState, int]) -> str:
    """`30 accepted, 5 rejected, 0 failed, 2 outcome unknown, 63 queued, 0 skipped`."""
    parts = [f"{counts.get(state, 0)} {state.label.lower()}" for state in SUMMARY_STATES]
    in_flight = counts.get(DeliveryState.IN_FLIGHT, 0)
    if in_flight:
        parts.append(f"{in_flight} being sent")
    return ", ".join(parts)


def history_text(history: Iterable[dict]) -> str:
    """Earlier outcomes, oldest first: `Rejected at 2026-12-04 15:02:11 (HTTP 409)`."""
    parts = []
    for entry in history:
        try:
            text = DeliveryState(entry.get("state")).label
        except ValueError:
            text = str(entry.get("state", ""))
        finished = entry.get("finished_at")
        if finished:
            moment = datetime.fromisoformat(str(finished).removesuffix("Z"))
            text += f" at {to_local(moment).strftime(TIME_FORMAT)}"
        if entry.get("http_status") is not None:
            text += f" (HTTP {entry['http_status']})"
        parts.append(text)
    return "; ".join(parts)


def local_time_text(moment: datetime | None) -> str:
    return to_local(moment).strftime(TIME_FORMAT) if moment else ""


def duration_text(duration_ms: int | None) -> str:
    """`850 ms`, or `2.4 s` from a second on."""
    if duration_ms is None:
        return ""
    if duration_ms < 1000:
        return f"{duration_ms} ms"
    return f"{duration_ms / 1000:.1f} s"


# Sending again ---------------------------------------------------------------------------


def resend_preview(
    session: Session, distribution_id: int, delivery_ids: Iterable[int]
) -> ResendPreview:
    """How many of the chosen deliveries would be sent again, and how many of unknown outcome."""
    distribution = get_distribution(session, distribution_id)
    ids = list(delivery_ids)
    found = Counter(
        dict(
            session.execute(
                select(Delivery.state, func.count())
                .where(Delivery.distribution_id == distribution_id)
                .where(Delivery.id.in_(_id_values(ids)))
                .group_by(Delivery.state)
            ).all()
        )
    )
    count = sum(found[state.value] for state in RESENDABLE_STATES)
    return ResendPreview(
        distribution_id=distribution.id,
        title=distribution.title,
        status=Status(distribution.status),
        count=count,
        unknown=found[DeliveryState.UNKNOWN.value],
        left_alone=sum(found.values()) - count,
    )


def resend_question(preview: ResendPreview) -> str:
    """The question asked before sending again, saying what will happen and what it risks."""
    one = preview.count == 1
    leads = "1 lead" if one else f"{preview.count} leads"
    lines = [f"Send {leads} of “{preview.title}” again?"]
    if preview.unknown:
        lines.append(_unknown_warning(preview.unknown, preview.count))
    they = "it goes" if one else "they go"
    if preview.status is Status.PAUSED:
        lines.append(f"The distribution is Paused: {they} when you resume it.")
    elif preview.status is Status.DONE:
        lines.append(f"The distribution becomes Active again: {they} at its pace.")
    else:
        lines.append(f"At the distribution's pace, {they} before the leads not sent yet.")
    if preview.left_alone == 1:
        lines.append("1 of the chosen leads was accepted or not sent yet; it stays as it is.")
    elif preview.left_alone:
        lines.append(
            f"{preview.left_alone} of the chosen leads were accepted or not sent yet; they "
            "stay as they are."
        )
    return "\n\n".join(lines)


def _unknown_warning(unknown: int, count: int) -> str:
    if unknown == count:
        whose = "Its outcome is" if count == 1 else "Their outcome is"
    else:
        whose = f"{unknown} of them {'has' if unknown == 1 else 'have'} an outcome that is"
    which = "it" if unknown == 1 else "one"
    return (
        f"{whose} unknown: if {which} did arrive, the advertiser receives it twice. Check with "
        "the advertiser first if you can."
    )


def deleted_refusal(distribution_id: int) -> str:
    return f"Distribution {distribution_id} is Deleted; its leads cannot be sent again."


def send_again(session: Session, distribution_id: int, delivery_ids: Iterable[int]) -> int:
    """Queue again the chosen deliveries that may be sent again; returns how many were.

    Each keeps its outcome in its history. Call it in a writer session and commit.
    A Done distribution becomes Active again; a Paused one sends them when resumed.
    """
    distribution = get_distribution(session, distribution_id)
    status = Status(distribution.status)
    if status is Status.DELETED:
        raise InputError(deleted_refusal(distribution_id))
    now = utc_now()
    old_states = Counter(_requeue(session, distribution_id, list(delivery_ids), now))
    count = sum(old_states.values())
    if not count:
        return 0
    for state, moved in old_states.items():
        counter = _COUNTERS[state]
        setattr(distribution, counter, getattr(distribution, counter) - moved)
    distribution.sent -= count
    if status is Status.DONE:
        distribution.status = Status.ACTIVE.value
        distribution.finished_at = None
    if distribution.status == Status.ACTIVE.value:
        _continue_pace(distribution, now)
    log.info(
        "Distribution %s: %d deliveries queued to be sent again (%s)",
        distribution_id,
        count,
        ", ".join(f"{moved} {state.value}" for state, moved in sorted(old_states.items())),
    )
    return count


def _requeue(
    session: Session, distribution_id: int, delivery_ids: list[int], now: datetime
) -> list[DeliveryState]:
    """Put the re-sendable deliveries back in the queue in one UPDATE; their former states."""
    earlier = func.json_object(
        "state",
        Delivery.state,
        "verdict",
        Delivery.verdict,
        "finished_at",
        func.strftime("%Y-%m-%dT%H:%M:%SZ", Delivery.finished_at),
        "http_status",
        Delivery.http_status,
        "duration_ms",
        Delivery.duration_ms,
        "advertiser_lead_id",
        Delivery.advertiser_lead_id,
        "reason",
        Delivery.reason,
        "sent_again_at",
        now.strftime("%Y-%m-%dT%H:%M:%SZ"),
    )
    history = func.json_insert(
        func.coalesce(Delivery.history, literal_column("'[]'")), "$[#]", earlier
    )
    requeued = session.execute(
        update(Delivery)
        .where(Delivery.distribution_id == distribution_id)
        .where(Delivery.id.in_(_id_values(delivery_ids)))
        .where(Delivery.state.in_([state.value for state in RESENDABLE_STATES]))
        .values(
            state=DeliveryState.QUEUED.value,
            history=history,
            verdict="",
            claimed_at=None,
            finished_at=None,
            http_status=None,
            response_text="",
            advertiser_lead_id="",
            reason="",
            duration_ms=None,
            autologin_url="",
        )
        # The new history ends with the outcome just replaced, so its state is the old one.
        .returning(func.json_extract(Delivery.history, "$[#-1].state"))
        .execution_options(synchronize_session=False)
    )
    return [DeliveryState(state) for (state,) in requeued]


def _continue_pace(distribution: Distribution, now: datetime) -> None:
    """Start the pace again from now with the next unsent lead, as Resume does.

    When a lead left less than one interval ago, the pace is anchored on it instead, so the
    next one still waits its interval rather than following at once.
    """
    interval = timedelta(seconds=interval_of(distribution).seconds)
    last = distribution.last_sent_at
    if last is not None and last <= now < last + interval:
        distribution.anchor_at = last
        distribution.anchor_index = distribution.sent - 1
    else:
        distribution.anchor_at = now
        distribution.anchor_index = distribution.sent


# Exporting -------------------------------------------------------------------------------

EXPORT_HEADERS = (
    "Position",
    "Lead",
    "E-mail",
    "Phone",
    "State",
    "Verdict",
    "Sent at (local)",
    "Attempts",
    "HTTP",
    "Duration (ms)",
    "Advertiser lead id",
    "Auto-login link",
    "Reason",
    "Earlier outcomes",
)


def export_cells(row: DeliveryLogRow) -> list[object]:
    """A row of the exported file, under EXPORT_HEADERS."""
    return [
        row.position,
        row.lead_label,
        row.email,
        row.phone,
        row.state.label,
        row.verdict,
        local_time_text(row.time),
        row.attempts,
        row.http_status,
        row.duration_ms,
        row.advertiser_lead_id,
        row.autologin_url,
        row.reason,
        history_text(row.history),
    ]


def export_csv(
    session: Session,
    distribution_id: int,
    states: Iterable[DeliveryState | str] | None,
    path: Path,
    sort_column: int = LogColumn.POSITION,
    descending: bool = False,
) -> int:
    """Write the log rows in the states asked for to a spreadsheet-safe CSV file.

    A name ending in .xlsx writes a workbook instead. Generated passwords stay out of the
    file, which is easily passed on.
    """
    distribution = get_distribution(session, distribution_id)
    rows = iter_rows(session, distribution_id, states, sort_column, descending)
    count = write_table(
        path, EXPORT_HEADERS, (export_cells(row) for row in rows), distribution.title
    )
    log.info("Exported the delivery log of distribution %s: %d rows", distribution_id, count)
    return count
