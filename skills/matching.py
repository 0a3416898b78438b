"""Skill, between the slot and the core: which upcoming event a loosely spoken name means. Pure, no I/O."""
from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from difflib import SequenceMatcher
from functools import lru_cache
from typing import NamedTuple

from core.values import Event

# Words people wrap around an event's name ("the ski trip", "our book club") or that
# `&` and "and" produce; dropped from both sides so they neither help nor hurt a match.
FILLER = frozenset(
    "a an the our my this that next upcoming event and to for of on at in".split()
)

# Speech recognition writes small numbers either way ("book club three", "book club 3").
NUMBER_WORDS = {
    word: str(value)
    for value, word in enumerate(
        "zero one two three four five six seven eight nine ten eleven twelve".split()
    )
}

# A spoken word that only partly fits a name word ("ski" in "skiathlon", "kyaking" for
# "kayaking") counts for less than an exact one, so an exact fit elsewhere wins.
EXACT, CLOSE = 1.0, 0.8
CLOSE_RATIO = 0.8
# At least half of what was said must fit, or the name is not the one meant.
ENOUGH = 0.5

_LETTER_DIGIT = re.compile(r"(?<=\d)(?=[a-z])|(?<=[a-z])(?=\d)")
_TOKEN = re.compile(r"[a-z0-9]+")


class Match(NamedTuple):
    """Exactly one of: `event` (the one meant), `choices` (two or more fit equally: ask), or neither."""

    event: Event | None = None
    choices: tuple[Event, ...] = ()


def match_event(spoken: str | None, events: Sequence[Event]) -> Match:
    """`events` are the upcoming ones, soonest first. No name (or only filler) means the next one."""
    said = _words(spoken or "")
    if not said:
        return Match(event=events[0]) if events else Match()

    scored = []
    for event in events:
        named = _words(event.name)
        if not named:
            continue
        cover, named_cover = _covers(said, named)
        if cover >= ENOUGH:
            scored.append((cover, named_cover, event))
    if not scored:
        return Match()

    best = max([cover for cover, _, _ in scored])
    top = [(named_cover, event) for cover, named_cover, event in scored if cover == best]
    if len(top) == 1:
        return Match(event=top[0][1])
    # "ski trip" against "Ski trip" and "Ski trip planning": the event whose every
    # word was said is the one meant.
    whole = [event for named_cover, event in top if named_cover == EXACT]
    if len(whole) == 1:
        return Match(event=whole[0])
    if len({_words(event.name) for _, event in top}) == 1:
        # The same name on several dates (a weekly book club): people mean the next one.
        return Match(event=top[0][1])
    return Match(choices=tuple(event for _, event in top))


# The same questions meet the same names request after request; both sides are tuples of stems.
@lru_cache(maxsize=4096)
def _covers(said: tuple[str, ...], named: tuple[str, ...]) -> tuple[float, float]:
    """How much of what was said fits the name, and how much of the name was said."""
    cover = sum(max(_fit(s, n) for n in named) for s in said) / len(said)
    named_cover = sum(max(_fit(n, s) for s in said) for n in named) / len(named)
    return cover, named_cover


def words(text: str) -> list[str]:
    """Lowercase, accent-free word stems without filler: "The Skiing Trip!" -> ["ski", "trip"]."""
    return list(_words(text))


# Upcoming events' names come back request after request, each matched against every question asked.
@lru_cache(maxsize=1024)
def _words(text: str) -> tuple[str, ...]:
    folded = text.casefold()
    if not folded.isascii():
        # ASCII is its own NFKD form, without combining marks.
        folded = unicodedata.normalize("NFKD", folded)
        folded = "".join(ch for ch in folded if not unicodedata.combining(ch))
    folded = folded.replace("&", " and ").replace("'", "").replace("\u2019", "")
    # "5k" and "5 k" are said the same way.
    folded = _LETTER_DIGIT.sub(" ", folded)
    return tuple(_stem(NUMBER_WORDS.get(token, token)) for token in _TOKEN.findall(folded) if token not in FILLER)


def _stem(word: str) -> str:
    """A deliberately small stemmer, applied to both sides, so "skiing", "ski" and "skis" meet."""
    if word.isdigit() or len(word) <= 3:
        return word
    if word.endswith("ing") and len(word) > 5:
        word = word[:-3]
        if len(word) > 3 and word[-1] == word[-2] and word[-1] not in "aeiouls":
            word = word[:-1]  # running -> run, but skiing -> ski and rolling -> roll
    elif word.endswith("ies") and len(word) > 4:
        word = word[:-3] + "y"
    elif word.endswith("s") and not word.endswith("ss"):
        word = word[:-1]
    if word.endswith("e") and len(word) > 3:
        word = word[:-1]  # hike / hiking, game / games
    return word


def _fit(spoken: str, named: str) -> float:
    if spoken == named:
        return EXACT
    if len(spoken) >= 3 and len(named) >= 3 and (named.startswith(spoken) or spoken.startswith(named)):
        return CLOSE
    if len(spoken) >= 4 and len(named) >= 4 and _similar(spoken, named):
        return CLOSE
    return 0.0


def _similar(a: str, b: str) -> bool:
    # Words of very different lengths cannot be similar enough (the ratio is at most 2*shorter/total), and
    # quick_ratio is another upper bound of ratio: both spare most pairs SequenceMatcher's full comparison.
    if 2.0 * min(len(a), len(b)) / (len(a) + len(b)) < CLOSE_RATIO:
        return False
    matcher = SequenceMatcher(None, a, b)
    return matcher.quick_ratio() >= CLOSE_RATIO and matcher.ratio() >= CLOSE_RATIO
