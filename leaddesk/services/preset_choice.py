"""The offer presets the editor and `leaddesk offer add --preset` offer to choose from.

`available_presets()` is the one place that says which presets exist. For now it holds two
small ones of its own; it is to be pointed at leaddesk.core.offer_presets once that exists.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace

from leaddesk.core.offer_config import (
    AuthKind,
    BodyFormat,
    Endpoint,
    FieldRule,
    OfferConfig,
    SourceKind,
    Transform,
)
from leaddesk.errors import InputError


@dataclass(frozen=True)
class Preset:
    """A named starting configuration for an advertiser's API."""

    name: str
    description: str
    make: Callable[[str], OfferConfig]

    def config_for(self, url: str) -> OfferConfig:
        """The preset's configuration sending to `url`, marked with the preset's name."""
        return replace(self.make(url), preset=self.name)


def _plain_json(url: str) -> OfferConfig:
    return OfferConfig.for_url(url)


def _form_with_api_key(url: str) -> OfferConfig:
    return OfferConfig(
        endpoint=Endpoint(
            url=url,
            body_format=BodyFormat.FORM,
            auth=AuthKind.HEADER,
            auth_name="X-Api-Key",
        ),
        fields=(
            FieldRule("firstname", SourceKind.FIELD, "first_name"),
            FieldRule("lastname", SourceKind.FIELD, "last_name"),
            FieldRule("email", SourceKind.FIELD, "email"),
            FieldRule("phone", SourceKind.FIELD, "phone", Transform.E164),
            FieldRule("country", SourceKind.FIELD, "country", Transform.COUNTRY_ISO2),
            FieldRule("password", SourceKind.PASSWORD),
        ),
    )


def available_presets() -> list[Preset]:
    """The presets a manager can start an offer from, in the order they are offered."""
    return [
        Preset(
            "Plain JSON",
            "Every lead field under its own name, posted as JSON, no authentication.",
            _plain_json,
        ),
        Preset(
            "Form post with API key",
            "Form-encoded fields with an API key in the X-Api-Key header and a generated "
            "password.",
            _form_with_api_key,
        ),
    ]


def preset_by_name(name: str) -> Preset:
    """The preset of that name, case aside, or an InputError naming the ones there are."""
    presets = available_presets()
    for preset in presets:
        if preset.name.casefold() == name.strip().casefold():
            return preset
    known = ", ".join(f"'{preset.name}'" for preset in presets)
    raise InputError(f"There is no preset named '{name}'. The presets are {known}.")
