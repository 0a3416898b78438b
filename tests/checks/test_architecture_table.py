"""docs/ARCHITECTURE.md's item table is the table core/keys.py builds: each row's keys, written out, are the keys
built."""
from __future__ import annotations

import hashlib
from datetime import datetime, timezone
from pathlib import Path

from core import keys

TABLE_DOC = Path(__file__).resolve().parents[2] / "docs" / "ARCHITECTURE.md"
WHEN = datetime(2026, 12, 4, 18, 0, 0, 123456, tzinfo=timezone.utc)
# What each placeholder of the table stands for in this test.
SAMPLES = {
    "<id>": "ski", "<person>": "melvin", "<serial>": "G030JF055364XVRB", "<code>": "482913",
    "<Alexa user id>": "amzn1.ask.account.MELVIN", "<start UTC>": keys.utc(WHEN),
    "<when it got its seat>": keys.utc(WHEN), "<when the request arrived>": keys.utc(WHEN),
    "<when it changed>": keys.utc(WHEN), "<what>": "moved", "<secret>": "w5zt-JAiI5V59kZCCljbI_B1W9d6Xfq_",
    "<series id>": "club", "<next due UTC>": keys.utc(WHEN),
    "<code hash>": hashlib.sha256(b"turnout pairing code 482913").hexdigest(),
}
# item -> (pk, sk), by_status sort key, by_start (partition, sort key), as keys.py builds them
BUILT = {
    "event": (keys.event("ski"), keys.EVENT_ORDER, (keys.EVENTS_PARTITION, keys.event_start_order(WHEN, "ski"))),
    "signup, going": (keys.signup("ski", "melvin"), keys.going_order(WHEN, "melvin"), None),
    "signup, waitlisted": (keys.signup("ski", "melvin"), keys.waitlist_order(WHEN, "melvin"), None),
    "button": (keys.device("G030JF055364XVRB"), None, None),
    "pairing code (keyed by a hash: the table holds no code)": (keys.pairing_code("482913"), None, None),
    "Alexa link": (keys.alexa_link("amzn1.ask.account.MELVIN"), None, None),
    "wrong-code counter": (keys.pairing_misses("amzn1.ask.account.MELVIN"), None, None),
    "a request's stored outcome, with what it asked": (keys.request("r-1"), None, None),
    "person": (keys.person("melvin"), None, None),
    "a person's button, for notices": (keys.button_of_person("melvin", "G030JF055364XVRB"), None, None),
    "a button bound to one event, so deleting it re-points the button":
        (keys.button_of_event("ski", "G030JF055364XVRB"), None, None),
    "notice": (keys.notice("melvin", keys.utc(WHEN), "moved", "ski"), None, None),
    "an organizer's change, for the stream": (keys.change("ski", keys.utc(WHEN), "moved"), None, None),
    "a calendar feed, by its secret": (keys.feed("w5zt-JAiI5V59kZCCljbI_B1W9d6Xfq_"), None, None),
    "a person's calendar feed now": (keys.feed_of("melvin"), None, None),
    "the group's calendar feed now": (keys.feed_of(None), None, None),
    "a deleted event, for feeds (two weeks)": (keys.tombstone("ski"), None,
                                               (keys.EVENTS_PARTITION, keys.event_start_order(WHEN, "ski"))),
    "a series (in by_start while it makes occurrences)": (
        keys.series("club"), None, (keys.SERIES_DUE_PARTITION, keys.series_due_order(WHEN, "club"))),
}


def _rows() -> dict[str, list[str]]:
    section = TABLE_DOC.read_text().split("## The table", 1)[1].splitlines()
    start = next(n for n, line in enumerate(section) if line.startswith("|"))
    end = next(n for n in range(start, len(section)) if not section[n].startswith("|"))
    header, _, *body = section[start:end]
    assert [cell.strip() for cell in header.strip("|").split("|")] == [
        "item",
        "pk",
        "sk",
        "by_status sort key",
        "by_start",
    ]
    return {cells[0]: cells[1:] for cells in ([c.strip() for c in row.strip("|").split("|")] for row in body)}


def _written(cell: str, request_id: str = "r-1") -> str | None:
    """The cell's key with its placeholders filled in; None for an empty cell."""
    if not cell:
        return None
    text = cell.replace("`", "")
    for placeholder, value in {**SAMPLES, "<id>": request_id if text.startswith("REQUEST#") else "ski"}.items():
        text = text.replace(placeholder, value)
    assert "<" not in text, f"a placeholder this test does not know: {cell}"
    return text


def test_every_item_of_the_readme_is_keyed_as_keys_py_builds_it():
    rows = _rows()
    assert set(rows) == set(BUILT)
    for item, (pk_sk, by_status, by_start) in BUILT.items():
        pk, sk, status_key, start = rows[item]
        assert (_written(pk), _written(sk)) == pk_sk, item
        assert _written(status_key) == by_status, item
        assert (tuple(_written(start).split(" / ")) if start else None) == by_start, item
