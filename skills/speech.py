"""Skill, last step before Alexa: every sentence the skill speaks, built from plain values and safe inside SSML."""
from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Sequence
from functools import lru_cache

from core import lines
from core.errors import (
    Busy,
    EventFull,
    EventNotFound,
    EventOver,
    NotSignedUp,
    NoUpcomingEvent,
    PairingCodeInvalid,
    PairingLocked,
    RequestIdReused,
    SignupsClosed,
    TurnoutError,
)
from core.moments import DAY_NAMES, MONTH_NAMES
from core.values import Event, InLine, Signup, SignupOutcome
from skills.whens import When

# A listener keeps about three names in mind; the rest become "and N others".
NAMES_SPOKEN = 3
EVENTS_SPOKEN = 3

# Characters Alexa would read out as words ("skis", "party popper") or that XML forbids:
# symbols and emoji, their modifiers, joiners and variation selectors, controls, unassigned.
_UNSPOKEN_CATEGORIES = frozenset({"So", "Sk", "Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"})
_VARIATION_SELECTORS = re.compile("[\ufe00-\ufe0f\U000e0100-\U000e01ef]")
_SSML_ENTITIES = (("&", "&amp;"), ("<", "&lt;"), (">", "&gt;"), ('"', "&quot;"), ("'", "&apos;"))

WEEKDAYS, MONTHS = DAY_NAMES, MONTH_NAMES


# --- Text people typed, made fit to speak -------------------------------------------------

# Event names and people's names come back request after request.
@lru_cache(maxsize=1024)
def escape(text: str) -> str:
    """Typed text as SSML character data: no emoji or control characters, `& < > " '` escaped."""
    if text.isascii() and text.isprintable() and "^" not in text and "`" not in text:
        # Nothing to drop: ASCII is its own NFC form, and its printable characters outside Sk ("^", "`") are all
        # spoken. Most names are typed so, and are spared the character-by-character pass below.
        kept = text
    else:
        kept = _VARIATION_SELECTORS.sub("", unicodedata.normalize("NFC", text))
        kept = "".join(ch for ch in kept if ch.isspace() or unicodedata.category(ch) not in _UNSPOKEN_CATEGORIES)
    # split() drops every space isspace() knows, as the pass above keeps them.
    escaped = " ".join(kept.split())
    for character, entity in _SSML_ENTITIES:
        if character in escaped:
            escaped = escaped.replace(character, entity)
    return escaped


def title(event: Event) -> str:
    return escape(event.name) or "that event"


def person(signup: Signup) -> str:
    return (escape(signup.name) if signup.name else "") or handle(signup.person)


@lru_cache(maxsize=1024)
def handle(person_handle: str) -> str:
    # Handles are lowercase letters, digits and "-": "melvin-moose" is said "Melvin Moose".
    return escape(person_handle.replace("-", " ").title())


def names(spoken: Sequence[str], total: int) -> str:
    """ "A", "A and B", "A, B and C", "A, B, C and 4 others"."""
    others = total - len(spoken)
    if others > 0:
        return f"{', '.join(spoken)} and {_count(others, 'other', 'others')}"
    if len(spoken) == 1:
        return spoken[0]
    return f"{', '.join(spoken[:-1])} and {spoken[-1]}"


def _count(n: int, one: str, many: str) -> str:
    return f"1 {one}" if n == 1 else f"{n} {many}"


# --- Times, as people say them -------------------------------------------------------------

def clock(local) -> str:
    """ "7 pm", "7:30 am", "noon", "midnight"."""
    if local.minute == 0 and local.hour == 12:
        return "noon"
    if local.minute == 0 and local.hour == 0:
        return "midnight"
    hour = local.hour % 12 or 12
    half = "am" if local.hour < 12 else "pm"
    return f"{hour} {half}" if local.minute == 0 else f"{hour}:{local.minute:02d} {half}"


def ordinal(n: int) -> str:
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def when(moment: When) -> str:
    """ "tomorrow at 7 pm", "on Saturday at 9 am", "on Saturday, December 5th at 6 pm"."""
    local = moment.local
    at = f"at {clock(local)}"
    if moment.day in ("today", "tonight", "tomorrow", "yesterday"):
        return f"{moment.day} {at}"
    weekday = WEEKDAYS[local.weekday()]
    if moment.day == "weekday":
        return f"on {weekday} {at}"
    date = f"{MONTHS[local.month - 1]} {ordinal(local.day)}"
    if moment.with_year:
        date += f", {local.year}"
    return f"on {weekday}, {date} {at}"


