// The page's counts, in one set of words: a "place" is a seat for one person (capacity and what is left are places),
// "people" are persons with their guests, and a "party" is one signup with its guests.
import { signupsClosed } from "./time.js";

function counted(count, one, many) {
  return `${count} ${count === 1 ? one : many}`;
}

export const people = (count) => counted(count, "person", "people");
export const places = (count) => counted(count, "place", "places");
export const parties = (count) => counted(count, "party", "parties");

export function seats(event) {
  const waiting = event.waitlisted ? ` · ${parties(event.waitlisted)} on the waitlist` : "";
  if (signupsClosed(event)) return { text: `Sign-ups closed · ${people(event.seats_taken)} going${waiting}`, full: true };
  if (event.capacity === null) return { text: `${people(event.seats_taken)} going · no limit`, full: false };
  if (event.spots_left > 0) return { text: `${event.spots_left} of ${places(event.capacity)} left`, full: false };
  return { text: `Full (${places(event.capacity)})${waiting}`, full: true };
}

export function displayName(signup) {
  return signup.name || signup.person;
}

export function party(guests) {
  return guests ? ` +${counted(guests, "guest", "guests")}` : "";
}

export function size(signup) {
  return 1 + signup.guests;
}
