// The page's drawing: elements, messages, labelled fields, and actions whose refusals are said in words.
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

export function message(kind, text) {
  return h("p", { class: `message ${kind}`, role: kind === "problem" ? "alert" : "status", text });
}

export function say(box, kind, text) {
  box.replaceChildren(text ? message(kind, text) : "");
  if (text) box.scrollIntoView({ block: "nearest" });
}

export function field(label, input, hint) {
  return h("label", {}, label, hint ? h("span", { class: "hint", text: hint }) : null, input);
}

// Runs an action with its button disabled, so a double tap is one request; a refusal is said in `box`.
export async function act(button, box, action, context) {
  button.disabled = true;
  try {
    await action();
  } catch (error) {
    if (!(error instanceof Refusal)) throw error;
    say(box, "problem", explain(error, context));
    context?.fields?.[error.field]?.focus(); // the input the API named, to fix it at once
  } finally {
    button.disabled = false;
  }
}
