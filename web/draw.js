// The page's drawing: elements, messages, labelled fields, questions asked before an action, and actions whose
// outcome gets the focus and whose refusals are said in words (with a retry where trying again may work).
import { Refusal, explain } from "./api.js";

export const main = document.getElementById("main");

export function h(tag, attributes = {}, ...children) {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === false || value === null || value === undefined) continue;
    if (name.startsWith("on")) element.addEventListener(name.slice(2), value);
    else if (name === "text") element.textContent = value;
    else element.setAttribute(name, value === true ? "" : value);
  }
  for (const child of children.flat()) {
    if (child !== null && child !== undefined && child !== false) element.append(child);
  }
  return element;
}

export function show(...children) {
  main.replaceChildren(...children.flat().filter((child) => child !== null && child !== undefined && child !== false));
}

// tabindex -1: an outcome takes the focus, so a keyboard or screen reader user is where the news is.
export function message(kind, text, ...more) {
  return h("p", { class: `message ${kind}`, role: kind === "problem" ? "alert" : "status", tabindex: "-1" }, text, ...more);
}

export function focusOn(element) {
  element.focus({ preventScroll: true });
  element.scrollIntoView({ block: "nearest" });
}

// Said in `box`: the news of an earlier action ("You're going!") goes, so it never stands above a newer problem.
export function say(box, kind, text, ...more) {
  for (const stale of main.querySelectorAll(".message.ok")) stale.remove();
  box.replaceChildren(text ? message(kind, text, ...more) : "");
  if (text) focusOn(box.firstChild);
}

export function field(label, input, hint) {
  return h("label", {}, label, hint ? h("span", { class: "hint", text: hint }) : null, input);
}

// Refusals that another try may overcome: the network, or a busy Turnout.
const PASSING = new Set(["Offline", "Busy", "Throttled", "Unknown"]);

export function retry(again) {
  return h("button", { type: "button", class: "secondary retry", onclick: again }, "Try again");
}

// Runs an action with its button disabled, so a double tap is one request; a refusal is said in `box`, where the
// input the API named takes the focus, or else the message (with "Try again" when the network or load was at fault).
export async function act(button, box, action, context) {
  button.disabled = true;
  try {
    await action();
  } catch (error) {
    if (!(error instanceof Refusal)) throw error;
    const again = PASSING.has(error.code) ? retry(() => act(button, box, action, context)) : null;
    say(box, "problem", explain(error, context), again ? " " : null, again);
    context?.fields?.[error.field]?.focus(); // the input the API named, to fix it at once
  } finally {
    button.disabled = false;
  }
}

// Asks before something that cannot be taken back, in a modal <dialog> (focus kept inside, Escape says no);
// resolves true for yes. The focus goes back where it was when the answer is no.
export function ask(question, detail, yes, no = "Keep it") {
  const before = document.activeElement;
  return new Promise((resolve) => {
    const title = h("h2", { id: "ask-title" }, question);
    const yesButton = h("button", { type: "button", class: "danger", value: "yes" }, yes);
    const noButton = h("button", { type: "button", class: "secondary", value: "no" }, no);
    const dialog = h("dialog", { class: "ask", "aria-labelledby": "ask-title", "aria-describedby": "ask-detail" },
      title, h("p", { id: "ask-detail" }, detail), h("div", { class: "actions" }, noButton, yesButton));
    const answer = (value) => {
      dialog.close();
      dialog.remove();
      if (!value) before?.focus?.();
      resolve(value);
    };
    yesButton.addEventListener("click", () => answer(true));
    noButton.addEventListener("click", () => answer(false));
    dialog.addEventListener("cancel", (e) => { e.preventDefault(); answer(false); });
    document.body.append(dialog);
    dialog.showModal();
    noButton.focus(); // the safe answer first
  });
}
