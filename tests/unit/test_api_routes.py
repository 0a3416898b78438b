"""API routes on moto in-process: every route's success path and each error family's status and shape."""
from __future__ import annotations

import logging
from datetime import datetime, timedelta, timezone

import pytest

from api import render
from api.handler import lambda_handler
from core import errors, services
from tests.support.api import call, fixture, gateway_event, invoke
from tests.support.clock import PINNED_AT

# The handler reads core's clock itself; the fixture's event and LATER are written-out dates.
pytestmark = pytest.mark.usefixtures("pinned_clock")
SOON = PINNED_AT + timedelta(hours=1)
LATER = "2030-12-06T07:00:00"


def new_event(**fields) -> dict:
    body = {"name": "Ski trip", "starts_at": LATER, "timezone": "Europe/Oslo"} | fields
    answer = call("POST", "/events", body)
    assert answer.status == 201, answer.text
    return answer.json


def lambda_answer(method: str, target: str) -> dict:
    """The raw answer, for errors no API route documents (they belong to the Alexa flow) that invoke() would refuse."""
    return lambda_handler(gateway_event(method, target), None)


def signed_up(event_id: str, person: str, body: object = None) -> dict:
    answer = call("PUT", f"/events/{event_id}/signups/{person}", body)
    assert answer.status == 201, answer.text
    return answer.json


# --- success paths ------------------------------------------------------------------------------


def test_health_answers_without_touching_the_table():
    answer = call("GET", "/health")
    assert (answer.status, answer.json) == (200, {"status": "ok"})


def test_create_event_from_the_fixture_answers_201_with_location(table):
    answer = invoke(fixture("post_event.json"))
    assert answer.status == 201
    event = answer.json
    assert answer.headers["location"] == f"/events/{event['event_id']}"
    assert event["starts_at"] == "2030-12-06T07:00:00+01:00"
    assert (event["timezone"], event["capacity"], event["spots_left"]) == ("Europe/Oslo", 12, 12)
    assert (event["going"], event["waitlisted"], event["ends_at"]) == (0, 0, None)
    assert datetime.fromisoformat(event["created_at"]).utcoffset() is not None


def test_create_event_keeps_every_optional_field(table):
    event = new_event(ends_at="2030-12-06T17:30:00+01:00", location="Hemsedal", description="Bus at 7.\nBring skis.",
                      capacity=None)
    assert event["ends_at"] == "2030-12-06T17:30:00+01:00"
    assert (event["location"], event["description"]) == ("Hemsedal", "Bus at 7.\nBring skis.")
    assert event["capacity"] is None and event["spots_left"] is None


def test_an_event_created_without_a_zone_keeps_its_start_offset_or_says_to_give_one(table):
    answer = call("POST", "/events", {"name": "Board games", "starts_at": "2030-12-06T19:00:00+01:00"})
    assert answer.status == 201, answer.text
    assert (answer.json["timezone"], answer.json["starts_at"]) == ("Etc/GMT-1", "2030-12-06T19:00:00+01:00")
    refused = call("POST", "/events", {"name": "Chai", "starts_at": "2030-12-06T19:00:00+05:30"})
    assert refused.status == 400
    assert (refused.json["error"]["code"], refused.json["error"]["field"]) == ("InvalidInput", "timezone")
    assert [event["name"] for event in call("GET", "/events").json["events"]] == ["Board games"]


def test_list_events_pages_soonest_first_with_a_cursor(table):
    for day in (3, 1, 2):
        new_event(name=f"Day {day}", starts_at=f"2030-12-0{day}T10:00:00")
    first = call("GET", "/events?limit=2")
    assert first.status == 200
    assert [event["name"] for event in first.json["events"]] == ["Day 1", "Day 2"]
    assert first.json["next_cursor"]
    second = call("GET", f"/events?limit=2&cursor={first.json['next_cursor']}")
    assert [event["name"] for event in second.json["events"]] == ["Day 3"]
    assert second.json["next_cursor"] is None


def test_list_events_from_the_fixture(table):
    new_event()
    answer = invoke(fixture("get_events.json"))
    assert answer.status == 200 and len(answer.json["events"]) == 1


def test_get_event_carries_counts(table):
    event = new_event(capacity=1)
    signed_up(event["event_id"], "melvin")
    signed_up(event["event_id"], "mona")
    answer = call("GET", f"/events/{event['event_id']}")
    assert answer.status == 200
    assert (answer.json["going"], answer.json["waitlisted"], answer.json["spots_left"]) == (1, 1, 0)


