// The web page's views: the hash address picks one (events, one event, new or edit event, sign in, you, calendar
// feeds) and draws it.
import { HANDLE, Refusal, allSignups, call, download, explain, forget, mode, remember, session } from "./api.js";
import { beginSignIn, finishSignIn, scheduleRefresh, signOut } from "./auth.js";
import { act, field, h, main, message, say, show } from "./draw.js";
import { meView } from "./me.js";

const who = document.getElementById("who");
const CHECK_IN_OPENS_MS = 2 * 60 * 60 * 1000; // check-in opens two hours before the start (core.config)
let apiMode = null; // "open" or "checked", from /openapi.json

// --- time, in the event's own zone ---------------------------------------------------------

function when(iso, zone, options = { dateStyle: "full", timeStyle: "short" }) {
  return new Intl.DateTimeFormat(undefined, { ...options, timeZone: zone }).format(new Date(iso));
}

function timeOnly(iso, zone) {
  return new Intl.DateTimeFormat(undefined, { timeStyle: "short", timeZone: zone }).format(new Date(iso));
}

function zoneLabel(iso, zone) {
  const parts = new Intl.DateTimeFormat(undefined, { timeZone: zone, timeZoneName: "short" }).formatToParts(new Date(iso));
  return parts.find((part) => part.type === "timeZoneName")?.value ?? zone;
}

function span(event) {
  const start = `${when(event.starts_at, event.timezone)}`;
  const end = event.ends_at ? ` – ${sameDay(event) ? timeOnly(event.ends_at, event.timezone)
    : when(event.ends_at, event.timezone)}` : "";
  return `${start}${end} (${zoneLabel(event.starts_at, event.timezone)})`;
}

function sameDay(event) {
  const day = (iso) => when(iso, event.timezone, { dateStyle: "short" });
  return day(event.starts_at) === day(event.ends_at);
}

function checkInOpensAt(event) {
  return new Date(new Date(event.starts_at).getTime() - CHECK_IN_OPENS_MS);
}

function checkInOpensText(event) {
  const opens = checkInOpensAt(event).toISOString();
  return when(opens, event.timezone, { weekday: "long", month: "long", day: "numeric", hour: "numeric", minute: "2-digit" });
}

// "datetime-local" wants the wall time; the API reads a time without offset in the event's own zone.
function wallTime(iso) {
  return iso ? iso.slice(0, 16) : "";
}

function seats(event) {
  if (event.capacity === null) return { text: `${people(event.seats_taken)} going · no limit`, full: false };
  if (event.spots_left > 0) return { text: `${event.spots_left} of ${event.capacity} places left`, full: false };
  const waiting = event.waitlisted ? ` · ${event.waitlisted} on the waitlist` : "";
  return { text: `Full (${event.capacity} places)${waiting}`, full: true };
}

function displayName(signup) {
  return signup.name || signup.person;
}

function party(guests) {
  return guests ? ` +${guests} ${guests === 1 ? "guest" : "guests"}` : "";
}

// People, guests included: for those going, the API's seats_taken; for the line, its parties added up.
function people(count) {
  return `${count} ${count === 1 ? "person" : "people"}`;
}

function isOrganizer() {
  return apiMode === "open" || Boolean(session()?.organizer);
}

// --- who you are -------------------------------------------------------------------------------

function drawWho() {
  const me = session();
  if (me) {
    const leave = () => {
      if (apiMode === "checked") return signOut();
      forget();
      drawWho();
      return route();
    };
    who.replaceChildren(h("a", { href: "#/me", text: `You are ${me.person}${me.organizer && apiMode === "checked" ? " (organizer)" : ""}` }),
      h("a", { href: "#/calendar" }, "Calendar feed"),
      h("button", { class: "link", type: "button", onclick: leave }, "Sign out"));
  } else {
    who.replaceChildren(h("a", { href: `#/signin?next=${encodeURIComponent(location.hash || "#/")}` }, "Sign in"));
  }
}

