// The page's organizer form: a new event, or changes to one. Times are wall times in the event's zone, picked with
// the browser's own date and time picker (in the browser's language); the zone is picked from the IANA list.
import { Refusal, call, explain, isOrganizer } from "./api.js";
import { act, field, h, message, say, show } from "./draw.js";
import { wallTime, zones } from "./time.js";
import { most } from "./limits.js";

// The zone typed, as the list spells it ("europe/oslo " is Europe/Oslo); a name not on the list is refused here.
function listedZone(typed) {
  const wanted = typed.trim().replace(/ /g, "_").toLowerCase();
  const found = [...zones(), "UTC"].find((name) => name.toLowerCase() === wanted);
  if (!found) throw new Refusal(400, "InvalidInput", "pick a zone from the list, e.g. Europe/Oslo.", "timezone");
  return found;
}

function zoneField(zone) {
  const list = h("datalist", { id: "zones" }, zones().map((name) => h("option", { value: name })));
  const input = h("input", { id: "timezone", required: true, value: zone, list: "zones", autocomplete: "off",
    autocapitalize: "none", spellcheck: "false" });
  return { input, list };
}

export async function editView(eventId) {
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
  const zoneInput = zoneField(zone);
  const inputs = {
    name: h("input", { id: "name", required: true, maxlength: most("name"), value: event?.name ?? "" }),
    starts_at: h("input", { id: "starts", type: "datetime-local", required: true, value: wallTime(event?.starts_at) }),
    ends_at: h("input", { id: "ends", type: "datetime-local", value: wallTime(event?.ends_at) }),
    timezone: zoneInput.input,
    signups_close_at: h("input", { id: "signups-close", type: "datetime-local", value: wallTime(event?.signups_close_at) }),
    location: h("input", { id: "location", maxlength: most("location"), value: event?.location ?? "" }),
    description: h("textarea", { id: "description", maxlength: most("description") }, event?.description ?? ""),
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
    timezone: listedZone(inputs.timezone.value),
    signups_close_at: inputs.signups_close_at.value || null,
    location: inputs.location.value.trim() || null,
    description: inputs.description.value.trim() || null,
    capacity: inputs.capacity.value === "" ? null : Number(inputs.capacity.value),
  });
  const before = event ? { name: event.name, starts_at: wallTime(event.starts_at), ends_at: event.ends_at ? wallTime(event.ends_at) : null,
    timezone: event.timezone, signups_close_at: event.signups_close_at ? wallTime(event.signups_close_at) : null,
    location: event.location, description: event.description, capacity: event.capacity } : null;
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
  field("Starts", inputs.starts_at, "wall time in the event's zone"),
  field("Ends (optional)", inputs.ends_at),
  field("Time zone", inputs.timezone, "type to search, e.g. Oslo or New_York"), zoneInput.list,
  field("Sign-ups close (optional)", inputs.signups_close_at, "wall time in the event's zone; empty: at the start"),
  field("Place (optional)", inputs.location),
  field("Description (optional)", inputs.description),
  field("Capacity (optional)", inputs.capacity, "places, one per person including guests; empty is no limit"),
  repeat ? field("Repeats", repeat.every, "each one its own event, at the same wall time") : null,
  repeat ? field("How many times", repeat.count, "if it repeats") : null,
  h("div", { class: "actions" }, save, h("a", { class: "button secondary", href: event ? `#/events/${event.event_id}` : "#/" }, "Back")),
  box);
  show(h("h1", {}, event ? `Edit ${event.name}` : "New event"), form);
  inputs.name.focus();
}