@pytest.mark.parametrize("capacity", [5, None])
def test_counts_tell_signups_from_seats_guests_included(table, capacity):
    event = new_event(capacity=capacity)
    signed_up(event["event_id"], "anna", {"guests": 2})
    signed_up(event["event_id"], "melvin")
    answer = call("GET", f"/events/{event['event_id']}").json
    assert (answer["going"], answer["seats_taken"], answer["spots_left"]) == (2, 4, 1 if capacity else None)
    page = call("GET", f"/events/{event['event_id']}/signups").json
    assert (page["going"], page["seats_taken"], page["waitlisted"]) == (2, 4, 0)
    listed = call("GET", "/events").json["events"][0]
    assert (listed["going"], listed["seats_taken"]) == (2, 4)


def test_patch_changes_only_what_is_given_and_null_clears(table):
    event = new_event(location="Hemsedal", capacity=10)
    answer = call("PATCH", f"/events/{event['event_id']}", {"name": "Ski weekend", "location": None, "capacity": None})
    assert answer.status == 200
    changed = answer.json
    assert (changed["name"], changed["location"], changed["capacity"]) == ("Ski weekend", None, None)
    assert changed["starts_at"] == event["starts_at"] and changed["timezone"] == "Europe/Oslo"


def test_patch_raising_capacity_promotes_from_the_waitlist(table):
    event = new_event(capacity=1)
    signed_up(event["event_id"], "melvin")
    signed_up(event["event_id"], "mona")
    answer = call("PATCH", f"/events/{event['event_id']}", {"capacity": 2})
    assert (answer.json["going"], answer.json["waitlisted"]) == (2, 0)


def test_delete_event_answers_204_and_the_event_is_gone(table):
    event = new_event()
    answer = call("DELETE", f"/events/{event['event_id']}")
    assert (answer.status, answer.text) == (204, "")
    assert call("GET", f"/events/{event['event_id']}").error["code"] == "EventNotFound"


def test_an_organizer_moves_a_waiting_party_up_on_its_own_route(table):
    event = new_event(capacity=1)
    call("PUT", f"/events/{event['event_id']}/signups/ann")
    assert call("PUT", f"/events/{event['event_id']}/signups/bob").json["status"] == "waitlisted"
    answer = call("POST", f"/events/{event['event_id']}/signups/bob/move-up")
    assert (answer.status, answer.json["signup"]["status"], answer.json["places_added"]) == (200, "going", 1)
    assert call("GET", f"/events/{event['event_id']}").json["capacity"] == 2
    assert call("POST", f"/events/{event['event_id']}/signups/cat/move-up").error["code"] == "NotSignedUp"


def test_sign_up_is_201_then_200_and_idempotent(table):
    event = new_event()
    first = call("PUT", f"/events/{event['event_id']}/signups/melvin", {"name": "Melvin Moose", "guests": 1})
    assert first.status == 201
    signup = first.json
    assert (signup["person"], signup["name"], signup["guests"]) == ("melvin", "Melvin Moose", 1)
    assert (signup["status"], signup["position"], signup["source"], signup["checked_in_at"]) == (
        "going",
        None,
        "api",
        None,
    )
    again = call("PUT", f"/events/{event['event_id']}/signups/melvin")
    assert again.status == 200 and again.json == {**signup, "message": "You were already going."}
    assert signup["message"] == "You're going."


def test_a_repeat_sign_up_with_guests_changes_the_party(table):
    event = new_event(capacity=4)
    path = f"/events/{event['event_id']}/signups/melvin"
    assert signed_up(event["event_id"], "melvin", {"guests": 2})["guests"] == 2
    smaller = call("PUT", path, {"guests": 0})
    assert (smaller.status, smaller.json["guests"]) == (200, 0)
    assert call("PUT", path).json["guests"] == 0  # no guests given: the party stays as it is
    signed_up(event["event_id"], "anna", {"guests": 1})
    refused = call("PUT", path, {"guests": 2})
    assert (refused.status, refused.error["code"]) == (409, "NoRoomToGrow")
    assert "only 1 more spot is free" in refused.error["message"]
    answer = call("GET", f"/events/{event['event_id']}").json
    assert (answer["going"], answer["seats_taken"], answer["spots_left"]) == (2, 3, 1)


