"""API input checks: every body field, path and query parameter and body encoding is refused with a 400 naming it."""
from __future__ import annotations

import base64
import json

import pytest

from api.request import BODY_LIMIT
from core import services, validation
from tests.support.api import call, gateway_event, invoke

# The handler reads core's clock itself; GOOD_EVENT's start is a written-out date.
pytestmark = pytest.mark.usefixtures("pinned_clock")
GOOD_EVENT = {"name": "Ski trip", "starts_at": "2030-12-06T07:00:00", "timezone": "Europe/Oslo"}


def refused(answer, field: str | None, code: str = "InvalidInput") -> None:
    assert answer.status == 400, answer.text
    assert answer.error["code"] == code
    assert answer.error.get("field") == field
    assert answer.error["message"]


@pytest.fixture
def event_id(table) -> str:
    answer = call("POST", "/events", GOOD_EVENT)
    assert answer.status == 201
    return answer.json["event_id"]


@pytest.fixture
def edge_only(monkeypatch):
    """The edge itself must refuse these: any service call turns the expected 400 into a 500."""
    def reached(*args, **kwargs):
        raise AssertionError("a service was called with input the edge should have refused")
    for name in services.__all__:
        if callable(getattr(services, name)):
            monkeypatch.setattr(services, name, reached)


# --- POST /events -------------------------------------------------------------------------------


@pytest.mark.parametrize("changes, field", [
    ({"name": None}, "name"),
    ({"name": ""}, "name"),
    ({"name": "   "}, "name"),
    ({"name": 7}, "name"),
    ({"name": ["Ski"]}, "name"),
    ({"name": "x" * (validation.NAME_MAX + 1)}, "name"),
    ({"name": "bell\x07"}, "name"),
    ({"starts_at": "next friday"}, "starts_at"),
    ({"starts_at": 1764835200}, "starts_at"),
    ({"starts_at": "2030-12-06T07:00:00" + "0" * 30}, "starts_at"),
    ({"starts_at": None}, "starts_at"),
    ({"ends_at": "soon"}, "ends_at"),
    ({"timezone": "Mars/Olympus"}, "timezone"),
    ({"timezone": "../etc/passwd"}, "timezone"),
    ({"timezone": None}, "timezone"),
    ({"timezone": 1}, "timezone"),
    ({"location": "x" * (validation.LOCATION_MAX + 1)}, "location"),
    ({"location": "tab\there"}, "location"),
    ({"description": "x" * (validation.DESCRIPTION_MAX + 1)}, "description"),
    ({"description": "nul\x00"}, "description"),
    ({"capacity": 0}, "capacity"),
    ({"capacity": -1}, "capacity"),
    ({"capacity": validation.CAPACITY_MAX + 1}, "capacity"),
    ({"capacity": 1.5}, "capacity"),
    ({"capacity": "10"}, "capacity"),
    ({"capacity": True}, "capacity"),
    ({"colour": "red"}, "colour"),
])
def test_create_event_refuses_each_bad_field(edge_only, changes, field):
    refused(call("POST", "/events", GOOD_EVENT | changes), field)


@pytest.mark.parametrize("ends_at", ["2030-12-06T06:00:00", "2030-12-25T06:00:00"])
def test_create_event_refuses_an_end_before_the_start_or_weeks_later(table, ends_at):
    refused(call("POST", "/events", GOOD_EVENT | {"ends_at": ends_at}), "ends_at")


@pytest.mark.parametrize("missing", ["name", "starts_at"])
def test_create_event_requires_name_and_start(edge_only, missing):
    body = {key: value for key, value in GOOD_EVENT.items() if key != missing}
    refused(call("POST", "/events", body), missing)


@pytest.mark.parametrize("changes", [
    {"name": "x" * validation.NAME_MAX},
    {"location": "x" * validation.LOCATION_MAX},
    {"description": "line one\nline two\ttabbed"},
    {"capacity": validation.CAPACITY_MAX},
    {"capacity": 1},
    {"capacity": None},
    {"starts_at": "2030-12-06T07:00:00+01:00", "ends_at": "2030-12-07T07:00:00Z"},
    {"timezone": "America/Argentina/Buenos_Aires"},
])
def test_create_event_accepts_values_at_the_limits(table, changes):
    assert call("POST", "/events", GOOD_EVENT | changes).status == 201


def test_create_event_trims_and_normalises_text(table):
    answer = call("POST", "/events", GOOD_EVENT | {"name": "  Cafe\u0301  "})
    assert answer.json["name"] == "Caf\u00e9"


