"""Which actions each status allows, and the moves a delivery may make."""

import pytest

from leaddesk.core.status import (
    DELIVERY_MOVES,
    Action,
    DeliveryState,
    Status,
    allowed_actions,
    can_move,
    can_resend,
)


@pytest.mark.parametrize(
    ("status", "actions"),
    [
        (Status.ACTIVE, [Action.PAUSE, Action.DONE, Action.DELETE]),
        (Status.PAUSED, [Action.RESUME, Action.DONE, Action.DELETE]),
        (Status.DONE, [Action.DELETE]),
        (Status.DELETED, []),
    ],
)
def test_actions_valid_for_each_status(status, actions):
    assert list(allowed_actions(status)) == actions
    assert list(allowed_actions(status.value)) == actions


def test_done_and_delete_ask_first():
    assert {a for a in Action if a.needs_confirmation} == {Action.DONE, Action.DELETE}


def test_every_delivery_state_has_its_moves_listed():
    assert set(DELIVERY_MOVES) == set(DeliveryState)


def test_an_outcome_is_final_and_a_lead_is_claimed_before_it_is_sent():
    assert can_move(DeliveryState.QUEUED, DeliveryState.IN_FLIGHT)
    assert not can_move(DeliveryState.QUEUED, DeliveryState.ACCEPTED)
    assert can_move(DeliveryState.IN_FLIGHT, DeliveryState.UNKNOWN)
    for final in (DeliveryState.ACCEPTED, DeliveryState.REJECTED, DeliveryState.UNKNOWN):
        assert all(not can_move(final, target) for target in DeliveryState)
    assert not can_move(DeliveryState.SKIPPED, DeliveryState.QUEUED)


def test_a_lead_that_never_left_goes_back_to_the_queue():
    assert can_move(DeliveryState.IN_FLIGHT, DeliveryState.QUEUED)


def test_only_outcomes_that_did_not_reach_the_advertiser_surely_can_be_sent_again():
    assert {state for state in DeliveryState if can_resend(state)} == {
        DeliveryState.REJECTED,
        DeliveryState.FAILED,
        DeliveryState.UNKNOWN,
    }


def test_every_delivery_state_has_a_label_for_the_delivery_log():
    assert [state.label for state in DeliveryState] == [
        "Queued",
        "Being sent",
        "Accepted",
        "Rejected",
        "Failed",
        "Outcome unknown",
        "Skipped",
    ]
