"""The API tests' client: API Gateway v2 events from the JSON fixtures, answers checked against the OpenAPI document."""
from __future__ import annotations

import base64
import json
import uuid
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qsl

from openapi_schema_validator import OAS31Validator

from api import openapi, routes
from api.handler import lambda_handler
from api.request import MethodNotAllowed, RouteNotFound, path_of

JSON_TYPE = "application/json; charset=utf-8"
FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "apigw"
# The keys AWS documents for a payload 2.0 event on a $default route (no stage variables); a route behind the
# JWT authorizer adds requestContext.authorizer.jwt with the verified claims, every value a string.
EVENT_KEYS = {"version", "routeKey", "rawPath", "rawQueryString", "headers", "requestContext", "isBase64Encoded"}
CONTEXT_KEYS = {"accountId", "apiId", "domainName", "domainPrefix", "http", "requestId", "routeKey", "stage",
                "time", "timeEpoch"}
AUTHORIZED_CONTEXT_KEYS = CONTEXT_KEYS | {"authorizer"}
HTTP_KEYS = {"method", "path", "protocol", "sourceIp", "userAgent"}


class FakeContext:
    function_name = "turnout-api"
    memory_limit_in_mb = 512
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:turnout-api"
    aws_request_id = "6f0c8c3e-8d8b-4f3e-9a57-2f1d3c9b7a10"

    def get_remaining_time_in_millis(self) -> int:
        return 10_000


@dataclass
class Answer:
    status: int
    headers: dict[str, str]
    text: str

    @property
    def json(self) -> object:
        return json.loads(self.text)

    @property
    def error(self) -> dict:
        return self.json["error"]


def fixture(name: str) -> dict:
    return json.loads((FIXTURES / name).read_text())


def gateway_event(method: str, target: str, body: object = None, *, base64_body: bool = False,
                  fixture_name: str = "get_events.json", headers: dict[str, str] | None = None) -> dict:
    """A fixture with its method, path, query and body replaced the way API Gateway would fill them."""
    event = fixture(fixture_name)
    path, _, raw_query = target.partition("?")
    event["rawPath"] = path
    event["rawQueryString"] = raw_query
    event["requestContext"]["http"]["method"] = method
    event["requestContext"]["http"]["path"] = path
    event["requestContext"]["requestId"] = uuid.uuid4().hex
    event.pop("queryStringParameters", None)
    if raw_query:
        params: dict[str, str] = {}
        for name, value in parse_qsl(raw_query, keep_blank_values=True):
            # API Gateway v2 joins a repeated parameter's values with commas.
            params[name] = f"{params[name]},{value}" if name in params else value
        event["queryStringParameters"] = params
    event.pop("body", None)
    event["isBase64Encoded"] = False
    if body is not None:
        raw = body if isinstance(body, (str, bytes)) else json.dumps(body)
        if base64_body or isinstance(raw, bytes):
            data = raw if isinstance(raw, bytes) else raw.encode()
            event["body"] = base64.b64encode(data).decode()
            event["isBase64Encoded"] = True
        else:
            event["body"] = raw
        event["headers"]["content-length"] = str(len(raw if isinstance(raw, bytes) else raw.encode()))
    if headers:
        event["headers"].update(headers)
    return event


def invoke(event: dict) -> Answer:
    """Calls the handler and checks the answer is one the OpenAPI document allows for that route."""
    result = lambda_handler(event, FakeContext())
    assert set(result) == {"statusCode", "headers", "body", "isBase64Encoded"}
    assert result["isBase64Encoded"] is False
    answer = Answer(result["statusCode"], result["headers"], result["body"])
    if answer.status == 204:
        assert answer.text == ""
        assert "content-type" not in answer.headers
    check_documented(event, answer)
    return answer


def call(method: str, target: str, body: object = None, **options) -> Answer:
    return invoke(gateway_event(method, target, body, **options))


def check_documented(event: dict, answer: Answer) -> None:
    try:
        route, _ = routes.find(event["requestContext"]["http"]["method"], path_of(event))
    except (RouteNotFound, MethodNotAllowed):
        # No operation to check against: the error contract in the document's description applies.
        assert answer.status in (404, 405)
        assert answer.headers["content-type"] == JSON_TYPE
        assert set(answer.error) == {"code", "message"}
        return
    document = openapi.document()
    responses = document["paths"][route.template][route.method.lower()]["responses"]
    assert str(answer.status) in responses, f"{route.method} {route.template} answered an undocumented {answer.status}"
    for header in responses[str(answer.status)].get("headers", {}):
        assert header.lower() in answer.headers, f"documented header {header} missing"
    content = responses[str(answer.status)].get("content")
    if content is None:
        assert answer.text == ""
        return
    # The page and the calendar answer in their own types; everything else is JSON, in exactly this type.
    media = answer.headers["content-type"].split(";", 1)[0]
    assert media in content, f"{route.method} {route.template} answered {media}, documented {sorted(content)}"
    if media != "application/json":
        assert answer.text
        return
    assert answer.headers["content-type"] == JSON_TYPE
    schema = dict(content["application/json"]["schema"], components=document["components"])
    OAS31Validator(schema).validate(answer.json)