# --- PATCH /events/{event_id} -------------------------------------------------------------------


@pytest.mark.parametrize("body, field", [
    ({}, None),
    ({"name": None}, "name"),
    ({"starts_at": None}, "starts_at"),
    ({"timezone": None}, "timezone"),
    ({"capacity": 0}, "capacity"),
    ({"event_id": "abc"}, "event_id"),
    ({"going": 3}, "going"),
])
def test_patch_refuses_bad_changes(edge_only, body, field):
    refused(call("PATCH", "/events/abc123", body), field)


# --- PUT /events/{event_id}/signups/{person} ---------------------------------------------------


@pytest.mark.parametrize("body, field", [
    ({"guests": -1}, "guests"),
    ({"guests": validation.GUESTS_MAX + 1}, "guests"),
    ({"guests": "2"}, "guests"),
    ({"guests": None}, "guests"),
    ({"guests": 1.0}, "guests"),
    ({"name": "x" * (validation.PERSON_NAME_MAX + 1)}, "name"),
    ({"name": 5}, "name"),
    ({"waitlist": "no"}, "waitlist"),
    ({"waitlist": 0}, "waitlist"),
    ({"waitlist": None}, "waitlist"),
    ({"source": "iot"}, "source"),
    ({"person": "mona"}, "person"),
])
def test_sign_up_refuses_each_bad_field(edge_only, body, field):
    refused(call("PUT", "/events/abc123/signups/melvin", body), field)


def test_sign_up_accepts_the_most_guests(event_id):
    answer = call("PUT", f"/events/{event_id}/signups/melvin", {"guests": validation.GUESTS_MAX})
    assert answer.status == 201 and answer.json["guests"] == validation.GUESTS_MAX


# --- PUT /devices/{serial} ----------------------------------------------------------------------


@pytest.mark.parametrize("body, field", [
    ({}, "person"),
    ({"person": None}, "person"),
    ({"person": "Melvin"}, "person"),
    ({"person": "-melvin"}, "person"),
    ({"person": "melvin", "event_id": "Not-An-Id"}, "event_id"),
    ({"person": "melvin", "event_id": 12}, "event_id"),
    ({"person": "melvin", "click": "LONG"}, "click"),
])
def test_bind_device_refuses_each_bad_field(edge_only, body, field):
    refused(call("PUT", "/devices/button-1", body), field)


# --- path parameters ----------------------------------------------------------------------------


@pytest.mark.parametrize("method, target, field", [
    ("GET", "/events/ABC", "event_id"),
    ("GET", "/events/" + "a" * 33, "event_id"),
    ("GET", "/events/abc%20123", "event_id"),
    ("GET", "/events/abc123/signups/Melvin", "person"),
    ("GET", "/events/abc123/signups/-melvin", "person"),
    ("GET", "/events/abc123/signups/melvin-", "person"),
    ("GET", "/events/abc123/signups/" + "m" * 41, "person"),
    ("GET", "/events/abc123/signups/mel%C3%B8vin", "person"),
    ("POST", "/people/Melvin/alexa-code", "person"),
    ("GET", "/devices/bad%20serial", "serial"),
    ("GET", "/devices/" + "s" * 65, "serial"),
])
def test_path_parameters_are_checked(edge_only, method, target, field):
    refused(call(method, target), field)


def test_the_longest_handle_is_accepted(event_id):
    handle = "m" * 40
    assert call("PUT", f"/events/{event_id}/signups/{handle}").status == 201


# --- query parameters ---------------------------------------------------------------------------


@pytest.mark.parametrize("query, field", [
    ("limit=0", "limit"),
    ("limit=101", "limit"),
    ("limit=ten", "limit"),
    ("limit=-1", "limit"),
    ("limit=1&limit=2", "limit"),
    ("status=maybe", "status"),
    ("limt=5", "limt"),
])
def test_signup_list_query_is_checked(edge_only, query, field):
    refused(call("GET", f"/events/abc123/signups?{query}"), field)


def test_event_list_refuses_a_status_it_does_not_take(edge_only):
    refused(call("GET", "/events?status=going"), "status")


def test_routes_without_query_parameters_refuse_them(edge_only):
    refused(call("GET", "/events/abc123?verbose=1"), "verbose")


