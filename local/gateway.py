"""Local stack: API Gateway's stand-in - a real HTTP request in, the Lambda event AWS would deliver, HTTP out."""
from __future__ import annotations

import base64
import json
import logging
import secrets
import socket
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

from ask_sdk_core.exceptions import SerializationException

from local.authorizer import Authorizer, Refused
from local.runtime import ACCOUNT_ID, LambdaFunction
from local.serving import ServedInThread

HOST = "127.0.0.1"
MAX_BODY = 1024 * 1024
# A client that stops sending (a stalled body, a silent keep-alive connection) is dropped after this long, so it
# cannot hold one of the server's threads for good.
READ_TIMEOUT_SECONDS = 30
API_ID = "local"
log = logging.getLogger(__name__)

# API Gateway HTTP APIs hand these bodies over as text; every other body, and one without a content type,
# arrives base64-encoded (verified against AWS by others: even form-encoded bodies, which curl -d sends).
TEXT_TYPES = frozenset({"application/json", "application/xml", "application/javascript"})

_INTERNAL_ERROR = (500, [("content-type", "application/json")], b'{"message":"Internal Server Error"}')
_UNAUTHORIZED = b'{"message":"Unauthorized"}'


class BodyTooLarge(Exception):
    pass


class BadRequest(Exception):
    pass


def build_event(*, method: str, target: str, protocol: str, headers: list[tuple[str, str]], body: bytes,
                source_ip: str, server_port: int, request_id: str, now: float, domain: str = HOST) -> dict[str, Any]:
    """The API Gateway HTTP API (payload format 2.0) event for one request; `headers` as received, in order.
    `domain` is the API's own name (API Gateway's domainName: the API's, never the client's Host header)."""
    raw_path, _, raw_query = target.partition("?")
    raw_path = raw_path.split("#", 1)[0]
    joined: dict[str, str] = {}
    cookies: list[str] = []
    for name, value in headers:
        name = name.lower()
        if name == "cookie":  # format 2.0 moves cookies out of the headers into their own list
            cookies.extend(part.strip() for part in value.split(";") if part.strip())
        else:
            joined[name] = f"{joined[name]},{value}" if name in joined else value
    # What API Gateway adds on its way in.
    forwarded_for = joined.get("x-forwarded-for")
    joined["x-forwarded-for"] = f"{forwarded_for}, {source_ip}" if forwarded_for else source_ip
    joined["x-forwarded-port"] = str(server_port)
    joined["x-forwarded-proto"] = "http"
    joined.setdefault("x-amzn-trace-id", f"Root=1-{int(now):08x}-{secrets.token_hex(12)}")
    # HTTP APIs hand over the path percent-decoded, the raw query string as sent, and its values decoded.
    path = unquote(raw_path) or "/"
    event: dict[str, Any] = {
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": path,
        "rawQueryString": raw_query,
        "headers": joined,
        "requestContext": {
            "accountId": ACCOUNT_ID,
            "apiId": API_ID,
            "domainName": domain,
            "domainPrefix": domain.split(".", 1)[0],
            "http": {
                "method": method,
                "path": path,
                "protocol": protocol,
                "sourceIp": source_ip,
                "userAgent": joined.get("user-agent", ""),
            },
            "requestId": request_id,
            "routeKey": "$default",
            "stage": "$default",
            "time": time.strftime("%d/%b/%Y:%H:%M:%S +0000", time.gmtime(now)),
            "timeEpoch": int(now * 1000),
        },
        "isBase64Encoded": False,
    }
    if cookies:
        event["cookies"] = cookies
    if raw_query:
        parameters: dict[str, str] = {}
        for name, value in parse_qsl(raw_query, keep_blank_values=True):
            parameters[name] = f"{parameters[name]},{value}" if name in parameters else value
        event["queryStringParameters"] = parameters
    if body:
        if _is_text(joined.get("content-type", "")):
            try:
                event["body"] = body.decode("utf-8")
            except UnicodeDecodeError:
                event["body"], event["isBase64Encoded"] = base64.b64encode(body).decode(), True
        else:
            event["body"], event["isBase64Encoded"] = base64.b64encode(body).decode(), True
    return event


def _is_text(content_type: str) -> bool:
    media_type = content_type.split(";", 1)[0].strip().lower()
    return media_type.startswith("text/") or media_type in TEXT_TYPES


