"""The offer presets a manager starts from."""

from __future__ import annotations

import pytest

from leaddesk.core.offer_config import OfferConfig
from leaddesk.core.offer_presets import PRESETS, preset
from leaddesk.errors import InputError

URL = "https://api.example.com/leads"


def test_presets_have_unique_keys_names_and_a_description() -> None:
    assert [each.key for each in PRESETS] == [
        "plain_json",
        "json_keys_in_headers",
        "json_bearer",
        "form_token_in_query",
        "form_area_code",
        "form_status_codes",
    ]
    assert len({each.name for each in PRESETS}) == len(PRESETS)
    assert all(each.description.endswith(".") for each in PRESETS)


@pytest.mark.parametrize("chosen", PRESETS, ids=lambda each: each.key)
def test_every_preset_is_a_working_configuration_that_survives_storing(chosen) -> None:
    config = chosen.config(f"  {URL} ")

    assert config.problems() == []
    assert config.endpoint.url == URL
    assert config.preset == chosen.key
    assert OfferConfig.from_json(config.to_json()) == config


def test_plain_json_is_todays_behaviour() -> None:
    config = preset("plain_json").config(URL)

    assert config == OfferConfig(endpoint=OfferConfig.for_url(URL).endpoint, preset="plain_json")
    assert config.fields == ()
    assert config.secret_names() == ()


def test_presets_name_the_secrets_they_need() -> None:
    assert preset("json_keys_in_headers").config(URL).secret_names() == (
        "auth",
        "header:Api-Password",
    )
    assert preset("json_bearer").config(URL).secret_names() == ("auth",)


def test_an_unknown_preset_is_named() -> None:
    with pytest.raises(InputError) as raised:
        preset("soap")

    assert str(raised.value) == "There is no offer preset called 'soap'."
