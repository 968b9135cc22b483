"""Distributions: creating them, changing their status and finding them for the table."""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from functools import lru_cache

from sqlalchemy import (
    Select,
    and_,
    case,
    func,
    insert,
    literal,
    literal_column,
    or_,
    select,
    update,
)
from sqlalchemy.orm import Session, aliased

from leaddesk.core import schedule
from leaddesk.core.clock import local_to_utc, utc_now
from leaddesk.core.data_setting import summarise
from leaddesk.core.durations import format_duration
from leaddesk.core.filters import DistributionFilter, SearchField
from leaddesk.core.pacing import PeriodUnit, SendInterval, estimated_total_seconds
from leaddesk.core.status import Action, DeliveryState, Status, allowed_actions
from leaddesk.errors import InputError, NotFoundError
from leaddesk.services.directory import clean_name, resolve_manager
from leaddesk.services.lead_history import keys_sent_to_offer, leads_of_list
from leaddesk.services.lead_lists import lead_fields
from leaddesk.services.send_rules import EffectiveRules, SendRules, effective_rules
from leaddesk.storage.models import (
    Affiliate,
    Delivery,
    Distribution,
    Lead,
    LeadList,
    Manager,
    Offer,
    Product,
)

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class NewDistribution:
    title: str
    lead_list_id: int | None
    affiliate_id: int | None
    offer_id: int | None
    interval: SendInterval
    fixed_fields: dict[str, str]
    manager_name: str | None = None
    # Leads already sent to the offer are left out unless the manager insists.
    include_repeats: bool = False
    # Windows and caps of this distribution; empty: its offer's windows, its offer's caps.
    send_rules: SendRules = field(default_factory=SendRules)


class FormErrors(InputError):
    """Several problems with a form, by the name of the field each belongs to."""

    def __init__(self, problems: dict[str, str]) -> None:
        super().__init__(" ".join(problems.values()))
        self.problems = problems


def check_new_distribution(session: Session, new: NewDistribution) -> dict[str, str]:
    """Every problem with the form, by field: title, lead_list, affiliate, offer."""
    problems: dict[str, str] = {}
    if not new.title.strip():
        problems["title"] = "Give the distribution a title."
    lead_list = session.get(LeadList, new.lead_list_id) if new.lead_list_id else None
    if lead_list is None:
        problems["lead_list"] = "Choose a lead list."
    elif lead_list.lead_count == 0:
        problems["lead_list"] = "This lead list is empty."
    elif lead_list.archived_at is not None:
        problems["lead_list"] = (
            "This lead list is archived. Unarchive it on the Lead lists page to send it."
        )
    if not new.affiliate_id or session.get(Affiliate, new.affiliate_id) is None:
        problems["affiliate"] = "Choose an affiliate."
    if not new.offer_id or session.get(Offer, new.offer_id) is None:
        problems["offer"] = "Choose an offer."
    if not problems and not new.include_repeats:
        repeats = count_already_sent(session, lead_list.id, new.offer_id)
        if repeats and repeats >= lead_list.lead_count:
            problems["lead_list"] = (
                "Every lead of this list was already sent to this offer. To send them again, "
                "tick “Send them anyway” (on the command line: --include-repeats)."
            )
    return problems


def already_sent_lead_ids(session: Session, lead_list_id: int, offer_id: int) -> list[int]:
    """The leads of a list whose person (by e-mail or phone) may already have reached the offer.

    A delivery accepted, rejected, of unknown outcome or in flight counts; a failed one did
    not reach the advertiser, and a queued one has not been sent yet.
    """
    sent = keys_sent_to_offer(session, offer_id)
    if not sent:
        return []
    return [
        lead.id
        for lead in leads_of_list(session, lead_list_id)
        if any(key in sent for key in lead.keys)
    ]


def count_already_sent(session: Session, lead_list_id: int, offer_id: int) -> int:
    """How many leads of the list a new distribution to this offer would leave out."""
    return len(already_sent_lead_ids(session, lead_list_id, offer_id))


