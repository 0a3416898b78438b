"""API edge, step one: an API Gateway HTTP API (payload 2.0) event becomes a method, a path and checked inputs."""
from __future__ import annotations

import base64
import binascii
import json
from typing import NamedTuple

from core import access, config, validation
from core.errors import InvalidInput
from core.fields import Field

BODY_LIMIT = 16 * 1024
# Base64 grows a body by a third; anything longer than this cannot decode to BODY_LIMIT bytes.
_BASE64_LIMIT = (BODY_LIMIT + 2) // 3 * 4
STATUSES = ("going", "waitlisted")


class RequestRejected(Exception):
    """A request the edge refuses before any service runs. Like a domain error, `code` is stable."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    @property
    def code(self) -> str:
        return type(self).__name__


class RouteNotFound(RequestRejected):
    def __init__(self, path: str) -> None:
        super().__init__(f"No route for {path}.")


class MethodNotAllowed(RequestRejected):
    def __init__(self, method: str, allowed: tuple[str, ...]) -> None:
        super().__init__(f"{method} is not allowed here; use {', '.join(allowed)}.")
        self.allowed = allowed


class PayloadTooLarge(RequestRejected):
    def __init__(self) -> None:
        super().__init__(f"The body is larger than {BODY_LIMIT} bytes.")


class InvalidJson(RequestRejected):
    pass


# A NamedTuple, like core.fields.Field: built at import by every cold start.
class Body(NamedTuple):
    fields: dict[str, Field]
    optional: bool = False  # the whole body may be left out
    at_least_one: bool = False  # an empty object changes nothing and is refused


def method_of(event: dict) -> str:
    return event["requestContext"]["http"]["method"].upper()


def path_of(event: dict) -> str:
    """The route path: rawPath without a named stage's prefix (the $default stage adds none)."""
    path = event.get("rawPath") or event["requestContext"]["http"]["path"]
    stage = event["requestContext"].get("stage")
    if stage and stage != "$default":
        prefix = "/" + stage
        if path == prefix or path.startswith(prefix + "/"):
            path = path[len(prefix):] or "/"
    return path


def origin(event: dict) -> str:
    """The API's own origin as the client reached it (https://{api}.execute-api..., or the local stack's), for
    links that must be absolute. From what API Gateway adds, never from the client's Host header alone."""
    context = event["requestContext"]
    headers = event.get("headers") or {}
    scheme = "http" if headers.get("x-forwarded-proto") == "http" else "https"
    port = headers.get("x-forwarded-port", "")
    default = "80" if scheme == "http" else "443"
    suffix = f":{port}" if port.isdigit() and port != default else ""
    return f"{scheme}://{context.get('domainName') or 'localhost'}{suffix}"


def caller(event: dict) -> access.Caller:
    """Who sent the request: the claims API Gateway's JWT authorizer verified, or nobody (a public route)."""
    settings = config.settings  # looked up per request, so a test can switch modes
    if settings.auth_open:
        return access.EVERYONE
    authorizer = event["requestContext"].get("authorizer")
    jwt = authorizer.get("jwt") if isinstance(authorizer, dict) else None
    claims = jwt.get("claims") if isinstance(jwt, dict) else None
    if not isinstance(claims, dict) or not claims:
        return access.ANONYMOUS
    return access.identify(claims.get(settings.person_claim),
                           group_names(claims.get(settings.group_claim), signed_claim(event, settings.group_claim)),
                           settings.organizer_group)


def group_names(claim: object, signed: object = None) -> tuple[str, ...]:
    """A group claim's names, each exactly as the identity provider wrote it. API Gateway's JWT authorizer hands an
    array claim over as one string, "[organizers staff]", in which the one group "a organizers" and the two groups
    "a" and "organizers" look alike: the array itself is then taken from the token the authorizer verified
    (`signed`, see signed_claim), and only when it flattens to exactly that string; else the claim names no group.
    A real list (another authorizer, a test) is read as it is, and a plain string is one group's name."""
    if isinstance(claim, list):
        return tuple(name for name in claim if isinstance(name, str))
    if not isinstance(claim, str) or not claim:
        return ()
    if claim[:1] == "[" and claim[-1:] == "]":
        names = signed if isinstance(signed, list) and all(isinstance(name, str) for name in signed) else None
        return tuple(names) if names is not None and f"[{' '.join(names)}]" == claim else ()
    return (claim,)


