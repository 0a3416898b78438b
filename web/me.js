// The page's "You" view: what a signed-in person did with curl before - their name and where to be told, their
// notices, their buttons, an Alexa pairing code - and, for organizers, who else organizes.
import { Refusal, call, explain, session } from "./api.js";
import { act, field, focusOn, h, message, say, show } from "./draw.js";
import { most } from "./limits.js";

const path = (person) => `/people/${encodeURIComponent(person)}`;

function profileForm(person, profile) {
  const box = h("div");
  const inputs = {
    name: h("input", { id: "profile-name", maxlength: most("person_name"), autocomplete: "name", value: profile.name ?? "" }),
    email: h("input", { id: "profile-email", type: "email", autocomplete: "email", value: profile.email ?? "" }),
    phone: h("input", { id: "profile-phone", type: "tel", autocomplete: "tel", value: profile.phone ?? "" }),
  };
  const save = h("button", { type: "submit" }, "Save");
  return h("section", { class: "box", "aria-labelledby": "profile-title" },
    h("h2", { id: "profile-title" }, "Your name, and where to be told"),
    h("form", { "aria-label": "Your profile", onsubmit: (e) => { e.preventDefault(); act(save, box, async () => {
      const wanted = Object.fromEntries(Object.entries(inputs).map(([name, input]) => [name, input.value.trim() || null]));
      const saved = await call("PUT", path(person), wanted);
      const me = session();
      if (me) localStorage.setItem("turnout.session", JSON.stringify({ ...me, name: saved.name }));
      say(box, "ok", "Saved. Notices go to your email and phone as well as here and to your buttons.");
    }, { fields: inputs }); } },
    field("Your name", inputs.name, "what others see in the list"),
    field("Email (optional)", inputs.email, "for notices: a place freed up, an event moved or cancelled"),
    field("Phone (optional)", inputs.phone, "in international form, e.g. +4791234567, for notices by text"),
    h("div", { class: "actions" }, save), box));
}

function noticeList(notices) {
  return h("section", { class: "box", "aria-labelledby": "notices-title" },
    h("h2", { id: "notices-title" }, "What you were told"),
    notices.length ? h("ul", { class: "people", id: "notices" }, notices.map((notice) =>
      h("li", {}, notice.text, h("span", { class: "hint", text: ` ${new Date(notice.at ?? notice.created_at ?? Date.now()).toLocaleString()}` }))))
      : h("p", { class: "muted" }, "Nothing yet."));
}

function buttons(person, devices, reload) {
  const box = h("div");
  const serial = h("input", { id: "serial", required: true, autocapitalize: "characters", spellcheck: "false", maxlength: most("serial") });
  const bind = h("button", { type: "submit" }, "Bind this button");
  return h("section", { class: "box", "aria-labelledby": "buttons-title" },
    h("h2", { id: "buttons-title" }, "Your buttons"),
    devices.length ? h("ul", { class: "people", id: "my-buttons" }, devices.map((device) =>
      h("li", {}, device.serial, h("span", { class: "hint", text: device.event_id ? " (one event)" : " (the next event)" }))))
      : h("p", { class: "muted" }, "No button yet."),
    h("form", { "aria-label": "Bind a button", onsubmit: (e) => { e.preventDefault(); act(bind, box, async () => {
      await call("PUT", `/devices/${encodeURIComponent(serial.value.trim())}`, { person });
      await reload({ kind: "ok", text: `Button ${serial.value.trim()} is yours: a press signs you up for the next event.` });
    }, { fields: { serial } }); } },
    h("div", { class: "row" }, field("Serial number", serial, "printed on the button"), bind)), box);
}

function alexa(person) {
  const box = h("div");
  const link = h("button", { type: "button", class: "secondary", onclick: () => act(link, box, async () => {
    const paired = await call("POST", `${path(person)}/alexa-code`);
    const until = new Date(paired.expires_at).toLocaleTimeString([], { hour: "numeric", minute: "2-digit" });
    box.replaceChildren(h("p", { class: "message ok", role: "status" }, "Say: ",
      h("strong", { id: "alexa-words" }, `"Alexa, ask Turnout to link my account with code ${paired.code.split("").join(" ")}"`),
      ` (the code ${paired.code} works once, until ${until}).`));
  }) }, "Link Alexa");
  return h("section", { class: "box", "aria-labelledby": "alexa-title" },
    h("h2", { id: "alexa-title" }, "Alexa"),
    h("p", { class: "hint" }, "Link your Alexa to sign up by voice: \"Alexa, ask Turnout to sign me up\"."),
    h("div", { class: "actions" }, link), box);
}

function organizerList(names, reload) {
  const box = h("div");
  const handle = h("input", { id: "new-organizer", required: true, autocapitalize: "none", spellcheck: "false", maxlength: most("handle") });
  const add = h("button", { type: "submit" }, "Make organizer");
  const me = session()?.person;
  return h("section", { class: "box", "aria-labelledby": "organizers-title" },
    h("h2", { id: "organizers-title" }, "Organizers"),
    h("ul", { class: "people", id: "organizers" }, names.map((name) => {
      const stop = h("button", { type: "button", class: "link", onclick: () => act(stop, box, async () => {
        await call("DELETE", `/organizers/${encodeURIComponent(name)}`);
        await reload({ kind: "ok", text: `${name} is no longer an organizer.` });
      }) }, `Stop ${name} organizing`);
      return h("li", {}, name, name === me ? " (you)" : " ", name === me ? null : stop);
    })),
    h("form", { "aria-label": "Make an organizer", onsubmit: (e) => { e.preventDefault(); act(add, box, async () => {
      const name = handle.value.trim().toLowerCase();
      await call("PUT", `/organizers/${encodeURIComponent(name)}`);
      await reload({ kind: "ok", text: `${name} is an organizer from their next sign-in.` });
    }, { fields: { person: handle } }); } },
    h("div", { class: "row" }, field("Their user name", handle, "they make their account first"), add)), box);
}

export async function meView(notice) {
  const me = session();
  if (!me) {
    location.hash = `#/signin?next=${encodeURIComponent("#/me")}`;
    return;
  }
  const reload = (said) => meView(said);
  let profile, notices, devices, organizers = null;
  try {
    [profile, { notices }, { devices }] = await Promise.all([call("GET", path(me.person)),
      call("GET", `${path(me.person)}/notices`), call("GET", `${path(me.person)}/devices`)]);
    if (me.organizer && me.token) {
      organizers = await call("GET", "/organizers").then((answer) => answer.organizers).catch((error) => {
        if (error instanceof Refusal && error.code === "OrganizersElsewhere") return null;
        throw error;
      });
    }
  } catch (error) {
    if (!(error instanceof Refusal)) throw error;
    show(h("h1", {}, "You"), message("problem", explain(error)));
    return;
  }
  const news = notice ? message(notice.kind, notice.text) : null;
  show(h("h1", {}, `You: ${me.person}`), news,
    profileForm(me.person, profile), noticeList(notices), buttons(me.person, devices, reload), alexa(me.person),
    organizers ? organizerList(organizers, reload) : null);
  if (news) focusOn(news);
}
