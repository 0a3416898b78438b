"""The concurrent model test's runner: every write that touches an event's seats, raced by many threads through
core against the local stack's DynamoDB endpoint, and the data's promises checked after each round.

    python -m tests.support.interleavings --endpoint http://127.0.0.1:PORT [--rounds N] [--seed S]

tests/integration/test_interleavings.py runs a few rounds in `make test`; `make interleavings` runs many against a
stack of its own. Core reads its endpoint at import, so this runs in a process of its own (never inside pytest's,
whose unit tests hold moto in-process). Exit 0: every promise held; 1: the broken ones are printed."""
from __future__ import annotations

import argparse
import os
import random
import sys
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone

PEOPLE = [f"p{n}" for n in range(5)]
THREADS = 8
STEPS = 8  # operations per thread per round
WRITES = ("sign_up", "sign_up", "resize", "resize", "cancel", "cancel", "organizer_cancel", "check_in",
          "capacity", "move", "move_up", "remind", "remind")
REMINDERS = [30, 10]  # minutes before the start: both fall due within the moments the reminder runs are made at
REMINDER_WAIT = 2.5  # seconds


@dataclass
class Round:
    event_id: str
    capacity: int
    blocks: int | None
    # What each sign-up answered: (person, signed_up_at) -> the status it was created with.
    created: dict[tuple[str, str], str] = field(default_factory=dict)
    unexpected: list[str] = field(default_factory=list)
    reminded: list[datetime] = field(default_factory=list)  # each reminder a run left word of, by its due time
    lock: threading.Lock = field(default_factory=threading.Lock)


def _write(kind: str, chosen: Round, person: str, rng: random.Random, services, errors) -> None:
    """One write as an edge would make it; every typed refusal is an answer, anything else is a failure."""
    try:
        if kind in ("sign_up", "resize"):
            guests = rng.choice([0, 1, 2, 3])
            outcome = services.sign_up(chosen.event_id, person, guests=guests if kind == "resize" else None)
            if outcome.created:
                with chosen.lock:
                    chosen.created[(person, outcome.signup.signed_up_at.isoformat())] = outcome.signup.status
        elif kind == "cancel":
            services.cancel_signup(chosen.event_id, person)
        elif kind == "organizer_cancel":
            services.cancel_signup_for(chosen.event_id, person)
        elif kind == "check_in":
            services.check_in(chosen.event_id, person)
        elif kind == "capacity" and chosen.blocks is None:
            services.update_event(chosen.event_id, {"capacity": max(1, chosen.capacity + rng.choice([-2, -1, 1, 2]))})
        elif kind == "move_up" and chosen.blocks is None:
            # An organizer seats a waiting party by hand, raising the capacity by the places it lacks.
            from core.services import waitlist
            waitlist.move_up(chosen.event_id, person)
        elif kind == "remind":
            # A scheduled reminder run at one of a few moments within the event's reminder times, so runs at the
            # same moment race each other (as a retried run and the next one do), and moves, sign-ups and cancels.
            from core import reminders
            moment = datetime.now(timezone.utc) + timedelta(minutes=rng.choice([35, 55]))
            left = [due for event_id, due in reminders.send_due_reminders(now=moment) if event_id == chosen.event_id]
            with chosen.lock:
                chosen.reminded.extend(left)
        elif kind == "move":
            # Within the check-in window, so check-ins keep racing the rest.
            later = datetime.now(timezone.utc) + timedelta(minutes=rng.randint(40, 80))
            services.update_event(chosen.event_id,
                                  {"starts_at": later.isoformat(), "location": f"Hut {rng.randint(1, 9)}"})
    except (errors.NotSignedUp, errors.NotGoing, errors.NoRoomToGrow, errors.CapacityBelowTaken, errors.Busy,
            errors.InvalidInput, errors.EventFull, errors.EventOver):
        pass
    except Exception as exc:  # noqa: BLE001 - the runner reports whatever escaped core's typed errors
        with chosen.lock:
            chosen.unexpected.append(f"{kind} {person}: {exc!r}")


def _race(chosen: Round, seed: int, services, errors) -> None:
    start = threading.Barrier(THREADS)

    def worker(n: int) -> None:
        rng = random.Random(seed * 1000 + n)
        start.wait()
        for _ in range(STEPS):
            _write(rng.choice(WRITES), chosen, rng.choice(PEOPLE), rng, services, errors)

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


