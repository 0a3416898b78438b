"""The local gateway turns HTTP into the API Gateway v2 event AWS sends, and the handler's answer back into HTTP."""
from __future__ import annotations

import base64
import http.client
import json
import logging
import socket
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from ask_sdk_core.exceptions import SerializationException

from local.gateway import MAX_BODY, Gateway, LambdaFunction, build_event, http_response
from tests.fixtures.alexa import envelope

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "apigw"


# --- the event -----------------------------------------------------------------------------------


def test_event_matches_one_recorded_from_api_gateway():
    recorded = json.loads((FIXTURES / "put_signup_base64.json").read_text())
    body = base64.b64decode(recorded["body"])
    sent_by_client = [
        ("Host", "r3pmxmplak.execute-api.us-east-1.amazonaws.com"),
        ("User-Agent", "python-requests/2.32.3"),
        ("Accept", "*/*"),
        ("Content-Type", "application/octet-stream"),
        ("Content-Length", str(len(body))),
    ]
    event = build_event(method="PUT", target="/events/abc123/signups/melvin", protocol="HTTP/1.1",
                        headers=sent_by_client, body=body, source_ip="192.0.2.44", server_port=443,
                        request_id="JKJcRmPLvHcEPwQ=", now=1773119920.789,
                        domain="r3pmxmplak.execute-api.us-east-1.amazonaws.com")

    def comparable(e: dict) -> dict:
        # What cannot match a recording: ids minted per request, and https in AWS against http here.
        e = json.loads(json.dumps(e))
        for name in ("x-amzn-trace-id", "x-forwarded-proto"):
            e["headers"].pop(name)
        e["requestContext"]["apiId"] = "any"
        return e

    assert comparable(event) == comparable(recorded)


def _event(**overrides):
    request = dict(method="GET", target="/", protocol="HTTP/1.1", headers=[], body=b"", source_ip="127.0.0.1",
                   server_port=3000, request_id="r", now=0.0)
    request.update(overrides)
    return build_event(**request)


def test_repeated_headers_are_lower_cased_and_comma_joined():
    event = _event(headers=[("X-Tag", "a"), ("x-tag", "b"), ("Accept", "*/*")])
    assert event["headers"]["x-tag"] == "a,b"
    assert event["headers"]["accept"] == "*/*"
    assert all(name == name.lower() for name in event["headers"])


def test_cookies_leave_the_headers_for_their_own_list():
    event = _event(headers=[("Cookie", "a=1; b=2"), ("Cookie", "c=3")])
    assert event["cookies"] == ["a=1", "b=2", "c=3"]
    assert "cookie" not in event["headers"]


def test_query_is_raw_in_one_field_and_decoded_comma_joined_in_the_other():
    event = _event(target="/events?limit=5&tag=a&tag=b%20c&empty=")
    assert event["rawQueryString"] == "limit=5&tag=a&tag=b%20c&empty="
    assert event["queryStringParameters"] == {"limit": "5", "tag": "a,b c", "empty": ""}


def test_no_query_no_cookies_no_body_means_those_fields_are_absent():
    event = _event(target="/health")
    assert event["rawQueryString"] == ""
    assert "queryStringParameters" not in event and "cookies" not in event and "body" not in event
    assert event["isBase64Encoded"] is False


def test_path_arrives_percent_decoded_as_http_apis_deliver_it():
    event = _event(target="/events/ab%20c/signups/melvin")
    assert event["rawPath"] == event["requestContext"]["http"]["path"] == "/events/ab c/signups/melvin"


def test_request_context_carries_method_source_and_time():
    event = _event(method="DELETE", headers=[("User-Agent", "curl/8.5"), ("Host", "127.0.0.1:3000")],
                   source_ip="127.0.0.9", now=1583348638.390)
    context = event["requestContext"]
    assert context["http"] == {"method": "DELETE", "path": "/", "protocol": "HTTP/1.1", "sourceIp": "127.0.0.9",
                               "userAgent": "curl/8.5"}
    assert context["time"] == "04/Mar/2020:19:03:58 +0000"
    assert context["timeEpoch"] == 1583348638390
    assert context["domainName"] == "127.0.0.1"
    assert (context["stage"], context["routeKey"], event["routeKey"]) == ("$default", "$default", "$default")
    assert event["headers"]["x-forwarded-for"] == "127.0.0.9"