// Tokens checked: the provider's own pages take the password (sign in, or make an account), then bring the person
// back to `next`, the address they were at.
function providerSignIn(next, intro) {
  const box = h("div");
  const go = (kind, button) => act(button, box, async () => {
    try {
      await beginSignIn(kind, next);
    } catch (error) {
      throw new Refusal(0, "Offline", `Signing in is not possible right now: ${error.message}`);
    }
  });
  const signIn = h("button", { type: "button", id: "sign-in", onclick: () => go("signin", signIn) }, "Sign in");
  const signUp = h("button", { type: "button", class: "secondary", id: "sign-up", onclick: () => go("signup", signUp) },
    "Create an account");
  return h("section", { class: "box", "aria-labelledby": "signin-title" },
    h("h2", { id: "signin-title" }, intro),
    h("p", { class: "hint" }, "You sign in on this Turnout's sign-in page, and come straight back here."),
    h("div", { class: "actions" }, signIn, signUp), box);
}

function signInForm(next, intro) {
  if (apiMode === "checked") return providerSignIn(next, intro);
  const box = h("div");
  const handle = h("input", { id: "handle", name: "handle", required: true, autocomplete: "username", autocapitalize: "none",
    spellcheck: "false", maxlength: "40" });
  const name = h("input", { id: "display-name", name: "name", autocomplete: "name", maxlength: "80" });
  const submit = h("button", { type: "submit" }, "Continue");
  const form = h("form", { "aria-label": "Sign in", onsubmit: (e) => {
    e.preventDefault();
    const person = handle.value.trim().toLowerCase();
    if (!HANDLE.test(person)) {
      say(box, "problem", "A handle is 1 to 40 lowercase letters, digits and '-', like melvin or anna-b.");
      handle.focus();
      return;
    }
    act(submit, box, async () => {
      remember({ person, name: name.value.trim() || null, token: null, organizer: true });
      drawWho();
      if (location.hash === next) await route();
      else location.hash = next; // hashchange draws it
    });
  } },
  field("Your handle", handle, "lowercase letters, digits and '-', e.g. melvin"),
  field("Your name (optional)", name, "what others see in the list"),
  h("div", { class: "actions" }, submit), box);
  return h("section", { class: "box", "aria-labelledby": "signin-title" },
    h("h2", { id: "signin-title" }, intro), form,
    h("p", { class: "hint", text: "This Turnout runs in open mode: no password, anyone may act as anyone." }));
}

function signInView(params) {
  show(h("h1", {}, "Sign in"), signInForm(params.get("next") || "#/", "Who are you?"));
  document.getElementById(apiMode === "checked" ? "sign-in" : "handle").focus();
}

// --- calendar feeds: a secret address a calendar app subscribes to -------------------------------

function feedBox(title, path, hint) {
  const box = h("div");
  const section = h("section", { class: "box", "aria-label": title });
  const draw = (feed) => {
    const make = h("button", { type: "button" }, feed ? "New address" : "Make an address");
    make.onclick = () => act(make, box, async () => draw(await call("PUT", path)));
    const revoke = h("button", { type: "button", class: "secondary" }, "Revoke");
    revoke.onclick = () => act(revoke, box, async () => { await call("DELETE", path); draw(null); });
    section.replaceChildren(h("h2", {}, title), h("p", { class: "hint", text: hint }),
      feed ? h("p", {}, h("a", { href: feed.url }, "Subscribe"), " · ", h("code", { text: feed.https_url })) : h("p", { class: "muted" }, "No address yet."),
      h("div", { class: "actions" }, make, feed ? revoke : null), box);
  };
  call("GET", path).then(draw, (error) => {
    if (!(error instanceof Refusal)) throw error;
    if (error.status === 404) draw(null);
    else say(box, "problem", explain(error));
  });
  section.append(box);
  return section;
}

