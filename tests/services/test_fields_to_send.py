"""Which of a lead's values an offer's request may carry."""

from __future__ import annotations

from leaddesk.core.offer_config import FieldRule, OfferConfig
from leaddesk.services.deliveries import fields_to_send

COLUMNS = {"first_name": "Ann", "email": "ann@example.com", "phone": "", "country": "DE"}
EXTRA = {"ip": "10.1.2.3", "sub_id1": "aff7", "password": "Secr3t!", "Notes": "call later"}


def test_without_rules_every_lead_field_goes_but_no_custom_column():
    sent = fields_to_send(OfferConfig.for_url("https://a.example/leads"), COLUMNS, EXTRA)

    assert sent == {**COLUMNS, "ip": "10.1.2.3", "sub_id1": "aff7", "password": "Secr3t!"}
    assert "Notes" not in sent


def test_with_rules_a_custom_column_is_there_for_a_rule_to_name():
    config = OfferConfig(fields=(FieldRule("comment", value="Notes"),)).with_url(
        "https://a.example/leads"
    )

    sent = fields_to_send(config, COLUMNS, EXTRA)

    assert sent["Notes"] == "call later"
    assert sent["first_name"] == "Ann"