@pytest.mark.parametrize("content_type", ["application/json", "application/json; charset=utf-8", "text/plain"])
def test_text_bodies_arrive_as_text(content_type):
    event = _event(method="POST", headers=[("Content-Type", content_type)], body='{"name": "Skï"}'.encode())
    assert event["body"] == '{"name": "Skï"}'
    assert event["isBase64Encoded"] is False


@pytest.mark.parametrize("content_type", [None, "application/octet-stream", "application/x-www-form-urlencoded",
                                          "image/png"])
def test_other_bodies_arrive_base64_encoded(content_type):
    headers = [("Content-Type", content_type)] if content_type else []
    body = b"\x89PNG\x00\xff{}"
    event = _event(method="POST", headers=headers, body=body)
    assert event["isBase64Encoded"] is True
    assert base64.b64decode(event["body"]) == body


# --- the answer ----------------------------------------------------------------------------------


def test_a_result_without_status_code_is_a_json_200():
    assert http_response({"hello": "world"}) == (200, [("content-type", "application/json")], b'{"hello": "world"}')
    assert http_response("hi") == (200, [("content-type", "application/json")], b'"hi"')


def test_headers_multi_value_headers_and_cookies_all_reach_http():
    status, headers, body = http_response({
        "statusCode": 201, "headers": {"content-type": "text/plain"}, "multiValueHeaders": {"x-a": ["1", "2"]},
        "cookies": ["s=1; HttpOnly", "t=2"], "body": "made",
    })
    assert status == 201 and body == b"made"
    assert headers == [("content-type", "text/plain"), ("x-a", "1"), ("x-a", "2"),
                       ("set-cookie", "s=1; HttpOnly"), ("set-cookie", "t=2")]


def test_base64_answers_are_decoded():
    assert http_response({"statusCode": 200, "body": base64.b64encode(b"\x00\xff").decode(),
                          "isBase64Encoded": True})[2] == b"\x00\xff"


@pytest.mark.parametrize("result", [{"statusCode": "200"}, {"statusCode": 99}, {"statusCode": 200, "body": {"a": 1}}])
def test_malformed_results_are_refused(result):
    with pytest.raises(ValueError):
        http_response(result)


# --- the server, with handlers of this module standing in for the real ones ----------------------


def echo(event, context):
    """Answers with what it was given, so tests can see the event and context the gateway built."""
    seen = {"event": event, "function_name": context.function_name,
            "remaining_ms": context.get_remaining_time_in_millis(), "request_id": context.aws_request_id}
    return {"statusCode": 200, "headers": {"content-type": "application/json"}, "cookies": ["seen=1"],
            "body": json.dumps(seen)}


def fail(event, context):
    raise RuntimeError("boom")


def unreadable(request, context):
    raise SerializationException("Unable to deserialize the request")


def skill(request, context):
    return {"version": "1.0", "response": {"outputSpeech": {"type": "PlainText", "text": request["said"]}}}


def _function(handler: str) -> LambdaFunction:
    return LambdaFunction("Test", f"{__name__}.{handler}", timeout_seconds=10, memory_mb=128)


@pytest.fixture
def gateway():
    waiting: list[str] = []
    gw = Gateway(port=0, api=_function("echo"), alexa=_function("skill"), waiting_for=lambda: list(waiting))
    gw.waiting = waiting  # the test decides what is not ready
    gw.start()
    yield gw
    gw.stop()


def _request(gw, method, path, body=None, headers=None):
    connection = http.client.HTTPConnection("127.0.0.1", gw.port, timeout=10)
    connection.request(method, path, body=body, headers=headers or {})
    response = connection.getresponse()
    data = response.read()
    connection.close()
    return response, data


def _answer(conn: socket.socket) -> str:
    """Everything the server sends until it closes the connection."""
    chunks = []
    while chunk := conn.recv(65536):
        chunks.append(chunk)
    return b"".join(chunks).decode()


def test_gateway_listens_on_loopback_only(gateway):
    assert gateway._server.server_address[0] == "127.0.0.1"


