// The page's one-event view: the facts, your own signup, who is going and waiting, and an organizer's hand on each
// signup and on the event itself. Whatever changes a list asks first, and what came of it takes the focus.
import { Refusal, allSignups, call, download, explain, isOrganizer, session } from "./api.js";
import { act, ask, field, focusOn, h, main, message, retry, say, show } from "./draw.js";
import { signInForm } from "./signin.js";
import { checkInOpensAt, checkInOpensText, signupsClosed, span, timeOnly } from "./time.js";
import { displayName, parties, party, people, places, seats, size } from "./words.js";
import { limits } from "./limits.js";

const signupPath = (event, person) =>
  `/events/${encodeURIComponent(event.event_id)}/signups/${encodeURIComponent(person)}`;

export async function eventView(eventId, notice) {
  let event, signups;
  try {
    [event, signups] = await Promise.all([call("GET", `/events/${encodeURIComponent(eventId)}`), allSignups(eventId)]);
  } catch (error) {
    if (!(error instanceof Refusal)) throw error;
    const problem = message("problem", explain(error), " ", retry(() => eventView(eventId, notice)));
    show(h("p", {}, h("a", { href: "#/" }, "← All events")), problem,
      error.code === "Unauthorized" ? signInForm(`#/events/${eventId}`, "Sign in to see this event") : null);
    focusOn(problem);
    return;
  }
  const me = session();
  const mine = me ? signups.find((signup) => signup.person === me.person) : null;
  const going = signups.filter((signup) => signup.status === "going");
  const waiting = signups.filter((signup) => signup.status === "waitlisted").sort((a, b) => a.position - b.position);
  const organizer = isOrganizer();
  const { text, full } = seats(event);
  const reload = (said) => eventView(eventId, said);
  const box = h("div"); // what an organizer's action on someone came to, when it was refused

  const person = (signup) => h("li", { class: signup.person === me?.person ? "you" : null },
    displayName(signup), party(signup.guests), signup.person === me?.person ? " (you)" : "",
    organizer && signup.checked_in_at ? h("span", { class: "badge in", text: `checked in ${timeOnly(signup.checked_in_at, event.timezone)}` }) : null,
    organizer && signup.person !== me?.person ? onSomeone(event, signup, box, reload) : null);
  // People, as the heading counts them: a party checked in is all its people.
  const checkedIn = going.filter((signup) => signup.checked_in_at).reduce((count, signup) => count + size(signup), 0);
  const waitingPeople = waiting.reduce((count, signup) => count + size(signup), 0);
  const news = notice ? h("p", { class: `message ${notice.kind}`, id: "notice", role: notice.kind === "problem" ? "alert" : "status",
    tabindex: "-1" }, notice.text) : null;

  show(
    h("p", {}, h("a", { href: "#/" }, "← All events")),
    h("h1", {}, event.name),
    h("div", { class: "facts" },
      h("p", { class: "meta" }, span(event)),
      event.location ? h("p", { class: "meta" }, event.location) : null,
      h("p", { class: `seats${full ? " full" : ""}`, id: "seats" }, text),
      event.description ? h("p", { class: "description" }, event.description) : null),
    h("div", { class: "actions" }, calendarLink(event),
      organizer ? h("a", { class: "button secondary", href: `#/events/${event.event_id}/edit` }, "Edit event") : null,
      organizer ? deleteButton(event, signups, box) : null),
    news,
    mySignup(event, mine, reload),
    h("h2", { id: "going-title" }, `Going (${people(event.seats_taken)})`),
    going.length ? h("ul", { class: "people", "aria-labelledby": "going-title" }, going.map(person)) : h("p", { class: "muted" }, "Nobody yet."),
    organizer && going.length ? h("p", { class: "hint", id: "checked-in" }, `${checkedIn} of ${people(event.seats_taken)} checked in`) : null,
    waiting.length ? [h("h2", { id: "waitlist-title" }, `Waitlist (${people(waitingPeople)} in ${parties(waiting.length)})`),
      h("ol", { class: "people", "aria-labelledby": "waitlist-title" }, waiting.map(person))] : null,
    box,
  );
  if (news) focusOn(news);
  else main.focus();
}

// An organizer's buttons beside someone else's signup: check them in, move a waiting party up now, or cancel them
// (they are told, as the API tells them).
function onSomeone(event, signup, box, reload) {
  const name = displayName(signup);
  const path = signupPath(event, signup.person);
  const cancel = h("button", { type: "button", class: "link", "aria-label": `Cancel ${name}'s signup` }, "Cancel");
  cancel.onclick = async () => {
    const checkedIn = signup.checked_in_at ? ` They checked in at ${timeOnly(signup.checked_in_at, event.timezone)}; that is undone too.` : "";
    if (!await ask(`Cancel ${name}'s signup for ${event.name}?`, `${name} is told.${checkedIn}`, "Yes, cancel theirs")) return;
    await act(cancel, box, async () => {
      const answer = await call("DELETE", path);
      const promoted = answer.promoted ? ` ${displayName(answer.promoted)} moved up from the waitlist.` : "";
      await reload({ kind: "ok", text: `${name}'s signup is cancelled, and they are told.${promoted}` });
    });
  };
  const open = Date.now() >= checkInOpensAt(event).getTime();
  const checkIn = signup.status === "going" && !signup.checked_in_at && open
    ? h("button", { type: "button", class: "link", "aria-label": `Check in ${name}` }, "Check in") : null;
  if (checkIn) {
    checkIn.onclick = () => act(checkIn, box, async () => {
      await call("POST", `${path}/check-in`);
      await reload({ kind: "ok", text: `${name} is checked in.` });
    });
  }
  const moveUp = signup.status === "waitlisted"
    ? h("button", { type: "button", class: "link", "aria-label": `Move ${name} up` }, "Move up") : null;
  if (moveUp) {
    moveUp.onclick = async () => {
      const lacking = Math.max(0, size(signup) - (event.spots_left ?? size(signup)));
      const grows = lacking ? ` The capacity grows by ${places(lacking)} so the whole party fits.` : "";
      if (!await ask(`Move ${name} up now, ahead of the line?`, `${name} is told.${grows}`, "Yes, move them up")) return;
      await act(moveUp, box, async () => {
        const moved = await call("POST", `${path}/move-up`);
        const added = moved.places_added ? ` The capacity grew by ${places(moved.places_added)}.` : "";
        await reload({ kind: "ok", text: `${name} is going now, and is told.${added}` });
      });
    };
  }
  return h("span", { class: "on-someone" }, checkIn, moveUp, cancel);
}

