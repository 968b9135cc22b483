"""An advertiser that goes down in the middle of a list and comes back."""

from __future__ import annotations

import itertools
import json
import time
from dataclasses import replace

from running_sender import distribute, distribution, states, wait_until

from leaddesk.advertiser.sandbox import SandboxAdvertiser
from leaddesk.core.status import DeliveryState, Status
from leaddesk.services import directory
from leaddesk.storage.models import Offer

LEADS = 8
DOWN_S = 3.0


def received_emails(log_path) -> list[str]:
    lines = log_path.read_text(encoding="utf-8").splitlines()
    return [json.loads(line)["payload"]["email"] for line in lines]


def received_times(log_path) -> list[float]:
    lines = log_path.read_text(encoding="utf-8").splitlines()
    return [json.loads(line)["received_at"] for line in lines]


def test_a_list_waits_out_an_outage_and_every_lead_arrives_once(
    tmp_path, database, make_list, make_offer, running
):
    log_path = tmp_path / "advertiser.jsonl"
    advertiser = SandboxAdvertiser(port=0, log_path=log_path)
    advertiser.start()
    port = advertiser.port
    affiliate_id, offer_id = make_offer(advertiser.url)
    distribution_id = distribute(database, make_list(count=LEADS), affiliate_id, offer_id)
    running()

    wait_until(lambda: distribution(database, distribution_id).accepted >= 3)
    advertiser.stop()
    went_down = time.time()
    wait_until(lambda: distribution(database, distribution_id).waiting_reason != "")
    waiting = distribution(database, distribution_id)
    time.sleep(max(0.0, DOWN_S - (time.time() - went_down)))

    back = SandboxAdvertiser(port=port, log_path=log_path)
    back.start()
    came_back = time.time()
    try:
        wait_until(
            lambda: distribution(database, distribution_id).status == Status.DONE.value,
            timeout_s=60,
        )
    finally:
        back.stop()

    emails = received_emails(log_path)
    assert len(emails) == LEADS and len(set(emails)) == LEADS
    finished = distribution(database, distribution_id)
    assert (finished.accepted, finished.failed, finished.unknown) == (LEADS, 0, 0)
    assert states(database, distribution_id) == {DeliveryState.ACCEPTED.value: LEADS}
    assert "could not connect" in waiting.waiting_reason.lower()
    assert waiting.status == Status.ACTIVE.value
    # Nothing reached the advertiser while it was down, and after it came back the leads
    # went at the pace again, never in a burst.
    times = received_times(log_path)
    assert not [moment for moment in times if went_down < moment < came_back]
    after = [moment for moment in times if moment >= came_back]
    assert len(after) >= 2
    gaps = [later - earlier for earlier, later in itertools.pairwise(after)]
    assert min(gaps) >= 0.3


def test_a_long_outage_pauses_the_list_with_the_reason(
    tmp_path, database, make_list, make_offer, running
):
    closed = SandboxAdvertiser(port=0)
    closed.listen()
    url = closed.url
    closed.stop()
    affiliate_id, offer_id = make_offer(url, name="Gone")
    with database.writer() as session:
        offer = session.get_one(Offer, offer_id)
        config = replace(directory.offer_config(offer), outage_pause_after_min=0.05)
        directory.update_offer(session, offer_id, offer.name, url, offer.product_id, config)
        session.commit()
    distribution_id = distribute(database, make_list(count=3), affiliate_id, offer_id)
    running()

    wait_until(lambda: distribution(database, distribution_id).status == Status.PAUSED.value)

    paused = distribution(database, distribution_id)
    assert paused.status_reason.startswith("Paused after ")
    assert "without reaching the advertiser" in paused.status_reason
    assert "Resume when it is back." in paused.status_reason
    assert (paused.sent, paused.failed, paused.unknown) == (0, 0, 0)
    assert states(database, distribution_id) == {DeliveryState.QUEUED.value: 3}