function calendarView() {
  const me = session();
  if (!me) return signInView(new URLSearchParams({ next: "#/calendar" }));
  const secret = "Anyone with the address sees the list, so keep it to yourself; a new address or Revoke stops the old one.";
  show(h("h1", {}, "Calendar feeds"),
    feedBox("Your events", `/people/${encodeURIComponent(me.person)}/feed`,
      `What you are going to, and (tentative) waiting for. Calendar apps read it again every few hours. ${secret}`),
    isOrganizer() ? feedBox("Every event (the group's)", "/group/feed", `For a club's shared calendar. ${secret}`) : null);
}

// --- the list of upcoming events ----------------------------------------------------------------

async function listView() {
  const events = [];
  let cursor = null;
  try {
    do {
      const query = new URLSearchParams({ limit: "50" });
      if (cursor) query.set("cursor", cursor);
      const page = await call("GET", `/events?${query}`);
      events.push(...page.events);
      cursor = page.next_cursor;
    } while (cursor && events.length < 200);
  } catch (error) {
    if (!(error instanceof Refusal)) throw error;
    show(h("h1", {}, "Upcoming events"), message("problem", explain(error)),
      error.code === "Unauthorized" ? signInForm("#/", "Sign in to see the events") : null);
    return;
  }
  const items = events.map((event) => {
    const { text, full } = seats(event);
    return h("li", {}, h("a", { class: "card", href: `#/events/${event.event_id}` },
      h("h2", {}, event.name),
      h("p", { class: "meta" }, span(event)),
      event.location ? h("p", { class: "meta" }, event.location) : null,
      h("p", { class: `seats${full ? " full" : ""}` }, text)));
  });
  show(h("h1", {}, "Upcoming events"),
    isOrganizer() ? h("div", { class: "actions" }, h("a", { class: "button", href: "#/new" }, "New event")) : null,
    items.length ? h("ul", { class: "events", "aria-label": "Upcoming events, soonest first" }, items)
      : h("p", { class: "muted" }, "Nothing coming up yet."));
}

// --- one event ----------------------------------------------------------------------------------------

async function eventView(eventId, notice) {
  let event, signups;
  try {
    [event, signups] = await Promise.all([call("GET", `/events/${encodeURIComponent(eventId)}`), allSignups(eventId)]);
  } catch (error) {
    if (!(error instanceof Refusal)) throw error;
    show(h("p", {}, h("a", { href: "#/" }, "← All events")), message("problem", explain(error)),
      error.code === "Unauthorized" ? signInForm(`#/events/${eventId}`, "Sign in to see this event") : null);
    return;
  }
  const me = session();
  const mine = me ? signups.find((signup) => signup.person === me.person) : null;
  const going = signups.filter((signup) => signup.status === "going");
  const waiting = signups.filter((signup) => signup.status === "waitlisted").sort((a, b) => a.position - b.position);
  const organizer = isOrganizer();
  const { text, full } = seats(event);
  const reload = (said) => eventView(eventId, said);

  const person = (signup) => h("li", { class: signup.person === me?.person ? "you" : null },
    displayName(signup), party(signup.guests), signup.person === me?.person ? " (you)" : "",
    organizer && signup.checked_in_at ? h("span", { class: "badge in", text: `checked in ${timeOnly(signup.checked_in_at, event.timezone)}` }) : null);
  const checkedIn = going.filter((signup) => signup.checked_in_at).length;

  show(
    h("p", {}, h("a", { href: "#/" }, "← All events")),
    h("h1", {}, event.name),
    h("div", { class: "facts" },
      h("p", { class: "meta" }, span(event)),
      event.location ? h("p", { class: "meta" }, event.location) : null,
      h("p", { class: `seats${full ? " full" : ""}` }, text),
      event.description ? h("p", { class: "description" }, event.description) : null),
    h("div", { class: "actions" }, calendarLink(event),
      organizer ? h("a", { class: "button secondary", href: `#/events/${event.event_id}/edit` }, "Edit event") : null),
    notice ? message(notice.kind, notice.text) : null,
    mySignup(event, mine, reload),
    h("h2", { id: "going-title" }, `Going (${people(event.seats_taken)})`),
    going.length ? h("ul", { class: "people", "aria-labelledby": "going-title" }, going.map(person)) : h("p", { class: "muted" }, "Nobody yet."),
    organizer && going.length ? h("p", { class: "hint", id: "checked-in" }, `${checkedIn} of ${going.length} checked in`) : null,
    waiting.length ? [h("h2", { id: "waitlist-title" }, `Waitlist (${people(waiting.reduce((count, signup) => count + 1 + signup.guests, 0))})`),
      h("ol", { class: "people", "aria-labelledby": "waitlist-title" }, waiting.map(person))] : null,
  );
  main.focus();
}

