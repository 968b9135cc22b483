"""Sending a test lead to an offer: the exact request from a sample lead, and what came of it.

The sample lead is made up and marked as a test, never a lead of a list, so a test reaches the
advertiser only as a test and leaves every distribution's record as it was.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from sqlalchemy.orm import Session

from leaddesk.advertiser.client import AdvertiserClient
from leaddesk.core.offer_config import OfferConfig
from leaddesk.core.offer_request import LeadValues, OutgoingRequest, build_request
from leaddesk.core.status import DeliveryState
from leaddesk.services import offer_secrets
from leaddesk.services.deliveries import LEAD_FIELDS, Outcome, fields_to_send

# A made-up person whose every field says it is a test; the manager may change any of them.
SAMPLE_FIELDS: dict[str, str] = {
    "first_name": "Test",
    "last_name": "Lead",
    "email": "test.lead@example.com",
    "phone": "+4915123456789",
    "country": "DE",
    "language": "de",
    "ip": "",
    "source": "leaddesk-test",
    "sub_id1": "test",
}
SAMPLE_AFFILIATE_ID = 0
SAMPLE_AFFILIATE_NAME = "LeadDesk test"
ANSWER_SHOWN_CHARS = 4000

# Refusals the answer rules tell apart, named as such rather than as "Rejected".
REFUSAL_VERDICTS = frozenset({"duplicate", "invalid", "denied"})


@dataclass(frozen=True)
class SentTestLead:
    """What the advertiser answered to a test lead, as the manager reads it."""

    label: str
    outcome: Outcome
    # The answer with every secret masked, shortened for showing.
    answer: str

    def lines(self) -> list[str]:
        outcome = self.outcome
        shown = [f"Result: {self.label}"]
        if outcome.http_status is not None:
            shown.append(f"HTTP status: {outcome.http_status}")
        if outcome.duration_ms is not None:
            shown.append(f"Took: {outcome.duration_ms} ms")
        if outcome.advertiser_lead_id:
            shown.append(f"Advertiser's lead id: {outcome.advertiser_lead_id}")
        if outcome.autologin_url:
            shown.append(f"Auto-login link: {outcome.autologin_url}")
        if outcome.reason:
            shown.append(f"Reason: {outcome.reason}")
        return shown


def sample_lead(config: OfferConfig, fields: Mapping[str, str] | None = None) -> LeadValues:
    """The made-up test lead, with any fields the manager changed, as a real lead goes."""
    values = {**SAMPLE_FIELDS, **(fields or {})}
    columns = {name: values.pop(name, "") for name in LEAD_FIELDS}
    return LeadValues(
        fields=fields_to_send(config, columns, values),
        affiliate_id=SAMPLE_AFFILIATE_ID,
        affiliate_name=SAMPLE_AFFILIATE_NAME,
        fixed_fields={},
    )


def secrets_for(
    session: Session, offer_id: int | None, config: OfferConfig, typed: Mapping[str, str]
) -> dict[str, str]:
    """The secrets a test request needs: those typed now, else those kept for the offer."""
    kept = offer_secrets.load(session, offer_id, config.secret_names()) if offer_id else {}
    return {**kept, **{name: value for name, value in typed.items() if value}}


def prepare(
    config: OfferConfig, secrets: Mapping[str, str], fields: Mapping[str, str] | None = None
) -> OutgoingRequest:
    """The exact request the offer sends for the test lead; InputError says what is missing."""
    return build_request(config, sample_lead(config, fields), secrets)


def send(request: OutgoingRequest, config: OfferConfig) -> SentTestLead:
    """Send the test request once, with no retry, and read the answer by the offer's rules."""
    outcome = AdvertiserClient().send(request, config.response)
    answer = request.mask(outcome.response_text)[:ANSWER_SHOWN_CHARS]
    return SentTestLead(result_label(outcome), outcome, answer)


def result_label(outcome: Outcome) -> str:
    """`Accepted`, `Duplicate`, `Outcome unknown`, `Not sent`...: how a test reads."""
    if outcome.state is DeliveryState.QUEUED:
        return "Not sent"
    if outcome.verdict in REFUSAL_VERDICTS:
        return outcome.verdict.capitalize()
    return outcome.state.label
