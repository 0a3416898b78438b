"""The web page and calendar routes on moto in-process: the page's files with their types and cache rules, and each
event's iCalendar file, parsed back with icalendar."""
from __future__ import annotations

import html
import json
import re
from datetime import datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from icalendar import Calendar

from api import web
from core import config, fields, validation
from core.values import ASSUMED_LENGTH
from tests.support import calendar_check
from tests.support.api import call, gateway_event, invoke
from tests.support.clock import PINNED_AT

ORIGIN = "https://r3pmxmplak.execute-api.us-east-1.amazonaws.com"  # the fixture's domain, as API Gateway gives it


def _at(days: float, zone: str) -> datetime:
    return (datetime.now(timezone.utc) + timedelta(days=days)).astimezone(ZoneInfo(zone)).replace(second=0,
                                                                                                 microsecond=0)


def new_event(**fields) -> dict:
    body = {"name": "Ski trip", "starts_at": _at(3, "Europe/Oslo").isoformat(), "timezone": "Europe/Oslo"} | fields
    answer = call("POST", "/events", body)
    assert answer.status == 201, answer.text
    return answer.json


def calendar_of(event_id: str):
    answer = call("GET", f"/events/{event_id}/calendar.ics")
    assert answer.status == 200, answer.text
    assert answer.headers["content-type"] == "text/calendar; charset=utf-8"
    assert answer.headers["content-disposition"] == f'attachment; filename="turnout-{event_id}.ics"'
    assert "\r\n" in answer.text  # RFC 5545 lines end in CRLF
    parsed = Calendar.from_ical(answer.text)
    (entry,) = parsed.walk("VEVENT")
    return parsed, entry


# --- the page -----------------------------------------------------------------------------------------


def test_the_page_is_html_asked_for_again_each_time_and_names_its_files_by_version():
    answer = call("GET", "/")
    assert answer.status == 200
    assert answer.headers["content-type"] == "text/html; charset=utf-8"
    assert answer.headers["cache-control"] == "no-cache"
    assert "default-src 'self'" in answer.headers["content-security-policy"]
    assert answer.headers["x-content-type-options"] == "nosniff"
    assert web.VERSION_MARK not in answer.text
    assert f'src="/web/{web.version()}/app.js"' in answer.text
    assert f'href="/web/{web.version()}/style.css"' in answer.text


@pytest.mark.parametrize("auth_open, mode", [(True, "open"), (False, "checked")])
def test_the_page_says_whether_tokens_are_checked(monkeypatch, auth_open, mode):
    monkeypatch.setattr(config, "settings", config.settings._replace(auth_open=auth_open))
    page = call("GET", "/").text
    assert f'<meta name="turnout-mode" content="{mode}">' in page and web.MODE_MARK not in page


def test_every_file_the_page_names_is_served_with_its_type_and_cached_under_the_current_version():
    page = call("GET", "/").text
    named = set(re.findall(r'(?:src|href)="/web/[0-9a-f]+/([^"]+)"', page))
    scripts = {name for name in web.files() if name.endswith(".js")}
    for script in scripts:
        named |= set(re.findall(r'from "\./([a-z0-9-]+\.js)"', web.files()[script].decode()))
    assert {"app.js", "api.js", "style.css", "icon.svg"} <= named
    assert named <= set(web.files()), "the page names a file web/ does not have"
    types = {".js": "text/javascript; charset=utf-8", ".css": "text/css; charset=utf-8", ".svg": "image/svg+xml"}
    for name in named:
        answer = call("GET", f"/web/{web.version()}/{name}")
        assert answer.status == 200, name
        assert answer.headers["content-type"] == types[name[name.rindex("."):]]
        assert answer.headers["cache-control"] == "public, max-age=31536000, immutable"
        assert answer.text.encode() == web.files()[name]


def test_a_file_asked_for_under_another_version_is_todays_and_not_cached():
    stale = "0" if web.version() != "0" else "1"
    answer = call("GET", f"/web/{stale}/app.js")
    assert answer.status == 200 and answer.headers["cache-control"] == "no-cache"


def test_no_file_outside_the_pages_own_is_served():
    missing = call("GET", f"/web/{web.version()}/nothing.js")
    assert (missing.status, missing.error["code"]) == (404, "AssetNotFound")
    for name in ("index.html", "..%2Fapi%2Fhandler.py", "app.py", "APP.JS"):
        answer = call("GET", f"/web/{web.version()}/{name}")
        assert answer.status in (400, 404), name
        assert answer.error["code"] in ("InvalidInput", "AssetNotFound"), name
    assert call("GET", "/web/not-hex/app.js").error == {
        "code": "InvalidInput", "message": "version is 1 to 16 lowercase hex digits.", "field": "version"}