def create_distribution(session: Session, new: NewDistribution) -> Distribution:
    """Create a distribution with one queued delivery per lead; it is Active at once.

    Leads already sent to the offer are left out unless `include_repeats` asks for them.
    """
    problems = check_new_distribution(session, new)
    if problems:
        raise FormErrors(problems)
    now = utc_now()
    lead_list = session.get_one(LeadList, new.lead_list_id)
    left_out = (
        [] if new.include_repeats else already_sent_lead_ids(session, lead_list.id, new.offer_id)
    )
    distribution = Distribution(
        title=clean_name(new.title, "distribution"),
        manager_id=resolve_manager(session, new.manager_name).id,
        lead_list_id=lead_list.id,
        affiliate_id=new.affiliate_id,
        offer_id=new.offer_id,
        period_unit=new.interval.unit.value,
        period_value=new.interval.value,
        fixed_fields=dict(new.fixed_fields),
        send_rules=new.send_rules.to_json(),
        data_setting=summarise(lead_fields(session, lead_list.id), new.fixed_fields),
        status=Status.ACTIVE.value,
        created_at=now,
        started_at=now,
        anchor_at=now,
        anchor_index=0,
        total=lead_list.lead_count,
    )
    session.add(distribution)
    session.flush()
    position = func.row_number().over(order_by=(Lead.row_number, Lead.id)) - 1
    leads = select(
        literal(distribution.id),
        Lead.id,
        position,
        literal(DeliveryState.QUEUED.value),
        literal(0),
    ).where(Lead.lead_list_id == lead_list.id)
    if left_out:
        # One JSON parameter holds any number of ids, where a list of parameters has a limit.
        ids = select(literal_column("value")).select_from(func.json_each(json.dumps(left_out)))
        leads = leads.where(Lead.id.not_in(ids))
    session.execute(
        insert(Delivery).from_select(
            ["distribution_id", "lead_id", "position", "state", "attempts"], leads
        )
    )
    distribution.total = session.scalar(
        select(func.count())
        .select_from(Delivery)
        .where(Delivery.distribution_id == distribution.id)
    )
    log.info(
        "Created distribution %s: %d leads (%d already sent left out), %s",
        distribution.id,
        distribution.total,
        len(left_out),
        new.interval.describe(),
    )
    return distribution


def restart_anchor(distribution: Distribution, now: datetime) -> datetime:
    """When the next lead may go as sending starts again: now, or one interval after the
    last lead, whichever is later, so stopping and starting never brings two leads closer."""
    if distribution.last_sent_at is None:
        return now
    interval = timedelta(seconds=interval_of(distribution).seconds)
    return max(now, distribution.last_sent_at + interval)


def interval_of(distribution: Distribution) -> SendInterval:
    return SendInterval(distribution.period_value, PeriodUnit(distribution.period_unit))


def get_distribution(session: Session, distribution_id: int) -> Distribution:
    distribution = session.get(Distribution, distribution_id)
    if distribution is None:
        raise NotFoundError(f"There is no distribution with ID {distribution_id}.")
    return distribution


def apply_action(session: Session, distribution_id: int, action: Action) -> Distribution:
    """Pause, resume, finish or delete a distribution, if its status allows it."""
    distribution = get_distribution(session, distribution_id)
    status = Status(distribution.status)
    if action not in allowed_actions(status):
        raise InputError(
            f"Distribution {distribution_id} is {status.label}; it cannot be "
            f"{_PAST_TENSE[action]}."
        )
    now = utc_now()
    if action is Action.RESUME:
        # The pace starts again with the next unsent lead, now or one interval after the last.
        distribution.anchor_at = restart_anchor(distribution, now)
        distribution.anchor_index = distribution.sent
    if action is Action.DONE:
        distribution.finished_at = now
        session.execute(
            update(Delivery)
            .where(
                Delivery.distribution_id == distribution_id,
                Delivery.state == DeliveryState.QUEUED.value,
            )
            .values(state=DeliveryState.SKIPPED.value, finished_at=now)
        )
    distribution.status = action.result.value
    # A manager's action replaces whatever LeadDesk said about why it paused or waits.
    distribution.status_reason = ""
    distribution.waiting_reason = ""
    distribution.waiting_until = None
    log.info("Distribution %s: %s", distribution_id, action.value)
    return distribution


_PAST_TENSE = {
    Action.PAUSE: "paused",
    Action.RESUME: "resumed",
    Action.DONE: "marked Done",
    Action.DELETE: "deleted",
}


# Finding distributions for the table -------------------------------------------------------