# --- Conversation ----------------------------------------------------------------------------

LAUNCH = ("Welcome to Turnout. You can ask who is going to an event, what's coming up, "
          "or say: sign me up. What would you like?")
LAUNCH_REPROMPT = "You can ask: who is going to the next event?"
HELP = ("You can ask who is going to an event, how many are going, what's coming up, "
        "or when and where an event is. You can also say: sign me up for an event, "
        "or cancel my signup. To link your account, say: link my account with code, "
        "and your six-digit code. What would you like?")
HELP_REPROMPT = "What would you like to know?"
FALLBACK = ("Turnout can't help with that. You can ask who is going, or what's coming up. "
            "What would you like?")
FALLBACK_REPROMPT = "You can ask: what's coming up?"
GOODBYE = "Goodbye."
APOLOGY = "Sorry, something went wrong on my side. Please try again in a moment."


# --- Events and who is going -----------------------------------------------------------------

NO_EVENTS = "There are no upcoming events right now."
WHICH_REPROMPT = "Which event do you mean?"


def no_such_event(spoken: str) -> str:
    return f"I couldn't find an event called {escape(spoken)}. You can ask what's coming up."


def which_one(options: Sequence[tuple[Event, When]]) -> str:
    described = [f"{title(event)}, {when(moment)}" for event, moment in options[:EVENTS_SPOKEN]]
    return f"Which one: {', '.join(described[:-1])}, or {described[-1]}?"


def who_is_going(event: Event, going: Sequence[Signup], going_total: int, waitlisted: int, seats_taken: int) -> str:
    if going_total == 0:
        sentence = f"Nobody is going to {title(event)} yet."
    else:
        spoken = [person(signup) for signup in going[:NAMES_SPOKEN]]
        verb = "is" if going_total == 1 else "are"
        sentence = (
            f"{names(spoken, going_total)} {verb} going to {title(event)}{_with_guests(going_total, seats_taken)}."
        )
    return sentence + _waitlist(waitlisted)


def _with_guests(going: int, seats_taken: int) -> str:
    """Guests take seats too: said whenever there are any, so a count of people is never a count of signups."""
    guests = seats_taken - going
    if guests <= 0:
        return ""
    return f", with {_count(guests, 'guest', 'guests')}: {seats_taken} people in all"


def _waitlist(waitlisted: int) -> str:
    if waitlisted == 0:
        return ""
    if waitlisted == 1:
        return " 1 more is on the waitlist."
    return f" {waitlisted} more are on the waitlist."


def how_many(event: Event) -> str:
    if event.going == 0:
        sentence = f"Nobody is going to {title(event)} yet."
    else:
        verb = "is" if event.seats_taken == 1 else "are"
        sentence = f"{_count(event.seats_taken, 'person', 'people')} {verb} going to {title(event)}"
        guests = event.seats_taken - event.going
        if guests > 0:
            sentence += f": {_count(event.going, 'signup', 'signups')} and {_count(guests, 'guest', 'guests')}"
        sentence += "."
    if event.spots_left == 0:
        sentence += " It's full."
    elif event.spots_left is not None:
        sentence += f" {_count(event.spots_left, 'spot', 'spots')} left."
    return sentence + _waitlist(event.waitlisted)


def coming_up(upcoming: Sequence[tuple[Event, When]], more: bool) -> str:
    if not upcoming:
        return NO_EVENTS
    first, *rest = [f"{title(event)}, {when(moment)}." for event, moment in upcoming[:EVENTS_SPOKEN]]
    sentences = [f"Next up: {first}"] + [f"Then {line}" for line in rest]
    if more or len(upcoming) > EVENTS_SPOKEN:
        sentences.append("And more after that.")
    return " ".join(sentences)


def when_is(event: Event, moment: When) -> str:
    verb = "started" if moment.started else "is"
    return f"{title(event)} {verb} {when(moment)}."


def where_is(event: Event) -> str:
    place = escape(event.location or "")
    if not place:
        return f"{title(event)} has no place set yet."
    return f"{title(event)} is at {place}."


# --- Signing up and cancelling ---------------------------------------------------------------

def signed_up(event: Event, outcome: SignupOutcome, moment: When) -> str:
    signup = outcome.signup
    if signup.status == "waitlisted":
        if not outcome.created:
            return f"You're already on the waitlist for {title(event)}, number {signup.position}."
        return _in_line(event, lines.why_in_line(outcome))
    if not outcome.created:
        return f"You're already going to {title(event)}, {when(moment)}."
    return f"You're going to {title(event)}, {when(moment)}. See you there!"