def test_a_real_request_reaches_the_handler_as_an_event(gateway):
    response, data = _request(gateway, "POST", "/events/x?a=1&a=2", body=b"\x00\x01",
                              headers={"Content-Type": "application/octet-stream", "Cookie": "k=v"})
    seen = json.loads(data)
    event = seen["event"]
    assert response.status == 200
    assert response.getheader("set-cookie") == "seen=1"
    assert response.getheader("apigw-requestid") == event["requestContext"]["requestId"]
    assert event["rawPath"] == "/events/x" and event["queryStringParameters"] == {"a": "1,2"}
    assert event["cookies"] == ["k=v"]
    assert base64.b64decode(event["body"]) == b"\x00\x01" and event["isBase64Encoded"] is True
    assert event["requestContext"]["http"]["method"] == "POST"
    assert seen["function_name"] == "turnout-local-Test"
    assert 0 < seen["remaining_ms"] <= 10_000
    assert seen["request_id"]


def test_a_handler_that_raises_is_api_gateways_500(gateway):
    gateway.api = _function("fail")
    response, data = _request(gateway, "GET", "/events")
    assert response.status == 500
    assert json.loads(data) == {"message": "Internal Server Error"}


def test_health_waits_for_every_component_then_asks_the_handler(gateway):
    gateway.waiting.append("broker")
    response, data = _request(gateway, "GET", "/health")
    assert response.status == 503
    assert json.loads(data)["error"]["code"] == "NotReady"
    assert "broker" in json.loads(data)["error"]["message"]
    gateway.waiting.clear()
    response, data = _request(gateway, "GET", "/health")
    assert response.status == 200
    assert json.loads(data)["event"]["rawPath"] == "/health"


def test_a_host_header_no_url_could_hold_is_answered_400(gateway):
    for host in ("[evil]", "x:port"):
        with socket.create_connection(("127.0.0.1", gateway.port), timeout=10) as conn:
            conn.sendall(f"GET /health HTTP/1.1\r\nHost: {host}\r\n\r\n".encode())
            answer = _answer(conn)
        assert answer.startswith("HTTP/1.1 400") and '"code": "BadRequest"' in answer, host


def test_the_client_s_host_header_does_not_name_the_api(gateway):
    from api.request import origin

    response, data = _request(gateway, "GET", "/events/x/calendar.ics", headers={"Host": "evil.example:666"})
    event = json.loads(data)["event"]
    assert response.status == 200 and event["headers"]["host"] == "evil.example:666"
    assert event["requestContext"]["domainName"] == "127.0.0.1"
    assert origin(event) == f"http://127.0.0.1:{gateway.port}"  # what the calendar file's URL starts with


def test_a_client_that_stalls_is_dropped():
    impatient = Gateway(port=0, api=_function("echo"), alexa=_function("skill"), read_timeout=0.5)
    impatient.start()
    try:
        started = time.monotonic()
        with socket.create_connection(("127.0.0.1", impatient.port), timeout=10) as conn:
            conn.sendall(b"POST /events HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n" + b"x" * 10)
            answer = _answer(conn)  # the other 90 bytes never come
        assert answer == "" and time.monotonic() - started < 5
        response, _ = _request(impatient, "GET", "/health")
        assert response.status == 200
    finally:
        impatient.stop()


def test_oversized_body_is_413_without_reading_it(gateway):
    with socket.create_connection(("127.0.0.1", gateway.port), timeout=10) as conn:
        conn.sendall(f"POST /events HTTP/1.1\r\nHost: x\r\nContent-Length: {MAX_BODY + 1}\r\n\r\n".encode())
        conn.sendall(b"x" * 65536)  # a start of the body; the rest never comes, and the answer must not wait for it
        answer = _answer(conn)
    assert answer.startswith("HTTP/1.1 413")
    assert '"code": "PayloadTooLarge"' in answer


def test_oversized_body_is_refused_before_100_continue(gateway):
    with socket.create_connection(("127.0.0.1", gateway.port), timeout=10) as conn:
        conn.sendall(f"PUT /events/x HTTP/1.1\r\nHost: x\r\nContent-Length: {5 * MAX_BODY}\r\n"
                     "Expect: 100-continue\r\n\r\n".encode())
        answer = _answer(conn)
    assert answer.startswith("HTTP/1.1 413")
    assert "100 Continue" not in answer


