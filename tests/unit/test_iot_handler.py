"""The IoT button Lambda on moto: each payload shape from its JSON fixture, repeated deliveries, failures half-way."""
from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from pathlib import Path
from types import SimpleNamespace

import pytest
from moto.core import DEFAULT_ACCOUNT_ID
from moto.iotdata.models import iotdata_backends
from pynamodb.exceptions import PynamoDBException

from core import buttons, services
from core.config import settings
from core.errors import Busy, NotSignedUp
from core.store import signups as signup_store
from iot import handler

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "iot"
CLASSIC = "G030JF055364XVRB"
ONE_CLICK = "G030PM0123456789"


def fixture(name: str, **changes) -> dict:
    return {**json.loads((FIXTURES / name).read_text()), **changes}


def _iot_data():
    return iotdata_backends[DEFAULT_ACCOUNT_ID][settings.region]


def published() -> list[tuple[str, dict]]:
    """Every message the handler published through the IoT data plane in this test (moto records them)."""
    return [(topic, json.loads(payload)) for topic, payload in _iot_data().published_payloads]


@pytest.fixture(autouse=True)
def nothing_published_yet(table):
    _iot_data().published_payloads.clear()  # moto lives for the whole session


class NoCore:
    """Stands in for core.presses where a test proves the handler never got as far as calling it."""

    def __getattr__(self, name):
        raise AssertionError(f"core.presses.{name} was called")


def starts_in(**delta) -> str:
    return (datetime.now(timezone.utc) + timedelta(**delta)).isoformat()


@pytest.fixture
def ski_trip(table):
    return services.create_event(name="Ski trip", starts_at=starts_in(days=3), timezone="Europe/Oslo", capacity=10)


@pytest.fixture
def melvins_button(ski_trip):
    return services.bind_device(CLASSIC, "melvin", ski_trip.event_id)


def unreachable(topic: str, payload: bytes) -> None:
    raise TimeoutError("iot data plane did not answer")


def context(request_id: str = "c0ffee00-0000-4000-8000-000000000001") -> SimpleNamespace:
    return SimpleNamespace(aws_request_id=request_id, function_name="ButtonFunction")


# --- each shape ---------------------------------------------------------------------------------


def test_classic_single_signs_the_buttons_person_up_and_tells_the_button(ski_trip, melvins_button):
    result = handler.lambda_handler(fixture("classic_single.json"), context())

    signup = services.get_signup(ski_trip.event_id, "melvin")
    assert (signup.status, signup.source) == ("going", "iot")
    assert published() == [(f"iotbutton/{CLASSIC}/result", result)]
    assert result["outcome"] == "signed_up"
    assert (result["event_id"], result["event_name"], result["status"]) == (ski_trip.event_id, "Ski trip", "going")


def test_one_click_single_without_a_bound_event_signs_up_for_the_next_upcoming_event(table):
    later = services.create_event(name="Lodge dinner", starts_at=starts_in(days=9))
    sooner = services.create_event(name="Ski trip", starts_at=starts_in(days=2))
    services.bind_device(ONE_CLICK, "melvin")

    result = handler.lambda_handler(fixture("one_click_single.json"), context())

    assert services.get_signup(sooner.event_id, "melvin").status == "going"
    with pytest.raises(NotSignedUp):
        services.get_signup(later.event_id, "melvin")
    assert result["click_id"] == "2026-12-04T06:55:12.847Z"
    assert published() == [(f"iotbutton/{ONE_CLICK}/result", result)]


def test_a_single_click_without_a_bound_event_passes_over_one_that_has_started(table):
    # More running than one query page holds: the filter on sign-ups still finds the next open event.
    running = [services.create_event(name=f"Lodge breakfast {n}", starts_at=starts_in(minutes=-30 - n),
                                     ends_at=starts_in(hours=2)) for n in range(3)][-1]
    next_one = services.create_event(name="Ski trip", starts_at=starts_in(days=2))
    services.bind_device(ONE_CLICK, "melvin")

    result = handler.lambda_handler(fixture("one_click_single.json"), context())

    assert (result["outcome"], result["event_id"]) == ("signed_up", next_one.event_id)
    assert services.list_events().items[0].event_id == running.event_id  # listed until it ends