function calendarLink(event) {
  const path = `/events/${encodeURIComponent(event.event_id)}/calendar.ics`;
  const filename = `turnout-${event.event_id}.ics`;
  const box = h("span");
  const link = h("a", { class: "button secondary", href: path, download: filename, onclick: (e) => {
    if (!session()?.token) return; // the link itself works where no token is needed
    e.preventDefault();
    download(path, filename).catch((error) => {
      if (!(error instanceof Refusal)) throw error;
      say(box, "problem", explain(error));
    });
  } }, "Add to calendar");
  return [link, box];
}

function mySignup(event, mine, reload) {
  const me = session();
  if (!me) return signInForm(`#/events/${event.event_id}`, "Who are you? Sign in to sign up");
  const box = h("div");
  const path = `/events/${encodeURIComponent(event.event_id)}/signups/${encodeURIComponent(me.person)}`;
  const guests = h("input", { id: "guests", type: "number", min: "0", max: "20", step: "1", inputmode: "numeric",
    value: String(mine ? mine.guests : 0) });
  const guestCount = () => {
    const value = Number(guests.value);
    if (!Number.isInteger(value) || value < 0 || value > 20) {
      throw new Refusal(400, "InvalidInput", "a whole number from 0 to 20.", "guests");
    }
    return value;
  };

  if (!mine) {
    const join = h("button", { type: "submit" }, "Sign me up");
    return h("section", { class: "box", "aria-labelledby": "me-title" },
      h("h2", { id: "me-title" }, "Are you coming?"),
      h("form", { onsubmit: (e) => { e.preventDefault(); act(join, box, async () => {
        const body = { guests: guestCount() };
        if (me.name) body.name = me.name;
        const signup = await call("PUT", path, body);
        await reload(signup.status === "going" ? { kind: "ok", text: "You're going!" }
          : { kind: "ok", text: `The event is full, so you're on the waitlist: number ${signup.position} in line.` });
      }, { fields: { guests } }); } }, h("div", { class: "row" }, field("Guests you bring", guests), join)), box);
  }

  const checkInOpen = Date.now() >= checkInOpensAt(event).getTime();
  const opensText = checkInOpensText(event);
  const change = h("button", { type: "submit", class: "secondary" }, "Change party size");
  const cancel = h("button", { type: "button", class: "danger", onclick: () => act(cancel, box, async () => {
    const answer = await call("DELETE", path);
    const promoted = answer.promoted ? ` ${displayName(answer.promoted)} moved up from the waitlist.` : "";
    await reload({ kind: "ok", text: `You've cancelled.${promoted}` });
  }) }, "Cancel my signup");
  const checkIn = h("button", { type: "button", onclick: () => act(checkIn, box, async () => {
    try {
      await call("POST", `${path}/check-in`);
    } catch (error) {
      if (!(error instanceof Refusal && error.code === "CheckInNotOpen")) throw error;
      // The event moved since this page was drawn: say when check-in opens now, on the page redrawn.
      const moved = await call("GET", `/events/${encodeURIComponent(event.event_id)}`);
      await reload({ kind: "problem", text: explain(error, { checkInOpens: checkInOpensText(moved) }) });
      return;
    }
    await reload({ kind: "ok", text: "You're checked in. Enjoy!" });
  }) }, "Check in");

  let status;
  if (mine.status === "going") {
    status = mine.checked_in_at ? `You're going, and checked in at ${timeOnly(mine.checked_in_at, event.timezone)}.`
      : "You're going.";
  } else {
    status = `You're on the waitlist: number ${mine.position} in line.`;
  }
  return h("section", { class: "box", "aria-labelledby": "me-title" },
    h("h2", { id: "me-title" }, "Your signup"),
    h("p", { class: `status ${mine.status}`, id: "my-status" }, status, party(mine.guests) ? ` Party:${party(mine.guests)}.` : ""),
    h("form", { onsubmit: (e) => { e.preventDefault(); act(change, box, async () => {
      const wanted = guestCount();
      const signup = await call("PUT", path, { guests: wanted });
      await reload(signup.guests === wanted ? { kind: "ok", text: `Your party is now you${party(wanted) || " alone"}.` }
        : { kind: "problem", text: `Turnout kept your party at you${party(signup.guests) || " alone"}: it did not take the change.` });
    }, { fields: { guests } }); } }, h("div", { class: "row" }, field("Guests you bring", guests), change)),
    h("div", { class: "actions" },
      mine.status === "going" && !mine.checked_in_at && checkInOpen ? checkIn : null,
      cancel),
    mine.status === "going" && !mine.checked_in_at && !checkInOpen ? h("p", { class: "hint" }, `Check-in opens ${opensText}.`) : null,
    box);
}