def test_oversized_chunked_body_is_413(gateway):
    chunk = b"x" * 65536
    with socket.create_connection(("127.0.0.1", gateway.port), timeout=10) as conn:
        conn.sendall(b"POST /events HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n")
        for _ in range(MAX_BODY // len(chunk) + 1):
            conn.sendall(b"%x\r\n%s\r\n" % (len(chunk), chunk))
        answer = _answer(conn)
    assert answer.startswith("HTTP/1.1 413")


def test_a_body_of_exactly_the_limit_is_accepted(gateway):
    response, data = _request(gateway, "POST", "/events", body=b"x" * MAX_BODY, headers={"Content-Type": "text/plain"})
    assert response.status == 200
    assert len(json.loads(data)["event"]["body"]) == MAX_BODY


def test_chunked_bodies_are_reassembled(gateway):
    connection = http.client.HTTPConnection("127.0.0.1", gateway.port, timeout=10)
    # An iterable body without a length: http.client sends it chunked.
    connection.request("POST", "/events", body=iter([b'{"a":', b" 1}"]), headers={"Content-Type": "application/json"})
    event = json.loads(connection.getresponse().read())["event"]
    connection.close()
    assert event["body"] == '{"a": 1}'


def test_alexa_requests_reach_the_skill(gateway):
    response, data = _request(gateway, "POST", "/alexa", body=json.dumps({"said": "hello"}),
                              headers={"Content-Type": "application/json"})
    assert response.status == 200
    assert json.loads(data)["response"]["outputSpeech"]["text"] == "hello"


@pytest.mark.parametrize("body", [b"not json", b"[1, 2]", b"", b'"text"'])
def test_alexa_refuses_a_body_that_is_not_a_json_object(gateway, body):
    response, data = _request(gateway, "POST", "/alexa", body=body, headers={"Content-Type": "application/json"})
    assert response.status == 400
    assert json.loads(data)["error"]["code"] == "InvalidInput"


def test_alexa_skill_failure_is_a_500_in_the_error_shape(gateway):
    gateway.alexa = _function("fail")
    response, data = _request(gateway, "POST", "/alexa", body=b"{}", headers={"Content-Type": "application/json"})
    assert response.status == 500
    assert set(json.loads(data)["error"]) == {"code", "message"}


def test_a_body_the_skill_cannot_read_as_an_alexa_request_is_400(gateway):
    gateway.alexa = _function("unreadable")
    response, data = _request(gateway, "POST", "/alexa", body=b'{"request": {"type": "NoSuchRequestType"}}',
                              headers={"Content-Type": "application/json"})
    assert response.status == 400 and json.loads(data)["error"]["code"] == "InvalidInput"


def _warnings(caplog) -> list[logging.LogRecord]:
    return [record for record in caplog.records if record.levelno >= logging.WARNING]


@pytest.fixture
def skill_gateway(table, monkeypatch):
    """The gateway in front of the real skill handler, which answers any skill as the local stack's does."""
    from skills import handler

    monkeypatch.setattr(handler.skill_builder, "skill_id", None)
    gw = Gateway(port=0, api=_function("echo"),
                 alexa=LambdaFunction("Skill", "skills.handler.lambda_handler", timeout_seconds=10, memory_mb=128))
    gw.start()
    yield gw
    gw.stop()


@pytest.mark.parametrize("body", [b'{"hello": 1}', b"{}", b'{"version": "1.0", "request": {"type": "NoSuchType"}}'])
def test_a_body_that_is_no_alexa_envelope_is_the_callers_400_logged_as_one_warning(skill_gateway, caplog, body):
    caplog.set_level(logging.INFO)
    response, data = _request(skill_gateway, "POST", "/alexa", body=body, headers={"Content-Type": "application/json"})
    assert response.status == 400
    assert json.loads(data)["error"]["code"] == "InvalidInput"
    warnings = _warnings(caplog)
    assert [(record.name, record.levelno) for record in warnings] == [("local.gateway", logging.WARNING)]
    assert warnings[0].exc_info is None and "\n" not in warnings[0].getMessage()


def test_a_real_envelope_for_an_intent_the_skill_does_not_know_is_still_answered_aloud(skill_gateway):
    body = envelope("help")
    body["request"]["intent"]["name"] = "SomeoneElsesIntent"
    response, data = _request(skill_gateway, "POST", "/alexa", body=json.dumps(body),
                              headers={"Content-Type": "application/json"})
    assert response.status == 200
    assert json.loads(data)["response"]["outputSpeech"]["ssml"].startswith("<speak>")


@pytest.mark.parametrize("method", ["GET", "HEAD", "PUT", "DELETE"])
def test_the_alexa_endpoint_takes_only_post(gateway, method):
    response, data = _request(gateway, method, "/alexa")
    assert response.status == 405
    assert response.getheader("allow") == "POST"
    if method != "HEAD":
        assert json.loads(data)["error"]["code"] == "MethodNotAllowed"


def _comparable(response) -> list[tuple[str, str]]:
    # Date and the request id are each answer's own.
    return sorted((name.lower(), value) for name, value in response.getheaders()
                  if name.lower() not in ("date", "apigw-requestid"))


@pytest.mark.parametrize("ready", [True, False])
def test_head_health_answers_with_gets_status_and_headers_and_no_body(gateway, ready):
    if not ready:
        gateway.waiting.append("broker")
    got, got_body = _request(gateway, "GET", "/health")
    head, head_body = _request(gateway, "HEAD", "/health")
    assert head.status == got.status == (200 if ready else 503)
    assert head_body == b"" and got_body
    assert _comparable(head) == _comparable(got)


@pytest.mark.parametrize("method", ["TRACE", "QUERY", "BREW"])
def test_any_method_reaches_the_handler_rather_than_the_servers_501(gateway, method):
    response, data = _request(gateway, method, "/events")
    assert response.status == 200
    assert json.loads(data)["event"]["requestContext"]["http"]["method"] == method


def test_a_missing_api_handler_keeps_health_at_503_and_says_why():
    gw = Gateway(port=0, api=LambdaFunction("Api", "tests.unit.no_such_module.handler", timeout_seconds=3,
                                            memory_mb=128),
                 alexa=_function("skill"), waiting_for=lambda: ["http"])
    gw.start()
    try:
        assert not gw.ready()
        response, data = _request(gw, "GET", "/health")
        assert response.status == 503
        assert "no_such_module" in json.loads(data)["error"]["message"]
    finally:
        gw.stop()


def test_handler_settings_come_from_template_yaml():
    api = LambdaFunction.from_template("ApiFunction", "unused.handler")
    assert (api.module, api.attribute) == ("api.handler", "lambda_handler")
    assert api.timeout_seconds == 10 and api.memory_mb == 512


_inside = {"now": 0, "most": 0}
_inside_lock = threading.Lock()


def slow(event, context):
    """Holds its invocation a moment and records how many ran at once."""
    with _inside_lock:
        _inside["now"] += 1
        _inside["most"] = max(_inside["most"], _inside["now"])
    time.sleep(0.05)
    with _inside_lock:
        _inside["now"] -= 1
    return {"statusCode": 200, "body": "ok"}


def test_at_most_the_functions_concurrency_runs_at_once():
    gw = Gateway(port=0, api=LambdaFunction("Api", f"{__name__}.slow", timeout_seconds=3, memory_mb=128,
                                            concurrency=2),
                 alexa=_function("skill"))
    gw.start()
    try:
        with ThreadPoolExecutor(12) as pool:
            statuses = list(pool.map(lambda _: _request(gw, "GET", "/events")[0].status, range(12)))
    finally:
        gw.stop()
    assert statuses == [200] * 12
    assert _inside["most"] == 2


def _envelope(application_id: str) -> bytes:
    return json.dumps({"said": "hi", "context": {"System": {"application": {"applicationId": application_id}}},
                       "session": {"application": {"applicationId": application_id}}}).encode()


def test_with_a_skill_id_only_that_skill_gets_through():
    gw = Gateway(port=0, api=_function("echo"), alexa=_function("skill"), skill_id="amzn1.ask.skill.ours")
    gw.start()
    try:
        ours, _ = _request(gw, "POST", "/alexa", body=_envelope("amzn1.ask.skill.ours"))
        theirs, data = _request(gw, "POST", "/alexa", body=_envelope("amzn1.ask.skill.theirs"))
    finally:
        gw.stop()
    assert ours.status == 200
    assert theirs.status == 403
    assert json.loads(data)["error"]["code"] == "Forbidden"


def test_without_a_skill_id_any_skill_gets_through(gateway):
    response, _ = _request(gateway, "POST", "/alexa", body=_envelope("amzn1.ask.skill.theirs"))
    assert response.status == 200