def test_the_page_fetches_nothing_from_outside_the_stack():
    for name, data in web.files().items():
        text = data.decode()
        assert not re.search(r"(?:src|href)=\"(?:https?:)?//", text), name
        assert not re.search(r"(?:fetch|import)\s*\(?\s*[\"'`](?:https?:)?//", text), name


# --- the calendar file ----------------------------------------------------------------------------------


def test_the_calendar_file_holds_the_event_in_its_own_zone(table, pinned_clock):
    starts = _at(3, "Europe/Oslo")
    event = new_event(starts_at=starts.isoformat(), ends_at=(starts + timedelta(hours=9)).isoformat(),
                      location="Hemsedal, Norway", description="Bus at 7; bring skis.\nLunch, included.",
                      capacity=12)
    parsed, entry = calendar_of(event["event_id"])
    assert parsed["version"] == "2.0" and parsed["prodid"].startswith("-//Turnout//")
    assert str(entry["uid"]) == f"{event['event_id']}@turnout"
    assert entry["dtstart"].params["TZID"] == "Europe/Oslo"
    assert entry.decoded("dtstart") == starts and entry.decoded("dtend") == starts + timedelta(hours=9)
    assert str(entry["summary"]) == "Ski trip"
    assert str(entry["location"]) == "Hemsedal, Norway"
    assert str(entry["description"]) == "Bus at 7; bring skis.\nLunch, included."
    assert str(entry["url"]) == f"{ORIGIN}/#/events/{event['event_id']}"
    stamped = entry.decoded("dtstamp")  # made by core's clock, pinned here
    assert PINNED_AT <= stamped <= PINNED_AT + timedelta(minutes=1)
    # The zone is described in the file itself, around the event's own dates, for readers without a zone database.
    (zone,) = parsed.walk("VTIMEZONE")
    assert str(zone["tzid"]) == "Europe/Oslo"


def test_an_event_without_an_end_is_shown_lasting_the_assumed_length_not_until_midnight(table):
    starts = _at(5, "America/New_York").replace(hour=7, minute=0)
    event = new_event(name="Ski trip", starts_at=starts.isoformat(), timezone="America/New_York")
    _, entry = calendar_of(event["event_id"])
    assert entry.decoded("dtstart") == starts
    assert entry.decoded("dtend") == starts + ASSUMED_LENGTH == starts + timedelta(hours=2)
    assert "location" not in entry and "description" not in entry


def test_a_late_event_without_an_end_ends_with_its_day(table):
    starts = _at(5, "Europe/Oslo").replace(hour=23, minute=0)
    event = new_event(name="Night walk", starts_at=starts.isoformat(), timezone="Europe/Oslo")
    _, entry = calendar_of(event["event_id"])
    assert entry.decoded("dtend") == starts.replace(hour=0) + timedelta(days=1)


def test_the_one_event_file_carries_sequence_and_status_as_the_feeds_do(table):
    event = new_event(starts_at=_at(4, "Europe/Oslo").replace(hour=9).isoformat(), timezone="Europe/Oslo")
    call("PATCH", f"/events/{event['event_id']}", {"location": "Hemsedal"})
    downloaded = call("GET", f"/events/{event['event_id']}/calendar.ics").text
    (entry,) = calendar_check.events(calendar_check.parse(downloaded))
    assert (entry.one("SEQUENCE"), entry.one("STATUS")) == ("1", "CONFIRMED")
    assert entry.one("DTEND").startswith(entry.one("DTSTART")[:9])  # the same day: no invented midnight


def test_a_utc_event_is_written_in_utc(table):
    starts = _at(2, "UTC")
    event = new_event(starts_at=starts.isoformat(), timezone="UTC")
    _, entry = calendar_of(event["event_id"])
    assert entry.decoded("dtstart") == starts
    assert entry["dtstart"].to_ical().endswith(b"Z")


def test_an_event_long_after_2038_still_has_its_zone(table):
    # icalendar describes zones from 1970 to 2038 unless told otherwise: the file asks for the event's own years.
    starts = _at(365 * 14, "Europe/Oslo")
    event = new_event(starts_at=starts.isoformat())
    parsed, entry = calendar_of(event["event_id"])
    assert entry.decoded("dtstart") == starts
    (zone,) = parsed.walk("VTIMEZONE")
    assert "2038-01-01" not in str(zone.get("comment", ""))


def test_the_calendar_of_an_unknown_event_is_a_404_json_error(table):
    answer = call("GET", "/events/nosuchevent/calendar.ics")
    assert (answer.status, answer.error["code"]) == (404, "EventNotFound")
    assert answer.headers["content-type"] == "application/json; charset=utf-8"


