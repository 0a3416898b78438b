// The page's times: every time is shown on the event's own clock, in the browser's language.

import { limits } from "./limits.js";

// Check-in opens this long before the start (TURNOUT_CHECK_IN_OPENS_MINUTES, as the API serving the page reads it).
export const CHECK_IN_OPENS_MS = (limits.check_in_opens_minutes ?? 120) * 60 * 1000;

export function when(iso, zone, options = { dateStyle: "full", timeStyle: "short" }) {
  return new Intl.DateTimeFormat(undefined, { ...options, timeZone: zone }).format(new Date(iso));
}

export function timeOnly(iso, zone) {
  return new Intl.DateTimeFormat(undefined, { timeStyle: "short", timeZone: zone }).format(new Date(iso));
}

function zoneLabel(iso, zone) {
  const parts = new Intl.DateTimeFormat(undefined, { timeZone: zone, timeZoneName: "short" }).formatToParts(new Date(iso));
  return parts.find((part) => part.type === "timeZoneName")?.value ?? zone;
}

function sameDay(event) {
  const day = (iso) => when(iso, event.timezone, { dateStyle: "short" });
  return day(event.starts_at) === day(event.ends_at);
}

export function span(event) {
  const start = `${when(event.starts_at, event.timezone)}`;
  const end = event.ends_at ? ` – ${sameDay(event) ? timeOnly(event.ends_at, event.timezone)
    : when(event.ends_at, event.timezone)}` : "";
  return `${start}${end} (${zoneLabel(event.starts_at, event.timezone)})`;
}

export function checkInOpensAt(event) {
  return new Date(new Date(event.starts_at).getTime() - CHECK_IN_OPENS_MS);
}

export function checkInOpensText(event) {
  const opens = checkInOpensAt(event).toISOString();
  return when(opens, event.timezone, { weekday: "long", month: "long", day: "numeric", hour: "numeric", minute: "2-digit" });
}

// Sign-ups close at the organizer's time, or else at the start (the API's signups_until).
export function signupsClosed(event) {
  return Date.now() >= new Date(event.signups_until ?? event.starts_at).getTime();
}

// "datetime-local" wants the wall time; the API reads a time without offset in the event's own zone.
export function wallTime(iso) {
  return iso ? iso.slice(0, 16) : "";
}

// Every IANA zone the browser knows, for the zone field's list (an older browser gets its own zone and UTC).
export function zones() {
  try {
    return Intl.supportedValuesOf("timeZone");
  } catch {
    return [Intl.DateTimeFormat().resolvedOptions().timeZone, "UTC"];
  }
}
