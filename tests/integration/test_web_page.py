"""The web page in a real browser: headless Chromium, driven by Playwright, against local stacks of its own.

The whole story of issue 16 on a 360 px wide phone screen: the list, one event, three people filling two seats and
a waitlist, a cancellation that promotes, a check-in, the calendar file; organizers creating and editing; the
sign-in of a stack that checks tokens. Screenshots of the main screens go to tests/output/screenshots/ (git-ignored),
and the page's weight and time to first render to tests/output/web-metrics.json. Where Chromium is missing, these
tests say so and skip (`make test` installs it where it can: docs/TESTING.md)."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from icalendar import Calendar

from tests.support.stack import REPO, running_stack

pytestmark = pytest.mark.integration

# Debian's chromium, where `make test` installs it; TURNOUT_CHROMIUM names another build (chromium-browser, ...).
CHROMIUM = os.environ.get("TURNOUT_CHROMIUM", "/usr/bin/chromium")
# What the closed network here needs, and what keeps a test browser quiet: no sandbox as root, no phoning home.
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
PHONE = {"width": 360, "height": 780}
OUTPUT = REPO / "tests" / "output"
SCREENSHOTS = OUTPUT / "screenshots"
WAIT_MS = 15_000


def _chromium() -> str:
    found = CHROMIUM if Path(CHROMIUM).exists() else None
    if not found and "TURNOUT_CHROMIUM" not in os.environ:
        found = shutil.which("chromium")
    if not found:
        pytest.skip(
            f"no Chromium at {CHROMIUM}{'' if 'TURNOUT_CHROMIUM' in os.environ else ' or on PATH'}: "
            "the browser tests need it "
            "(Debian: apt-get install -y chromium; `make test` does that when run as root)"
        )
    return found


@pytest.fixture(scope="module")
def browser():
    executable = _chromium()
    sync_api = pytest.importorskip(
        "playwright.sync_api", reason="playwright is in the dev extra: make test installs it"
    )
    with sync_api.sync_playwright() as playwright:
        # Playwright gives each launch a fresh profile in a temporary folder of its own, removed at close.
        launched = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        yield launched
        launched.close()


@pytest.fixture(scope="module")
def open_stack(tmp_path_factory):
    """Open mode, as `make run` starts: the page asks only for a handle."""
    yield from running_stack(tmp_path_factory, "web", TURNOUT_AUTH="off")


# The checked stack's access tokens live this long, so a test outlives one and sees the page renew it.
TOKEN_SECONDS = 12


@pytest.fixture(scope="module")
def checked_stack(tmp_path_factory):
    yield from running_stack(tmp_path_factory, "web-auth", TURNOUT_AUTH="on",
                             TURNOUT_AUTH_TOKEN_MINUTES=str(TOKEN_SECONDS / 60))


class Person:
    """One person's phone: a browser context of its own (its own localStorage), on one page."""

    def __init__(self, browser, base_url: str, downloads: Path, provider_url: str = "-"):
        self.context = browser.new_context(viewport=PHONE, locale="en-US", accept_downloads=True)
        self.page = self.context.new_page()
        self.base_url = base_url
        self.provider_url = provider_url  # the sign-in pages of a stack that checks tokens: part of the stack
        self.problems: list[str] = []
        self.page.on("pageerror", lambda error: self.problems.append(f"page error: {error}"))
        # Chromium logs every 4xx a fetch gets as "Failed to load resource": refusals the page expects and explains.
        self.page.on("console", lambda m: self.problems.append(f"console {m.type}: {m.text}")
                     if m.type == "error" and not m.text.startswith("Failed to load resource") else None)
        self.page.on("request", lambda r: None if r.url.startswith((base_url, provider_url, "data:"))
                     else self.problems.append(f"fetched from outside the stack: {r.url}"))
        self.downloads = downloads
        from playwright.sync_api import TimeoutError as PlaywrightTimeout
        self.timeout = PlaywrightTimeout

    def open(self, address: str = "/"):
        # From a blank page, so a new hash on the same page is a fresh load too, not a same-document jump.
        self.page.goto("about:blank")
        self.page.goto(self.base_url + address)
        self.page.wait_for_selector("html[data-ready]", timeout=WAIT_MS)

    def sign_in(self, handle: str, name: str | None = None, *, organizer: bool = False):
        self.page.fill("#handle", handle)
        if name:
            self.page.fill("#display-name", name)
        if organizer:
            self.page.check("#organizer")
        self.page.click("button:has-text('Continue')")
        self.page.wait_for_selector(f"#who:has-text('You are {handle}')", timeout=WAIT_MS)

    def said(self, expected: str) -> str:
        """The message the page gives, once it says `expected` (or the last one it gave, for the failure)."""
        try:
            self.page.locator(".message", has_text=expected).first.wait_for(timeout=WAIT_MS)
        except self.timeout:
            pass
        return _plain(self.page.locator(".message").last.inner_text(timeout=WAIT_MS))

    def text(self, selector: str) -> str:
        return _plain(self.page.locator(selector).inner_text(timeout=WAIT_MS))

    def click(self, label: str):
        self.page.get_by_role("button", name=label, exact=True).click()

    def answer(self, label: str):
        """Answers the question the page asks in its dialog."""
        self.page.locator("dialog[open]").get_by_role("button", name=label, exact=True).click()

    def accessibility_problems(self) -> list[str]:
        """axe-core's violations on the page as it is, in light and in dark mode."""
        from axe_playwright_python.sync_playwright import Axe
        found = []
        for scheme in ("light", "dark"):
            self.page.emulate_media(color_scheme=scheme)
            for violation in Axe().run(self.page).response["violations"]:
                found += [f"{scheme}: {violation['id']}: {node['html']}" for node in violation["nodes"]]
        self.page.emulate_media(color_scheme="light")
        return found

    def focused(self) -> str:
        return _plain(self.page.evaluate("document.activeElement.textContent"))

    def shot(self, name: str):
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        self.page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)

    def close(self):
        self.context.close()
        assert self.problems == []


