"""The offer presets the editor and `leaddesk offer add --preset` offer to choose from."""

from __future__ import annotations

from dataclasses import dataclass

from leaddesk.core.offer_config import OfferConfig
from leaddesk.core.offer_presets import PRESETS, OfferPreset
from leaddesk.errors import InputError


@dataclass(frozen=True)
class Preset:
    """A named starting configuration for an advertiser's API, as a chooser shows it."""

    key: str
    name: str
    description: str
    source: OfferPreset

    def config_for(self, url: str) -> OfferConfig:
        """The preset's configuration sending to `url`, marked with the preset's key."""
        return self.source.config(url)


def available_presets() -> list[Preset]:
    """The presets a manager can start an offer from, in the order they are offered."""
    return [Preset(each.key, each.name, each.description, each) for each in PRESETS]


def preset_by_name(name: str) -> Preset:
    """The preset of that name or key, case aside, or an InputError naming those there are."""
    wanted = name.strip().casefold()
    presets = available_presets()
    for preset in presets:
        if wanted in (preset.name.casefold(), preset.key.casefold()):
            return preset
    known = ", ".join(f"'{preset.key}'" for preset in presets)
    raise InputError(f"There is no preset named '{name}'. The presets are {known}.")
