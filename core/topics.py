"""Core, the button's MQTT vocabulary: the topics a button publishes and hears on, and the clicks it sends. Declared
once here for the button's function (iot/), the notifier (notify/), onboarding's policy and the device itself, which
imports this module alone of core: nothing in it builds a client or reads a setting."""
from __future__ import annotations

# A click type is what a press was: SINGLE signs up, DOUBLE cancels, LONG checks in (core.presses).
CLICK_TYPES = ("SINGLE", "DOUBLE", "LONG")


def clicks(serial: str) -> str:
    """Where a button publishes its clicks (the only topic its policy lets it publish to)."""
    return f"iotbutton/{serial}"


def results(serial: str) -> str:
    """Where the button's function answers each click, once."""
    return f"iotbutton/{serial}/result"


def notices(serial: str) -> str:
    """Where the notifier tells a button what changed for its person (promoted, event moved, reminders)."""
    return f"iotbutton/{serial}/notice"
