// The page's sign-in: with tokens checked, buttons to the provider's own pages; in open mode, a handle and a name.
import { HANDLE, Refusal, checked, remember } from "./api.js";
import { beginSignIn } from "./auth.js";
import { act, field, h, say, show } from "./draw.js";
import { most } from "./limits.js";

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

export function signInForm(next, intro) {
  if (checked()) return providerSignIn(next, intro);
  const box = h("div");
  const handle = h("input", { id: "handle", name: "handle", required: true, autocomplete: "username", autocapitalize: "none",
    spellcheck: "false", maxlength: most("handle") });
  const name = h("input", { id: "display-name", name: "name", autocomplete: "name", maxlength: most("person_name") });
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
      // app.js draws the header and the view again on hashchange, told here when the address stays the same.
      if (location.hash === next) window.dispatchEvent(new HashChangeEvent("hashchange"));
      else location.hash = next;
    });
  } },
  field("Your handle", handle, "lowercase letters, digits and '-', e.g. melvin"),
  field("Your name (optional)", name, "what others see in the list"),
  h("div", { class: "actions" }, submit), box);
  return h("section", { class: "box", "aria-labelledby": "signin-title" },
    h("h2", { id: "signin-title" }, intro), form,
    h("p", { class: "hint", text: "This Turnout runs in open mode: no password, anyone may act as anyone." }));
}

export function signInView(params) {
  show(h("h1", {}, "Sign in"), signInForm(params.get("next") || "#/", "Who are you?"));
  document.getElementById(checked() ? "sign-in" : "handle").focus();
}
