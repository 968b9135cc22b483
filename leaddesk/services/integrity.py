"""`leaddesk check`: is the data file sound, and do its counters agree with its records?"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import func, select, text, update
from sqlalchemy.orm import Session

from leaddesk.core.status import DeliveryState
from leaddesk.storage.models import Delivery, Distribution

# Each counter of a distribution and the delivery state it counts.
COUNTED_STATES = {
    "accepted": (DeliveryState.ACCEPTED,),
    "rejected": (DeliveryState.REJECTED,),
    "failed": (DeliveryState.FAILED,),
    "unknown": (DeliveryState.UNKNOWN,),
    "sent": (
        DeliveryState.IN_FLIGHT,
        DeliveryState.ACCEPTED,
        DeliveryState.REJECTED,
        DeliveryState.FAILED,
        DeliveryState.UNKNOWN,
    ),
    "total": tuple(DeliveryState),
}


@dataclass
class CheckReport:
    damage: list[str] = field(default_factory=list)
    counter_mismatches: list[str] = field(default_factory=list)
    in_flight: int = 0

    @property
    def sound(self) -> bool:
        return not self.damage and not self.counter_mismatches


def check(session: Session) -> CheckReport:
    report = CheckReport()
    for (line,) in session.execute(text("PRAGMA integrity_check")):
        if line != "ok":
            report.damage.append(line)
    for row in session.execute(text("PRAGMA foreign_key_check")):
        report.damage.append(f"table {row[0]} row {row[1]} refers to a missing {row[2]}")
    report.counter_mismatches = _counter_mismatches(session)
    report.in_flight = session.scalar(
        select(func.count())
        .select_from(Delivery)
        .where(Delivery.state == DeliveryState.IN_FLIGHT.value)
    )
    return report


def _counted(session: Session) -> dict[int, dict[str, int]]:
    by_state: dict[int, dict[str, int]] = {}
    rows = session.execute(
        select(Delivery.distribution_id, Delivery.state, func.count()).group_by(
            Delivery.distribution_id, Delivery.state
        )
    )
    for distribution_id, state, count in rows:
        by_state.setdefault(distribution_id, {})[state] = count
    return {
        distribution_id: {
            counter: sum(states.get(state.value, 0) for state in counted)
            for counter, counted in COUNTED_STATES.items()
        }
        for distribution_id, states in by_state.items()
    }


def _counter_mismatches(session: Session) -> list[str]:
    counted = _counted(session)
    mismatches = []
    for distribution in session.scalars(select(Distribution)):
        actual = counted.get(distribution.id, dict.fromkeys(COUNTED_STATES, 0))
        for counter, value in actual.items():
            stored = getattr(distribution, counter)
            if stored != value:
                mismatches.append(
                    f"distribution {distribution.id}: {counter} is {stored}, records say {value}"
                )
    return mismatches


def repair_counters(session: Session) -> int:
    """Set every distribution's counters from its delivery records; returns those changed."""
    changed = 0
    for distribution_id, counters in _counted(session).items():
        changed += session.execute(
            update(Distribution).where(Distribution.id == distribution_id).values(**counters)
        ).rowcount
    return changed
