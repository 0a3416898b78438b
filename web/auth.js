// The page's sign-in: OAuth 2.0 authorization code with PKCE at the issuer the API names (Cognito's managed login in
// AWS, the local OpenID provider on this machine). The provider's own pages take the password; this page never sees one.

import { limits } from "./limits.js";

const SESSION_KEY = "turnout.session";
const PENDING_KEY = "turnout.signin"; // what a sign-in under way needs when it comes back: verifier, state, address
const REFRESH_BEFORE_MS = 60_000; // renew this long before the access token expires
// A person's handle, as core checks it (core.validation.HANDLE, served in the page: limits.js).
export const HANDLE = new RegExp(`^(?:${limits.handle_pattern})$`);

let refreshTimer = null;
let refreshing = null;

// { person, name, token, refresh, expires_at, organizer } or null. Open mode keeps only { person, name, organizer }.
export function session() {
  try {
    const stored = JSON.parse(localStorage.getItem(SESSION_KEY));
    return stored && HANDLE.test(stored.person) ? stored : null;
  } catch {
    return null;
  }
}

export function remember(value) {
  localStorage.setItem(SESSION_KEY, JSON.stringify(value));
}

export function forget() {
  localStorage.removeItem(SESSION_KEY);
  clearTimeout(refreshTimer);
}

// Where this Turnout signs in, as the API wrote it into the page (issuer, client id, sign-in site, claim names).
export function configuration() {
  try {
    return JSON.parse(document.querySelector('meta[name="turnout-auth"]')?.content || "null");
  } catch {
    return null;
  }
}

async function discovered() {
  const config = configuration();
  if (!config?.issuer || !config?.client_id) throw new Error("This Turnout names no identity provider to sign in at.");
  const cached = sessionStorage.getItem("turnout.discovery");
  if (cached) {
    const found = JSON.parse(cached);
    if (found.issuer === config.issuer) return { config, endpoints: found };
  }
  const answer = await fetch(`${config.issuer.replace(/\/$/, "")}/.well-known/openid-configuration`);
  if (!answer.ok) throw new Error(`The identity provider answered ${answer.status}.`);
  const endpoints = await answer.json();
  sessionStorage.setItem("turnout.discovery", JSON.stringify(endpoints));
  return { config, endpoints };
}

function base64url(bytes) {
  return btoa(String.fromCharCode(...new Uint8Array(bytes))).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

function randomText(length = 32) {
  return base64url(crypto.getRandomValues(new Uint8Array(length)));
}

function redirectUri() {
  return `${location.origin}/`;
}

// The provider's own site: Cognito's domain where it differs from the issuer, else where authorize is.
function site(config, endpoints) {
  return (config.sign_in_url || new URL(endpoints.authorization_endpoint).origin).replace(/\/$/, "");
}

// To the provider's sign-in ("signin") or sign-up ("signup") page; back at / with a code, to `back` (an address).
export async function beginSignIn(kind = "signin", back = location.hash || "#/") {
  const { config, endpoints } = await discovered();
  const verifier = randomText(48);
  const state = randomText(16);
  const challenge = base64url(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(verifier)));
  sessionStorage.setItem(PENDING_KEY, JSON.stringify({ verifier, state, back }));
  const query = new URLSearchParams({ response_type: "code", client_id: config.client_id, redirect_uri: redirectUri(),
    scope: "openid email", state, code_challenge: challenge, code_challenge_method: "S256" });
  const start = kind === "signup" ? `${site(config, endpoints)}/signup` : endpoints.authorization_endpoint;
  location.assign(`${start}?${query}`);
}

function claimsOf(token) {
  const payload = token.split(".")[1].replace(/-/g, "+").replace(/_/g, "/");
  return JSON.parse(decodeURIComponent(escape(atob(payload))));
}

async function redeem(form) {
  const { config, endpoints } = await discovered();
  const answer = await fetch(endpoints.token_endpoint, { method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({ client_id: config.client_id, ...form }) });
  const tokens = await answer.json().catch(() => ({}));
  if (!answer.ok || !tokens.access_token) throw new Error(tokens.error_description || tokens.error || "no token");
  const claims = claimsOf(tokens.access_token);
  const groups = claims[config.group_claim] ?? [];
  const previous = session();
  const person = claims[config.person_claim];
  const value = { person, name: previous?.person === person ? previous.name : null, token: tokens.access_token,
    refresh: tokens.refresh_token ?? previous?.refresh, expires_at: claims.exp * 1000,
    organizer: (Array.isArray(groups) ? groups : [groups]).includes(config.organizer_group) };
  remember(value);
  scheduleRefresh();
  return value;
}

// Back from the provider with ?code=...&state=...: the code and verifier become tokens, and the address the person
// was at is restored. Returns true when it signed someone in; a refusal from the provider is thrown in words.
export async function finishSignIn() {
  const query = new URLSearchParams(location.search);
  if (!query.has("code") && !query.has("error")) return false;
  const pending = JSON.parse(sessionStorage.getItem(PENDING_KEY) || "null");
  sessionStorage.removeItem(PENDING_KEY);
  history.replaceState(null, "", `/${pending?.back ?? ""}`);
  if (query.has("error")) throw new Error(query.get("error_description") || query.get("error"));
  if (!pending || pending.state !== query.get("state")) throw new Error("That sign-in was not started here. Sign in again.");
  await redeem({ grant_type: "authorization_code", code: query.get("code"), redirect_uri: redirectUri(),
    code_verifier: pending.verifier });
  return true;
}

// A new access token from the refresh token, once at a time; null when there is none or it no longer works.
export function refresh() {
  const current = session();
  if (!current?.refresh) return Promise.resolve(null);
  refreshing ??= redeem({ grant_type: "refresh_token", refresh_token: current.refresh })
    .catch(() => null)
    .finally(() => { refreshing = null; });
  return refreshing;
}

// Silently, a minute before the access token expires, while the page is open.
export function scheduleRefresh() {
  clearTimeout(refreshTimer);
  const current = session();
  if (!current?.token || !current.refresh) return;
  const left = current.expires_at - Date.now();
  // A minute early, or at three quarters of a short token's life; never sooner than a second from now.
  const wait = Math.max(1_000, left - Math.min(REFRESH_BEFORE_MS, left / 4));
  refreshTimer = setTimeout(() => refresh(), Math.min(wait, 2 ** 31 - 1));
}

// The token to send now: renewed first when it has (nearly) expired. One that cannot be renewed ends the session
// here, and the page is told ("turnout:signed-out"), so its header stops naming someone no longer signed in.
export async function currentToken() {
  const current = session();
  if (!current?.token) return null;
  if (current.expires_at - Date.now() > 5_000) return current.token;
  const renewed = await refresh();
  if (renewed) return renewed.token;
  if (current.expires_at > Date.now()) return current.token; // not expired yet: it still works for a moment
  forget();
  window.dispatchEvent(new Event("turnout:signed-out"));
  return null;
}

// Signed out here and at the provider (Cognito's /logout ends its own session too), back at the page.
export async function signOut() {
  forget();
  try {
    const { config, endpoints } = await discovered();
    const query = new URLSearchParams({ client_id: config.client_id, logout_uri: redirectUri() });
    location.assign(`${site(config, endpoints)}/logout?${query}`);
  } catch {
    location.assign("/");
  }
}