def broken_promises(chosen: Round, services, notice_wait: float) -> list[str]:
    """What the data breaks once the round is quiet: seats, counts, one signup each, the line's order, free seats
    left to nobody while a party in line fits them, each promotion told once, and each reminder left and told once."""
    broken = list(chosen.unexpected)
    event = services.get_event(chosen.event_id)
    signups = services.list_signups(chosen.event_id, limit=100).signups
    going = [s for s in signups if s.status == "going"]
    line = [s for s in signups if s.status == "waitlisted"]
    held = sum(1 + s.guests for s in going)
    capacity = event.capacity
    if event.seats_taken != held:
        broken.append(f"seats taken {event.seats_taken}, going parties hold {held}")
    if capacity is not None and held > capacity:
        broken.append(f"{held} seats held on an event of {capacity}")
    if capacity is not None and event.spots_left != capacity - held:
        broken.append(f"spots left {event.spots_left}, capacity {capacity} less {held} held")
    if (event.going, event.waitlisted) != (len(going), len(line)):
        broken.append(f"counts {event.going}/{event.waitlisted}, lists {len(going)}/{len(line)}")
    persons = [s.person for s in signups]
    if len(persons) != len(set(persons)):
        broken.append(f"more than one signup: {sorted(p for p, n in Counter(persons).items() if n > 1)}")
    if [s.signed_up_at for s in line] != sorted(s.signed_up_at for s in line):
        broken.append(f"the line is not in arrival order: {[s.person for s in line]}")
    if [s.position for s in line] != list(range(1, len(line) + 1)):
        broken.append(f"places in line {[s.position for s in line]}")
    fitting = [s for s in line if capacity is not None and 1 + s.guests <= capacity - held]
    if fitting:
        broken.append(
            f"{capacity - held} seats free while {fitting[0].person} (party of {1 + fitting[0].guests}) waits"
        )
    # Told once: a signup that joined the line and now goes was promoted exactly once since it signed up.
    promoted = {
        s.person: s for s in going if chosen.created.get((s.person, s.signed_up_at.isoformat())) == "waitlisted"
    }
    stayed = [s for s in signups if chosen.created.get((s.person, s.signed_up_at.isoformat())) is not None
              and s.person not in promoted]
    deadline = time.monotonic() + notice_wait
    while True:
        told = {person: _promotions_told(services, chosen.event_id, person, signup.signed_up_at)
                for person, signup in promoted.items()}
        reminded = {notice.at for person in PEOPLE for notice in _reminders_told(services, chosen.event_id, person)}
        # A reminder with nobody going before it is told to nobody: waited for only as long as the stream gathers
        # its records (template.yaml's MaximumBatchingWindowInSeconds, 2 s) and a little more.
        if (all(n >= 1 for n in told.values()) and (set(chosen.reminded) <= reminded
                                                      or time.monotonic() > deadline - notice_wait + REMINDER_WAIT)
                or time.monotonic() > deadline):
            break
        time.sleep(0.1)
    for person, n in told.items():
        if n != 1:
            broken.append(f"{person} was promoted once and told {n} times")
    for signup in stayed:
        n = _promotions_told(services, chosen.event_id, signup.person, signup.signed_up_at)
        if n:
            broken.append(f"{signup.person} was never promoted and told {n} times")
    # Reminders told once: each left by one run only, and each person told each one at most once.
    for due, n in Counter(chosen.reminded).items():
        if n > 1:
            broken.append(f"the reminder due {due:%H:%M:%S} was left by {n} runs")
    for person in PEOPLE:
        for due, n in Counter(notice.at for notice in _reminders_told(services, chosen.event_id, person)).items():
            if n > 1 or due not in chosen.reminded:
                broken.append(f"{person} was told the reminder due {due:%H:%M:%S} {n} times; runs left "
                              f"{[f'{left:%H:%M:%S}' for left in chosen.reminded]}")
    return broken


def _reminders_told(services, event_id: str, person: str) -> list:
    return [notice for notice in services.list_notices(person, limit=100)
            if notice.what == "reminder" and notice.event_id == event_id]


def _promotions_told(services, event_id: str, person: str, since: datetime) -> int:
    return sum(1 for notice in services.list_notices(person, limit=100)
               if notice.what == "promoted" and notice.event_id == event_id and notice.at >= since)


def run(rounds: int, seed: int, notice_wait: float = 30.0, out=sys.stdout) -> int:
    """Rounds alternate between an event with its seats on its own item and one with two seat blocks."""
    from core import errors, services

    failures = 0
    for n in range(rounds):
        rng = random.Random(seed + n)
        blocks = 2 if n % 2 else None
        capacity = rng.randint(3, 6)
        starts = datetime.now(timezone.utc) + timedelta(hours=1)
        event = services.create_event(name=f"Interleaving {seed}-{n}", starts_at=starts.isoformat(),
                                      capacity=capacity, seat_blocks=blocks, reminders=REMINDERS)
        chosen = Round(event.event_id, capacity, blocks)
        for person in PEOPLE:  # a full event with a line, so the first writes already move seats
            _write("resize", chosen, person, rng, services, errors)
        began = time.monotonic()
        _race(chosen, seed + n, services, errors)
        raced = time.monotonic() - began
        broken = broken_promises(chosen, services, notice_wait)
        kind = "seat blocks" if blocks else "one item"
        if broken:
            failures += 1
            print(f"round {n} ({kind}, capacity {capacity}, seed {seed + n}): BROKEN", file=out)
            for line in broken:
                print(f"  - {line}", file=out)
        else:
            told = sum(len(_reminders_told(services, chosen.event_id, person)) for person in PEOPLE)
            print(f"round {n} ({kind}, capacity {capacity}): every promise held (raced {raced:.1f} s, "
                  f"checked {time.monotonic() - began - raced:.1f} s; {len(chosen.reminded)} reminders left, "
                  f"{told} told)", file=out)
    print(f"{rounds - failures} of {rounds} rounds held every promise ({THREADS} threads x {STEPS} writes each)",
          file=out)
    return 1 if failures else 0


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.support.interleavings", description=__doc__.split("\n\n")[0])
    parser.add_argument("--endpoint", required=True, help="the local stack's DynamoDB endpoint, http://127.0.0.1:PORT")
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--seed", type=int, default=int(time.time()))
    args = parser.parse_args()
    os.environ["AWS_ENDPOINT_URL_DYNAMODB"] = args.endpoint  # core reads it once, at import (in run)
    for name, value in (("AWS_ACCESS_KEY_ID", "local"), ("AWS_SECRET_ACCESS_KEY", "local"),
                        ("AWS_DEFAULT_REGION", "us-east-1")):
        os.environ.setdefault(name, value)
    print(f"seed {args.seed}")
    return run(args.rounds, args.seed)


if __name__ == "__main__":
    sys.exit(main())