def http_response(result: object) -> tuple[int, list[tuple[str, str]], bytes]:
    """The HTTP answer API Gateway makes of a handler's result (format 2.0); ValueError for a malformed one."""
    if not (isinstance(result, dict) and "statusCode" in result):
        # Format 2.0: a result without statusCode is taken as the JSON body of a 200.
        return 200, [("content-type", "application/json")], json.dumps(result).encode()
    status = result["statusCode"]
    if not isinstance(status, int) or isinstance(status, bool) or not 100 <= status <= 599:
        raise ValueError(f"statusCode must be an HTTP status, got {status!r}")
    headers = [(str(name), str(value)) for name, value in (result.get("headers") or {}).items()]
    for name, values in (result.get("multiValueHeaders") or {}).items():
        headers.extend((str(name), str(value)) for value in values)
    headers.extend(("set-cookie", str(cookie)) for cookie in result.get("cookies") or [])
    body = result.get("body")
    if body is None:
        body = ""
    if not isinstance(body, str):
        raise ValueError(f"body must be a string, got {type(body).__name__}")
    data = base64.b64decode(body) if result.get("isBase64Encoded") else body.encode("utf-8")
    return status, headers, data


def _error(status: int, code: str, message: str, field: str | None = None) -> tuple[int, list[tuple[str, str]], bytes]:
    detail = {"code": code, "message": message, **({"field": field} if field else {})}
    body = json.dumps({"error": detail}).encode()
    return status, [("content-type", "application/json")], body


class Gateway:
    """The stack's HTTP component: the JSON API and, at POST /alexa, the Alexa skill, on one loopback port.

    `waiting_for` is the stack's readiness: the names of components not ready yet. In AWS the API handler
    answers GET /health itself; here the gateway answers 503 until every component is ready.
    With an `authorizer`, the API's routes sit behind it as template.yaml puts them behind the JWT authorizer;
    without one (open mode) every request reaches the handler as it came.
    """

    name = "http"

    def __init__(self, *, port: int, api: LambdaFunction, alexa: LambdaFunction,
                 waiting_for: Callable[[], list[str]] = list, skill_id: str | None = None,
                 authorizer: Authorizer | None = None, read_timeout: float = READ_TIMEOUT_SECONDS):
        self.api = api
        self.read_timeout = read_timeout
        self.alexa = alexa
        self.skill_id = skill_id
        self.authorizer = authorizer
        self.waiting_for = waiting_for
        try:
            self._server = _Server((HOST, port), _RequestHandler)
        except OSError as err:
            raise OSError(err.errno, f"cannot listen on {HOST}:{port} ({err.strerror}); "
                                     "set TURNOUT_HTTP_PORT to use another port") from None
        self._server.gateway = self
        self.port = self._server.server_port
        self.url = f"http://{HOST}:{self.port}"
        self._served = ServedInThread(self._server, "http")

    def start(self) -> None:
        try:
            self.api.load()
        except Exception:
            # Reported by ready() and /health; the gateway still serves, so the reason is visible.
            log.exception("The API handler could not be loaded")
        try:
            self.alexa.load()
        except Exception:
            log.exception("The Alexa skill handler could not be loaded")
        self._served.start()

    def stop(self) -> None:
        self._served.stop()

    def ready(self) -> bool:
        return self._served.serving() and self.api.loaded() and self.alexa.loaded()

    def describe(self) -> str:
        return f"JSON API          {self.url}   and the Alexa skill at POST {self.url}/alexa"

    def not_ready(self) -> list[str]:
        """What keeps /health at 503, with the reason where the gateway knows one."""
        waiting = []
        for name in self.waiting_for():
            if name == self.name:
                problems = [f.problem for f in (self.api, self.alexa) if f.problem]
                waiting.append(f"{name} ({'; '.join(problems)})" if problems else name)
            else:
                waiting.append(name)
        return waiting

    def serve(self, method: str, target: str, event: dict[str, Any]) -> tuple[int, list[tuple[str, str]], bytes]:
        path = event["rawPath"]
        if path == "/health":
            if method == "HEAD":
                # Probes (curl -I, load balancers) ask with HEAD; the API routes GET /health, and _send leaves
                # the body out of a HEAD answer.
                method = event["requestContext"]["http"]["method"] = "GET"
            waiting = self.not_ready()
            if waiting:
                return _error(503, "NotReady", "Not ready yet: " + ", ".join(waiting))
        if path == "/alexa":
            if method != "POST":
                status, headers, body = _error(405, "MethodNotAllowed", f"{method} is not allowed here; use POST.")
                return status, [*headers, ("allow", "POST")], body
            return self._serve_alexa(event)
        if self.authorizer is not None:
            try:
                self._authorize(method, event)
            except Refused as refusal:
                # API Gateway's own answer: the function is never invoked.
                return 401, [("content-type", "application/json"), ("www-authenticate", refusal.challenge)], \
                    _UNAUTHORIZED
        try:
            return http_response(self.api.invoke(event))
        except Exception:
            # What API Gateway answers when the function fails or returns something it cannot use.
            log.exception("The API handler failed on %s %s", method, target)
            return _INTERNAL_ERROR

    def _authorize(self, method: str, event: dict[str, Any]) -> None:
        """A public route gets its own route key and no claims; any other request needs a token that verifies."""
        assert self.authorizer is not None  # called only when the gateway checks tokens
        route_key = self.authorizer.public_route(method, event["rawPath"])
        if route_key is not None:
            event["routeKey"] = event["requestContext"]["routeKey"] = route_key
        else:
            event["requestContext"]["authorizer"] = self.authorizer.authorize(event["headers"])

    def _serve_alexa(self, event: dict[str, Any]) -> tuple[int, list[tuple[str, str]], bytes]:
        raw = event.get("body", "")
        try:
            request = json.loads(base64.b64decode(raw) if event["isBase64Encoded"] else raw)
        except ValueError:
            request = None
        if not isinstance(request, dict):
            log.warning("Refused a POST /alexa body that is not a JSON object (400)")
            return _error(400, "InvalidInput", "The Alexa request must be a JSON object.")
        if self.skill_id is not None and _application_id(request) != self.skill_id:
            # In AWS, Lambda itself refuses: the function's permission names one skill (EventSourceToken).
            return _error(403, "Forbidden", "This endpoint answers only the skill TURNOUT_SKILL_ID names.")
        try:
            answer = self.alexa.invoke(request)
            body = json.dumps(answer).encode()
        except SerializationException as error:
            # The skill cannot read it as an Alexa request at all (no request in it, an unknown request type):
            # the caller's mistake, so a warning without a traceback.
            log.warning("Refused a POST /alexa body the skill cannot read (400): %s", error)
            return _error(400, "InvalidInput", "The body is not an Alexa request this skill can read.")
        except Exception:
            # Alexa would see a failed invocation; the log says why.
            log.exception("The Alexa skill handler failed")
            return _error(500, "InternalError", "The skill failed to handle the request.")
        return 200, [("content-type", "application/json")], body


