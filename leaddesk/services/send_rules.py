"""When and how much an offer and a distribution may send: windows, time zone and caps.

An offer's rules hold for every distribution to it; a distribution may set its own windows,
and caps of its own that hold beside the offer's. Caps are counted from the deliveries in the
data file, inside the same write transaction that claims the next lead, so two distributions
(or two senders) feeding one offer can never overshoot its cap together.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from leaddesk.core.caps import CapDecision, Caps, CapUsage, cap_periods, check_caps
from leaddesk.core.schedule import SendPlan, describe_settings
from leaddesk.core.send_windows import SendWindows
from leaddesk.core.status import DeliveryState
from leaddesk.core.time_zones import local_time
from leaddesk.storage.models import Delivery, Distribution, Lead, Offer

# How a moment of resuming reads, on the advertiser's clock: `09:00 Tue`.
RESUME_FORMAT = "%H:%M %a"


@dataclass(frozen=True)
class SendRules:
    """Windows (with their time zone) and caps; empty windows are always open."""

    windows: SendWindows = field(default_factory=SendWindows)
    caps: Caps = field(default_factory=Caps)

    @property
    def empty(self) -> bool:
        return not self.windows.spans and not self.caps.any

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {}
        if self.windows.spans or self.windows.time_zone != SendWindows().time_zone:
            data["windows"] = self.windows.to_json()
        if self.caps.any:
            data["caps"] = self.caps.to_json()
        return data

    @classmethod
    def from_json(cls, data: dict | None) -> SendRules:
        return _rules_from_text(json.dumps(data or {}, sort_keys=True))

    def describe(self) -> str:
        """`mon-fri 09:00-18:00 Europe/Berlin, 200 a day`, or "" when there are none."""
        parts = []
        if self.windows.spans:
            parts.append(f"{self.windows.describe()} {self.windows.time_zone}")
        if self.caps.any:
            parts.append(self.caps.describe())
        return ", ".join(parts)


@lru_cache(maxsize=512)
def _rules_from_text(text: str) -> SendRules:
    # The sender reads the rules of every Active distribution twice a second: parse each
    # distinct text once.
    data = json.loads(text)
    return SendRules(SendWindows.from_json(data.get("windows")), Caps.from_json(data.get("caps")))


@dataclass(frozen=True)
class EffectiveRules:
    """What holds for one distribution: its windows or else its offer's, and both caps."""

    offer_id: int
    windows: SendWindows
    offer_caps: Caps
    distribution_caps: Caps

    @property
    def unlimited(self) -> bool:
        return (
            self.windows.always_open
            and not self.offer_caps.any
            and not (self.distribution_caps.any)
        )

    def plan(self, interval_seconds: float) -> SendPlan:
        return SendPlan(interval_seconds, self.windows, self.offer_caps, self.distribution_caps)

    def describe(self) -> str:
        """`sending mon-fri 09:00-18:00 Europe/Berlin, 200 a day`, as the estimates say it."""
        return ", ".join(describe_settings(self.plan(1)))


def effective_rules(
    offer_id: int, offer_rules: dict | None, distribution_rules: dict | None
) -> EffectiveRules:
    offer = SendRules.from_json(offer_rules)
    own = SendRules.from_json(distribution_rules)
    # A window of the distribution's own replaces its offer's; without one, the offer's
    # window holds on the advertiser's clock.
    windows = own.windows if own.windows.spans else offer.windows
    return EffectiveRules(offer_id, windows, offer.caps, own.caps)


def rules_of(session: Session, distribution_id: int) -> EffectiveRules:
    distribution = session.get_one(Distribution, distribution_id)
    offer = session.get_one(Offer, distribution.offer_id)
    return effective_rules(offer.id, offer.send_rules, distribution.send_rules)


# Counting against caps ---------------------------------------------------------------------


def usage(
    session: Session,
    moment: datetime,
    time_zone: str,
    *,
    offer_id: int | None = None,
    distribution_id: int | None = None,
    by_country: bool = False,
) -> CapUsage:
    """Leads sent to an offer (or by one distribution) in the hour and day holding `moment`.

    A lead counts from the moment it was claimed for sending, whatever the advertiser
    answered, so a cap is never overshot by answers still on their way; a lead put back
    because it never left does not count.
    """
    periods = cap_periods(moment, time_zone)
    sent = select(func.count()).select_from(Delivery).where(Delivery.claimed_at.is_not(None))
    if distribution_id is not None:
        sent = sent.where(Delivery.distribution_id == distribution_id)
    else:
        of_offer = select(Distribution.id).where(Distribution.offer_id == offer_id)
        sent = sent.where(Delivery.distribution_id.in_(of_offer))
    today = sent.where(
        Delivery.claimed_at >= periods.day_start, Delivery.claimed_at < periods.day_end
    )
    countries: dict[str, int] = {}
    if by_country:
        rows = session.execute(
            today.with_only_columns(Lead.country, func.count())
            .join(Lead, Lead.id == Delivery.lead_id)
            .group_by(Lead.country)
        )
        countries = {country: count for country, count in rows if country}
    return CapUsage(
        this_hour=session.scalar(
            sent.where(
                Delivery.claimed_at >= periods.hour_start,
                Delivery.claimed_at < periods.hour_end,
            )
        )
        or 0,
        today=session.scalar(today) or 0,
        total=session.scalar(sent) or 0,
        country_today=countries,
    )


def may_send(
    session: Session, distribution_id: int, rules: EffectiveRules, moment: datetime
) -> CapDecision:
    """Whether the next lead of a distribution may go now, under its windows and caps.

    Called in the write transaction that then claims the lead, so the counts cannot change
    between the check and the claim.
    """
    windows = rules.windows
    if not windows.is_open(moment):
        return closed_until(windows, moment)
    if not rules.offer_caps.any and not rules.distribution_caps.any:
        return CapDecision(True)
    country = _next_country(session, distribution_id)
    for caps, scope in (
        (rules.offer_caps, {"offer_id": rules.offer_id}),
        (rules.distribution_caps, {"distribution_id": distribution_id}),
    ):
        if not caps.any:
            continue
        counted = usage(
            session,
            moment,
            windows.time_zone,
            by_country=bool(caps.per_country_day),
            **scope,
        )
        decision = check_caps(caps, counted, moment, windows, country)
        if not decision.allowed:
            return decision
    return CapDecision(True)


def closed_until(windows: SendWindows, moment: datetime) -> CapDecision:
    """Why a distribution waits outside its windows, and until when."""
    opens_at = windows.next_open(moment)
    shown = local_time(opens_at, windows.time_zone).strftime(RESUME_FORMAT)
    return CapDecision(
        False,
        opens_at,
        f"outside the send window ({windows.describe()} {windows.time_zone}); opens {shown}",
    )


def _next_country(session: Session, distribution_id: int) -> str:
    return (
        session.scalar(
            select(Lead.country)
            .join(Delivery, Delivery.lead_id == Lead.id)
            .where(
                Delivery.distribution_id == distribution_id,
                Delivery.state == DeliveryState.QUEUED.value,
            )
            .order_by(Delivery.position)
            .limit(1)
        )
        or ""
    )