def test_sign_ups_close_when_the_organizer_says_and_by_default_at_the_start(table):
    event = new_event(
        starts_at=SOON.isoformat(), timezone="UTC", signups_close_at=(SOON - timedelta(hours=2)).isoformat()
    )
    assert (event["signups_close_at"], event["signups_until"]) == ((SOON - timedelta(hours=2)).isoformat(),) * 2
    refused = call("PUT", f"/events/{event['event_id']}/signups/melvin")
    assert (refused.status, refused.error["code"]) == (409, "SignupsClosed")
    reopened = call("PATCH", f"/events/{event['event_id']}", {"signups_close_at": None}).json
    assert (reopened["signups_close_at"], reopened["signups_until"]) == (None, SOON.isoformat())
    assert signed_up(event["event_id"], "melvin")["status"] == "going"


def test_sign_up_with_a_base64_body_from_the_fixture(table):
    event = new_event()
    request = fixture("put_signup_base64.json")
    request["rawPath"] = request["requestContext"]["http"]["path"] = f"/events/{event['event_id']}/signups/melvin"
    answer = invoke(request)
    assert answer.status == 201
    assert (answer.json["name"], answer.json["guests"]) == ("Melvin Moose", 1)


def test_sign_up_without_a_body_and_with_an_empty_object(table):
    event = new_event()
    assert signed_up(event["event_id"], "melvin")["name"] is None
    assert signed_up(event["event_id"], "mona", {})["guests"] == 0


def test_a_full_event_waitlists_in_order(table):
    event = new_event(capacity=1)
    signed_up(event["event_id"], "melvin")
    assert signed_up(event["event_id"], "mona")["position"] == 1
    second = signed_up(event["event_id"], "max")
    assert (second["status"], second["position"]) == ("waitlisted", 2)


def test_list_signups_going_first_then_waitlist_with_filters_and_pages(table):
    event = new_event(capacity=1)
    for person in ("melvin", "mona", "max"):
        signed_up(event["event_id"], person)
    everyone = call("GET", f"/events/{event['event_id']}/signups")
    assert everyone.status == 200
    assert [s["person"] for s in everyone.json["signups"]] == ["melvin", "mona", "max"]
    assert (everyone.json["going"], everyone.json["waitlisted"], everyone.json["next_cursor"]) == (1, 2, None)
    waiting = call("GET", f"/events/{event['event_id']}/signups?status=waitlisted&limit=1")
    assert [(s["person"], s["position"]) for s in waiting.json["signups"]] == [("mona", 1)]
    rest = call(
        "GET", f"/events/{event['event_id']}/signups?status=waitlisted&limit=1&cursor={waiting.json['next_cursor']}"
    )
    assert [(s["person"], s["position"]) for s in rest.json["signups"]] == [("max", 2)]


def test_get_signup(table):
    event = new_event()
    signed_up(event["event_id"], "melvin")
    answer = call("GET", f"/events/{event['event_id']}/signups/melvin")
    assert answer.status == 200 and answer.json["person"] == "melvin"


def test_cancel_promotes_the_first_waitlisted_person(table):
    event = new_event(capacity=1)
    signed_up(event["event_id"], "melvin")
    signed_up(event["event_id"], "mona")
    answer = call("DELETE", f"/events/{event['event_id']}/signups/melvin")
    assert answer.status == 200
    assert answer.json["cancelled"] == {
        "event_id": event["event_id"],
        "person": "melvin",
        "status": "going",
        "guests": 0,
    }
    assert (answer.json["promoted"]["person"], answer.json["promoted"]["status"]) == ("mona", "going")
    alone = call("DELETE", f"/events/{event['event_id']}/signups/mona")
    assert alone.json["promoted"] is None


def test_cancel_of_a_party_on_the_waitlist_says_where_it_stood(table):
    event = new_event(capacity=3)
    signed_up(event["event_id"], "melvin")
    assert signed_up(event["event_id"], "mona", {"guests": 2})["status"] == "waitlisted"
    answer = call("DELETE", f"/events/{event['event_id']}/signups/mona")
    assert answer.status == 200
    assert answer.json == {"cancelled": {"event_id": event["event_id"], "person": "mona", "status": "waitlisted",
                                         "guests": 2}, "promoted": None}


def test_check_in_at_an_event_about_to_start(table):
    event = new_event(starts_at=SOON.isoformat(), timezone="UTC")
    signed_up(event["event_id"], "melvin")
    answer = call("POST", f"/events/{event['event_id']}/signups/melvin/check-in")
    assert answer.status == 200
    assert answer.json["checked_in_at"] is not None and answer.json["status"] == "going"


