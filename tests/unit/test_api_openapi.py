"""The OpenAPI document: valid, served, listing exactly the router's routes with the limits the edge enforces."""
from __future__ import annotations

import json
import re
from datetime import datetime, timedelta, timezone

import pytest
from openapi_schema_validator import OAS31Validator
from openapi_spec_validator import validate

from api import openapi, render, request, routes
from core import config, errors, validation
from tests.support.api import call

# The route table of PRODUCT.md, "The JSON API (v1)": the contract the router and the document must both meet.
PRODUCT_ROUTES = {
    ("GET", "/health"),
    ("POST", "/events"),
    ("GET", "/events"),
    ("GET", "/events/{event_id}"),
    ("POST", "/events/{event_id}/signups/{person}/move-up"),
    ("PATCH", "/events/{event_id}"),
    ("DELETE", "/events/{event_id}"),
    ("PUT", "/events/{event_id}/signups/{person}"),
    ("GET", "/events/{event_id}/signups"),
    ("GET", "/events/{event_id}/signups/{person}"),
    ("DELETE", "/events/{event_id}/signups/{person}"),
    ("POST", "/events/{event_id}/signups/{person}/check-in"),
    ("PUT", "/devices/{serial}"),
    ("GET", "/devices/{serial}"),
    ("DELETE", "/devices/{serial}"),
    ("POST", "/people/{person}/alexa-code"),
    ("GET", "/openapi.json"),
    # PRODUCT.md, "Next": the web page at / with its files, and an "add to calendar" file per event.
    ("GET", "/"),
    ("GET", "/web/{version}/{file}"),
    ("GET", "/events/{event_id}/calendar.ics"),
    # PRODUCT.md, "Next": people with a display name and where to be told, and the notices they were sent.
    ("PUT", "/people/{person}"),
    ("GET", "/people/{person}"),
    ("GET", "/people/{person}/notices"),
    # Issue 31: a person's secret calendar feed and the group's, made, renewed and revoked; and the feeds themselves.
    ("PUT", "/people/{person}/feed"),
    ("GET", "/people/{person}/feed"),
    ("DELETE", "/people/{person}/feed"),
    ("PUT", "/group/feed"),
    ("GET", "/group/feed"),
    ("DELETE", "/group/feed"),
    ("GET", "/feeds/{feed}"),
    # Accounts (issue 30): a person's buttons, and organizers making organizers.
    ("GET", "/people/{person}/devices"),
    ("GET", "/organizers"),
    ("PUT", "/organizers/{person}"),
    ("DELETE", "/organizers/{person}"),
    # Issue 31: events that repeat.
    ("POST", "/series"),
    ("GET", "/series/{series_id}"),
    ("PATCH", "/series/{series_id}"),
    ("DELETE", "/series/{series_id}"),
}
SAMPLE_PARAMS = {"event_id": "abc123", "series_id": "abcdefghij",
                 "person": "melvin", "serial": "G030PT0123456789", "version": "0a1b2c3d4e5f",
                 "file": "app.js", "feed": "Abcdefghijklmnopqrstuvwxyz012345.ics"}
PAGE_ROUTES = {("GET", "/"), ("GET", "/web/{version}/{file}")}


def documented_routes() -> set[tuple[str, str]]:
    return {(method.upper(), path) for path, operations in openapi.document()["paths"].items()
            for method in operations}


def test_the_document_is_valid_openapi():
    validate(openapi.document())
    assert openapi.document()["openapi"] == "3.1.0"


def test_the_document_names_the_local_server():
    assert {"url": "http://127.0.0.1:3000"}.items() <= openapi.document()["servers"][0].items()


def test_router_document_and_product_contract_list_the_same_routes():
    served = {(each.method, each.template) for each in routes.ROUTES}
    assert served == PRODUCT_ROUTES
    assert documented_routes() == PRODUCT_ROUTES


@pytest.mark.parametrize("method, template", sorted(PRODUCT_ROUTES))
def test_every_documented_route_is_reached_by_its_own_path(method, template):
    path = re.sub(r"\{(\w+)\}", lambda found: SAMPLE_PARAMS[found.group(1)], template)
    chosen, params = routes.match(method, path)
    assert (chosen.method, chosen.template) == (method, template)
    assert params == {name: SAMPLE_PARAMS[name] for name in params}


def test_the_served_document_is_the_built_one():
    assert call("GET", "/openapi.json").json == openapi.document()


def test_every_operation_documents_its_failures():
    for path, operations in openapi.document()["paths"].items():
        for method, operation in operations.items():
            assert "500" in operation["responses"], (method, path)
            if routes.find(method.upper(), path)[0].uses_table:
                assert "503" in operation["responses"] and "Retry-After" in operation["responses"]["503"]["headers"]
            if "{" in path or operation.get("requestBody") or operation.get("parameters"):
                assert "InvalidInput" in operation["responses"]["400"]["content"]["application/json"]["schema"][
                    "properties"]["error"]["properties"]["code"]["enum"]