class Column:
    """The columns of the Distributions page, in order."""

    ID = 0
    LIST_TITLE = 1
    MANAGERS = 2
    SEND_INTERVAL = 3
    PERIOD = 4
    AFFILIATES = 5
    OFFERS = 6
    DATA_SETTING = 7
    LAST_SEND_LEAD = 8
    LAST_SEND = 9
    STATUS = 10
    PROGRESS = 11

    TITLES = (
        "ID",
        "List Title",
        "Managers",
        "Send Interval",
        "Period",
        "Affiliates",
        "Offers",
        "Data setting",
        "Last send lead",
        "Last send",
        "Status",
        "Progress",
    )


@dataclass(frozen=True)
class DistributionRow:
    """One distribution as the table and `distributions --json` show it."""

    id: int
    title: str
    list_title: str
    manager: str
    affiliate: str
    offer: str
    product: str
    interval: SendInterval
    data_setting: str
    status: Status
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    anchor_at: datetime | None
    anchor_index: int
    total: int
    sent: int
    accepted: int
    rejected: int
    failed: int
    unknown: int
    last_lead_label: str
    last_sent_at: datetime | None
    rules: EffectiveRules | None = None
    # Why an Active distribution waits, and until when; why LeadDesk paused it.
    waiting_reason: str = ""
    waiting_until: datetime | None = None
    status_reason: str = ""

    @property
    def period_seconds(self) -> float | None:
        """The time from first lead to last; None when a total cap stops the list short."""
        if self.rules is None or self.rules.unlimited or self.started_at is None:
            return estimated_total_seconds(self.total, self.interval.seconds)
        return _estimate(self.total, self.started_at, self.interval.seconds, self.rules)[1]

    @property
    def period_duration_text(self) -> str:
        """`1 h 40 min`, or why the list will not be sent in full."""
        seconds = self.period_seconds
        return "stops at its total cap" if seconds is None else format_duration(seconds)

    @property
    def period_description(self) -> str:
        """`1 h 40 min (every 1 min)`, naming the windows and caps it accounts for."""
        duration = self.period_duration_text
        pace = self.interval.describe_short()
        if self.rules_text:
            pace = f"{pace}, {self.rules_text}"
        return f"{duration} ({pace})"

    @property
    def rules_text(self) -> str:
        """`sending mon-fri 09:00-18:00 Europe/Berlin, 200 a day`; "" without rules."""
        return self.rules.describe() if self.rules is not None else ""

    @property
    def estimated_end(self) -> datetime | None:
        """When the last lead should leave, from the current anchor of the pace."""
        if self.anchor_at is None:
            return None
        if self.rules is not None and not self.rules.unlimited:
            remaining = max(self.total - self.anchor_index, 0)
            return _estimate(remaining, self.anchor_at, self.interval.seconds, self.rules)[0]
        remaining = max(self.total - 1 - self.anchor_index, 0)
        return self.anchor_at + timedelta(seconds=remaining * self.interval.seconds)


@lru_cache(maxsize=1024)
def _estimate(
    lead_count: int, start_at: datetime, interval_seconds: float, rules: EffectiveRules
) -> tuple[datetime | None, float | None]:
    # The table asks again at every repaint; a schedule with windows and caps is worked out
    # once per anchor. Leads of the offer's other distributions are not counted here.
    estimate = schedule.estimate(lead_count, start_at, rules.plan(interval_seconds))
    return estimate.end_at, estimate.total_seconds


_manager = aliased(Manager)
_product = aliased(Product)

_SEARCH_COLUMNS = {
    SearchField.LIST: (LeadList.title, Distribution.title),
    SearchField.MANAGER: (_manager.name,),
    SearchField.AFFILIATE: (Affiliate.name,),
    SearchField.OFFER: (Offer.name,),
    SearchField.PRODUCT: (_product.name,),
}

_PERIOD_SECONDS = (
    func.max(Distribution.total - 1, 0)
    * Distribution.period_value
    * case(
        {unit.value: unit.seconds for unit in PeriodUnit}, value=Distribution.period_unit, else_=1
    )
)

