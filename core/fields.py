"""Core: what an organizer gives an event, declared once: each field's kind, limits, whether it is required, whether
it may change once the event is made, whether a series gives it to every occurrence, and the words the page's form
uses. The services check the text fields by their declaration (texts, below) and the other kinds by their rules in
core.validation; the stores copy the text fields as they are; the API builds its bodies, its answers and its OpenAPI
document from this table, and serves it to the page, which builds its form from it. Below it, what a person gives
about a signup, about themself and when binding a button.

Adding a field is a line here plus its typed slots, core.values.Event's attribute and core.table.EventItem's
(tests/unit/test_fields.py names a missing one; docs/ARCHITECTURE.md, "An event's fields")."""

from collections.abc import Collection, Mapping
from typing import Any, NamedTuple

from core import validation
from core.errors import InvalidInput
from core.validation import DESCRIPTION_MAX, LOCATION_MAX, NAME_MAX, PERSON_NAME_MAX


# A NamedTuple, not a dataclass, like core.values: built at import by every function's cold start.
class Field(NamedTuple):
    """One field of a request's body. `kind` names its rule (core.validation.given, api.request) and its schema
    (api.openapi)."""

    kind: str
    required: bool = False  # must be given
    nullable: bool = True  # null accepted (it clears an optional value)
    max_length: int = 0  # text only
    multiline: bool = False  # text only
    label: str = ""  # an event's field: what the page's form calls it; "": not on the form
    hint: str = ""  # the page's line of help under it
    changeable: bool = True  # False: fixed once the event is made
    repeats: bool = True  # a series gives it to every occurrence (core/services/series.py)


EVENT: dict[str, Field] = {
    "name": Field("text", required=True, nullable=False, max_length=NAME_MAX, label="Name"),
    "starts_at": Field("time", required=True, nullable=False, label="Starts", hint="wall time in the event's zone"),
    "ends_at": Field("time", label="Ends (optional)"),
    "timezone": Field("timezone", nullable=False, label="Time zone", hint="type to search, e.g. Oslo or New_York"),
    "signups_close_at": Field("time", label="Sign-ups close (optional)", repeats=False,
                              hint="wall time in the event's zone; empty: at the start"),
    "location": Field("text", max_length=LOCATION_MAX, label="Place (optional)"),
    "description": Field("text", max_length=DESCRIPTION_MAX, multiline=True, label="Description (optional)"),
    "capacity": Field("capacity", label="Capacity (optional)",
                      hint="places, one per person including guests; empty is no limit"),
    "reminders": Field("reminders"),
    "seat_blocks": Field("seat_blocks", changeable=False, repeats=False),
}
# What a person gives when signing up (PUT /events/{id}/signups/{person}; by voice and button, the same without a
# body), about themself (PUT /people/{person}), and when binding a button (PUT /devices/{serial}).
SIGNUP: dict[str, Field] = {
    "name": Field("text", max_length=PERSON_NAME_MAX),
    "guests": Field("guests", nullable=False),
    "waitlist": Field("flag", nullable=False),
}
PERSON: dict[str, Field] = {
    "name": Field("text", max_length=PERSON_NAME_MAX),
    "email": Field("email"),
    "phone": Field("phone"),
    "reminders": Field("flag"),
}
BUTTON: dict[str, Field] = {
    "person": Field("handle", required=True, nullable=False),
    "event_id": Field("event_id"),
    "series_id": Field("series_id"),
}
# Stored, copied and answered as given: nothing in core reads a text field but to tell it.
TEXT: tuple[str, ...] = tuple(name for name, field in EVENT.items() if field.kind == "text")
CHANGEABLE: frozenset[str] = frozenset(name for name, field in EVENT.items() if field.changeable)
REPEATS: tuple[str, ...] = tuple(name for name, field in EVENT.items() if field.repeats)  # what a new series takes
# What a series gives every occurrence as it is; its start, end and zone are its rule's (a change of "this and
# later" gives a wall-clock time and a length instead).
SERIES_SHARED: tuple[str, ...] = tuple(name for name in REPEATS if name not in ("starts_at", "ends_at", "timezone"))


def unknown(given: Mapping[str, object], accepted: Collection[str]) -> None:
    """Refuses a field the body does not take, naming it: a misspelt `locaton` silently dropped would lose it."""
    for name in given:
        if name not in accepted:
            raise InvalidInput(f"Unknown field {name!r}.", name)


def texts(given: Mapping[str, object], *, new: bool = False) -> dict[str, Any]:
    """The text fields of `given`, each checked by its declaration (core.validation.text): trimmed, limited; a
    required one is text, an optional one left empty None (typed Any: which is which is the declaration's). new:
    every text field of a new event or series, one not given being None (so a required one is refused); else only
    those given, as a change gives them."""
    return {name: validation.text(given.get(name), name, max_length=EVENT[name].max_length,
                                  required=not EVENT[name].nullable, multiline=EVENT[name].multiline)
            for name in TEXT if new or name in given}


def texts_of(value: object) -> dict:
    """The text fields an event, a series or their items hold, by name: what is copied from one to another."""
    return {name: getattr(value, name) for name in TEXT}
