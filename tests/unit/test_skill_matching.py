"""Unit tests for skills/matching.py: loosely spoken names against a calendar, as a table."""
from __future__ import annotations

import re
import unicodedata
from datetime import datetime, timedelta
from difflib import SequenceMatcher
from zoneinfo import ZoneInfo

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from core.values import Event
from skills.matching import CLOSE_RATIO, FILLER, NUMBER_WORDS, Match, _similar, _stem, match_event, words

ZONE = ZoneInfo("America/Denver")
MONDAY = datetime(2025, 12, 1, 19, 0, tzinfo=ZONE)


def event(name: str, days: int = 0) -> Event:
    return Event(
        event_id=f"e{abs(hash((name, days))) % 10**8}", name=name, starts_at=MONDAY + timedelta(days=days),
        ends_at=None, timezone="America/Denver", location=None, description=None, capacity=None,
        going=0, waitlisted=0, spots_left=None, seats_taken=0, created_at=MONDAY - timedelta(days=30),
    )


SKI_TRIP = event("Ski trip", 4)
BOOK_CLUB = event("Book club", 1)
BOOK_CLUB_LATER = event("Book club", 8)
BOARD_GAMES = event("Board game night", 2)
BIRTHDAY = event("Melvin's 40th birthday & BBQ", 5)
CAFE = event("Café crawl", 6)
FUN_RUN = event("5k fun run", 7)
PARTY = event("🎉 Launch party", 9)
KAYAK = event("Kayaking on the lake", 10)
# Soonest first, as core.services.list_events returns them.
CALENDAR = sorted([SKI_TRIP, BOOK_CLUB, BOOK_CLUB_LATER, BOARD_GAMES, BIRTHDAY, CAFE, FUN_RUN, PARTY, KAYAK],
                  key=lambda e: e.starts_at)


@pytest.mark.parametrize(
    ("spoken", "expected"),
    [
        ("the ski trip", SKI_TRIP),
        ("ski", SKI_TRIP),
        ("skiing", SKI_TRIP),
        ("Ski Trip", SKI_TRIP),
        ("ski trips", SKI_TRIP),
        ("the skiing trip", SKI_TRIP),
        ("ski weekend", SKI_TRIP),  # half of it fits, and nothing else does
        ("book club", BOOK_CLUB),  # the same name twice: the next one is meant
        ("the book club", BOOK_CLUB),
        ("board games", BOARD_GAMES),
        ("game night", BOARD_GAMES),
        ("melvin's birthday", BIRTHDAY),
        ("melvins birthday", BIRTHDAY),
        ("the birthday and bbq", BIRTHDAY),
        ("bbq", BIRTHDAY),
        ("cafe crawl", CAFE),
        ("five k", FUN_RUN),
        ("the fun run", FUN_RUN),
        ("launch party", PARTY),
        ("kayaking", KAYAK),
        ("kayak", KAYAK),
        ("the lake", KAYAK),
        ("kyaking", KAYAK),  # a speech-recognition slip
    ],
)
def test_a_loosely_spoken_name_finds_its_event(spoken, expected):
    assert match_event(spoken, CALENDAR) == Match(event=expected)


@pytest.mark.parametrize("spoken", [None, "", "  ", "the event", "the next event", "our upcoming event"])
def test_no_name_means_the_next_upcoming_event(spoken):
    assert match_event(spoken, CALENDAR) == Match(event=CALENDAR[0])


@pytest.mark.parametrize("spoken", ["pottery class", "dentist", "xylophone"])
def test_a_name_that_fits_nothing_finds_nothing(spoken):
    assert match_event(spoken, CALENDAR) == Match()


@pytest.mark.parametrize("spoken", [None, "ski"])
def test_an_empty_calendar_finds_nothing(spoken):
    assert match_event(spoken, []) == Match()


SKI_LESSONS = event("Ski lessons", 5)
SKI_TRIP_PLANNING = event("Ski trip planning meeting", 2)