def _in_line(event: Event, why: InLine | None) -> str:
    """Why the party waits, as core.lines tells it: "Ski trip has 2 places left, and your party of 3 doesn't fit,
    so you're number 1 in line." """
    place = "in line" if why is None or why.position is None else f"number {why.position} in line"
    if why is None or why.reason == "waiting":
        return f"You're {place} for {title(event)}."
    if why.reason == "full":
        return f"{title(event)} is full, so you're {place}. You'll move up if someone cancels."
    left = _count(why.places_left or 0, "place", "places")
    if why.reason == "too_big":
        return (f"{title(event)} has {left} left, and your party of {why.party} doesn't fit, so you're {place}. "
                "You'll move up when enough places free up for all of you.")
    return f"{title(event)} has {left} left, but they go first to those ahead of you, so you're {place}."


def cancelled(event: Event) -> str:
    return f"Done. You're off the list for {title(event)}."


def confirm_cancel(event: Event, moment: When, *, checked_in: bool) -> str:
    """Asked before a cancel, yes or no: the event by name and day, and a check-in that cancelling undoes."""
    undone = "You're checked in there, and cancelling undoes that. " if checked_in else ""
    return f"{undone}Cancel your signup for {title(event)} {when(moment)}?"


def kept(event: Event) -> str:
    return f"Okay, you're still on the list for {title(event)}."


# --- Knowing who is speaking -----------------------------------------------------------------

NOT_LINKED = ("I don't know who you are yet. First get a six-digit pairing code from the Turnout "
              "API, at people, slash your handle, slash alexa code. Then say: link my account with "
              "code, and the six digits.")
NOT_LINKED_CARD_TITLE = "Link Turnout to Alexa"
NOT_LINKED_CARD = ("1. Get a pairing code: POST /people/{your-handle}/alexa-code\n"
                   "2. Say: \"Alexa, ask Turnout to link my account with code\" and the six digits.\n"
                   "The code works once, for a few minutes.")
ASK_CODE = "What's your six-digit pairing code?"
ASK_CODE_REPROMPT = "Say the six digits of your pairing code."


def linked(person_handle: str) -> str:
    return f"Thanks, you're linked as {handle(person_handle)}. Now you can say: sign me up."


# --- Domain errors, each family said once ----------------------------------------------------

NO_SIGNUP = "You weren't signed up for that event, so there's nothing to cancel."
EVENT_GONE = "I can't find that event any more."
LIST_CLOSED = "That event is over, so its list is closed."
SIGNUPS_CLOSED = "Sign-ups for that event have closed."
EVENT_FULL = "That event is full."
CODE_INVALID = ("That code didn't work. A code works once and only for a few minutes, "
                "so get a fresh one and try again.")
BUSY = "Turnout is busy right now. Please try again in a moment."
NOT_DONE = "Sorry, I couldn't do that."
REQUEST_REUSED = "Sorry, that request got mixed up with an earlier one, so I didn't do it. Please ask again."


def code_locked(retry_after_seconds: int) -> str:
    minutes = max(1, math.ceil(retry_after_seconds / 60))
    wait = "a minute" if minutes == 1 else f"{minutes} minutes"
    return f"Too many wrong codes. Please try again in {wait}."


def for_error(error: TurnoutError) -> str:
    if isinstance(error, NoUpcomingEvent):
        return NO_EVENTS
    if isinstance(error, EventNotFound):
        return EVENT_GONE
    if isinstance(error, NotSignedUp):
        return NO_SIGNUP
    if isinstance(error, EventOver):
        return LIST_CLOSED
    if isinstance(error, EventFull):
        return EVENT_FULL
    if isinstance(error, SignupsClosed):
        return SIGNUPS_CLOSED
    if isinstance(error, PairingLocked):
        return code_locked(error.retry_after_seconds)
    if isinstance(error, PairingCodeInvalid):
        return CODE_INVALID
    if isinstance(error, Busy):
        return BUSY
    if isinstance(error, RequestIdReused):
        return REQUEST_REUSED
    return NOT_DONE


def notices(texts: Sequence[str]) -> str:
    """What changed for the person since they last asked, one sentence each as core wrote it, before the answer."""
    return " ".join(escape(text) for text in texts)