def signed_claim(event: dict, name: str) -> object:
    """One claim as written in the bearer token of the Authorization header, which is the token API Gateway's JWT
    authorizer took from there and verified before this function ran (its identity source); None when unreadable.
    Never read on its own: group_names uses it only where it agrees with the verified claims."""
    header = (event.get("headers") or {}).get("authorization")
    scheme, _, token = header.strip().partition(" ") if isinstance(header, str) else ("", "", "")
    if scheme.lower() != "bearer":
        token = scheme  # a bare token, which the authorizer takes too
    parts = token.strip().split(".")
    if len(parts) != 3:  # two headers joined by a comma ("a,b") have more parts
        return None
    try:
        payload = json.loads(base64.urlsafe_b64decode(parts[1] + "=" * (-len(parts[1]) % 4)))
    except (ValueError, binascii.Error):
        return None
    return payload.get(name) if isinstance(payload, dict) else None


def query(event: dict, allowed: tuple[str, ...]) -> dict[str, str]:
    """Query parameters as API Gateway decoded them (repeats arrive joined by commas, and so fail their check)."""
    params = event.get("queryStringParameters") or {}
    for name in params:
        if name not in allowed:
            # A misspelt `limt` silently ignored would return a page the caller did not ask for.
            raise InvalidInput(f"Unknown query parameter {name!r}.", name)
    return params


def limit(params: dict[str, str]) -> int | None:
    raw = params.get("limit")
    # The default is never used here: without a limit the service picks its own page size.
    return None if raw is None else validation.page_size(raw, default=0)


def cursor(params: dict[str, str]) -> str | None:
    raw = params.get("cursor")
    # An empty `cursor=` is the first page; anything else is the service's to decode, and to refuse.
    return raw or None


def status(params: dict[str, str]) -> str | None:
    raw = params.get("status")
    if raw is None:
        return None
    if raw not in STATUSES:
        raise InvalidInput("status is 'going' or 'waitlisted'.", "status")
    return raw


def json_body(event: dict, body: Body) -> dict:
    """The body as checked values keyed like the service's own arguments."""
    raw = event.get("body")
    if not raw:
        if body.optional:
            return {}
        raise InvalidJson("This request needs a JSON object as its body.")
    parsed = _parsed(_text(raw, bool(event.get("isBase64Encoded"))))
    if not isinstance(parsed, dict):
        raise InvalidJson("The body must be a JSON object.")
    for name in parsed:
        if name not in body.fields:
            raise InvalidInput(f"Unknown field {name!r}; this body takes {', '.join(body.fields)}.", name)
    checked = {}
    for name, spec in body.fields.items():
        if name in parsed:
            checked[name] = _checked(name, spec, parsed[name])
        elif spec.required:
            raise InvalidInput(f"{name} is required.", name)
    if body.at_least_one and not checked:
        raise InvalidInput(f"Give at least one of {', '.join(body.fields)}.")
    return checked


def _text(raw: str, is_base64: bool) -> str:
    if is_base64:
        if len(raw) > _BASE64_LIMIT:
            raise PayloadTooLarge()
        try:
            data = base64.b64decode(raw, validate=True)
        except (binascii.Error, ValueError):
            raise InvalidJson("The body is marked base64 but does not decode.") from None
    else:
        # A character is at least one byte, so this refuses a huge body before encoding it.
        if len(raw) > BODY_LIMIT:
            raise PayloadTooLarge()
        try:
            data = raw.encode("utf-8")
        except UnicodeEncodeError:
            raise InvalidJson("The body is not valid UTF-8.") from None
    if len(data) > BODY_LIMIT:
        raise PayloadTooLarge()
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise InvalidJson("The body is not valid UTF-8.") from None


