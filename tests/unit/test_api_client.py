"""The API tests' own client checked: the fixtures have AWS's payload 2.0 shape, and the answer check can fail."""
from __future__ import annotations

import base64
import json

import pytest
from jsonschema.exceptions import ValidationError

from tests.support.api import (
    AUTHORIZED_CONTEXT_KEYS,
    CONTEXT_KEYS,
    EVENT_KEYS,
    FIXTURES,
    HTTP_KEYS,
    Answer,
    check_documented,
    gateway_event,
)


def test_fixtures_have_the_documented_payload_2_0_shape():
    for path in sorted(FIXTURES.glob("*.json")):
        event = json.loads(path.read_text())
        assert EVENT_KEYS <= set(event), path.name
        assert event["version"] == "2.0" and event["routeKey"] == "$default"
        assert set(event["requestContext"]) in (CONTEXT_KEYS, AUTHORIZED_CONTEXT_KEYS), path.name
        if "authorizer" in event["requestContext"]:
            jwt = event["requestContext"]["authorizer"]["jwt"]
            assert set(event["requestContext"]["authorizer"]) == {"jwt"} and set(jwt) == {"claims", "scopes"}
            assert all(isinstance(value, str) for value in jwt["claims"].values()), path.name
            assert jwt["scopes"] is None or all(isinstance(scope, str) for scope in jwt["scopes"])
            assert event["headers"]["authorization"].startswith("Bearer "), "the token the claims came from"
        assert set(event["requestContext"]["http"]) == HTTP_KEYS, path.name
        assert event["requestContext"]["http"]["path"] == event["rawPath"]
        assert all(name == name.lower() for name in event["headers"]), "payload 2.0 header names are lowercase"
        if event.get("body") is not None:
            body = base64.b64decode(event["body"]) if event["isBase64Encoded"] else event["body"].encode()
            assert int(event["headers"]["content-length"]) == len(body)
            assert isinstance(json.loads(body), dict)


def test_gateway_event_joins_repeated_query_parameters_like_api_gateway():
    event = gateway_event("GET", "/events?limit=1&limit=2&cursor=")
    assert event["queryStringParameters"] == {"limit": "1,2", "cursor": ""}
    assert event["rawQueryString"] == "limit=1&limit=2&cursor="


@pytest.mark.parametrize("status", [200, 404])
def test_the_answer_check_refuses_what_the_document_does_not_allow(status):
    # The check every API test leans on must itself be able to fail: a wrong body, an undocumented status.
    answer = Answer(status, {"content-type": "application/json; charset=utf-8"}, json.dumps({"status": "maybe"}))
    with pytest.raises((AssertionError, ValidationError)):
        check_documented(gateway_event("GET", "/health"), answer)
