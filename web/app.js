// The web page's views: the hash address picks one (events, one event, new or edit event, sign in, you, calendar
// feeds) and draws it; the header says who you are.
import { Refusal, call, checked, explain, forget, isOrganizer, mode, session } from "./api.js";
import { finishSignIn, scheduleRefresh, signOut } from "./auth.js";
import { act, focusOn, h, main, message, retry, say, show } from "./draw.js";
import { editView } from "./edit.js";
import { eventView } from "./event.js";
import { meView } from "./me.js";
import { signInForm, signInView } from "./signin.js";
import { span } from "./time.js";
import { seats } from "./words.js";

const who = document.getElementById("who");
const SLOW_MS = 3_000; // past this, "Loading…" says more

// --- who you are -------------------------------------------------------------------------------

function drawWho() {
  const me = session();
  if (me) {
    const leave = () => {
      if (checked()) return signOut();
      forget();
      drawWho();
      return route();
    };
    who.replaceChildren(h("a", { href: "#/me", text: `You are ${me.person}${me.organizer && checked() ? " (organizer)" : ""}` }),
      h("a", { href: "#/calendar" }, "Calendar feed"),
      h("button", { class: "link", type: "button", onclick: leave }, "Sign out"));
  } else {
    who.replaceChildren(h("a", { href: `#/signin?next=${encodeURIComponent(location.hash || "#/")}` }, "Sign in"));
  }
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
  const notice = sessionStorage.getItem("turnout.notice"); // what an action on another view came to (a deletion)
  sessionStorage.removeItem("turnout.notice");
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
    const problem = message("problem", explain(error), " ", retry(() => route()));
    show(h("h1", {}, "Upcoming events"), problem,
      error.code === "Unauthorized" ? signInForm("#/", "Sign in to see the events") : null);
    focusOn(problem);
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
  const news = notice ? message("ok", notice) : null;
  show(h("h1", {}, "Upcoming events"), news,
    isOrganizer() ? h("div", { class: "actions" }, h("a", { class: "button", href: "#/new" }, "New event")) : null,
    items.length ? h("ul", { class: "events", "aria-label": "Upcoming events, soonest first" }, items)
      : h("p", { class: "muted" }, "Nothing coming up yet."));
  if (news) focusOn(news);
}

// --- the address picks the view ---------------------------------------------------------------------

function decoded(part) {
  try {
    return decodeURIComponent(part);
  } catch {
    return null; // "%E0%A4%A" decodes to no text: an address the page never made
  }
}

// A view still waiting for the API after a few seconds says so, with what the person can do.
async function route() {
  const slow = setTimeout(() => {
    const waiting = message("wait", "Still loading: Turnout is slow to answer right now. This page keeps waiting; "
      + "you can also try again.", " ", retry(() => route()));
    show(waiting);
  }, SLOW_MS);
  try {
    await draw();
  } finally {
    clearTimeout(slow);
  }
}

async function draw() {
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
  const slow = setTimeout(() => {
    const loading = main.querySelector(".muted");
    if (loading) loading.textContent = "Still loading: Turnout is slow to answer right now. This page keeps waiting.";
  }, SLOW_MS);
  try {
    await mode();
  } catch (error) {
    clearTimeout(slow);
    show(message("problem", error instanceof Refusal ? explain(error) : "Turnout cannot be reached right now.", " ",
      retry(() => location.reload())));
    return;
  }
  clearTimeout(slow);
  if (!checked() && session()?.token) forget();
  let problem = null;
  if (checked()) {
    try {
      await finishSignIn(); // back from the provider with a code: tokens, and the address the person was at
    } catch (error) {
      problem = `Signing in did not work: ${error.message}`;
    }
    scheduleRefresh();
  }
  drawWho();
  window.addEventListener("hashchange", () => { drawWho(); route(); });
  window.addEventListener("turnout:signed-out", () => drawWho()); // a token that could not be renewed
  await route();
  if (problem) main.prepend(message("problem", problem));
  // The first view is drawn with data: what the browser tests time as "first render".
  performance.mark("turnout:first-view");
  document.documentElement.dataset.ready = "true";
}

start();