def test_classic_double_cancels_and_says_so(ski_trip, melvins_button):
    services.sign_up(ski_trip.event_id, "melvin")

    result = handler.lambda_handler(fixture("rule_classic_double.json"), context())

    with pytest.raises(NotSignedUp):
        services.get_signup(ski_trip.event_id, "melvin")
    assert (result["outcome"], result["click"]) == ("cancelled", "DOUBLE")
    assert [message for _, message in published()] == [result]


def test_long_press_checks_in_once_check_in_is_open(table):
    lodge = services.create_event(name="Lodge night", starts_at=starts_in(minutes=30))
    services.bind_device(ONE_CLICK, "melvin", lodge.event_id)
    services.sign_up(lodge.event_id, "melvin")

    result = handler.lambda_handler(fixture("one_click_long.json"), context())

    assert services.get_signup(lodge.event_id, "melvin").checked_in_at is not None
    assert result["outcome"] == "checked_in"


def test_a_full_event_puts_the_press_on_the_waitlist(table):
    small = services.create_event(name="Sauna", starts_at=starts_in(days=1), capacity=1)
    services.sign_up(small.event_id, "sigrid")
    services.bind_device(CLASSIC, "melvin", small.event_id)

    result = handler.lambda_handler(fixture("classic_single.json"), context())

    assert (result["outcome"], result["status"], result["position"]) == ("waitlisted", "waitlisted", 1)


def test_pressing_when_already_signed_up_changes_nothing_and_says_so(ski_trip, melvins_button):
    services.sign_up(ski_trip.event_id, "melvin", source="api")

    result = handler.lambda_handler(fixture("classic_single.json"), context())

    assert result["outcome"] == "already_signed_up"
    assert services.get_signup(ski_trip.event_id, "melvin").source == "api"


# --- refusals and bad messages: logged, answered when a button is known, never raised -----------


def test_an_unknown_button_changes_nothing_and_is_told_why(ski_trip):
    result = handler.lambda_handler(fixture("classic_single.json"), context())

    assert result["outcome"] == "error" and result["error"]["code"] == "DeviceNotFound"
    assert services.list_signups(ski_trip.event_id).signups == []
    assert published() == [(f"iotbutton/{CLASSIC}/result", result)]


def test_a_refusal_from_core_is_answered_not_raised(ski_trip, melvins_button):
    result = handler.lambda_handler(fixture("classic_double.json"), context())

    assert result["error"]["code"] == "NotSignedUp"
    assert len(published()) == 1


@pytest.mark.parametrize("event", [None, [], "SINGLE", 42, {}, {"clickType": "SINGLE"},
                                   {"serialNumber": "a/b/#", "clickType": "SINGLE"},
                                   {"deviceInfo": "G030", "deviceEvent": {}}])
def test_messages_naming_no_valid_button_are_only_logged(event, caplog, monkeypatch):
    monkeypatch.setattr(handler, "presses", NoCore())

    assert handler.lambda_handler(event, context()) is None
    assert published() == []
    assert "unusable button message" in caplog.text


@pytest.mark.parametrize("changes, field", [
    ({"clickType": "TRIPLE"}, "clickType"),
    ({"clickType": None}, "clickType"),
    ({"clickId": "has spaces and/slashes"}, "clickId"),
    ({"clickId": 7}, "clickId"),
])
def test_a_bad_payload_from_a_known_serial_is_answered_on_its_result_topic(ski_trip, melvins_button, changes, field):
    result = handler.lambda_handler(fixture("classic_single.json", **changes), context())

    assert result["outcome"] == "error" and result["error"]["code"] == "InvalidInput"
    assert field in result["error"]["message"]
    assert published() == [(f"iotbutton/{CLASSIC}/result", result)]
    assert services.list_signups(ski_trip.event_id).signups == []