def _application_id(request: dict[str, Any]) -> object:
    for path in (("context", "System", "application"), ("session", "application")):
        node: object = request
        for key in path:
            node = node.get(key) if isinstance(node, dict) else None
        if isinstance(node, dict) and "applicationId" in node:
            return node["applicationId"]
    return None


class _Server(ThreadingHTTPServer):
    # socketserver's default backlog of 5 drops connections when a few dozen clients arrive at once;
    # their SYNs are retried a second or more later, or the connection is reset.
    request_queue_size = 128
    daemon_threads = True
    gateway: Gateway


# http.server rather than werkzeug (which serves the stack's other two): werkzeug answers "100 Continue" before the
# application sees a request, so a body over MAX_BODY would be sent in full before its 413.
class _RequestHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as API Gateway offers
    # Buffered, so head and body leave in one write: two small writes on a kept-alive connection meet
    # Nagle's algorithm and delayed ACKs, and each answer would wait ~40 ms.
    wbufsize = -1
    server: _Server  # the server that made this handler (socketserver types it as any BaseServer)

    def setup(self) -> None:
        # Each socket read waits this long at most; http.server closes the connection when one times out.
        # typeshed: StreamRequestHandler.timeout is a ClassVar, but setup() reads it from the instance.
        self.timeout = self.server.gateway.read_timeout  # type: ignore[misc]
        super().setup()

    def version_string(self) -> str:
        return "turnout-local"

    def do_GET(self) -> None:
        self._handle()

    do_HEAD = do_POST = do_PUT = do_PATCH = do_DELETE = do_OPTIONS = do_GET

    def __getattr__(self, name: str) -> Any:
        # Any other method (TRACE, QUERY, made-up ones) reaches the handler too, as API Gateway's $default
        # route passes it on, and gets the API's own 405 instead of http.server's 501 page.
        if name.startswith("do_"):
            return self.do_GET
        raise AttributeError(name)

    def handle_expect_100(self) -> bool:
        # Refuse before the client sends the body at all (curl asks first for bodies over 1 MiB).
        if self._declared_length() > MAX_BODY:
            self._refuse_too_large()
            return False
        return super().handle_expect_100()

    def _handle(self) -> None:
        started = time.time()
        try:
            _check_host(self.headers.get("Host", ""))
            body = self._read_body()
        except BodyTooLarge:
            self._refuse_too_large()
            return
        except BadRequest as err:
            self.close_connection = True
            self._send(*_error(400, "BadRequest", str(err)), request_id=_request_id())
            return
        gateway = self.server.gateway
        request_id = _request_id()
        event = build_event(
            method=self.command, target=self.path, protocol=self.request_version,
            headers=list(self.headers.items()), body=body, source_ip=self.client_address[0],
            server_port=self.server.server_port, request_id=request_id, now=started,
        )
        self._send(*gateway.serve(self.command, self.path, event), request_id=request_id)

    def _declared_length(self) -> int:
        try:
            return int(self.headers.get("Content-Length") or 0)
        except ValueError:
            return 0

    def _read_body(self) -> bytes:
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            return self._read_chunked()
        raw_length = self.headers.get("Content-Length")
        if raw_length is None:
            return b""
        try:
            length = int(raw_length)
        except ValueError:
            raise BadRequest("Content-Length is not a number.") from None
        if length < 0:
            raise BadRequest("Content-Length is negative.")
        if length > MAX_BODY:
            raise BodyTooLarge
        return self.rfile.read(length)

    def _read_chunked(self) -> bytes:
        chunks: list[bytes] = []
        total = 0
        while True:
            line = self.rfile.readline(1024)
            try:
                size = int(line.split(b";", 1)[0].strip(), 16)
            except ValueError:
                raise BadRequest("Malformed chunked body.") from None
            if size == 0:
                while self.rfile.readline(1024) not in (b"\r\n", b"\n", b""):
                    pass  # trailers
                return b"".join(chunks)
            total += size
            if total > MAX_BODY:
                raise BodyTooLarge
            chunks.append(self.rfile.read(size))
            self.rfile.readline(1024)  # the CRLF after each chunk

    def _refuse_too_large(self) -> None:
        self.close_connection = True
        self._send(*_error(413, "PayloadTooLarge", f"The request body is larger than {MAX_BODY} bytes."),
                   request_id=_request_id())
        # The unread body is still arriving. Closing now would reset the connection, and the client could
        # lose the 413 before reading it; so stop writing, then discard what comes, for a moment only.
        try:
            self.connection.shutdown(socket.SHUT_WR)
            self.connection.settimeout(1.0)
            deadline = time.monotonic() + 2.0
            while time.monotonic() < deadline and self.connection.recv(65536):
                pass
        except OSError:
            pass

    def _send(self, status: int, headers: list[tuple[str, str]], body: bytes, *, request_id: str) -> None:
        self.send_response(status)
        for name, value in headers:
            # Framing is this server's business, and send_response has sent Date and Server already.
            if name.lower() not in ("content-length", "connection", "transfer-encoding", "date", "server"):
                self.send_header(name, value)
        self.send_header("apigw-requestid", request_id)
        self.send_header("Content-Length", str(len(body)))
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)
        self.wfile.flush()

    def log_message(self, format: str, *args: Any) -> None:
        log.info("%s %s", self.client_address[0], format % args)


def _check_host(host: str) -> None:
    """A Host header no URL could hold ("[evil]") is the client's mistake; raises BadRequest."""
    try:
        parts = urlsplit("//" + host)
        _ = (parts.hostname, parts.port)  # each raises ValueError for what it cannot read
    except ValueError:
        raise BadRequest("The Host header is malformed.") from None


def _request_id() -> str:
    # The shape of API Gateway's request ids, e.g. "JKJcRmPLvHcEPwQ=".
    return base64.b64encode(secrets.token_bytes(11)).decode()

