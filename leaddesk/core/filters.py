"""What a manager asks the Distributions page to show."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from enum import Enum

from leaddesk.core.status import Status


class SearchField(str, Enum):
    LIST = "list"
    MANAGER = "manager"
    AFFILIATE = "affiliate"
    OFFER = "offer"
    PRODUCT = "product"

    @property
    def label(self) -> str:
        return self.value.capitalize()


@dataclass(frozen=True)
class DistributionFilter:
    """A search on one field, a creation-date range (inclusive, local dates) and a status.

    With no status, every distribution but the deleted ones is shown.
    """

    field: SearchField = SearchField.LIST
    text: str = ""
    created_from: date | None = None
    created_to: date | None = None
    status: Status | None = None

    @property
    def is_empty(self) -> bool:
        return self == DistributionFilter(field=self.field)