@pytest.mark.parametrize("cursor", [
    "garbage!!",
    "eyJub3QiOiAiYSBjdXJzb3IifQ",  # base64 of a JSON object that is no cursor
    base64.urlsafe_b64encode(json.dumps({"v": 1, "scope": "events", "after": 5}).encode()).decode(),
    "A" * 5000,
    "%FF%FE",
])
def test_a_forged_or_garbled_cursor_is_400_not_500(event_id, cursor):
    refused(call("GET", f"/events?cursor={cursor}"), "cursor", "InvalidCursor")
    refused(call("GET", f"/events/{event_id}/signups?cursor={cursor}"), "cursor", "InvalidCursor")


def test_a_cursor_from_another_list_is_refused(event_id, table):
    for name in ("a", "b"):
        call("POST", "/events", GOOD_EVENT | {"name": name})
    events_cursor = call("GET", "/events?limit=1").json["next_cursor"]
    assert events_cursor
    refused(call("GET", f"/events/{event_id}/signups?cursor={events_cursor}"), "cursor", "InvalidCursor")


def test_an_empty_cursor_is_the_first_page(event_id):
    assert call("GET", "/events?cursor=").status == 200


# --- bodies -------------------------------------------------------------------------------------


@pytest.mark.parametrize("raw", [
    "",
    "not json",
    "[1, 2]",
    '"a string"',
    "null",
    '{"name": "Ski", }',
    '{"capacity": NaN}',
    '{"capacity": Infinity}',
    '{"name": "a", "name": "b"}',
    '{"name": ' + "[" * 5000 + "]" * 5000 + "}",
])
def test_bad_json_is_invalid_json(edge_only, raw):
    answer = call("POST", "/events", raw)
    refused(answer, None, "InvalidJson")


def test_a_missing_body_is_invalid_json(edge_only):
    refused(call("POST", "/events"), None, "InvalidJson")


def test_base64_bodies_are_decoded(table):
    answer = call("POST", "/events", GOOD_EVENT, base64_body=True)
    assert answer.status == 201 and answer.json["name"] == "Ski trip"


def test_a_body_that_is_not_utf8_is_invalid_json(edge_only):
    refused(call("POST", "/events", '{"name": "caf\xe9"}'.encode("latin-1")), None, "InvalidJson")


def test_a_body_marked_base64_that_does_not_decode_is_invalid_json(edge_only):
    event = gateway_event("POST", "/events", GOOD_EVENT)
    event["isBase64Encoded"] = True
    refused(invoke(event), None, "InvalidJson")


def padded(size: int) -> str:
    text = json.dumps(GOOD_EVENT)
    return text[:-1] + " " * (size - len(text)) + "}"


def test_a_body_at_the_limit_is_read(table):
    assert call("POST", "/events", padded(BODY_LIMIT)).status == 201


@pytest.mark.parametrize("base64_body", [False, True])
def test_a_body_over_the_limit_is_413(edge_only, base64_body):
    answer = call("POST", "/events", padded(BODY_LIMIT + 1), base64_body=base64_body)
    assert (answer.status, answer.error["code"]) == (413, "PayloadTooLarge")


def test_the_limit_counts_bytes_not_characters(edge_only):
    body = padded(BODY_LIMIT - 10)
    body = body[:-1] + "ø" * 6 + "}"  # 6 more characters, 12 more bytes
    assert len(body) < BODY_LIMIT < len(body.encode())
    assert call("POST", "/events", body).error["code"] == "PayloadTooLarge"


def test_content_type_is_not_required_to_be_json(table):
    # `curl -d` says application/x-www-form-urlencoded; the body is still read as JSON.
    answer = call("POST", "/events", GOOD_EVENT, headers={"content-type": "application/x-www-form-urlencoded"})
    assert answer.status == 201


# --- every text field, every body route, capacity changes, page sizes ----------------------------

# (route, field, limit): each free-text field the API takes, wherever it takes it.
TEXT_FIELDS = [
    ("POST /events", "name", validation.NAME_MAX),
    ("POST /events", "location", validation.LOCATION_MAX),
    ("POST /events", "description", validation.DESCRIPTION_MAX),
    ("PATCH /events", "name", validation.NAME_MAX),
    ("PATCH /events", "location", validation.LOCATION_MAX),
    ("PATCH /events", "description", validation.DESCRIPTION_MAX),
    ("PUT /signups", "name", validation.PERSON_NAME_MAX),
]
_people = iter(f"person-{n}" for n in range(10**6))


def send_text(route: str, field: str, value: str, event_id: str):
    if route == "POST /events":
        return call("POST", "/events", GOOD_EVENT | {field: value})
    if route == "PATCH /events":
        return call("PATCH", f"/events/{event_id}", {field: value})
    return call("PUT", f"/events/{event_id}/signups/{next(_people)}", {field: value})