def test_each_documented_error_code_sits_under_the_status_the_handler_gives_it():
    codes = {cls.__name__: cls for cls in (*_family(errors.TurnoutError), request.InvalidJson, request.PayloadTooLarge)}
    for operations in openapi.document()["paths"].values():
        for operation in operations.values():
            for status, response in operation["responses"].items():
                if int(status) < 400:
                    continue
                schema = response["content"]["application/json"]["schema"]
                for code in schema["properties"]["error"]["properties"]["code"]["enum"]:
                    expected = 500 if code == "InternalError" else render.status_of(codes[code])
                    assert int(status) == expected, (code, status)


def _family(cls):
    for sub in cls.__subclasses__():
        yield sub
        yield from _family(sub)


def test_request_bodies_carry_the_edge_limits():
    paths = openapi.document()["paths"]
    new_event = paths["/events"]["post"]["requestBody"]
    schema = new_event["content"]["application/json"]["schema"]
    assert new_event["required"] is True
    assert schema["required"] == ["name", "starts_at"] and schema["additionalProperties"] is False
    assert schema["properties"]["name"]["maxLength"] == validation.NAME_MAX
    assert schema["properties"]["description"]["maxLength"] == validation.DESCRIPTION_MAX
    assert schema["properties"]["capacity"]["maximum"] == validation.CAPACITY_MAX
    assert f"{request.BODY_LIMIT} bytes" in new_event["description"]
    signup = paths["/events/{event_id}/signups/{person}"]["put"]["requestBody"]
    assert signup["required"] is False
    assert set(signup["content"]["application/json"]["schema"]["properties"]) == {"name", "guests", "waitlist"}
    assert (
        paths["/events/{event_id}"]["patch"]["requestBody"]["content"]["application/json"]["schema"]["minProperties"]
        == 1
    )


# Bodies the schema and the edge must judge alike. Text is left out where the edge does more than a
# schema can say (trimming, control characters, ISO 8601 syntax); the document says so in words.
CANDIDATES = {
    ("POST", "/events"): [
        {"name": "Ski", "starts_at": "2030-12-06T07:00:00"},
        {"name": "Ski"},
        {"starts_at": "2030-12-06T07:00:00"},
        {"name": "x" * validation.NAME_MAX, "starts_at": "2030-12-06T07:00:00"},
        {"name": "x" * (validation.NAME_MAX + 1), "starts_at": "2030-12-06T07:00:00"},
        {"name": None, "starts_at": "2030-12-06T07:00:00"},
        {"name": "Ski", "starts_at": "2030-12-06T07:00:00", "capacity": None},
        {"name": "Ski", "starts_at": "2030-12-06T07:00:00", "capacity": 0},
        {"name": "Ski", "starts_at": "2030-12-06T07:00:00", "capacity": validation.CAPACITY_MAX},
        {"name": "Ski", "starts_at": "2030-12-06T07:00:00", "capacity": validation.CAPACITY_MAX + 1},
        {"name": "Ski", "starts_at": "2030-12-06T07:00:00", "capacity": "12"},
        {"name": "Ski", "starts_at": "2030-12-06T07:00:00", "timezone": None},
        {"name": "Ski", "starts_at": "2030-12-06T07:00:00", "timezone": "Europe/Oslo"},
        {"name": "Ski", "starts_at": "2030-12-06T07:00:00", "ends_at": None},
        {"name": "Ski", "starts_at": "2030-12-06T07:00:00", "location": None},
        {"name": "Ski", "starts_at": "2030-12-06T07:00:00", "location": "x" * (validation.LOCATION_MAX + 1)},
        {"name": "Ski", "starts_at": "2030-12-06T07:00:00", "colour": "red"},
    ],
    ("PATCH", "/events/{event_id}"): [
        {},
        {"name": "Ski"},
        {"name": None},
        {"capacity": None},
        {"ends_at": None},
        {"starts_at": None},
        {"going": 1},
    ],
    ("PUT", "/events/{event_id}/signups/{person}"): [
        {},
        {"name": None, "guests": 0, "waitlist": False},
        {"guests": validation.GUESTS_MAX},
        {"guests": validation.GUESTS_MAX + 1},
        {"guests": -1},
        {"guests": None},
        {"waitlist": None},
        {"waitlist": "yes"},
        {"name": "x" * (validation.PERSON_NAME_MAX + 1)},
        {"source": "iot"},
    ],
    ("PUT", "/devices/{serial}"): [
        {"person": "melvin"},
        {"person": "melvin", "event_id": None},
        {"person": "melvin", "event_id": "abc123"},
        {"person": "melvin", "event_id": "ABC"},
        {"person": "Melvin"},
        {"person": "m" * 41},
        {"event_id": "abc123"},
        {},
    ],
}


