"""Widgets shared by the forms that set send windows, time zones and caps."""

from __future__ import annotations

from zoneinfo import available_timezones

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QComboBox, QCompleter, QSpinBox

from leaddesk.core.time_zones import DEFAULT_TIME_ZONE

CAP_MAX = 1_000_000


def cap_spin(none_text: str, suffix: str) -> QSpinBox:
    """A count of leads where 0 reads as no cap at all."""
    spin = QSpinBox()
    spin.setRange(0, CAP_MAX)
    spin.setSpecialValueText(none_text)
    spin.setSuffix(suffix)
    return spin


def time_zone_combo() -> QComboBox:
    """Every IANA time zone, typed or chosen; typing finds a zone by any part of its name."""
    combo = QComboBox()
    combo.setEditable(True)
    combo.addItems(sorted(available_timezones()))
    combo.setInsertPolicy(QComboBox.InsertPolicy.NoInsert)
    completer = combo.completer()
    completer.setFilterMode(Qt.MatchFlag.MatchContains)
    completer.setCompletionMode(QCompleter.CompletionMode.PopupCompletion)
    combo.setCurrentText(DEFAULT_TIME_ZONE)
    return combo
