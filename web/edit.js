// The page's organizer form: a new event, or changes to one. Times are wall times in the event's zone, picked with
// the browser's own date and time picker (in the browser's language); the zone is picked from the IANA list.
import { Refusal, call, explain, isOrganizer } from "./api.js";
import { act, field, h, message, say, show } from "./draw.js";
import { wallTime, zones } from "./time.js";
import { eventFields } from "./limits.js";

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

// An input's id: the field's name, without "_at", dashed ("signups_close_at" is #signups-close).
const idOf = (name) => name.replace(/_at$/, "").replace(/_/g, "-");

// One field's input, by its kind, holding the event's value (a time as a wall time in the event's zone).
function input(spec, event, zoneInput) {
  const id = idOf(spec.name);
  const value = event?.[spec.name];
  if (spec.kind === "timezone") return zoneInput.input;
  if (spec.kind === "time") return h("input", { id, type: "datetime-local", required: spec.required, value: wallTime(value) });
  if (spec.kind === "capacity") {
    return h("input", { id, type: "number", min: "1", step: "1", inputmode: "numeric", value: value ?? "" });
  }
  if (spec.multiline) return h("textarea", { id, required: spec.required, maxlength: String(spec.max_length) }, value ?? "");
  return h("input", { id, required: spec.required, maxlength: String(spec.max_length), value: value ?? "" });
}

// What the form sends for a field: null for an empty optional one.
function read(spec, input) {
  if (spec.kind === "timezone") return listedZone(input.value);
  if (spec.kind === "capacity") return input.value === "" ? null : Number(input.value);
  if (spec.kind === "time") return input.value || null;
  return spec.required ? input.value.trim() : input.value.trim() || null;
}

// The event's value as the form shows it, to send only what changed.
function shown(spec, value) {
  if (spec.kind === "time") return value ? wallTime(value) : null;
  return value ?? null;
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
  // The form is core's list of an event's fields (core/fields.py), in its order, each drawn by its kind.
  const declared = eventFields();
  const inputs = Object.fromEntries(declared.map((spec) => [spec.name, input(spec, event, zoneInput)]));
  // A new event may repeat (POST /series, docs/SERIES.md): every week, every two weeks or monthly, N times.
  const repeat = event ? null : {
    every: h("select", { id: "repeat" }, h("option", { value: "" }, "Does not repeat"),
      h("option", { value: "week" }, "Every week"), h("option", { value: "week2" }, "Every two weeks"),
      h("option", { value: "month" }, "Monthly, same weekday")),
    count: h("input", { id: "repeat-count", type: "number", min: "1", max: "500", step: "1", value: "10" }),
  };
  const box = h("div");
  const save = h("button", { type: "submit" }, event ? "Save changes" : "Create event");
  const values = () => Object.fromEntries(declared.map((spec) => [spec.name, read(spec, inputs[spec.name])]));
  const before = event ? Object.fromEntries(declared.map((spec) => [spec.name, shown(spec, event[spec.name])])) : null;
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
        // A series takes the fields that repeat; its occurrences close at their starts.
        const repeated = new Set(declared.filter((spec) => spec.repeats).map((spec) => spec.name));
        const given = Object.fromEntries(Object.entries(wanted).filter(([name, value]) => value !== null && repeated.has(name)));
        const interval = repeat.every.value === "week2" ? { interval: 2 } : {};
        const made = await call("POST", "/series", { ...given, repeat: { every, ...interval, count: Number(repeat.count.value) } });
        saved = made.occurrences[0];
      } else {
        saved = await call("POST", "/events", Object.fromEntries(Object.entries(wanted).filter(([, value]) => value !== null)));
      }
      location.hash = `#/events/${saved.event_id}`;
    }, { fields: inputs });
  } },
  ...declared.flatMap((spec) => [field(spec.label, inputs[spec.name], spec.hint || undefined),
    spec.kind === "timezone" ? zoneInput.list : null]),
  repeat ? field("Repeats", repeat.every, "each one its own event, at the same wall time") : null,
  repeat ? field("How many times", repeat.count, "if it repeats") : null,
  h("div", { class: "actions" }, save, h("a", { class: "button secondary", href: event ? `#/events/${event.event_id}` : "#/" }, "Back")),
  box);
  show(h("h1", {}, event ? `Edit ${event.name}` : "New event"), form);
  inputs.name.focus();
}