def test_devices_bind_read_and_unbind(table):
    event = new_event()
    bound = call("PUT", "/devices/G030PT0123456789", {"person": "melvin", "event_id": event["event_id"]})
    assert bound.status == 200
    assert (bound.json["serial"], bound.json["person"], bound.json["event_id"]) == (
        "G030PT0123456789",
        "melvin",
        event["event_id"],
    )
    assert call("GET", "/devices/G030PT0123456789").json == bound.json
    gone = call("DELETE", "/devices/G030PT0123456789")
    assert (gone.status, gone.json) == (200, {"serial": "G030PT0123456789", "unbound": True})
    assert call("GET", "/devices/G030PT0123456789").error["code"] == "DeviceNotFound"


def test_a_device_may_be_bound_without_an_event(table):
    answer = call("PUT", "/devices/button-1", {"person": "melvin"})
    assert answer.status == 200 and answer.json["event_id"] is None


def test_alexa_code_is_six_digits_and_expires_later(table):
    answer = call("POST", "/people/melvin/alexa-code")
    assert answer.status == 201
    assert len(answer.json["code"]) == 6 and answer.json["code"].isdigit()
    assert datetime.fromisoformat(answer.json["expires_at"]) > datetime.now(timezone.utc)


def test_openapi_document_is_served():
    answer = call("GET", "/openapi.json")
    assert answer.status == 200 and answer.json["openapi"].startswith("3.")


# --- routing ------------------------------------------------------------------------------------


def test_unknown_path_is_404_route_not_found():
    answer = call("GET", "/nowhere")
    assert answer.status == 404 and answer.error["code"] == "RouteNotFound"


@pytest.mark.parametrize(
    "target", ["/events/abc/signups/melvin/extra", "/events//signups", "/events/", "", "//", "/web/abc"]
)
def test_near_misses_are_not_routes(target):
    assert call("GET", target).error["code"] == "RouteNotFound"


def test_known_path_wrong_method_is_405_with_allow():
    answer = call("POST", "/events/abc123")
    assert answer.status == 405 and answer.error["code"] == "MethodNotAllowed"
    assert answer.headers["allow"] == "GET, PATCH, DELETE"


def test_path_segments_are_percent_decoded(table):
    event = new_event()
    answer = call("PUT", f"/events/{event['event_id']}/signups/mel%2Dvin")
    assert answer.status == 201 and answer.json["person"] == "mel-vin"


def test_an_encoded_slash_stays_inside_its_segment_and_fails_the_handle():
    answer = call("GET", "/events/abc123/signups/mel%2Fvin")
    assert (answer.status, answer.error["field"]) == (400, "person")


def test_a_named_stage_prefix_is_not_part_of_the_route():
    event = gateway_event("GET", "/prod/health")
    event["requestContext"]["stage"] = "prod"
    assert invoke(event).json == {"status": "ok"}


# --- error families -----------------------------------------------------------------------------


def test_not_found_family_is_404(table):
    assert call("GET", "/events/nosuchevent").error["code"] == "EventNotFound"
    event = new_event()
    missing = call("GET", f"/events/{event['event_id']}/signups/nobody")
    assert (missing.status, missing.error["code"]) == (404, "NotSignedUp")
    assert call("DELETE", f"/events/{event['event_id']}/signups/nobody").error["code"] == "NotSignedUp"
    assert call("PUT", "/events/nosuchevent/signups/melvin").status == 404
    assert (
        call("PUT", "/devices/button-1", {"person": "melvin", "event_id": "nosuchevent"}).error["code"]
        == "EventNotFound"
    )
    assert call("DELETE", "/devices/button-1").error["code"] == "DeviceNotFound"


def test_event_full_without_waitlist_is_409(table):
    event = new_event(capacity=1)
    signed_up(event["event_id"], "melvin")
    answer = call("PUT", f"/events/{event['event_id']}/signups/mona", {"waitlist": False})
    assert (answer.status, answer.error["code"]) == (409, "EventFull")
    assert answer.error["message"]


def test_check_in_not_open_is_409(table):
    event = new_event()
    signed_up(event["event_id"], "melvin")
    answer = call("POST", f"/events/{event['event_id']}/signups/melvin/check-in")
    assert (answer.status, answer.error["code"]) == (409, "CheckInNotOpen")