// --- organizers: a new event, or changes to one ---------------------------------------------------

async function editView(eventId) {
  if (!isOrganizer()) {
    show(message("problem", "Only organizers create and change events."), h("p", {}, h("a", { href: "#/" }, "← All events")));
    return;
  }
  let event = null;
  if (eventId) {
    try {
      event = await call("GET", `/events/${encodeURIComponent(eventId)}`);
    } catch (error) {
      if (!(error instanceof Refusal)) throw error;
      show(message("problem", explain(error)), h("p", {}, h("a", { href: "#/" }, "← All events")));
      return;
    }
  }
  const zone = event?.timezone ?? Intl.DateTimeFormat().resolvedOptions().timeZone ?? "UTC";
  const inputs = {
    name: h("input", { id: "name", required: true, maxlength: "120", value: event?.name ?? "" }),
    starts_at: h("input", { id: "starts", type: "datetime-local", required: true, value: wallTime(event?.starts_at) }),
    ends_at: h("input", { id: "ends", type: "datetime-local", value: wallTime(event?.ends_at) }),
    timezone: h("input", { id: "timezone", required: true, value: zone, autocapitalize: "none", spellcheck: "false" }),
    location: h("input", { id: "location", maxlength: "200", value: event?.location ?? "" }),
    description: h("textarea", { id: "description", maxlength: "2000" }, event?.description ?? ""),
    capacity: h("input", { id: "capacity", type: "number", min: "1", step: "1", inputmode: "numeric",
      value: event?.capacity ?? "" }),
  };
  // A new event may repeat (POST /series, docs/SERIES.md): every week, every two weeks or monthly, N times.
  const repeat = event ? null : {
    every: h("select", { id: "repeat" }, h("option", { value: "" }, "Does not repeat"),
      h("option", { value: "week" }, "Every week"), h("option", { value: "week2" }, "Every two weeks"),
      h("option", { value: "month" }, "Monthly, same weekday")),
    count: h("input", { id: "repeat-count", type: "number", min: "1", max: "500", step: "1", value: "10" }),
  };
  const box = h("div");
  const save = h("button", { type: "submit" }, event ? "Save changes" : "Create event");
  const values = () => ({
    name: inputs.name.value.trim(),
    starts_at: inputs.starts_at.value,
    ends_at: inputs.ends_at.value || null,
    timezone: inputs.timezone.value.trim(),
    location: inputs.location.value.trim() || null,
    description: inputs.description.value.trim() || null,
    capacity: inputs.capacity.value === "" ? null : Number(inputs.capacity.value),
  });
  const before = event ? { name: event.name, starts_at: wallTime(event.starts_at), ends_at: event.ends_at ? wallTime(event.ends_at) : null,
    timezone: event.timezone, location: event.location, description: event.description, capacity: event.capacity } : null;
  const form = h("form", { "aria-label": event ? "Edit event" : "New event", onsubmit: (e) => {
    e.preventDefault();
    act(save, box, async () => {
      const wanted = values();
      let saved;
      if (event) {
        const changes = Object.fromEntries(Object.entries(wanted).filter(([name, value]) => value !== before[name]));
        if (!Object.keys(changes).length) {
          say(box, "ok", "Nothing changed.");
          return;
        }
        saved = await call("PATCH", `/events/${encodeURIComponent(event.event_id)}`, changes);
      } else if (repeat.every.value) {
        const every = repeat.every.value === "month" ? "month" : "week";
        const given = Object.fromEntries(Object.entries(wanted).filter(([, value]) => value !== null));
        const interval = repeat.every.value === "week2" ? { interval: 2 } : {};
        const made = await call("POST", "/series", { ...given, repeat: { every, ...interval, count: Number(repeat.count.value) } });
        saved = made.occurrences[0];
      } else {
        saved = await call("POST", "/events", Object.fromEntries(Object.entries(wanted).filter(([, value]) => value !== null)));
      }
      location.hash = `#/events/${saved.event_id}`;
    }, { fields: inputs });
  } },
  field("Name", inputs.name),
  field("Starts", inputs.starts_at, `wall time in the event's zone`),
  field("Ends (optional)", inputs.ends_at),
  field("Time zone", inputs.timezone, "IANA name, e.g. Europe/Oslo"),
  field("Place (optional)", inputs.location),
  field("Description (optional)", inputs.description),
  field("Capacity (optional)", inputs.capacity, "people including guests; empty is no limit"),
  repeat ? field("Repeats", repeat.every, "each one its own event, at the same wall time") : null,
  repeat ? field("How many times", repeat.count, "if it repeats") : null,
  h("div", { class: "actions" }, save, h("a", { class: "button secondary", href: event ? `#/events/${event.event_id}` : "#/" }, "Back")),
  box);
  show(h("h1", {}, event ? `Edit ${event.name}` : "New event"), form);
  inputs.name.focus();
}