def test_the_local_stacks_origin_is_written_with_its_scheme_and_port(table):
    event = new_event()
    request = gateway_event("GET", f"/events/{event['event_id']}/calendar.ics",
                            headers={"host": "127.0.0.1:3000", "x-forwarded-proto": "http", "x-forwarded-port": "3000"})
    request["requestContext"]["domainName"] = "127.0.0.1"  # local/gateway.py: the Host header's name, no port
    (entry,) = Calendar.from_ical(invoke(request).text).walk("VEVENT")
    assert str(entry["url"]) == f"http://127.0.0.1:3000/#/events/{event['event_id']}"


def test_every_answer_tells_the_browser_not_to_guess_its_type(table, monkeypatch):
    from api import handler

    event_id = new_event()["event_id"]
    answers = {
        "page": call("GET", "/"),
        "json": call("GET", "/events"),
        "calendar": call("GET", f"/events/{event_id}/calendar.ics"),
        "refusal": call("GET", "/events/nope"),
        "no content": call("DELETE", f"/events/{event_id}"),
    }
    monkeypatch.setattr(handler, "_serve", lambda event: 1 / 0)
    failed = handler.lambda_handler(gateway_event("GET", "/events"), None)
    headers = {name: answer.headers for name, answer in answers.items()} | {"failure": failed["headers"]}
    assert {name: found.get("x-content-type-options") for name, found in headers.items()} == \
        dict.fromkeys(headers, "nosniff")
    assert failed["statusCode"] == 500


def test_the_page_is_told_where_to_sign_in_and_may_talk_to_exactly_those_origins(monkeypatch):
    monkeypatch.setattr(config, "settings", config.settings._replace(
        auth_open=False, auth_issuer="https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_AbC",
        auth_client_id="abc123", sign_in_url="https://turnout-1234.auth.eu-west-1.amazoncognito.com"))
    answer = call("GET", "/")
    told = re.search(r'<meta name="turnout-auth" content="([^"]*)">', answer.text).group(1)
    assert json.loads(html.unescape(told)) == {
        "issuer": "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_AbC", "client_id": "abc123",
        "sign_in_url": "https://turnout-1234.auth.eu-west-1.amazoncognito.com", "person_claim": "username",
        "group_claim": "cognito:groups", "organizer_group": "organizers"}
    policy = answer.headers["content-security-policy"]
    assert ("connect-src 'self' https://cognito-idp.eu-west-1.amazonaws.com "
            "https://turnout-1234.auth.eu-west-1.amazoncognito.com;") in policy
    assert "script-src 'self';" in policy and "form-action 'self'" in policy
    # The provider sends the person back to / with a code: the page reads it, the API lets it through.
    assert call("GET", "/?code=abc&state=xyz").status == 200


def test_in_open_mode_the_page_talks_to_its_own_origin_only(monkeypatch):
    monkeypatch.setattr(config, "settings", config.settings._replace(auth_open=True, auth_issuer="https://idp.example"))
    assert "connect-src 'self';" in call("GET", "/").headers["content-security-policy"]


def test_the_page_is_told_core_s_limits_and_keeps_no_copy_of_them(monkeypatch):
    monkeypatch.setattr(config, "settings", config.settings._replace(check_in_opens_minutes=45))
    told = re.search(r'<meta name="turnout-limits" content="([^"]*)">', call("GET", "/").text).group(1)
    limits = json.loads(html.unescape(told))
    assert limits["check_in_opens_minutes"] == 45  # the setting the API runs with, not a number of the page's
    assert (limits["guests"], limits["handle"]) == (validation.GUESTS_MAX, validation.HANDLE_MAX)
    # The new-event form is core's declaration of an event's fields, in its order, with its limits.
    form = {spec["name"]: spec for spec in limits["event_fields"]}
    assert list(form) == [name for name, spec in fields.EVENT.items() if spec.label]
    assert (form["name"]["max_length"], form["name"]["required"]) == (validation.NAME_MAX, True)
    assert form["description"]["multiline"] and not form["signups_close_at"]["repeats"]
    handle = re.compile(limits["handle_pattern"])
    assert handle.fullmatch("melvin-moose") and not handle.fullmatch("Melvin") and not handle.fullmatch("a" * 41)
    # The page's scripts take each limit from there: no maxlength or guest count written into them.
    for script in sorted((Path(__file__).resolve().parents[2] / "web").glob("*.js")):
        text = script.read_text()
        assert not re.search(r'maxlength: "\d+"', text), script.name
        assert not re.search(r"guestsInput\([^)]*\b20\b", text), script.name
