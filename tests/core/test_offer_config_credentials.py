"""An offer's credentials are kept as secrets, never as plain values of its configuration."""

from __future__ import annotations

import pytest

from leaddesk.core.offer_config import Endpoint, Header, OfferConfig


@pytest.mark.parametrize(
    "name", ["Authorization", "X-Api-Key", "api-token", "Client-Secret", "X-Password"]
)
def test_a_credential_header_with_a_plain_value_is_refused(name):
    config = OfferConfig(endpoint=Endpoint(url="https://a.example", headers=(Header(name, "v"),)))

    [problem] = config.problems()

    assert problem.startswith(f"The header '{name}' looks like it carries a credential")


def test_a_credential_header_kept_secret_and_an_ordinary_header_are_fine():
    headers = (Header("X-Api-Key", secret=True), Header("X-Source", "web"))

    assert (
        OfferConfig(endpoint=Endpoint(url="https://a.example", headers=headers)).problems() == []
    )


@pytest.mark.parametrize("query", ["apikey=abc", "api_token=abc&x=1", "x=1&secret=abc"])
def test_a_key_in_the_url_is_refused(query):
    [problem] = OfferConfig.for_url(f"https://a.example/leads?{query}").problems()

    assert problem.startswith("The URL carries '")
    assert "API key in the query string" in problem


def test_an_ordinary_query_is_fine():
    assert OfferConfig.for_url("https://a.example/leads?campaign=7&lang=de").problems() == []
