"""Tests' own reader of iCalendar files (RFC 5545), independent of the icalendar library that writes them: strict
about what a calendar app relies on, and returning each VEVENT's properties for the tests to compare."""
from __future__ import annotations

import re
from datetime import datetime, timezone
from zoneinfo import ZoneInfo

NAME = re.compile(r"[A-Za-z0-9-]+")
# Properties that would name a person: none may appear in a file Turnout publishes.
PERSONAL = ("ATTENDEE", "ORGANIZER", "CONTACT")
STATUSES = {"TENTATIVE", "CONFIRMED", "CANCELLED"}
DURATION = re.compile(r"[+-]?P(?:\d+W|(?:\d+D)?(?:T(?:\d+H)?(?:\d+M)?(?:\d+S)?)?)")


class Component(dict):
    """A component's properties, name -> list of (parameters, value); its subcomponents in .children."""

    def __init__(self, name: str) -> None:
        super().__init__()
        self.name = name
        self.children: list[Component] = []

    def one(self, name: str) -> str:
        (found,) = self[name]
        return found[1]


def lines(text: str) -> list[str]:
    """Content lines, unfolded: each physical line ends in CRLF and holds at most 75 octets (RFC 5545 3.1)."""
    assert text.endswith("\r\n"), "the file must end with CRLF"
    physical = text[:-2].split("\r\n")
    for line in physical:
        assert "\n" not in line and "\r" not in line, f"a bare line break in {line!r}"
        assert len(line.encode()) <= 75, f"a line longer than 75 octets: {line!r}"
    unfolded: list[str] = []
    for line in physical:
        if line[:1] in (" ", "\t"):
            assert unfolded, "a continuation line first"
            unfolded[-1] += line[1:]
        else:
            unfolded.append(line)
    return unfolded


def _property(line: str) -> tuple[str, dict[str, str], str]:
    head, sep, value = line.partition(":")  # parameter values with ':' are quoted; Turnout writes none
    assert sep, f"no value in {line!r}"
    name, *params = head.split(";")
    assert NAME.fullmatch(name), f"bad property name in {line!r}"
    parameters = {}
    for param in params:
        key, sep, text = param.partition("=")
        assert sep and NAME.fullmatch(key), f"bad parameter in {line!r}"
        parameters[key.upper()] = text
    return name.upper(), parameters, value


def parse(text: str) -> Component:
    """The VCALENDAR, checked: nesting, required properties, SEQUENCE and STATUS values, every TZID defined."""
    stack: list[Component] = []
    root = None
    for line in lines(text):
        name, parameters, value = _property(line)
        if name == "BEGIN":
            component = Component(value.upper())
            if stack:
                stack[-1].children.append(component)
            else:
                assert root is None and value.upper() == "VCALENDAR", "one VCALENDAR, first"
                root = component
            stack.append(component)
        elif name == "END":
            assert stack and stack[-1].name == value.upper(), f"END:{value} closes nothing open"
            stack.pop()
        else:
            assert stack, f"{name} outside any component"
            stack[-1].setdefault(name, []).append((parameters, value))
    assert root is not None and not stack, "unclosed components"
    assert root.one("VERSION") == "2.0" and root.one("PRODID")
    for name in ("REFRESH-INTERVAL", "X-PUBLISHED-TTL"):  # how often a subscriber reads the feed again
        for _, value in root.get(name, ()):
            assert DURATION.fullmatch(value), f"{name} is not a duration: {value!r}"
    zones = {zone.one("TZID") for zone in root.children if zone.name == "VTIMEZONE"}
    for event in events(root):
        for required in ("UID", "DTSTAMP", "DTSTART"):
            assert len(event.get(required, ())) == 1, f"VEVENT needs one {required}"
        assert re.fullmatch(r"\d+", event.one("SEQUENCE"))
        assert event.one("STATUS") in STATUSES
        assert not any(name in event for name in PERSONAL)
        for name in ("DTSTART", "DTEND"):
            for parameters, _ in event.get(name, ()):
                assert "TZID" not in parameters or parameters["TZID"] in zones, f"{name}'s TZID has no VTIMEZONE"
    return root


def events(calendar: Component) -> list[Component]:
    return [child for child in calendar.children if child.name == "VEVENT"]


def by_uid(calendar: Component) -> dict[str, Component]:
    found = {event.one("UID"): event for event in events(calendar)}
    assert len(found) == len(events(calendar)), "one VEVENT per UID"
    return found


def start(event: Component) -> datetime:
    """DTSTART as an aware moment: TZID local time, or UTC with Z."""
    ((parameters, value),) = event["DTSTART"]
    moment = datetime.strptime(value.rstrip("Z"), "%Y%m%dT%H%M%S")
    if value.endswith("Z"):
        return moment.replace(tzinfo=timezone.utc)
    return moment.replace(tzinfo=ZoneInfo(parameters["TZID"]))