@pytest.mark.parametrize("route, field, limit", TEXT_FIELDS)
def test_every_text_field_is_kept_nfc_normalised_and_trimmed(event_id, route, field, limit):
    # "e" + combining acute, and the angstrom sign, become the single characters NFC composes them into.
    answer = send_text(route, field, "  Cafe\u0301 \u212b  ", event_id)
    assert answer.status in (200, 201), answer.text
    assert answer.json[field] == "Caf\u00e9 \u00c5"


@pytest.mark.parametrize("route, field, limit", TEXT_FIELDS)
def test_every_text_field_counts_its_limit_after_normalising_and_trimming(event_id, route, field, limit):
    decomposed = "e\u0301" * limit  # twice the limit in code points, the limit in characters once composed
    answer = send_text(route, field, f"  {decomposed}\n ", event_id)
    assert answer.status in (200, 201), answer.text
    assert answer.json[field] == "\u00e9" * limit
    refused(send_text(route, field, decomposed + "e\u0301", event_id), field)


CONTROLS = ["\x00", "\x07", "\x1b", "\r", "\x7f", "\x85", "\x9b", "\ud800"]


@pytest.mark.parametrize("route, field, control", [
    (route, field, control) for route, field, _ in TEXT_FIELDS for control in CONTROLS
    if not (field == "description" and control == "\r")  # a description's line endings are kept, as newlines
])
def test_every_text_field_refuses_control_characters_and_lone_surrogates(event_id, route, field, control):
    # \x85 and \x9b are C1 controls; \ud800 is half a surrogate pair, which JSON's \u escape can carry and
    # no UTF-8 text can hold. Only the description's line endings and tab are let through.
    refused(send_text(route, field, f"Ski{control}trip", event_id), field)


@pytest.mark.parametrize("route", ["POST /events", "PATCH /events"])
def test_a_description_keeps_its_lines_whatever_their_endings(event_id, route):
    answer = send_text(route, "description", "Bring skis\r\nand lunch\rand socks\n", event_id)
    assert answer.status in (200, 201), answer.text
    assert answer.json["description"] == "Bring skis\nand lunch\nand socks"


@pytest.mark.parametrize("method, target", [
    ("POST", "/events"), ("PATCH", "/events/abc123"), ("PUT", "/events/abc123/signups/melvin"),
    ("PUT", "/devices/button-1"),
])
def test_every_body_over_the_limit_is_413_before_anything_else(edge_only, method, target):
    answer = call(method, target, padded(BODY_LIMIT + 1))
    assert (answer.status, answer.error["code"]) == (413, "PayloadTooLarge")


@pytest.mark.parametrize("capacity", [validation.CAPACITY_MAX + 1, 2.5, True, "3"])
def test_patch_refuses_a_capacity_out_of_bounds(edge_only, capacity):
    refused(call("PATCH", "/events/abc123", {"capacity": capacity}), "capacity")


def test_patch_cannot_take_capacity_below_the_places_taken(event_id):
    for person in ("melvin", "mona"):
        assert call("PUT", f"/events/{event_id}/signups/{person}", {"guests": 1}).status == 201
    answer = call("PATCH", f"/events/{event_id}", {"capacity": 3})
    assert (answer.status, answer.error["code"]) == (409, "CapacityBelowTaken")
    assert call("PATCH", f"/events/{event_id}", {"capacity": 4}).json["capacity"] == 4


def test_page_sizes_from_one_to_the_most(table):
    for n in range(validation.PAGE_MAX + 1):
        services.create_event(name=f"Event {n}", starts_at=f"2030-12-06T07:{n // 60:02}:{n % 60:02}",
                              timezone="Europe/Oslo")
    default = call("GET", "/events")
    assert len(default.json["events"]) == services.EVENTS_PAGE and default.json["next_cursor"]
    assert len(call("GET", "/events?limit=1").json["events"]) == 1
    most = call("GET", f"/events?limit={validation.PAGE_MAX}")
    assert len(most.json["events"]) == validation.PAGE_MAX
    rest = call("GET", f"/events?limit={validation.PAGE_MAX}&cursor={most.json['next_cursor']}")
    assert (len(rest.json["events"]), rest.json["next_cursor"]) == (1, None)


@pytest.mark.parametrize("digits", ["%C2%B2", "1%E2%81%B0", "%D9%A3", "%EF%BC%95"])  # ², 1⁰, ٣, ５
def test_a_limit_in_digits_other_than_ascii_is_refused(table, digits):
    refused(call("GET", f"/events?limit={digits}"), "limit")