def _plain(text: str) -> str:
    # ICU puts a narrow no-break space before AM/PM, and no-break spaces elsewhere.
    return text.replace("\u202f", " ").replace("\xa0", " ")


def _in(hours: float) -> datetime:
    return (datetime.now(timezone.utc) + timedelta(hours=hours)).replace(second=0, microsecond=0)


def _clock(when: datetime, zone: str) -> str:
    local = when.astimezone(ZoneInfo(zone))
    return f"{local.hour % 12 or 12}:{local.minute:02d} {'AM' if local.hour < 12 else 'PM'}"


@pytest.fixture
def people(browser, open_stack, tmp_path):
    opened: list[Person] = []

    def person() -> Person:
        opened.append(Person(browser, open_stack.base_url, tmp_path))
        return opened[-1]
    yield person
    for each in opened:
        each.close()


def test_the_whole_story_on_a_phone(open_stack, people):
    starts = _in(1)  # check-in is open: it opens two hours before the start
    trip = open_stack.new_event(name="Ski trip", starts_at=starts.isoformat(), ends_at=_in(6).isoformat(),
                                timezone="Europe/Oslo", location="Hemsedal", capacity=2,
                                description="Bus at 7.\nBring skis.")
    later = open_stack.new_event(name="Breakfast at the lodge", starts_at=_in(40).isoformat(),
                                 timezone="America/New_York", capacity=None)

    melvin = people()
    melvin.open()
    names = [_plain(name) for name in melvin.page.locator(".card h2").all_inner_texts()]
    assert names.index("Ski trip") < names.index("Breakfast at the lodge"), "soonest first"
    card = melvin.text(f"a.card[href='#/events/{trip['event_id']}']")
    assert _clock(starts, "Europe/Oslo") in card, "the time in the event's own zone"
    assert "Hemsedal" in card and "2 of 2 places left" in card
    assert "0 people going · no limit" in melvin.text(f"a.card[href='#/events/{later['event_id']}']")
    assert melvin.page.locator("meta[name=description]").get_attribute("content").startswith("Sign up for your group's")
    assert melvin.accessibility_problems() == []  # the header's "Sign in" link among them, light and dark
    melvin.shot("1-events")

    melvin.page.click(f"a.card[href='#/events/{trip['event_id']}']")
    melvin.page.wait_for_selector("#handle", timeout=WAIT_MS)
    assert melvin.page.url.endswith(f"/#/events/{trip['event_id']}")
    melvin.sign_in("melvin", "Melvin Moose")
    melvin.click("Sign me up")
    assert "You're going!" in melvin.said("You're going!")
    assert "You're going." in melvin.text("#my-status")
    assert "Melvin Moose (you)" in melvin.text("ul[aria-labelledby='going-title']")
    melvin.shot("2-event-going")

    anna = people()
    anna.open(f"/#/events/{trip['event_id']}")  # the shared address
    anna.sign_in("anna", "Anna Berg")
    anna.click("Sign me up")
    assert "You're going!" in anna.said("You're going!")
    assert "Full (2 places)" in anna.text(".facts")

    bob = people()
    bob.open(f"/#/events/{trip['event_id']}")
    bob.sign_in("bob", "Bob Lie")
    bob.click("Sign me up")
    assert "The event is full, so you're number 1 in line." in bob.said(
        "The event is full, so you're number 1 in line."
    )
    assert "number 1 in line" in bob.text("#my-status")
    assert "Bob Lie (you)" in bob.text("ol[aria-labelledby='waitlist-title']")
    # Only his own signup's buttons, and no check-in while he waits.
    assert bob.page.get_by_role("button", name="Cancel my signup").count() == 1
    assert bob.page.get_by_role("button", name="Check in", exact=True).count() == 0
    bob.shot("3-event-waitlisted")

    melvin.open(f"/#/events/{trip['event_id']}")
    melvin.click("Cancel my signup")
    assert "Your place goes to the next in line." in melvin.text("dialog[open]")
    melvin.answer("Yes, cancel")
    moved_up = "You've cancelled. Bob Lie moved up from the waitlist."
    assert moved_up in melvin.said(moved_up)
    assert melvin.page.get_by_role("button", name="Sign me up").count() == 1

    bob.open(f"/#/events/{trip['event_id']}")
    assert "You're going." in bob.text("#my-status")
    bob.click("Check in")
    assert "You're checked in" in bob.said("You're checked in")
    assert "checked in at" in bob.text("#my-status")
    checked = open_stack.request("GET", f"/events/{trip['event_id']}/signups/bob").json()
    assert checked["status"] == "going" and checked["checked_in_at"]
    # Open mode makes everyone an organizer, who sees who checked in.
    assert "1 of 2 people checked in" in bob.text("#checked-in")
    assert "checked in" in bob.text("ul[aria-labelledby='going-title'] li:has-text('Bob Lie')")
    bob.shot("4-event-checked-in")

    # Party size: the event is full, so a bigger party is refused in words and Anna keeps her seat alone.
    anna.open(f"/#/events/{trip['event_id']}")
    anna.page.fill("#guests", "1")
    anna.click("Change party size")
    refusal = "There is no room for a bigger party right now, so your party stays as it was."
    assert refusal in anna.said(refusal)
    assert open_stack.request("GET", f"/events/{trip['event_id']}/signups/anna").json()["guests"] == 0

    with melvin.page.expect_download() as download:
        melvin.page.get_by_role("link", name="Add to calendar").click()
    saved = Path(download.value.path())
    (entry,) = Calendar.from_ical(saved.read_bytes()).walk("VEVENT")
    assert str(entry["uid"]) == f"{trip['event_id']}@turnout"
    assert str(entry["summary"]) == "Ski trip" and str(entry["location"]) == "Hemsedal"
    assert entry.decoded("dtstart") == starts and entry["dtstart"].params["TZID"] == "Europe/Oslo"
    assert str(entry["url"]) == f"{open_stack.base_url}/#/events/{trip['event_id']}"
    assert download.value.suggested_filename == f"turnout-{trip['event_id']}.ics"