def _parsed(text: str) -> object:
    try:
        return _DECODER.decode(text)
    except RecursionError:
        raise InvalidJson("The body is nested too deeply.") from None
    except ValueError as err:
        raise InvalidJson(f"The body is not valid JSON: {err}.") from None


def _unique_keys(pairs: list[tuple[str, object]]) -> dict:
    # Python keeps the last of two equal keys; another reader may keep the first. Refuse the ambiguity.
    found = dict(pairs)
    if len(found) != len(pairs):
        seen = set()
        for key, _ in pairs:
            if key in seen:
                raise InvalidJson(f"The key {key!r} appears twice in one object.")
            seen.add(key)
    return found


def _no_constant(name: str) -> object:
    raise InvalidJson(f"{name} is not a JSON number.")


# Built once: json.loads with hooks builds a new decoder for every body.
_DECODER = json.JSONDecoder(object_pairs_hook=_unique_keys, parse_constant=_no_constant)


def _checked(name: str, spec: Field, value: object) -> object:
    if value is None:
        if not spec.nullable:
            raise InvalidInput(f"{name} must not be null.", name)
        return None
    return _CHECKS[spec.kind](name, spec, value)


def _check_text(name: str, spec: Field, value: object) -> str | None:
    return validation.text(value, name, max_length=spec.max_length, required=not spec.nullable,
                           multiline=spec.multiline)


def _check_time(name: str, spec: Field, value: object) -> str:
    # Only the syntax is checked here: a time without an offset is read in the event's own time
    # zone, which the service knows. The service gets the text as sent.
    validation.instant(value, name, "UTC")
    assert isinstance(value, str)  # validation.instant refuses anything else
    return value


def _check_timezone(name: str, spec: Field, value: object) -> str:
    return validation.timezone(value)


def _check_capacity(name: str, spec: Field, value: object) -> int | None:
    return validation.capacity(value)


def _check_seat_blocks(name: str, spec: Field, value: object) -> int | None:
    return validation.seat_blocks(value, None)  # against the capacity: the service, which has both


def _check_reminders(name: str, spec: Field, value: object) -> list[int]:
    return list(validation.reminders(value))


def _check_guests(name: str, spec: Field, value: object) -> int:
    return validation.guests(value)


def _check_flag(name: str, spec: Field, value: object) -> bool:
    if not isinstance(value, bool):
        raise InvalidInput(f"{name} must be true or false.", name)
    return value


def _check_handle(name: str, spec: Field, value: object) -> str:
    return validation.handle(value, name)


def _check_event_id(name: str, spec: Field, value: object) -> str:
    return validation.event_id(value)


def _check_series_id(name: str, spec: Field, value: object) -> str:
    return validation.series_id(value)


def _check_repeat(name: str, spec: Field, value: object) -> dict:
    # Its parts are checked against the first occurrence's date, which the service reads from starts_at.
    if not isinstance(value, dict):
        raise InvalidInput("repeat is an object such as {\"every\": \"week\", \"count\": 10}.", name)
    return value


def _check_clock_time(name: str, spec: Field, value: object) -> str:
    return validation.clock_time(value, name)


def _check_minutes(name: str, spec: Field, value: object) -> int | None:
    return validation.minutes(value, name)


def _check_email(name: str, spec: Field, value: object) -> str | None:
    return validation.email(value)


def _check_phone(name: str, spec: Field, value: object) -> str | None:
    return validation.phone(value)


_CHECKS = {
    "text": _check_text,
    "time": _check_time,
    "timezone": _check_timezone,
    "capacity": _check_capacity,
    "seat_blocks": _check_seat_blocks,
    "guests": _check_guests,
    "reminders": _check_reminders,
    "flag": _check_flag,
    "handle": _check_handle,
    "event_id": _check_event_id,
    "series_id": _check_series_id,
    "repeat": _check_repeat,
    "clock_time": _check_clock_time,
    "minutes": _check_minutes,
    "email": _check_email,
    "phone": _check_phone,
}
