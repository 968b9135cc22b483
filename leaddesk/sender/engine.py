"""The sending engine: when each lead is due, claiming it, and sending it off the loop.

One loop decides; a pool of threads sends, so a slow advertiser never delays another
distribution, and a distribution's own schedule is never stretched by slow answers.
Scheduling uses the monotonic clock, so sleep or a changed wall clock causes no burst.
"""

from __future__ import annotations

import functools
import hashlib
import logging
import struct
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime

from sqlalchemy import update
from sqlalchemy.exc import OperationalError

from leaddesk.advertiser.client import RETRY_BACKOFF_S, AdvertiserClient
from leaddesk.core.caps import CapDecision
from leaddesk.core.clock import utc_now
from leaddesk.core.durations import format_duration
from leaddesk.core.pacing import offset_seconds
from leaddesk.core.status import DeliveryState, Status
from leaddesk.sender.threads import SendingThreads
from leaddesk.services import deliveries, send_rules, sender_lease
from leaddesk.services.deliveries import ActiveDistribution, ClaimedDelivery, Outcome
from leaddesk.storage.database import Database, describe_error
from leaddesk.storage.models import Distribution

log = logging.getLogger(__name__)

# Requests of one distribution that may overlap while the advertiser is slow: enough for
# answers taking three intervals, few enough that a stuck advertiser sees no flood.
MAX_IN_FLIGHT_PER_DISTRIBUTION = 5
# New distributions and status changes made by another process are noticed this often.
POLL_INTERVAL_S = 0.5
# Being later than this behind the schedule (sleep, a stall) restarts the pace from now
# instead of sending the missed leads in a burst.
LATE_RESTART_S = 5.0
SHUTDOWN_WAIT_S = 10.0
# Enough threads for every distribution's requests in flight; started only as needed.
SENDING_THREADS_MAX = 256
# Of the time since a distribution's anchor, at most this share of an interval is carried
# over when a sender first takes it up; more could bring the second lead due at once.
CARRY_OVER_FRACTION = 0.3
# An outcome that cannot be written (the file is locked by a long import, say) is kept and
# written again this often, for this long, before the lead is left to be settled as unknown.
RECORD_RETRY_S = 1.0
RECORD_GIVE_UP_S = 600.0
# While an advertiser cannot be reached, its distribution waits this long before trying its
# next lead again, longer after each failed try; a Retry-After asked for longer wins.
HOLD_BACKOFF_S = (5.0, 10.0, 20.0, 40.0, 60.0, 120.0, 300.0)
# A distribution waiting for its window or its cap looks at the wall clock this often, so a
# clock that was set differently or a changed rule is noticed.
WAIT_RECHECK_S = 30.0
# Leads in a row that got no clear answer (outcome unknown, or failed) before the
# distribution pauses: an advertiser in trouble must not use up the whole list.
UNCLEAR_IN_A_ROW_PAUSE = 3
UNCLEAR_STATES = frozenset({DeliveryState.UNKNOWN, DeliveryState.FAILED})


@dataclass
class _Wait:
    """A distribution waiting, by its rules, for a window to open or a cap period to end."""

    until: datetime
    reason: str


@dataclass
class _Hold:
    """A distribution waiting for its advertiser: until when, since when, and why."""

    until: float
    since: float
    tries: int
    # True once the wait is over and one lead is out to find whether the advertiser is back.
    probing: bool = False


@dataclass
class _Pace:
    """A distribution's schedule: lead `anchor_index` is due at `monotonic_anchor`."""

    anchor_key: tuple
    anchor_index: int
    monotonic_anchor: float
    seed: int


def _seed(distribution_id: int, anchor_index: int) -> int:
    digest = hashlib.blake2b(struct.pack("<qq", distribution_id, anchor_index), digest_size=8)
    return struct.unpack("<q", digest.digest())[0]


