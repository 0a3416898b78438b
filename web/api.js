// The page's side of the JSON API: calls with your token (auth.js keeps it fresh), refusals in words.
import { beginSignIn, currentToken, forget, refresh, session } from "./auth.js";

export { HANDLE, forget, remember, session } from "./auth.js";

export class Refusal extends Error {
  constructor(status, code, message, field) {
    super(message);
    this.status = status;
    this.code = code;
    this.field = field;
  }
}

async function send(method, path, body, accept = "application/json") {
  const headers = { accept };
  if (body !== undefined) headers["content-type"] = "application/json";
  const token = await currentToken();
  if (token) headers.authorization = `Bearer ${token}`;
  try {
    return await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  } catch {
    throw new Refusal(0, "Offline", "Turnout cannot be reached right now. Check your connection and try again.");
  }
}

// A signed-in person's token refused (expired, revoked): renewed once and asked again; when that fails too, to the
// provider's sign-in, coming back to this very address.
async function sendSignedIn(method, path, body, accept) {
  let answer = await send(method, path, body, accept);
  if (answer.status === 401 && session()?.token) {
    if (await refresh()) answer = await send(method, path, body, accept);
    if (answer.status === 401) {
      forget();
      await beginSignIn("signin");
    }
  }
  return answer;
}

export async function call(method, path, body) {
  const answer = await sendSignedIn(method, path, body);
  if (answer.status === 204) return null;
  let data = null;
  try {
    data = await answer.json();
  } catch {
    data = null;
  }
  if (answer.ok) return data;
  const error = data?.error;
  // API Gateway's own authorizer answers {"message": "Unauthorized"}, without the API's error object.
  const code = error?.code ?? (answer.status === 401 ? "Unauthorized" : "Unknown");
  throw new Refusal(answer.status, code, error?.message ?? "", error?.field);
}

// A file the API serves only with a token (the calendar file, when reads are not public): a plain link would go
// without one, so it is fetched here and handed to the browser as a download.
export async function download(path, filename) {
  const answer = await sendSignedIn("GET", path, undefined, "text/calendar");
  if (!answer.ok) {
    const error = (await answer.json().catch(() => null))?.error;
    throw new Refusal(answer.status, error?.code ?? (answer.status === 401 ? "Unauthorized" : "Unknown"), error?.message ?? "");
  }
  const link = document.createElement("a");
  link.href = URL.createObjectURL(await answer.blob());
  link.download = filename;
  link.click();
  setTimeout(() => URL.revokeObjectURL(link.href), 10_000);
}

// Every signup of an event, all pages of it: going first, then the waitlist in order.
export async function allSignups(eventId) {
  const signups = [];
  let cursor = null;
  do {
    const query = new URLSearchParams({ limit: "100" });
    if (cursor) query.set("cursor", cursor);
    const page = await call("GET", `/events/${encodeURIComponent(eventId)}/signups?${query}`);
    signups.push(...page.signups);
    cursor = page.next_cursor;
  } while (cursor);
  return signups;
}

let apiMode = null; // what mode() found, for every view

// How this API runs: "open" (no token checked, TURNOUT_AUTH=off), or "checked" (a bearer token per request). The
// API writes it into the page it serves; a page served from elsewhere asks the OpenAPI document instead.
export async function mode() {
  const told = document.querySelector('meta[name="turnout-mode"]')?.content;
  if (told === "open" || told === "checked") apiMode = told;
  else apiMode = (await call("GET", "/openapi.json")).components?.securitySchemes ? "checked" : "open";
  return apiMode;
}

export function checked() {
  return apiMode === "checked";
}

// Open mode makes everyone an organizer; with tokens checked, the provider's organizers group says.
export function isOrganizer() {
  return apiMode === "open" || Boolean(session()?.organizer);
}

const FIELD_NAMES = {
  name: "the name", starts_at: "the start", ends_at: "the end", timezone: "the time zone",
  location: "the place", description: "the description", capacity: "the capacity", guests: "the number of guests",
  person: "your handle", event_id: "the event", waitlist: "the waitlist choice",
  signups_close_at: "when sign-ups close", email: "the email address", phone: "the phone number",
  serial: "the serial number",
};

// A refusal as a sentence for people: never the raw error. `context` lends what the error itself does not carry.
export function explain(refusal, context = {}) {
  switch (refusal.code) {
    case "EventFull": return "The event is full.";
    case "NoRoomToGrow": return "There is no room for a bigger party right now, so your party stays as it was.";
    case "SignupsClosed": return "Sign-ups for this event have closed: a party may get smaller now, not bigger.";
    case "EventOver": return "This event is over; its list is closed.";
    case "EventNotFound": return "This event does not exist (any more). It may have been removed.";
    case "NotSignedUp": return "You are not signed up for this event.";
    case "NotGoing": return "You are on the waitlist, not going, so you cannot check in. You can once a seat frees up.";
    case "CheckInNotOpen":
      return context.checkInOpens ? `Check-in is not open yet. It opens ${context.checkInOpens}.` : "Check-in is not open yet.";
    case "CapacityBelowTaken": return `The capacity is lower than the places already taken. ${refusal.message}`;
    case "InvalidInput": case "InvalidCursor": {
      const what = FIELD_NAMES[refusal.field];
      return what ? `Please check ${what}: ${refusal.message}` : `Please check what you entered: ${refusal.message}`;
    }
    case "InvalidJson": case "PayloadTooLarge": return "That was more than Turnout can take. Please shorten it.";
    case "Unauthorized": return "Please sign in first.";
    case "NoSuchAccount": case "OrganizersElsewhere": return refusal.message;
    case "Forbidden": return "That belongs to someone else, so you cannot change it.";
    case "Busy": case "Throttled": return "Turnout is busy right now. Please try again in a moment.";
    case "Offline": return refusal.message;
    case "RouteNotFound": case "MethodNotAllowed": return "This page and the API disagree. Reload the page and try again.";
    default: return "Something went wrong on Turnout's side. Please try again in a moment.";
  }
}