@pytest.mark.parametrize("method, template", sorted(CANDIDATES))
def test_body_schemas_and_edge_checks_agree(method, template):
    route = next(each for each in routes.ROUTES if (each.method, each.template) == (method, template))
    schema = openapi.document()["paths"][template][method.lower()]["requestBody"]["content"]["application/json"][
        "schema"
    ]
    for body in CANDIDATES[(method, template)]:
        documented = OAS31Validator(schema).is_valid(body)
        try:
            request.json_body({"body": json.dumps(body)}, route.body)
            accepted = True
        except (errors.InvalidInput, request.InvalidJson):
            accepted = False
        assert documented == accepted, (method, template, body)


@pytest.mark.parametrize("value, accepted", [("1", True), ("100", True), ("0", False), ("101", False), ("x", False)])
def test_limit_schema_and_edge_agree(value, accepted):
    limit = openapi.document()["paths"]["/events"]["get"]["parameters"][0]
    assert limit["name"] == "limit"
    assert OAS31Validator(limit["schema"]).is_valid(int(value) if value.isdigit() else value) == accepted
    try:
        request.limit({"limit": value})
        edge = True
    except errors.InvalidInput:
        edge = False
    assert edge == accepted


def test_path_parameter_patterns_are_the_validation_rules():
    parameters = {p["name"]: p["schema"] for p in
                  openapi.document()["paths"]["/events/{event_id}/signups/{person}"]["put"]["parameters"]}
    person = OAS31Validator(parameters["person"])
    for handle in ("m", "melvin-moose", "m" * 40, "-m", "m-", "M", "m" * 41, "mel vin"):
        assert person.is_valid(handle) == bool(validation.HANDLE.fullmatch(handle)), handle


OPEN = openapi.Mode(auth_open=True, public_reads=False)
MODES = [OPEN, openapi.Mode(auth_open=False, public_reads=False), openapi.Mode(auth_open=False, public_reads=True)]


def _operations(document: dict):
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            yield method.upper(), path, operation


def test_in_open_mode_the_document_asks_for_no_token_and_promises_no_401_or_403():
    document = openapi.build(OPEN)
    validate(document)
    assert "security" not in document and "securitySchemes" not in document["components"]
    for method, path, operation in _operations(document):
        assert "security" not in operation, (method, path)
        assert not {"401", "403"} & set(operation["responses"]), (method, path)
    assert "open mode" in document["info"]["description"]


@pytest.mark.parametrize("mode", MODES, ids=["open", "checked", "checked, public reads"])
def test_the_served_document_is_the_one_for_the_mode_the_api_runs_in(monkeypatch, mode):
    monkeypatch.setattr(config, "settings", config.settings._replace(**mode._asdict()))
    served = call("GET", "/openapi.json").json
    assert served == json.loads(json.dumps(openapi.build(mode)))
    assert ("security" in served) is not mode.auth_open
    assert ("securitySchemes" in served["components"]) is not mode.auth_open
    if not mode.auth_open:
        validate(served)
        # Only /health and /openapi.json, the page, a calendar feed (a calendar app sends no token: the secret in
        # its address is the key), and the reads when they are public, do without the bearer token.
        unguarded = {(method, path) for method, path, operation in _operations(served)
                     if operation.get("security") == []}
        reads = {(each.method, each.template) for each in routes.ROUTES if each.access == routes.READ}
        assert unguarded == ({("GET", "/health"), ("GET", "/openapi.json"), ("GET", "/feeds/{feed}")} | PAGE_ROUTES
                             | (reads if mode.public_reads else set()))


def test_each_body_example_is_a_body_its_route_accepts(table):
    next_week = (datetime.now(timezone.utc) + timedelta(days=7)).isoformat()
    created = call("POST", "/events", {"name": "Ski trip", "starts_at": next_week, "capacity": 4})
    made = call("POST", "/series", {"name": "Ski club", "starts_at": next_week, "timezone": "Europe/Oslo",
                                    "repeat": {"every": "week", "count": 4}})
    params = {**SAMPLE_PARAMS, "event_id": created.json["event_id"], "series_id": made.json["series_id"]}
    examples = 0
    for path, operations in openapi.document()["paths"].items():
        for method, operation in operations.items():
            media = operation.get("requestBody", {}).get("content", {}).get("application/json", {})
            if "example" not in media:
                continue
            OAS31Validator(media["schema"]).validate(media["example"])
            answer = call(method.upper(), path.format(**params), media["example"])
            assert answer.status in (200, 201), (method, path, answer.text)
            examples += 1
    assert examples >= 2