class Sender:
    """Sends the leads of every Active distribution in the data file at their pace."""

    def __init__(
        self,
        database: Database,
        on_change: Callable[[int], None] | None = None,
        on_error: Callable[[str], None] | None = None,
        retry_backoff_s: tuple[float, ...] | None = None,
    ) -> None:
        self._database = database
        self._on_change = on_change or (lambda _id: None)
        self._on_error = on_error or (lambda _message: None)
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._client = AdvertiserClient(self._stop, retry_backoff_s or RETRY_BACKOFF_S)
        self._hold_backoff_s = retry_backoff_s or HOLD_BACKOFF_S
        self._holds: dict[int, _Hold] = {}
        self._waits: dict[int, _Wait] = {}
        self._unclear_in_a_row: Counter[int] = Counter()
        self._lock = threading.Lock()
        self._in_flight: Counter[int] = Counter()
        self._threads = SendingThreads(SENDING_THREADS_MAX)
        self._paces: dict[int, _Pace] = {}
        self._owner = sender_lease.new_owner()
        self._holds_lease = False
        self._lease_checked_at = -float("inf")
        self._started = False

    # Life cycle --------------------------------------------------------------------------

    def start(self) -> None:
        """Take the data file's sending lease, if free, and prepare to send."""
        self._started = True
        self._keep_lease()

    @property
    def holds_lease(self) -> bool:
        """False while another LeadDesk process is sending from the same data file."""
        return self._holds_lease

    def _keep_lease(self) -> bool:
        now = time.monotonic()
        if now - self._lease_checked_at < sender_lease.RENEW_EVERY_S:
            return self._holds_lease
        self._lease_checked_at = now
        try:
            with self._database.writer() as session:
                held = sender_lease.acquire(session, self._owner)
        except OperationalError as error:
            self._report(f"Cannot write to the data file: {error.orig}")
            return False
        if held and not self._holds_lease:
            self._take_over()
        if not held and self._holds_lease:
            log.warning("Another sender took over this data file")
        self._holds_lease = held
        return held

    def _take_over(self) -> None:
        """Settle what a stopped sender left in flight and restart every pace from now."""
        with self._database.writer() as session:
            deliveries.settle_interrupted(session)
        with self._database.writer() as session:
            deliveries.reanchor_active(session)
        self._paces.clear()

    def wake(self) -> None:
        """Look at the data file again now: a distribution was created, paused or resumed."""
        self._wake.set()

    def run(self, until_done: bool = False, stop: threading.Event | None = None) -> None:
        """Send until stopped, or with `until_done` until no distribution is Active."""
        if not self._started:
            self.start()
        while not self._stop.is_set() and not (stop and stop.is_set()):
            active_count, wait_s = self.step()
            if until_done and active_count == 0 and not self.in_flight_count():
                return
            self._wake.wait(wait_s)
            self._wake.clear()

    def shutdown(self, wait_s: float = SHUTDOWN_WAIT_S) -> int:
        """Stop claiming, let requests in flight finish (bounded); returns those left over."""
        self._stop.set()
        self._wake.set()
        not_done = self._threads.wait_idle(wait_s)
        if self._holds_lease and not not_done:
            with self._database.writer() as session:
                sender_lease.release(session, self._owner)
            self._holds_lease = False
        if not_done:
            log.warning("%d requests were still in flight at shutdown", not_done)
        return not_done

    def in_flight_count(self) -> int:
        with self._lock:
            return sum(self._in_flight.values())

    # Scheduling --------------------------------------------------------------------------

    def step(self) -> tuple[int, float]:
        """Send every lead now due; returns the Active count and seconds until the next."""
        if not self._keep_lease():
            return self._count_active(), POLL_INTERVAL_S
        try:
            with self._database.session() as session:
                active = deliveries.active_distributions(session)
        except OperationalError as error:
            self._report(f"Cannot read the data file: {error.orig}")
            return 0, POLL_INTERVAL_S
        wait_s = POLL_INTERVAL_S
        for distribution in active:
            if self._stop.is_set():
                break
            wait_s = min(wait_s, self._serve(distribution))
        self._forget_inactive({distribution.id for distribution in active})
        return len(active), max(wait_s, 0.0)

    def _count_active(self) -> int:
        with self._database.session() as session:
            return len(deliveries.active_distributions(session))

    def _serve(self, distribution: ActiveDistribution) -> float:
        waiting_s = self._waiting_by_rules(distribution)
        if waiting_s is not None:
            return waiting_s
        now = time.monotonic()
        with self._lock:
            hold = self._holds.get(distribution.id)
            hold_left_s = hold.until - now if hold is not None else 0.0
            probe_starts = hold is not None and hold_left_s <= 0 and not hold.probing
            if probe_starts:
                hold.probing = True
        if hold_left_s > 0:
            return hold_left_s
        if probe_starts:
            # One lead tries whether the advertiser is back; the pace starts again from now,
            # with no burst of the leads that waited.
            self._restart_pace(distribution, distribution.sent)
        limit = 1 if hold is not None else MAX_IN_FLIGHT_PER_DISTRIBUTION
        pace = self._pace(distribution)
        sent = distribution.sent
        while True:
            due = pace.monotonic_anchor + offset_seconds(
                distribution.interval_seconds, pace.seed, sent - pace.anchor_index
            )
            now = time.monotonic()
            if due > now:
                return due - now
            if now - due > max(LATE_RESTART_S, distribution.interval_seconds):
                pace = self._restart_pace(distribution, sent)
                continue
            with self._lock:
                if self._in_flight[distribution.id] >= limit:
                    return POLL_INTERVAL_S
            if not self._claim_and_send(distribution):
                return POLL_INTERVAL_S
            sent += 1

    def _pace(self, distribution: ActiveDistribution) -> _Pace:
        key = (distribution.anchor_at, distribution.anchor_index)
        pace = self._paces.get(distribution.id)
        if pace is None or pace.anchor_key != key:
            # The anchor was set by a wall-clock moment; carry over only a little of the time
            # elapsed since then: enough for the first lead to leave now, too little for the
            # next to follow at once, however far the wall clock was set ahead or back.
            # An anchor ahead of now (a restart soon after the last lead) is kept, up to one
            # interval, so restarting never sends the next lead early.
            interval = distribution.interval_seconds
            elapsed = (utc_now() - distribution.anchor_at).total_seconds()
            elapsed = min(max(elapsed, -interval), CARRY_OVER_FRACTION * interval)
            pace = _Pace(
                anchor_key=key,
                anchor_index=distribution.anchor_index,
                monotonic_anchor=time.monotonic() - elapsed,
                seed=_seed(distribution.id, distribution.anchor_index),
            )
            self._paces[distribution.id] = pace
        return pace

    def _restart_pace(self, distribution: ActiveDistribution, sent: int) -> _Pace:
        log.info("Distribution %s starts its pace again from now", distribution.id)
        now = utc_now()
        key = (now, sent)
        error = self._store(distribution.id, anchor_at=now, anchor_index=sent)
        if error is not None:
            # Sending goes on from the new pace; only the estimate shown stays as it was.
            log.warning("Could not store the new pace of %s: %s", distribution.id, error.orig)
            key = (distribution.anchor_at, distribution.anchor_index)
        self._on_change(distribution.id)
        pace = _Pace(key, sent, time.monotonic(), _seed(distribution.id, sent))
        self._paces[distribution.id] = pace
        return pace

    def _forget_inactive(self, active_ids: set[int]) -> None:
        for distribution_id in list(self._paces):
            if distribution_id not in active_ids:
                del self._paces[distribution_id]
        with self._lock:
            for distribution_id in list(self._holds):
                if distribution_id not in active_ids:
                    del self._holds[distribution_id]
        for distribution_id in list(self._waits):
            if distribution_id not in active_ids:
                del self._waits[distribution_id]

    # Sending -----------------------------------------------------------------------------

    def _claim_and_send(self, distribution: ActiveDistribution) -> bool:
        distribution_id = distribution.id
        rules = distribution.rules
        decision, claim = None, None
        try:
            with self._database.writer() as session:
                if rules is not None and not rules.unlimited:
                    # Counted and claimed in one write transaction: no other sender can take
                    # a lead of the same offer in between, so a cap is never overshot.
                    decision = send_rules.may_send(session, distribution_id, rules, utc_now())
                if decision is None or decision.allowed:
                    claim = deliveries.claim_next(session, distribution_id)
                else:
                    session.commit()
        except OperationalError as error:
            self._report(f"Cannot write to the data file: {error.orig}")
            return False
        if decision is not None and not decision.allowed:
            self._wait_by_rules(distribution_id, decision)
            return False
        if claim is None:
            # Nothing left to send, or the offer could not build a request and the
            # distribution was paused with the reason: either way its row may have changed.
            self._on_change(distribution_id)
            return False
        with self._lock:
            self._in_flight[distribution_id] += 1
        self._threads.submit(functools.partial(self._deliver, claim))
        self._on_change(distribution_id)
        return True

    def _deliver(self, claim: ClaimedDelivery) -> None:
        try:
            try:
                outcome = self._client.send(claim.request, claim.response_rules)
            except Exception:
                log.exception("Unexpected error while sending delivery %s", claim.delivery_id)
                outcome = Outcome(
                    DeliveryState.UNKNOWN,
                    reason="LeadDesk failed while sending this lead or reading the answer "
                    "(see the log); check with the advertiser whether it arrived.",
                )
            if outcome.state is DeliveryState.QUEUED:
                outcome = self._hold(claim, outcome)
            else:
                with self._lock:
                    self._holds.pop(claim.distribution_id, None)
            self._record(claim, outcome)
            self._count_unclear(claim.distribution_id, outcome)
        finally:
            with self._lock:
                self._in_flight[claim.distribution_id] -= 1
            self._on_change(claim.distribution_id)
            self._wake.set()

    def _waiting_by_rules(self, distribution: ActiveDistribution) -> float | None:
        """Seconds to wait while a window is closed or a cap is reached; None to send."""
        now = utc_now()
        wait = self._waits.get(distribution.id)
        if wait is None and distribution.rules is not None:
            windows = distribution.rules.windows
            if not windows.always_open and not windows.is_open(now):
                self._wait_by_rules(distribution.id, send_rules.closed_until(windows, now))
                wait = self._waits.get(distribution.id)
        if wait is None:
            return None
        left_s = (wait.until - now).total_seconds()
        if left_s > 0:
            return min(left_s, WAIT_RECHECK_S)
        # The window opened or the cap's period ended: the first lead goes now, and the pace
        # runs from it, with no burst of what could not go before.
        del self._waits[distribution.id]
        self._set_waiting(distribution.id, "", None)
        self._restart_pace(distribution, distribution.sent)
        return None

    def _wait_by_rules(self, distribution_id: int, decision: CapDecision) -> None:
        if decision.resumes_at is None:
            # A total cap: nothing more will go, so the manager decides what follows.
            self._pause(distribution_id, f"Paused: the {decision.reason}.")
            return
        self._waits[distribution_id] = _Wait(decision.resumes_at, decision.reason)
        log.info("Distribution %s waits: %s", distribution_id, decision.reason)
        self._set_waiting(distribution_id, decision.reason, decision.resumes_at)

    def _set_waiting(self, distribution_id: int, reason: str, until: datetime | None) -> None:
        error = self._store(distribution_id, waiting_reason=reason, waiting_until=until)
        if error is not None:
            log.warning("Could not store why %s waits: %s", distribution_id, error.orig)
        self._on_change(distribution_id)

    def _pause(self, distribution_id: int, reason: str) -> None:
        error = self._store(
            distribution_id,
            only_active=True,
            status=Status.PAUSED.value,
            status_reason=reason,
            waiting_reason="",
            waiting_until=None,
        )
        if error is not None:
            self._report(f"Cannot write to the data file: {error.orig}")
        log.warning(
            "Distribution %s paused by LeadDesk; the reason is in its status", distribution_id
        )
        self._on_change(distribution_id)

    def _store(
        self, distribution_id: int, only_active: bool = False, **values: object
    ) -> OperationalError | None:
        """Write these columns of a distribution; the error when the file cannot be written."""
        change = update(Distribution).where(Distribution.id == distribution_id)
        if only_active:
            change = change.where(Distribution.status == Status.ACTIVE.value)
        try:
            with self._database.writer() as session:
                session.execute(change.values(**values))
                session.commit()
        except OperationalError as error:
            return error
        return None

    def _count_unclear(self, distribution_id: int, outcome: Outcome) -> None:
        """Pause a distribution whose advertiser keeps answering nothing clear."""
        if outcome.state is DeliveryState.QUEUED:
            return
        with self._lock:
            if outcome.state not in UNCLEAR_STATES:
                self._unclear_in_a_row.pop(distribution_id, None)
                return
            self._unclear_in_a_row[distribution_id] += 1
            count = self._unclear_in_a_row[distribution_id]
            if count < UNCLEAR_IN_A_ROW_PAUSE:
                return
            del self._unclear_in_a_row[distribution_id]
        reason = outcome.reason.rstrip(".")
        self._pause(
            distribution_id,
            f"Paused: {count} leads in a row got no clear answer from the advertiser (the "
            f"last: {reason}). Check them in the delivery log and with the advertiser, then "
            "resume.",
        )

    def _hold(self, claim: ClaimedDelivery, outcome: Outcome) -> Outcome:
        """The lead never left: hold its distribution, and pause it after a long outage."""
        distribution_id = claim.distribution_id
        now = time.monotonic()
        with self._lock:
            hold = self._holds.get(distribution_id)
            if hold is None:
                hold = self._holds[distribution_id] = _Hold(0.0, now, 0)
            step = self._hold_backoff_s[min(hold.tries, len(self._hold_backoff_s) - 1)]
            wait_s = max(step, outcome.wait_s)
            hold.tries += 1
            hold.until = now + wait_s
            hold.probing = False
            waited_s = now - hold.since
        limit_s = claim.outage_pause_after_s
        if outcome.pause or (limit_s and waited_s >= limit_s):
            with self._lock:
                self._holds.pop(distribution_id, None)
            reason = outcome.reason
            if not outcome.pause:
                reason = (
                    f"Paused after {format_duration(waited_s)} without reaching the "
                    f"advertiser ({outcome.reason.rstrip('.')}). Resume when it is back."
                )
            log.warning("Distribution %s paused after an outage", distribution_id)
            return replace(outcome, reason=reason, wait_s=0.0, pause=True)
        log.info(
            "Distribution %s waits %.0f s for its advertiser (try %d)",
            distribution_id,
            wait_s,
            hold.tries,
        )
        return replace(
            outcome, reason=f"Waiting for the advertiser: {outcome.reason}", wait_s=wait_s
        )

    def _record(self, claim: ClaimedDelivery, outcome: Outcome) -> None:
        give_up_at = time.monotonic() + RECORD_GIVE_UP_S
        told = False
        while True:
            try:
                with self._database.writer() as session:
                    deliveries.record_outcome(session, claim, outcome)
                return
            except OperationalError as error:
                if time.monotonic() > give_up_at:
                    # The delivery stays "in flight" in the file; the next start settles it.
                    log.error("Gave up recording delivery %s: %s", claim.delivery_id, error.orig)
                    self._report(f"Could not record a delivery in the data file: {error.orig}")
                    return
                if not told:
                    log.warning(
                        "Delivery %s waits to be recorded: %s", claim.delivery_id, error.orig
                    )
                    self._report(
                        f"{describe_error(error, self._database.path)} The advertiser's answer "
                        "is kept and recorded as soon as the file can be written."
                    )
                    told = True
                time.sleep(RECORD_RETRY_S)

    def _report(self, message: str) -> None:
        log.error("%s", message)
        self._on_error(message)
