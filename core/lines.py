"""Core, words: why a sign-up waits in line, as plain facts (InLine) each edge words in its own way - the API's
message (api/render.py), the skill's sentence (skills/speech.py), the button's screen (iot/device.py) - so "the
event is full" is never said when places are left."""
from __future__ import annotations

from core.values import InLine, SignupOutcome


def why_in_line(outcome: SignupOutcome) -> InLine | None:
    """None for a party going; else why it waits: the event full, the party bigger than the places left, or places
    left that those ahead in line get first. "waiting" for a party found in line already (or a replayed request),
    whose reason at the time is not kept."""
    signup = outcome.signup
    if signup.status != "waitlisted":
        return None
    return of(outcome.places_left if outcome.created else None, 1 + signup.guests, signup.position)


def of(places_left: int | None, party: int, position: int | None) -> InLine:
    if places_left is None:
        return InLine("waiting", None, party, position)
    if places_left <= 0:
        return InLine("full", 0, party, position)
    if places_left < party:
        return InLine("too_big", places_left, party, position)
    return InLine("behind", places_left, party, position)

