"""The real sender against advertisers that ask to wait or answer too late."""

from __future__ import annotations

import threading
import time
from collections import Counter
from dataclasses import replace

from running_sender import distribute, distribution, states, wait_until
from werkzeug import Request, Response

from leaddesk.core.offer_presets import preset
from leaddesk.core.status import DeliveryState, Status
from leaddesk.services import directory
from leaddesk.storage.models import Offer

LEADS = 4


class Recorder:
    """Answers each lead as told, and keeps when each e-mail arrived."""

    def __init__(self, answer) -> None:
        self.arrivals: list[tuple[str, float]] = []
        self._lock = threading.Lock()
        self._answer = answer

    def __call__(self, request: Request) -> Response:
        email = request.get_json()["email"]
        with self._lock:
            self.arrivals.append((email, time.monotonic()))
            number = len(self.arrivals)
        return self._answer(number)

    def emails(self) -> Counter[str]:
        with self._lock:
            return Counter(email for email, _moment in self.arrivals)


def accepted(number: int) -> Response:
    return Response(
        f'{{"status": "accepted", "id": "a-{number}"}}', 200, mimetype="application/json"
    )


def test_a_rate_limited_lead_waits_as_asked_and_then_arrives_once(
    httpserver, database, make_list, make_offer, running
):
    def answer(number: int) -> Response:
        if number == 2:
            return Response('{"error": "slow down"}', 429, {"Retry-After": "2"})
        return accepted(number)

    recorder = Recorder(answer)
    httpserver.expect_request("/leads", method="POST").respond_with_handler(recorder)
    affiliate_id, offer_id = make_offer(httpserver.url_for("/leads"))
    distribution_id = distribute(database, make_list(count=LEADS), affiliate_id, offer_id)
    running()

    wait_until(lambda: "rate-limited" in distribution(database, distribution_id).waiting_reason)
    waiting = distribution(database, distribution_id)
    wait_until(lambda: distribution(database, distribution_id).status == Status.DONE.value)

    counts = recorder.emails()
    assert sum(counts.values()) == LEADS + 1
    [limited] = [email for email, times in counts.items() if times == 2]
    assert all(times == 1 for email, times in counts.items() if email != limited)
    first, second = [moment for email, moment in recorder.arrivals if email == limited]
    assert second - first >= 2.0
    assert waiting.waiting_until is not None and waiting.status == Status.ACTIVE.value
    finished = distribution(database, distribution_id)
    assert (finished.accepted, finished.failed, finished.unknown) == (LEADS, 0, 0)


def test_an_answer_too_late_marks_the_lead_unknown_and_never_sends_it_again(
    httpserver, database, make_list, make_offer, running
):
    def answer(number: int) -> Response:
        if number == 1:
            time.sleep(1.5)
        return accepted(number)

    recorder = Recorder(answer)
    httpserver.expect_request("/leads", method="POST").respond_with_handler(recorder)
    affiliate_id, offer_id = make_offer(httpserver.url_for("/leads"))
    with database.writer() as session:
        offer = session.get_one(Offer, offer_id)
        config = directory.offer_config(offer)
        config = replace(config, endpoint=replace(config.endpoint, read_timeout_s=0.5))
        directory.update_offer(session, offer_id, offer.name, offer.url, None, config)
        session.commit()
    # Three seconds apart, so the local server (one request at a time) has answered the late
    # lead before the next one comes.
    distribution_id = distribute(
        database, make_list(count=LEADS), affiliate_id, offer_id, every_s=3
    )
    running()

    wait_until(
        lambda: distribution(database, distribution_id).status == Status.DONE.value,
        timeout_s=30,
    )

    assert sorted(recorder.emails().values()) == [1] * LEADS
    assert states(database, distribution_id) == {
        DeliveryState.UNKNOWN.value: 1,
        DeliveryState.ACCEPTED.value: LEADS - 1,
    }
    finished = distribution(database, distribution_id)
    assert (finished.unknown, finished.failed) == (1, 0)


def test_an_offer_without_its_secret_pauses_the_list_and_sends_nothing(
    httpserver, database, make_list, make_offer, running
):
    affiliate_id, offer_id = make_offer(httpserver.url_for("/leads"))
    with database.writer() as session:
        offer = session.get_one(Offer, offer_id)
        config = preset("json_bearer").config(offer.url)
        directory.update_offer(session, offer_id, offer.name, offer.url, None, config)
        session.commit()
    distribution_id = distribute(database, make_list(count=2), affiliate_id, offer_id)
    running()

    wait_until(lambda: distribution(database, distribution_id).status == Status.PAUSED.value)

    paused = distribution(database, distribution_id)
    assert paused.status_reason.startswith("Paused: ")
    assert "bearer token" in paused.status_reason
    assert httpserver.log == []
    assert states(database, distribution_id) == {DeliveryState.QUEUED.value: 2}


def test_an_advertiser_failing_again_and_again_pauses_the_list_before_it_is_used_up(
    httpserver, database, make_list, make_offer, running
):
    recorder = Recorder(lambda _number: Response("upstream broke", 500))
    httpserver.expect_request("/leads", method="POST").respond_with_handler(recorder)
    affiliate_id, offer_id = make_offer(httpserver.url_for("/leads"))
    distribution_id = distribute(database, make_list(count=10), affiliate_id, offer_id)
    running()

    wait_until(lambda: distribution(database, distribution_id).status == Status.PAUSED.value)
    time.sleep(1.5)

    paused = distribution(database, distribution_id)
    assert paused.status_reason.startswith(
        "Paused: 3 leads in a row got no clear answer from the advertiser (the last: "
    )
    assert sum(recorder.emails().values()) == 3
    assert states(database, distribution_id) == {
        DeliveryState.UNKNOWN.value: 3,
        DeliveryState.QUEUED.value: 7,
    }