_SORT_KEYS = {
    Column.ID: Distribution.id,
    Column.LIST_TITLE: func.ld_fold(Distribution.title),
    Column.MANAGERS: func.ld_fold(_manager.name),
    Column.SEND_INTERVAL: Distribution.started_at,
    Column.PERIOD: _PERIOD_SECONDS,
    Column.AFFILIATES: func.ld_fold(Affiliate.name),
    Column.OFFERS: func.ld_fold(Offer.name),
    Column.DATA_SETTING: func.ld_fold(Distribution.data_setting),
    Column.LAST_SEND_LEAD: Distribution.last_sent_at,
    Column.LAST_SEND: Distribution.finished_at,
    Column.STATUS: Distribution.status,
    Column.PROGRESS: Distribution.sent * 1.0 / func.max(Distribution.total, 1),
}


def _joined(query: Select) -> Select:
    return (
        query.join(LeadList, LeadList.id == Distribution.lead_list_id)
        .join(_manager, _manager.id == Distribution.manager_id)
        .join(Affiliate, Affiliate.id == Distribution.affiliate_id)
        .join(Offer, Offer.id == Distribution.offer_id)
        .outerjoin(_product, _product.id == Offer.product_id)
    )


def _conditions(wanted: DistributionFilter) -> list:
    conditions = []
    if wanted.status is None:
        conditions.append(Distribution.status != Status.DELETED.value)
    else:
        conditions.append(Distribution.status == wanted.status.value)
    text = wanted.text.strip().casefold()
    if text:
        # instr() needs no escaping of % and _, unlike LIKE.
        matches = [
            func.instr(func.ld_fold(column), text) > 0 for column in _SEARCH_COLUMNS[wanted.field]
        ]
        conditions.append(or_(*matches))
    if wanted.created_from:
        start = local_to_utc(datetime.combine(wanted.created_from, time.min))
        conditions.append(Distribution.created_at >= start)
    if wanted.created_to:
        end = local_to_utc(datetime.combine(wanted.created_to + timedelta(days=1), time.min))
        conditions.append(Distribution.created_at < end)
    return conditions


def find_distribution_ids(
    session: Session,
    wanted: DistributionFilter,
    sort_column: int = Column.ID,
    descending: bool = True,
) -> list[int]:
    """The ids of the distributions the filter asks for, in the order the table shows them."""
    key = _SORT_KEYS.get(sort_column, Distribution.id)
    order = [key.desc() if descending else key.asc(), Distribution.id.desc()]
    query = _joined(select(Distribution.id)).where(and_(*_conditions(wanted))).order_by(*order)
    return list(session.scalars(query))


def load_rows(session: Session, ids: list[int]) -> dict[int, DistributionRow]:
    """The table rows of these distributions, by id."""
    if not ids:
        return {}
    query = _joined(
        select(
            Distribution,
            LeadList.title,
            _manager.name,
            Affiliate.name,
            Offer.name,
            func.coalesce(_product.name, ""),
            Offer.send_rules,
        )
    ).where(Distribution.id.in_(ids))
    rows = {}
    for distribution, *names, offer_rules in session.execute(query):
        rows[distribution.id] = _row(distribution, *names, offer_rules=offer_rules)
    return rows


def _row(
    d: Distribution,
    list_title: str,
    manager: str,
    affiliate: str,
    offer: str,
    product: str,
    offer_rules: dict | None = None,
) -> DistributionRow:
    return DistributionRow(
        id=d.id,
        title=d.title,
        list_title=list_title,
        manager=manager,
        affiliate=affiliate,
        offer=offer,
        product=product,
        interval=interval_of(d),
        data_setting=d.data_setting,
        status=Status(d.status),
        created_at=d.created_at,
        started_at=d.started_at,
        finished_at=d.finished_at,
        anchor_at=d.anchor_at,
        anchor_index=d.anchor_index,
        total=d.total,
        sent=d.sent,
        accepted=d.accepted,
        rejected=d.rejected,
        failed=d.failed,
        unknown=d.unknown,
        last_lead_label=d.last_lead_label,
        last_sent_at=d.last_sent_at,
        rules=effective_rules(d.offer_id, offer_rules, d.send_rules),
        waiting_reason=d.waiting_reason or "",
        waiting_until=d.waiting_until,
        status_reason=d.status_reason or "",
    )


def find_rows(session: Session, wanted: DistributionFilter) -> list[DistributionRow]:
    ids = find_distribution_ids(session, wanted, Column.ID, descending=False)
    rows = load_rows(session, ids)
    return [rows[i] for i in ids]