@pytest.mark.parametrize(
    ("spoken", "calendar", "expected"),
    [
        ("ski", [SKI_TRIP, SKI_LESSONS], Match(choices=(SKI_TRIP, SKI_LESSONS))),
        ("skiing", [SKI_TRIP, SKI_LESSONS], Match(choices=(SKI_TRIP, SKI_LESSONS))),
        ("ski trip", [SKI_TRIP, SKI_LESSONS], Match(event=SKI_TRIP)),
        ("the ski lesson", [SKI_TRIP, SKI_LESSONS], Match(event=SKI_LESSONS)),
        # Every word of "Ski trip" was said: that one, not the planning meeting.
        ("the ski trip", [SKI_TRIP_PLANNING, SKI_TRIP], Match(event=SKI_TRIP)),
        ("ski trip planning", [SKI_TRIP_PLANNING, SKI_TRIP], Match(event=SKI_TRIP_PLANNING)),
        ("planning", [SKI_TRIP_PLANNING, SKI_TRIP], Match(event=SKI_TRIP_PLANNING)),
    ],
)
def test_when_two_fit_equally_the_skill_must_ask(spoken, calendar, expected):
    assert match_event(spoken, calendar) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("The Skiing Trip!", ["ski", "trip"]),
        ("Melvin's 40th Birthday & BBQ", ["melvin", "40", "th", "birthday", "bbq"]),
        ("Café Crawl", ["caf", "crawl"]),
        ("5k run", ["5", "k", "run"]),
        ("five K running", ["5", "k", "run"]),
        ("parties", ["party"]),
        ("🎉🎉", []),
    ],
)
def test_words_are_the_stems_both_sides_are_compared_by(text, expected):
    assert words(text) == expected


WORD = st.text(alphabet="abcdefghiklmnoprstu", min_size=1, max_size=7)
NAME = st.lists(WORD, min_size=1, max_size=3).map(" ".join)


@settings(max_examples=300, deadline=None)
@given(names=st.lists(NAME, min_size=1, max_size=6), pick=st.integers(min_value=0))
def test_saying_an_events_own_name_always_finds_it(names, pick):
    # Names made of the same words ("game night", "night game") are honestly ambiguous.
    distinct = {}
    for name in names:
        key = frozenset(words(name))
        if key and key not in distinct:
            distinct[key] = name
    calendar = [event(name, days) for days, name in enumerate(distinct.values())]
    if not calendar:
        return
    wanted = calendar[pick % len(calendar)]
    assert match_event(wanted.name, calendar) == Match(event=wanted)


@settings(max_examples=300, deadline=None)
@given(spoken=st.one_of(st.none(), st.text(max_size=40)), names=st.lists(st.text(max_size=30), max_size=5))
def test_any_speech_gives_one_event_a_real_choice_or_nothing(spoken, names):
    calendar = [event(name, days) for days, name in enumerate(names)]
    found = match_event(spoken, calendar)
    if found.event is not None:
        assert found.choices == () and found.event in calendar
    elif found.choices:
        assert len(found.choices) >= 2 and all(choice in calendar for choice in found.choices)


def words_as_first_written(text: str) -> list[str]:
    """words() without its shortcut for ASCII and without its cache: what both must agree with."""
    folded = unicodedata.normalize("NFKD", text.casefold())
    folded = "".join(ch for ch in folded if not unicodedata.combining(ch))
    folded = folded.replace("&", " and ").replace("'", "").replace("\u2019", "")
    folded = re.sub(r"(?<=\d)(?=[a-z])|(?<=[a-z])(?=\d)", " ", folded)
    return [_stem(NUMBER_WORDS.get(token, token)) for token in re.findall(r"[a-z0-9]+", folded) if token not in FILLER]


@settings(max_examples=1000, deadline=None)
@given(text=st.text(alphabet=st.one_of(st.characters(max_codepoint=127), st.characters()), max_size=40))
def test_words_agree_with_the_rule_as_first_written_on_any_text(text):
    assert words(text) == words_as_first_written(text)


def test_words_hands_out_a_list_of_its_own():
    first = words("The Skiing Trip")
    first.append("changed")
    assert words("The Skiing Trip") == ["ski", "trip"]


@st.composite
def near_words(draw) -> tuple[str, str]:
    """A word and a slip of it (a letter or two added, dropped or changed), as speech recognition makes them."""
    letters = "abcdeiklnorstuy"
    word = draw(st.text(alphabet=letters, min_size=4, max_size=12))
    slip = list(word)
    for _ in range(draw(st.integers(0, 3))):
        at = draw(st.integers(0, len(slip)))
        how = draw(st.sampled_from(["add", "drop", "change"]))
        if how == "add":
            slip.insert(at, draw(st.sampled_from(letters)))
        elif slip and at < len(slip):
            if how == "drop":
                del slip[at]
            else:
                slip[at] = draw(st.sampled_from(letters))
    return word, "".join(slip)


@settings(max_examples=1000, deadline=None)
@given(pair=near_words())
def test_similar_words_are_those_sequencematcher_finds_similar(pair):
    a, b = pair
    assume(len(b) >= 4)  # _fit asks only about words of four letters or more
    assert _similar(a, b) == (SequenceMatcher(None, a, b).ratio() >= CLOSE_RATIO)
