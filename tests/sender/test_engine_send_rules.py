"""The sender keeps an offer's send windows and caps, against a real local advertiser."""

from __future__ import annotations

import time
from datetime import timedelta

from running_sender import distribute, distribution, wait_until

from leaddesk.core.caps import Caps
from leaddesk.core.clock import utc_now
from leaddesk.core.send_windows import SendWindows
from leaddesk.core.status import Status
from leaddesk.core.time_zones import local_time
from leaddesk.services import directory
from leaddesk.services.send_rules import SendRules

# Zones whose local day is far from its end now, so a daily cap cannot roll over mid-test.
CANDIDATE_ZONES = ("UTC", "Asia/Tokyo", "America/New_York")
QUIET_S = 2.5


def calm_zone() -> str:
    """A time zone in which the present day has more than an hour left."""
    for name in CANDIDATE_ZONES:
        if local_time(utc_now(), name).hour < 22:
            return name
    raise AssertionError("every candidate zone is near midnight")


def set_rules(database, offer_id: int, rules: SendRules) -> None:
    with database.writer() as session:
        directory.set_offer_send_rules(session, offer_id, rules)
        session.commit()


def test_a_closed_window_holds_the_list_and_says_when_it_opens(
    database, sandbox, make_list, make_offer, running
):
    affiliate_id, offer_id = make_offer(sandbox.url)
    now = local_time(utc_now(), "Asia/Tokyo")
    opens = now + timedelta(hours=3)
    closes = opens + timedelta(hours=1)
    window = SendWindows.parse(f"daily {opens:%H:%M}-{closes:%H:%M}", "Asia/Tokyo")
    set_rules(database, offer_id, SendRules(windows=window))
    distribution_id = distribute(database, make_list(count=3), affiliate_id, offer_id)
    running()

    wait_until(lambda: distribution(database, distribution_id).waiting_reason != "")
    time.sleep(QUIET_S)

    waiting = distribution(database, distribution_id)
    assert sandbox.received == []
    assert waiting.status == Status.ACTIVE.value
    assert waiting.waiting_reason.startswith("outside the send window (daily ")
    assert f"opens {opens:%H:%M}" in waiting.waiting_reason
    assert waiting.waiting_until == window.next_open(utc_now())


def test_a_daily_cap_of_an_offer_holds_across_two_distributions(
    database, sandbox, make_list, make_offer, running
):
    affiliate_id, offer_id = make_offer(sandbox.url)
    set_rules(
        database,
        offer_id,
        SendRules(windows=SendWindows(time_zone=calm_zone()), caps=Caps(per_day=3)),
    )
    first = distribute(database, make_list("Spring", 4), affiliate_id, offer_id, title="A")
    second = distribute(database, make_list("Autumn", 4), affiliate_id, offer_id, title="B")
    running()

    wait_until(lambda: len(sandbox.received) >= 3)
    wait_until(
        lambda: all(distribution(database, each).waiting_reason for each in (first, second))
    )
    time.sleep(QUIET_S)

    assert len(sandbox.received) == 3
    for each in (first, second):
        held = distribution(database, each)
        assert held.status == Status.ACTIVE.value
        assert held.waiting_reason.startswith("daily cap of 3 reached; resumes ")
    assert distribution(database, first).sent + distribution(database, second).sent == 3


def test_a_cap_of_a_distribution_leaves_the_other_distributions_alone(
    database, sandbox, make_list, make_offer, running
):
    affiliate_id, offer_id = make_offer(sandbox.url)
    capped = distribute(
        database,
        make_list("Spring", 3),
        affiliate_id,
        offer_id,
        title="Capped",
        send_rules=SendRules(SendWindows(time_zone=calm_zone()), Caps(per_hour=1)),
    )
    free = distribute(database, make_list("Autumn", 3), affiliate_id, offer_id, title="Free")
    running()

    wait_until(lambda: distribution(database, free).status == Status.DONE.value)

    assert distribution(database, free).accepted == 3
    held = distribution(database, capped)
    assert held.sent == 1
    assert held.waiting_reason.startswith("hourly cap of 1 reached; resumes ")


def test_a_total_cap_pauses_the_list_with_the_reason(
    database, sandbox, make_list, make_offer, running
):
    affiliate_id, offer_id = make_offer(sandbox.url)
    set_rules(database, offer_id, SendRules(caps=Caps(total=2)))
    distribution_id = distribute(database, make_list(count=4), affiliate_id, offer_id)
    running()

    wait_until(lambda: distribution(database, distribution_id).status == Status.PAUSED.value)

    paused = distribution(database, distribution_id)
    assert len(sandbox.received) == 2
    assert paused.status_reason == "Paused: the total cap of 2 reached."