function deleteButton(event, signups, box) {
  const remove = h("button", { type: "button", class: "danger" }, "Delete event");
  remove.onclick = async () => {
    const told = signups.length ? `Everyone signed up (${people(signups.reduce((n, s) => n + size(s), 0))}) is told; ` : "";
    if (!await ask(`Delete ${event.name}?`, `${told}it cannot be undone. A button bound to it signs up for the next event from then on.`,
      "Yes, delete it")) return;
    await act(remove, box, async () => {
      await call("DELETE", `/events/${encodeURIComponent(event.event_id)}`);
      sessionStorage.setItem("turnout.notice", `${event.name} is deleted.${signups.length ? " Everyone signed up is told." : ""}`);
      location.hash = "#/";
    });
  };
  return remove;
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

function guestsInput(value, most) {
  return h("input", { id: "guests", type: "number", min: "0", max: String(most), step: "1", inputmode: "numeric",
    value: String(value) });
}

function guestCount(input) {
  const value = Number(input.value);
  if (!Number.isInteger(value) || value < 0 || value > Number(input.max)) {
    throw new Refusal(400, "InvalidInput", `a whole number from 0 to ${input.max}.`, "guests");
  }
  return value;
}

function mySignup(event, mine, reload) {
  const me = session();
  const closed = signupsClosed(event);
  if (!me) {
    return closed ? h("p", { class: "status", id: "my-status" }, "Sign-ups for this event have closed.")
      : signInForm(`#/events/${event.event_id}`, "Who are you? Sign in to sign up");
  }
  const box = h("div");
  const path = signupPath(event, me.person);
  if (!mine) {
    if (closed) {
      return h("section", { class: "box", "aria-labelledby": "me-title" }, h("h2", { id: "me-title" }, "Are you coming?"),
        h("p", { class: "status", id: "my-status" }, "Sign-ups for this event have closed."));
    }
    const guests = guestsInput(0, limits.guests);
    const join = h("button", { type: "submit" }, "Sign me up");
    return h("section", { class: "box", "aria-labelledby": "me-title" },
      h("h2", { id: "me-title" }, "Are you coming?"),
      h("form", { onsubmit: (e) => { e.preventDefault(); act(join, box, async () => {
        const body = { guests: guestCount(guests) };
        if (me.name) body.name = me.name;
        const signup = await call("PUT", path, body);
        await reload(signup.status === "going" ? { kind: "ok", text: "You're going!" }
          // The API says why a party waits ("2 places are left; your party of 3 doesn't fit, so ...").
          : { kind: "ok", text: signup.message || `You're number ${signup.position} in line.` });
      }, { fields: { guests } }); } }, h("div", { class: "row" }, field("Guests you bring", guests), join)), box);
  }

  // After sign-ups close a party may get smaller, never bigger: the field stops at its size.
  const guests = guestsInput(mine.guests, closed ? mine.guests : limits.guests);
  const checkInOpen = Date.now() >= checkInOpensAt(event).getTime();
  const change = h("button", { type: "submit", class: "secondary" }, closed ? "Bring fewer guests" : "Change party size");
  const cancel = h("button", { type: "button", class: "danger" }, "Cancel my signup");
  cancel.onclick = async () => {
    const undone = mine.checked_in_at ? ` You checked in at ${timeOnly(mine.checked_in_at, event.timezone)}; cancelling undoes that.` : "";
    const place = mine.status === "going" ? "Your place goes to the next in line." : "You leave the waitlist.";
    if (!await ask(`Cancel your signup for ${event.name}?`, `${place}${undone}`, "Yes, cancel")) return;
    await act(cancel, box, async () => {
      const answer = await call("DELETE", path);
      const promoted = answer.promoted ? ` ${displayName(answer.promoted)} moved up from the waitlist.` : "";
      await reload({ kind: "ok", text: `You've cancelled.${promoted}` });
    });
  };
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
    closed ? h("p", { class: "hint", id: "closed-hint" }, "Sign-ups have closed: your party may get smaller, not bigger.") : null,
    h("form", { onsubmit: (e) => { e.preventDefault(); act(change, box, async () => {
      const wanted = guestCount(guests);
      const signup = await call("PUT", path, { guests: wanted });
      await reload(signup.guests === wanted ? { kind: "ok", text: `Your party is now you${party(wanted) || " alone"}.` }
        : { kind: "problem", text: `Turnout kept your party at you${party(signup.guests) || " alone"}: it did not take the change.` });
    }, { fields: { guests } }); } }, h("div", { class: "row" }, field("Guests you bring", guests), change)),
    h("div", { class: "actions" },
      mine.status === "going" && !mine.checked_in_at && checkInOpen ? checkIn : null,
      cancel),
    mine.status === "going" && !mine.checked_in_at && !checkInOpen ? h("p", { class: "hint" }, `Check-in opens ${checkInOpensText(event)}.`) : null,
    box);
}