// --- the address picks the view ---------------------------------------------------------------------

function decoded(part) {
  try {
    return decodeURIComponent(part);
  } catch {
    return null; // "%E0%A4%A" decodes to no text: an address the page never made
  }
}

async function route() {
  const [path, query] = (location.hash.slice(1) || "/").split("?");
  const params = new URLSearchParams(query);
  const parts = path.split("/").filter(Boolean).map(decoded);
  if (parts.includes(null)) {
    return show(h("p", {}, h("a", { href: "#/" }, "← All events")), message("problem", "There is no page at this address."));
  }
  if (parts[0] === "events" && parts[1] && parts[2] === "edit") return editView(parts[1]);
  if (parts[0] === "events" && parts[1]) return eventView(parts[1]);
  if (parts[0] === "new") return editView(null);
  if (parts[0] === "signin") return signInView(params);
  if (parts[0] === "calendar") return calendarView();
  if (parts[0] === "me") return meView();
  return listView();
}

async function start() {
  try {
    apiMode = await mode();
  } catch (error) {
    show(message("problem", error instanceof Refusal ? explain(error) : "Turnout cannot be reached right now."));
    return;
  }
  if (apiMode === "open" && session()?.token) forget();
  let problem = null;
  if (apiMode === "checked") {
    try {
      await finishSignIn(); // back from the provider with a code: tokens, and the address the person was at
    } catch (error) {
      problem = `Signing in did not work: ${error.message}`;
    }
    scheduleRefresh();
  }
  drawWho();
  window.addEventListener("hashchange", () => { drawWho(); route(); });
  await route();
  if (problem) main.prepend(message("problem", problem));
  // The first view is drawn with data: what the browser tests time as "first render".
  performance.mark("turnout:first-view");
  document.documentElement.dataset.ready = "true";
}

start();
