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

    @property
    def label(self) -> str:
        """The state as the delivery log names it."""
        return _DELIVERY_LABELS.get(self, self.value.capitalize())


_DELIVERY_LABELS = {
    DeliveryState.IN_FLIGHT: "Being sent",
    DeliveryState.UNKNOWN: "Outcome unknown",
}


# Every move the sender makes with a delivery. A delivery leaves "queued" only by being
# claimed for sending (or skipped when its distribution is marked Done); it returns there
# only when it certainly never reached the advertiser (no connection, or "wait" answered);
# an outcome is final for the sender.
DELIVERY_MOVES: dict[DeliveryState, frozenset[DeliveryState]] = {
    DeliveryState.QUEUED: frozenset({DeliveryState.IN_FLIGHT, DeliveryState.SKIPPED}),
    DeliveryState.IN_FLIGHT: frozenset(
        {
            DeliveryState.QUEUED,
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


# Outcomes a manager may choose to send again, as an explicit action: an accepted lead never,
# since the advertiser has it already.
RESENDABLE_STATES = frozenset(
    {DeliveryState.REJECTED, DeliveryState.FAILED, DeliveryState.UNKNOWN}
)


def can_move(current: DeliveryState, target: DeliveryState) -> bool:
    return target in DELIVERY_MOVES[current]


def can_resend(state: DeliveryState | str) -> bool:
    return DeliveryState(state) in RESENDABLE_STATES