def test_a_waitlisted_person_cannot_check_in(table):
    event = new_event(starts_at=SOON.isoformat(), timezone="UTC", capacity=1)
    signed_up(event["event_id"], "melvin")
    signed_up(event["event_id"], "mona")
    answer = call("POST", f"/events/{event['event_id']}/signups/mona/check-in")
    assert (answer.status, answer.error["code"]) == (409, "NotGoing")
    assert call("POST", f"/events/{event['event_id']}/signups/max/check-in").error["code"] == "NotSignedUp"


def test_capacity_below_taken_is_409(table):
    event = new_event(capacity=5)
    signed_up(event["event_id"], "melvin", {"guests": 2})
    answer = call("PATCH", f"/events/{event['event_id']}", {"capacity": 2})
    assert (answer.status, answer.error["code"]) == (409, "CapacityBelowTaken")


def test_an_event_over_refuses_signups_with_409(table):
    event = new_event()
    yesterday = datetime.now(timezone.utc) - timedelta(days=1)
    moved = call("PATCH", f"/events/{event['event_id']}",
                 {"starts_at": yesterday.isoformat(), "ends_at": (yesterday + timedelta(hours=2)).isoformat()})
    assert moved.status == 200
    answer = call("PUT", f"/events/{event['event_id']}/signups/melvin")
    assert (answer.status, answer.error["code"]) == (409, "EventOver")


@pytest.mark.parametrize("error, status", [(errors.Busy, 503), (errors.Throttled, 429)])
def test_a_table_that_cannot_answer_now_is_told_with_retry_after(table, monkeypatch, error, status):
    def fails(*args, **kwargs):
        raise error()
    monkeypatch.setattr(services, "get_event", fails)
    answer = call("GET", "/events/abc123")
    assert (answer.status, answer.error["code"]) == (status, error.__name__)
    assert answer.headers["retry-after"] == "1"


def test_pairing_locked_is_429_with_retry_after(monkeypatch):
    def locked(*args, **kwargs):
        raise errors.PairingLocked(42)
    monkeypatch.setattr(services, "issue_pairing_code", locked)
    answer = lambda_answer("POST", "/people/melvin/alexa-code")
    assert (answer["statusCode"], answer["headers"]["retry-after"]) == (429, "42")


@pytest.mark.parametrize("error, status", [
    (errors.PairingCodeInvalid(), 400),
    (errors.NotLinked(), 403),
    (errors.NoUpcomingEvent(), 404),
])
def test_errors_of_other_edges_still_map_through_the_one_table(error, status, monkeypatch):
    def raise_it(*args, **kwargs):
        raise error
    monkeypatch.setattr(services, "issue_pairing_code", raise_it)
    answer = lambda_answer("POST", "/people/melvin/alexa-code")
    assert answer["statusCode"] == status
    assert answer["body"] == render.body({"error": {"code": error.code, "message": error.message}})


def test_every_core_error_has_a_status_and_only_busy_is_5xx():
    def family(cls):
        for sub in cls.__subclasses__():
            yield sub
            yield from family(sub)
    statuses = {cls.__name__: render.status_of(cls) for cls in family(errors.TurnoutError)}
    assert None not in statuses.values(), statuses
    assert {name for name, status in statuses.items() if status >= 500} == {"Busy"}


def test_an_unexpected_exception_becomes_a_logged_internal_error(table, monkeypatch, caplog):
    def broken(*args, **kwargs):
        raise RuntimeError("table on fire")
    monkeypatch.setattr(services, "get_event", broken)
    with caplog.at_level(logging.ERROR, logger="api.handler"):
        answer = call("GET", "/events/abc123")
    assert (answer.status, answer.error["code"]) == (500, "InternalError")
    assert "table on fire" not in answer.text
    assert any(record.exc_info and "table on fire" in str(record.exc_info[1]) for record in caplog.records)


def test_an_unmapped_typed_error_is_a_logged_internal_error_not_a_crash(monkeypatch, caplog):
    class Unheard(errors.TurnoutError):
        pass

    def raise_it(*args, **kwargs):
        raise Unheard("nobody mapped me")
    monkeypatch.setattr(services, "get_device", raise_it)
    with caplog.at_level(logging.ERROR, logger="api.handler"):
        answer = call("GET", "/devices/button-1")
    assert (answer.status, answer.error["code"]) == (500, "InternalError")
    assert "Unheard" in caplog.text


def test_a_malformed_event_is_an_internal_error_not_a_crash():
    answer = lambda_handler({"version": "2.0"}, None)
    assert answer["statusCode"] == 500
    assert answer["body"] == render.internal_error()["body"]