def test_a_payload_naming_another_button_than_its_topic_is_ignored(ski_trip, melvins_button):
    event = fixture("classic_single.json", topicSerial="G030OTHERBUTTON0", deliveryId="d-1")

    assert handler.lambda_handler(event, context()) is None
    assert published() == []
    assert services.list_signups(ski_trip.event_id).signups == []


# --- the same click delivered again -------------------------------------------------------------


def test_three_deliveries_of_one_click_sign_up_once_and_answer_once(ski_trip, melvins_button):
    click = fixture("classic_single_click_id.json")
    answers = [handler.lambda_handler(click, context(f"lambda-{n}")) for n in range(3)]

    assert answers[0]["outcome"] == "signed_up" and answers[1:] == [None, None]
    assert len(services.list_signups(ski_trip.event_id).signups) == 1
    assert services.get_event(ski_trip.event_id).going == 1
    assert [message["click_id"] for _, message in published()] == [click["clickId"]]


def test_a_click_with_no_id_of_its_own_is_recognised_by_the_rules_delivery_id(ski_trip, melvins_button):
    services.sign_up(ski_trip.event_id, "melvin")
    click = fixture("rule_classic_double.json")
    for n in range(3):
        handler.lambda_handler(click, context(f"lambda-{n}"))

    assert [message["outcome"] for _, message in published()] == ["cancelled"]


def test_lambdas_own_retry_is_recognised_by_its_request_id_when_nothing_else_identifies_the_click(
        ski_trip, melvins_button, monkeypatch):
    monkeypatch.setattr(buttons, "_publisher", unreachable)
    with pytest.raises(TimeoutError):
        handler.lambda_handler(fixture("classic_single.json"), context("same-lambda-request"))
    monkeypatch.undo()

    retried = handler.lambda_handler(fixture("classic_single.json"), context("same-lambda-request"))

    assert retried["outcome"] == "signed_up"
    assert len(published()) == 1
    assert services.get_event(ski_trip.event_id).going == 1


def test_two_presses_are_two_clicks(ski_trip, melvins_button):
    handler.lambda_handler(fixture("classic_single.json", clickId="first"), context())
    handler.lambda_handler(fixture("classic_single.json", clickId="second"), context())

    assert [message["outcome"] for _, message in published()] == ["signed_up", "already_signed_up"]


def test_a_failure_between_storing_and_publishing_is_retried_into_exactly_one_first_outcome(
        ski_trip, melvins_button, monkeypatch):
    real = buttons._publisher
    calls = []

    def publish_fails_once(topic, payload):
        calls.append(topic)
        if len(calls) == 1:
            raise ConnectionError("iot data plane unreachable")
        real(topic, payload)

    monkeypatch.setattr(buttons, "_publisher", publish_fails_once)
    click = fixture("classic_single_click_id.json")

    with pytest.raises(ConnectionError):
        handler.lambda_handler(click, context())
    assert services.get_signup(ski_trip.event_id, "melvin").status == "going"  # stored before the failure
    assert published() == []

    retried = handler.lambda_handler(click, context())  # Lambda's retry: the same invocation
    again = handler.lambda_handler(click, context("another-delivery"))

    # The retry answers with the first outcome ("signed_up"), not with what a fresh press would say now.
    assert retried["outcome"] == "signed_up" and again is None
    assert [message for _, message in published()] == [retried]
    assert services.get_event(ski_trip.event_id).going == 1


def test_a_replayed_signup_names_the_event_it_was_made_for(table, monkeypatch):
    first = services.create_event(name="Ski trip", starts_at=starts_in(days=1))
    services.bind_device(CLASSIC, "melvin")
    click = fixture("classic_single_click_id.json")
    monkeypatch.setattr(buttons, "_publisher", unreachable)
    with pytest.raises(TimeoutError):
        handler.lambda_handler(click, context())
    monkeypatch.undo()
    # Before the retry a sooner event appears: the stored outcome still belongs to the first one.
    services.create_event(name="Breakfast", starts_at=starts_in(hours=2))

    retried = handler.lambda_handler(click, context())

    assert (retried["event_id"], retried["event_name"]) == (first.event_id, "Ski trip")


