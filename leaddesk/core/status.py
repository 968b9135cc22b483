"""Statuses of a distribution and of a delivery, and the moves allowed between them."""

from __future__ import annotations

from enum import Enum


class Status(str, Enum):
    ACTIVE = "active"
    PAUSED = "paused"
    DONE = "done"
    DELETED = "deleted"

    @property
    def label(self) -> str:
        return self.value.capitalize()


class Action(str, Enum):
    PAUSE = "pause"
    RESUME = "resume"
    DONE = "done"
    DELETE = "delete"

    @property
    def label(self) -> str:
        return self.value.capitalize()

    @property
    def needs_confirmation(self) -> bool:
        return self in (Action.DONE, Action.DELETE)

    @property
    def result(self) -> Status:
        return _RESULT[self]


_RESULT = {
    Action.PAUSE: Status.PAUSED,
    Action.RESUME: Status.ACTIVE,
    Action.DONE: Status.DONE,
    Action.DELETE: Status.DELETED,
}

# Every action a manager may take on a distribution, by its status, in menu order.
ALLOWED_ACTIONS: dict[Status, tuple[Action, ...]] = {
    Status.ACTIVE: (Action.PAUSE, Action.DONE, Action.DELETE),
    Status.PAUSED: (Action.RESUME, Action.DONE, Action.DELETE),
    Status.DONE: (Action.DELETE,),
    Status.DELETED: (),
}


def allowed_actions(status: Status | str) -> tuple[Action, ...]:
    return ALLOWED_ACTIONS[Status(status)]


class DeliveryState(str, Enum):
    QUEUED = "queued"
    IN_FLIGHT = "in_flight"
    ACCEPTED = "accepted"
    REJECTED = "rejected"
    FAILED = "failed"
    UNKNOWN = "unknown"
    SKIPPED = "skipped"


# Every move a delivery may make. A delivery leaves "queued" only by being claimed for
# sending (or skipped when its distribution is marked Done), and an outcome is final.
DELIVERY_MOVES: dict[DeliveryState, frozenset[DeliveryState]] = {
    DeliveryState.QUEUED: frozenset({DeliveryState.IN_FLIGHT, DeliveryState.SKIPPED}),
    DeliveryState.IN_FLIGHT: frozenset(
        {
            DeliveryState.ACCEPTED,
            DeliveryState.REJECTED,
            DeliveryState.FAILED,
            DeliveryState.UNKNOWN,
        }
    ),
    DeliveryState.ACCEPTED: frozenset(),
    DeliveryState.REJECTED: frozenset(),
    DeliveryState.FAILED: frozenset(),
    DeliveryState.UNKNOWN: frozenset(),
    DeliveryState.SKIPPED: frozenset(),
}

OUTCOME_STATES = frozenset(
    {DeliveryState.ACCEPTED, DeliveryState.REJECTED, DeliveryState.FAILED, DeliveryState.UNKNOWN}
)


def can_move(current: DeliveryState, target: DeliveryState) -> bool:
    return target in DELIVERY_MOVES[current]
