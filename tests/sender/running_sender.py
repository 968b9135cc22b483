"""Running the real Sender in a thread, as `leaddesk run` does, for the sender's tests."""

from __future__ import annotations

import threading
import time

from sqlalchemy import func, select

from leaddesk.advertiser.sandbox import SandboxAdvertiser
from leaddesk.core.pacing import PeriodUnit, SendInterval
from leaddesk.sender.engine import Sender
from leaddesk.services import distributions
from leaddesk.services.distributions import NewDistribution
from leaddesk.services.send_rules import SendRules
from leaddesk.storage.models import Delivery, Distribution

FAST_RETRIES = (0.05, 0.05)


def wait_until(condition, timeout_s: float = 20.0, poll_s: float = 0.05) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        time.sleep(poll_s)


class RunningSender:
    """A Sender looping in a thread, keeping what it changed and what it reported."""

    def __init__(self, database) -> None:
        self.changes: list[int] = []
        self.errors: list[str] = []
        self.sender = Sender(
            database,
            on_change=self.changes.append,
            on_error=self.errors.append,
            retry_backoff_s=FAST_RETRIES,
        )
        self.stop_event = threading.Event()
        self.sender.start()
        self.thread = threading.Thread(target=self.sender.run, kwargs={"stop": self.stop_event})
        self.thread.start()

    def stop(self) -> None:
        self.stop_event.set()
        self.sender.wake()
        self.thread.join(10)
        assert self.sender.shutdown(5) == 0


def distribute(
    database, list_id, affiliate_id, offer_id, every_s=1, title="Spring", send_rules=None
) -> int:
    """An Active distribution of a list, one lead every `every_s` seconds, adding language=de."""
    with database.writer() as session:
        created = distributions.create_distribution(
            session,
            NewDistribution(
                title=title,
                lead_list_id=list_id,
                affiliate_id=affiliate_id,
                offer_id=offer_id,
                interval=SendInterval(every_s, PeriodUnit.SECONDS),
                fixed_fields={"language": "de"},
                manager_name="Dana",
                send_rules=send_rules or SendRules(),
            ),
        )
        session.commit()
        return created.id


def distribution(database, distribution_id) -> Distribution:
    with database.session() as session:
        return session.get_one(Distribution, distribution_id)


def states(database, distribution_id) -> dict[str, int]:
    with database.session() as session:
        rows = session.execute(
            select(Delivery.state, func.count())
            .where(Delivery.distribution_id == distribution_id)
            .group_by(Delivery.state)
        )
        return dict(rows.all())


def emails(advertiser: SandboxAdvertiser) -> list[str]:
    return [request["payload"]["email"] for request in advertiser.received]