def test_a_delivery_arriving_after_another_stored_the_click_stays_silent(ski_trip, melvins_button):
    click = fixture("classic_single_click_id.json")
    first = handler.lambda_handler(click, context("first-delivery"))

    assert handler.lambda_handler(click, context("second-delivery")) is None
    assert [message for _, message in published()] == [first]
    assert services.get_event(ski_trip.event_id).going == 1


def test_a_refusal_is_stored_once_and_answered_once(table):
    services.create_event(name="Ski trip", starts_at=starts_in(days=1))
    click = fixture("classic_single_click_id.json")  # a button nobody bound

    first = handler.lambda_handler(click, context("first-delivery"))
    second = handler.lambda_handler(click, context("second-delivery"))

    assert first["error"]["code"] == "DeviceNotFound" and second is None
    assert [message for _, message in published()] == [first]


def test_a_renamed_event_is_named_afresh_and_the_binding_remembers_it(ski_trip, melvins_button):
    services.update_event(ski_trip.event_id, {"name": "Ski weekend"})

    result = handler.lambda_handler(fixture("classic_single_click_id.json"), context())

    assert result["event_name"] == "Ski weekend" and result["outcome"] == "signed_up"
    assert services.get_device(CLASSIC).event_name == "Ski weekend"


def test_the_one_double_answer_left_is_a_retry_of_an_invocation_that_failed_after_answering(
        ski_trip, melvins_button):
    # Lambda retries an invocation only when it failed; if it failed after its publish went out, the retry
    # answers again. Nothing is changed twice: the retry replays the stored outcome.
    click = fixture("classic_single_click_id.json")
    first = handler.lambda_handler(click, context())
    again = handler.lambda_handler(click, context())

    assert again == first
    assert services.get_event(ski_trip.event_id).going == 1


# --- infrastructure failures are raised so Lambda retries ---------------------------------------


def test_busy_is_raised_for_lambda_to_retry(ski_trip, melvins_button, monkeypatch):
    def busy(*args, **kwargs):
        raise Busy()

    monkeypatch.setattr(signup_store, "sign_up", busy)
    with pytest.raises(Busy):
        handler.lambda_handler(fixture("classic_single.json"), context())
    assert published() == []


def test_a_missing_table_is_raised_not_answered(table):
    table.delete_table(TableName=settings.table_name)  # the next test's `table` builds it again

    with pytest.raises(PynamoDBException, match="ResourceNotFound"):
        handler.lambda_handler(fixture("classic_single.json"), context())
    assert published() == []


@pytest.mark.parametrize("click", ["classic_double.json", "classic_long.json"])
def test_a_cancel_or_check_in_names_the_event_as_it_is_now(ski_trip, melvins_button, click):
    services.sign_up(ski_trip.event_id, "melvin")
    services.update_event(ski_trip.event_id, {"name": "Ski weekend", "starts_at": starts_in(hours=1)})

    result = handler.lambda_handler(fixture(click), context())

    assert result["event_name"] == "Ski weekend", result
    assert services.get_device(CLASSIC).event_name == "Ski weekend"


def test_a_click_id_reused_by_another_kind_of_click_is_refused_and_changes_nothing(ski_trip, melvins_button):
    handler.lambda_handler(fixture("classic_single_click_id.json"), context())

    result = handler.lambda_handler(fixture("classic_single_click_id.json", clickType="DOUBLE"),
                                    context("c0ffee00-0000-4000-8000-000000000002"))

    assert (result["outcome"], result["error"]["code"]) == ("error", "RequestIdReused")
    assert services.get_signup(ski_trip.event_id, "melvin").status == "going"
    assert [message for _, message in published()][-1] == result
    # Its own repeated delivery is told apart from the click that holds the id, and answered once.
    assert handler.lambda_handler(fixture("classic_single_click_id.json", clickType="DOUBLE"),
                                  context("c0ffee00-0000-4000-8000-000000000003")) is None