def test_organizers_create_and_edit_events_and_refusals_are_said_in_words(open_stack, people):
    olga = people()
    olga.open()
    olga.page.get_by_role("link", name="New event").click()
    olga.page.wait_for_selector("form[aria-label='New event']", timeout=WAIT_MS)
    olga.page.get_by_label("Name", exact=True).fill("Board game night")
    starts = _in(72).astimezone(ZoneInfo("Europe/Oslo"))
    olga.page.locator("#starts").fill(starts.strftime("%Y-%m-%dT%H:%M"))
    olga.page.get_by_label("Ends (optional)", exact=True).fill((starts - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M"))
    olga.page.locator("#timezone").fill("Europe/Oslo")
    olga.page.locator("#capacity").fill("8")
    olga.click("Create event")
    refusal = olga.said("Please check")
    assert refusal.startswith("Please check the end:") and "{" not in refusal and "InvalidInput" not in refusal
    olga.shot("5-organizer-refusal")

    olga.page.get_by_label("Ends (optional)", exact=True).fill("")
    # The zone is picked from the browser's IANA list, and a slip of case or spacing is the zone meant.
    assert olga.page.locator("#timezone").get_attribute("list") == "zones"
    assert olga.page.locator("datalist#zones option[value='Europe/Oslo']").count() == 1
    olga.page.locator("#timezone").fill("Mars/Olympus")
    olga.click("Create event")
    assert olga.said("pick a zone") == "Please check the time zone: pick a zone from the list, e.g. Europe/Oslo."
    olga.page.locator("#timezone").fill("europe/oslo ")
    closes = starts - timedelta(hours=3)
    olga.page.get_by_label("Sign-ups close (optional)").fill(closes.strftime("%Y-%m-%dT%H:%M"))
    olga.click("Create event")
    olga.page.wait_for_selector("h1:has-text('Board game night')", timeout=WAIT_MS)
    event_id = olga.page.url.rsplit("/", 1)[1]
    created = open_stack.request("GET", f"/events/{event_id}").json()
    assert (created["name"], created["capacity"], created["timezone"]) == ("Board game night", 8, "Europe/Oslo")
    assert datetime.fromisoformat(created["starts_at"]) == starts
    assert datetime.fromisoformat(created["signups_close_at"]) == closes

    olga.page.get_by_role("link", name="Edit event").click()
    olga.page.wait_for_selector("form[aria-label='Edit event']", timeout=WAIT_MS)
    assert olga.page.get_by_label("Name", exact=True).input_value() == "Board game night"
    assert olga.page.get_by_label("Sign-ups close (optional)").input_value() == closes.strftime("%Y-%m-%dT%H:%M")
    assert olga.accessibility_problems() == []
    olga.shot("5b-organizer-edit")
    olga.page.get_by_label("Place (optional)", exact=True).fill("The lodge")
    olga.click("Save changes")
    olga.page.wait_for_selector(".facts:has-text('The lodge')", timeout=WAIT_MS)
    assert open_stack.request("GET", f"/events/{event_id}").json()["location"] == "The lodge"

    olga.open("/#/events/nosuchevent")
    assert "This event does not exist" in olga.said("This event does not exist")


def test_an_organizer_makes_a_weekly_series_on_the_page(open_stack, people):
    olga = people()
    olga.open()
    olga.page.get_by_role("link", name="New event").click()
    olga.page.wait_for_selector("form[aria-label='New event']", timeout=WAIT_MS)
    olga.page.get_by_label("Name", exact=True).fill("Ski club")
    starts = _in(48).astimezone(ZoneInfo("Europe/Oslo"))
    olga.page.locator("#starts").fill(starts.strftime("%Y-%m-%dT%H:%M"))
    olga.page.locator("#timezone").fill("Europe/Oslo")
    olga.page.locator("#repeat").select_option("week")
    olga.page.locator("#repeat-count").fill("3")
    olga.click("Create event")
    olga.page.wait_for_selector("h1:has-text('Ski club')", timeout=WAIT_MS)
    first = open_stack.request("GET", f"/events/{olga.page.url.rsplit('/', 1)[1]}").json()
    made = open_stack.request("GET", f"/series/{first['series_id']}").json()
    assert made["repeat"] == {"every": "week", "interval": 1, "until": None, "count": 3}
    assert [datetime.fromisoformat(each["starts_at"]) for each in made["occurrences"]] == [
        starts + timedelta(weeks=n) for n in range(3)]


UNLABELLED = """() => [...document.querySelectorAll("input, textarea, select, button, a")].filter((control) =>
    control.matches("input, textarea, select") ? control.labels.length === 0 : !control.textContent.trim()
).map((control) => control.outerHTML)"""


def test_by_keyboard_alone_with_every_control_labelled(open_stack, people):
    trip = open_stack.new_event(name="Keyboard trip", starts_at=_in(30).isoformat(), capacity=5)
    ines = people()
    ines.open(f"/#/events/{trip['event_id']}")
    assert ines.page.evaluate(UNLABELLED) == []
    ines.page.focus("#handle")
    ines.page.keyboard.type("ines")
    ines.page.keyboard.press("Enter")
    ines.page.wait_for_selector("#guests", timeout=WAIT_MS)
    ines.page.focus("#guests")
    ines.page.keyboard.press("Control+A")
    ines.page.keyboard.type("2")
    ines.page.keyboard.press("Tab")
    assert ines.page.evaluate("document.activeElement.textContent") == "Sign me up"
    ines.page.keyboard.press("Enter")
    assert "You're going!" in ines.said("You're going!")
    assert open_stack.request("GET", f"/events/{trip['event_id']}/signups/ines").json()["guests"] == 2
    assert ines.page.evaluate(UNLABELLED) == []
    ines.open("/#/new")
    ines.page.wait_for_selector("form[aria-label='New event']", timeout=WAIT_MS)
    assert ines.page.evaluate(UNLABELLED) == []


def test_a_page_drawn_before_the_event_moved_says_when_check_in_opens_now(open_stack, people):
    trip = open_stack.new_event(name="Night ski", starts_at=_in(1).isoformat(), timezone="Europe/Oslo", capacity=4)
    assert open_stack.request("PUT", f"/events/{trip['event_id']}/signups/melvin").status == 201
    melvin = people()
    melvin.open(f"/#/events/{trip['event_id']}")
    melvin.sign_in("melvin")
    melvin.page.get_by_role("button", name="Check in").wait_for(timeout=WAIT_MS)
    # Meanwhile the organizer moves it three days on: check-in opens two hours before the new start.
    moved = _in(72)
    assert open_stack.request("PATCH", f"/events/{trip['event_id']}", {"starts_at": moved.isoformat()}).status == 200
    melvin.click("Check in")
    opens = (moved - timedelta(hours=2)).astimezone(ZoneInfo("Europe/Oslo"))
    expected = (
        f"Check-in is not open yet. It opens {opens:%A}, {opens:%B} {opens.day} at {_clock(opens, 'Europe/Oslo')}."
    )
    assert expected in melvin.said("Check-in is not open yet")
    assert melvin.page.get_by_role("button", name="Check in").count() == 0
    assert f"Check-in opens {opens:%A}" in melvin.text("section[aria-labelledby='me-title']")


def test_an_address_that_decodes_to_no_text_is_no_page_and_the_page_goes_on(open_stack, people):
    ann = people()
    ann.open("/#/events/%E0%A4%A")  # a broken UTF-8 sequence: decodeURIComponent throws on it
    assert ann.said("There is no page") == "There is no page at this address."
    ann.page.get_by_role("link", name="← All events").click()
    ann.page.locator("h1", has_text="Upcoming events").wait_for(timeout=WAIT_MS)


PASSWORD = "a long local password"


def _sign_up_at_the_provider(person: Person, handle: str):
    """On the provider's own pages: the account, then the emailed code (shown on this machine), then back."""
    person.page.get_by_role("button", name="Create an account").click()
    person.page.wait_for_selector("input[name=email]", timeout=WAIT_MS)
    assert person.page.url.startswith(person.provider_url + "/signup?")
    person.page.fill("input[name=username]", handle)
    person.page.fill("input[name=email]", f"{handle}@example.com")
    person.page.fill("input[name=password]", PASSWORD)
    person.shot(f"provider-sign-up-{handle}")
    person.page.get_by_role("button", name="Sign up").click()
    code = person.page.locator("#local-code").inner_text(timeout=WAIT_MS)
    person.shot(f"provider-confirm-{handle}")
    person.page.fill("input[name=code]", code)
    person.page.get_by_role("button", name="Confirm").click()
    person.page.wait_for_selector(f"#who:has-text('You are {handle}')", timeout=WAIT_MS)


def _sign_in_at_the_provider(person: Person, handle: str):
    person.page.get_by_role("button", name="Sign in").first.click()
    person.page.wait_for_selector("input[name=password]", timeout=WAIT_MS)
    person.page.fill("input[name=username]", handle)
    person.page.fill("input[name=password]", PASSWORD)
    person.page.get_by_role("button", name="Sign in").click()
    person.page.wait_for_selector(f"#who:has-text('You are {handle}')", timeout=WAIT_MS)


def _token(person: Person) -> str:
    return person.page.evaluate("JSON.parse(localStorage.getItem('turnout.session')).token")


def test_with_tokens_checked_people_sign_up_and_in_at_the_provider_and_organizers_are_made_by_one_command(
        browser, checked_stack, tmp_path):
    provider_url = f"http://127.0.0.1:{checked_stack.auth_port}"
    olga = Person(browser, checked_stack.base_url, tmp_path, provider_url)
    melvin = Person(browser, checked_stack.base_url, tmp_path, provider_url)
    try:
        olga.open()
        # Reads need a token here: the page asks you to sign in instead of showing an error dump.
        assert "Please sign in first." in olga.said("Please sign in first.")
        olga.shot("6-sign-in")
        _sign_up_at_the_provider(olga, "olga")
        assert olga.page.url == f"{checked_stack.base_url}/#/"
        assert olga.page.get_by_role("link", name="New event").count() == 0, "not an organizer yet"
        # The first organizer, made by the documented command; she sees it at her next sign-in.
        made = subprocess.run([sys.executable, "-m", "local.organizer", "olga"], cwd=REPO,
                              env=checked_stack.environment(), capture_output=True, text=True)
        assert made.returncode == 0, made.stderr
        olga.page.get_by_role("button", name="Sign out").click()
        olga.page.wait_for_selector("#who a:has-text('Sign in')", timeout=WAIT_MS)
        olga.page.get_by_role("link", name="Sign in").click()
        _sign_in_at_the_provider(olga, "olga")
        assert "(organizer)" in olga.text("#who")
        olga.page.get_by_role("link", name="New event").click()
        olga.page.wait_for_selector("form[aria-label='New event']", timeout=WAIT_MS)
        olga.page.get_by_label("Name", exact=True).fill("Quiz")
        olga.page.locator("#starts").fill(_in(30).strftime("%Y-%m-%dT%H:%M"))
        olga.page.locator("#timezone").fill("UTC")
        olga.click("Create event")
        olga.page.wait_for_selector("h1:has-text('Quiz')", timeout=WAIT_MS)
        event_id = olga.page.url.rsplit("/", 1)[1]

        # A new person opens the shared address, makes an account and comes back to that very event.
        melvin.open(f"/#/events/{event_id}")
        melvin.shot("7-event-signed-out")
        _sign_up_at_the_provider(melvin, "melvin")
        assert melvin.page.url == f"{checked_stack.base_url}/#/events/{event_id}"
        melvin.shot("8-provider-signed-in")
        first_token = melvin.page.evaluate("JSON.parse(localStorage.getItem('turnout.session')).token")
        # Longer than the stack's access tokens live: the page renews its token without him noticing.
        melvin.page.wait_for_timeout(TOKEN_SECONDS * 1000 + 2000)
        melvin.click("Sign me up")
        assert "You're going!" in melvin.said("You're going!")
        assert melvin.page.evaluate("JSON.parse(localStorage.getItem('turnout.session')).token") != first_token
        assert melvin.page.url == f"{checked_stack.base_url}/#/events/{event_id}"
        assert melvin.page.get_by_role("link", name="Edit event").count() == 0
        # Reads need a token on this stack, so the calendar link fetches the file with melvin's.
        with melvin.page.expect_download() as download:
            melvin.page.get_by_role("link", name="Add to calendar").click()
        (entry,) = Calendar.from_ical(Path(download.value.path()).read_bytes()).walk("VEVENT")
        assert str(entry["summary"]) == "Quiz"
        melvin.shot("9-signed-in-person-going")

        # What curl did for him before: his name and where to be told, his button, an Alexa code.
        melvin.page.get_by_role("link", name="You are melvin").click()
        melvin.page.wait_for_selector("form[aria-label='Your profile']", timeout=WAIT_MS)
        melvin.page.locator("#profile-name").fill("Melvin Moose")
        melvin.page.get_by_label("Email (optional)").fill("melvin@example.com")
        melvin.click("Save")
        assert "Saved." in melvin.said("Saved.")
        profile = checked_stack.request("GET", "/people/melvin", headers={"Authorization": f"Bearer {_token(melvin)}"})
        assert (profile.json()["name"], profile.json()["email"]) == ("Melvin Moose", "melvin@example.com")
        melvin.page.get_by_label("Serial number").fill("BTN-WEB-1")
        melvin.click("Bind this button")
        assert "Button BTN-WEB-1 is yours" in melvin.said("Button BTN-WEB-1 is yours")
        assert "BTN-WEB-1" in melvin.text("#my-buttons")
        melvin.click("Link Alexa")
        words = melvin.text("#alexa-words")
        assert words.startswith('"Alexa, ask Turnout to link my account with code ') and len(words.split()) == 15
        melvin.shot("11-you")

        # An organizer makes him an organizer from the page; he is one from his next sign-in.
        olga.open("/#/me")
        olga.page.get_by_label("Their user name").fill("melvin")
        olga.click("Make organizer")
        assert "melvin is an organizer" in olga.said("melvin is an organizer")
        assert "melvin" in olga.text("#organizers")
        olga.shot("12-organizers")

        melvin.page.get_by_role("button", name="Sign out").click()
        melvin.page.wait_for_selector("#who a:has-text('Sign in')", timeout=WAIT_MS)
        assert melvin.page.evaluate("localStorage.getItem('turnout.session')") is None
        melvin.shot("10-signed-out")

        # Olga's token expired and cannot be renewed: the header stops naming her as the content asks her to sign in.
        olga.page.evaluate("""() => { const kept = JSON.parse(localStorage.getItem('turnout.session'));
            const expired = { ...kept, expires_at: 0, refresh: 'expired' };
            localStorage.setItem('turnout.session', JSON.stringify(expired)); }""")
        olga.open("/")
        assert "Please sign in first." in olga.said("Please sign in first.")
        assert olga.text("#who") == "Sign in"
    finally:
        olga.close()
        melvin.close()


def test_page_weight_and_time_to_first_render(browser, open_stack, tmp_path):
    """Measured, recorded and reported; only the weight has a budget, never the time (STYLE.md, 10)."""
    open_stack.new_event(name="Measured trip", starts_at=_in(50).isoformat())
    visitor = Person(browser, open_stack.base_url, tmp_path)
    try:
        visitor.open()
        visitor.page.wait_for_selector(".card", timeout=WAIT_MS)
        timing = visitor.page.evaluate("""() => {
            const navigation = performance.getEntriesByType("navigation")[0];
            const files = [navigation, ...performance.getEntriesByType("resource")];
            const paint = performance.getEntriesByName("first-contentful-paint")[0];
            const drawn = performance.getEntriesByName("turnout:first-view")[0];
            return {
                files: files.map((entry) => ({
                    url: entry.name, bytes: entry.decodedBodySize, type: entry.initiatorType,
                })),
                first_contentful_paint_ms: paint ? paint.startTime : null,
                first_view_ms: drawn ? drawn.startTime : null,
                dom_content_loaded_ms: navigation.domContentLoadedEventEnd,
            };
        }""")
        page_files = [
            entry for entry in timing["files"] if "/events" not in entry["url"] and "openapi" not in entry["url"]
        ]
        data_files = [entry for entry in timing["files"] if entry not in page_files]
        metrics = {
            "page_kb": round(sum(entry["bytes"] for entry in page_files) / 1024, 1),
            "data_kb": round(sum(entry["bytes"] for entry in data_files) / 1024, 1),
            "files": timing["files"],
            "first_contentful_paint_ms": timing["first_contentful_paint_ms"],
            "first_view_ms": timing["first_view_ms"],
            "dom_content_loaded_ms": timing["dom_content_loaded_ms"],
        }
        OUTPUT.mkdir(parents=True, exist_ok=True)
        (OUTPUT / "web-metrics.json").write_text(json.dumps(metrics, indent=2))
        print(f"\nweb page: {metrics['page_kb']} KB of page files + {metrics['data_kb']} KB of JSON; first paint "
              f"{metrics['first_contentful_paint_ms']:.0f} ms, first view drawn {metrics['first_view_ms']:.0f} ms")
        names = {entry["url"].rsplit("/", 1)[-1] for entry in page_files}
        assert {"app.js", "api.js", "style.css"} <= names
        assert metrics["page_kb"] < 100, "the page is meant to be light enough for a phone on a poor connection"
        assert metrics["first_view_ms"] is not None and metrics["first_view_ms"] > 0
    finally:
        visitor.close()


def test_a_person_makes_renews_and_revokes_their_calendar_feed_on_the_page(open_stack, people):
    trip = open_stack.new_event(name="Feed trip", starts_at=_in(30).isoformat(), timezone="Europe/Oslo")
    assert open_stack.request("PUT", f"/events/{trip['event_id']}/signups/melvin").status == 201
    melvin = people()
    melvin.open("/#/calendar")
    melvin.sign_in("melvin")
    mine = melvin.page.locator("section[aria-label='Your events']")
    mine.get_by_role("button", name="Make an address").click()
    mine.locator("code").wait_for(timeout=WAIT_MS)
    first = mine.locator("code").inner_text()
    assert first.startswith(open_stack.base_url + "/feeds/")
    assert mine.get_by_role("link", name="Subscribe").get_attribute("href") == "webcal://" + first.split("://", 1)[1]
    feed = open_stack.request("GET", first[len(open_stack.base_url):])
    assert feed.status == 200 and b"SUMMARY:Feed trip" in feed.body
    melvin.shot("calendar-feed")

    mine.get_by_role("button", name="New address").click()
    mine.locator("code", has_not_text=first).wait_for(timeout=WAIT_MS)
    second = mine.locator("code").inner_text()
    assert open_stack.request("GET", first[len(open_stack.base_url):]).status == 404
    assert open_stack.request("GET", second[len(open_stack.base_url):]).status == 200

    mine.get_by_role("button", name="Revoke").click()
    mine.get_by_text("No address yet.").wait_for(timeout=WAIT_MS)
    assert open_stack.request("GET", second[len(open_stack.base_url):]).status == 404


def test_organizers_check_in_cancel_and_delete_on_the_page_after_being_asked(open_stack, people):
    starts = _in(1)  # check-in is open
    lunch = open_stack.new_event(name="Lunch", starts_at=starts.isoformat(), timezone="Europe/Oslo", capacity=1)
    path = f"/events/{lunch['event_id']}/signups"
    assert open_stack.request("PUT", f"{path}/ann", {"name": "Ann Lee"}).status == 201
    assert open_stack.request("PUT", f"{path}/bob", {"name": "Bob Lie", "guests": 0}).status == 201  # waitlisted
    bound = open_stack.request("PUT", "/devices/BTN-LUNCH", {"person": "ann", "event_id": lunch["event_id"]})
    assert bound.status == 200
    olga = people()
    olga.open(f"/#/events/{lunch['event_id']}")
    olga.sign_in("olga")
    assert olga.text("#seats") == "Full (1 place) · 1 party on the waitlist"
    assert "Waitlist (1 person in 1 party)" in olga.text("#waitlist-title")
    assert olga.accessibility_problems() == []
    olga.shot("13-organizer-event")

    olga.page.get_by_role("button", name="Check in Ann Lee", exact=True).click()
    assert olga.said("Ann Lee is checked in.") == "Ann Lee is checked in."
    assert olga.focused() == "Ann Lee is checked in.", "the outcome has the focus, not the top of the page"
    assert olga.text("#checked-in") == "1 of 1 person checked in"

    olga.page.get_by_role("button", name="Cancel Ann Lee's signup", exact=True).click()
    question = olga.text("dialog[open]")
    assert "Cancel Ann Lee's signup for Lunch?" in question and "that is undone too" in question
    assert olga.accessibility_problems() == []
    olga.shot("14-organizer-asked")
    olga.answer("Keep it")
    assert olga.page.locator("dialog").count() == 0
    assert open_stack.request("GET", f"{path}/ann").status == 200, "no is no"
    olga.page.get_by_role("button", name="Cancel Ann Lee's signup", exact=True).click()
    olga.answer("Yes, cancel theirs")
    done = "Ann Lee's signup is cancelled, and they are told. Bob Lie moved up from the waitlist."
    assert olga.said(done) == done
    assert open_stack.request("GET", f"{path}/ann").status == 404
    assert open_stack.request("GET", f"{path}/bob").json()["status"] == "going"

    assert open_stack.request("PUT", f"{path}/cat", {"name": "Cat Ng"}).json()["status"] == "waitlisted"
    olga.open(f"/#/events/{lunch['event_id']}")
    olga.page.get_by_role("button", name="Move Cat Ng up", exact=True).click()
    assert "The capacity grows by 1 place so" in olga.text("dialog[open]")
    olga.answer("Yes, move them up")
    assert olga.said("Cat Ng is going now") == "Cat Ng is going now, and is told. The capacity grew by 1 place."
    assert open_stack.request("GET", f"{path}/cat").json()["status"] == "going"

    olga.click("Delete event")
    assert "Everyone signed up (2 people) is told" in olga.text("dialog[open]")
    olga.answer("Yes, delete it")
    assert olga.said("Lunch is deleted.") == "Lunch is deleted. Everyone signed up is told."
    assert open_stack.request("GET", f"/events/{lunch['event_id']}").status == 404
    assert open_stack.request("GET", "/devices/BTN-LUNCH").json()["event_id"] is None, "the button means the next event"


def test_after_sign_ups_close_the_page_says_so_before_any_tap_and_a_party_only_shrinks(open_stack, people):
    closes = datetime.now(timezone.utc) + timedelta(seconds=3)
    dinner = open_stack.new_event(name="Dinner", starts_at=_in(5).isoformat(), timezone="Europe/Oslo", capacity=10,
                                  signups_close_at=closes.isoformat())
    path = f"/events/{dinner['event_id']}/signups"
    assert open_stack.request("PUT", f"{path}/ann", {"guests": 2}).status == 201
    wait = (closes - datetime.now(timezone.utc)).total_seconds() + 0.5
    if wait > 0:
        import time
        time.sleep(wait)
    assert open_stack.request("PUT", f"{path}/ann", {"guests": 3}).json()["error"]["code"] == "SignupsClosed"

    cat = people()
    cat.open(f"/#/events/{dinner['event_id']}")  # not signed in: nothing to sign in for
    assert cat.text("#seats").startswith("Sign-ups closed")
    assert cat.text("#my-status") == "Sign-ups for this event have closed."
    assert cat.page.get_by_role("button", name="Sign me up").count() == 0

    ann = people()
    ann.open(f"/#/signin?next=%23%2Fevents%2F{dinner['event_id']}")
    ann.sign_in("ann")
    ann.page.wait_for_selector("#closed-hint", timeout=WAIT_MS)
    assert "your party may get smaller, not bigger" in ann.text("#closed-hint")
    assert ann.page.locator("#guests").get_attribute("max") == "2"
    ann.page.fill("#guests", "1")
    ann.click("Bring fewer guests")
    assert ann.said("Your party is now") == "Your party is now you +1 guest."
    ann.shot("15-closed")


def test_with_the_api_unreachable_the_page_drops_old_news_and_offers_a_retry(open_stack, people):
    trip = open_stack.new_event(name="Offline trip", starts_at=_in(30).isoformat(), capacity=5)
    dan = people()
    dan.open(f"/#/events/{trip['event_id']}")
    dan.sign_in("dan")
    dan.click("Sign me up")
    assert dan.said("You're going!") == "You're going!"
    dan.page.route("**/signups/dan", lambda route: route.abort())
    dan.page.fill("#guests", "1")
    dan.click("Change party size")
    problem = dan.said("cannot be reached")
    assert problem.startswith("Turnout cannot be reached right now.")
    assert dan.page.locator(".message", has_text="You're going!").count() == 0, "no stale news above the problem"
    assert dan.focused().startswith("Turnout cannot be reached"), "the problem has the focus"
    dan.page.unroute("**/signups/dan")
    dan.click("Try again")
    assert dan.said("Your party is now") == "Your party is now you +1 guest."

    # A slow answer: after a few seconds "Loading…" says more, and offers to try again.
    held = []
    dan.page.route("**/events/*/signups?*", lambda route: held.append(route))  # answered when the test lets it
    dan.page.goto("about:blank")
    dan.page.goto(f"{open_stack.base_url}/#/events/{trip['event_id']}")
    dan.page.get_by_text("Still loading: Turnout is slow to answer").wait_for(timeout=WAIT_MS)
    for route in held:
        route.continue_()
    dan.page.unroute("**/events/*/signups?*")
    dan.page.wait_for_selector("#my-status", timeout=WAIT_MS)
