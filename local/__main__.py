"""Local stack, entry: `python -m local` (what `make run` runs) starts the whole of Turnout on loopback until Ctrl-C."""
from __future__ import annotations

import argparse
import logging
import signal
import sys
import threading
import time

from local.stack import Stack, StackSettings, build_stack, settings_help

READY_WITHIN_SECONDS = 30


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m local", add_help=False, formatter_class=argparse.RawDescriptionHelpFormatter,
        description="Run Turnout on this machine, on 127.0.0.1 only: DynamoDB (moto), the JSON API and the\n"
                    "Alexa endpoint, and the MQTT broker with the button's topic rule. Stop with Ctrl-C.")
    parser.add_argument("-h", "--help", action="store_true", help="show this help and every setting, then exit")
    parser.add_argument("--demo", action="store_true", help="seed a sample event (same as TURNOUT_DEMO=1)")
    args = parser.parse_args(argv)
    if args.help:
        # Only now: the settings table reads core's, and core must not be imported before the stack points it
        # at the local endpoint.
        parser.epilog = settings_help()
        parser.print_help()
        return 0
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    # Quiet libraries that log every call at INFO: the access log of the gateway is the one worth reading.
    for noisy in ("botocore", "pynamodb", "werkzeug"):
        logging.getLogger(noisy).setLevel(logging.WARNING)

    stopping = threading.Event()
    # Installed before anything starts, so a Ctrl-C during start-up still ends in a clean stop.
    signal.signal(signal.SIGINT, lambda *_: stopping.set())
    signal.signal(signal.SIGTERM, lambda *_: stopping.set())

    try:
        settings = StackSettings.from_environ()
        stack = build_stack(settings)
        stack.start()
    except (OSError, RuntimeError, ValueError) as err:
        # The expected ways to fail - a port taken, another stack on the data folder, a bad setting or
        # snapshot - say so in one line; anything else keeps its traceback.
        print(f"turnout: the local stack could not start: {err}", file=sys.stderr)
        return 1
    try:
        curl = _seed_demo() if settings.demo or args.demo else None
        _announce(stack, curl)
        # Woken twice a second: Linux may hand SIGTERM to any of the stack's threads, and then only the main
        # thread's next bytecode runs the handler - an untimed wait would sleep through it.
        while not stopping.wait(0.5):
            pass
    finally:
        print("turnout: stopping, saving data ...", flush=True)
        stack.stop()
        print(f"turnout: stopped; data kept in {settings.data_dir}/", flush=True)
    return 0


def _seed_demo() -> str | None:
    from local import demo  # imports core: only after build_stack has pointed it at the local endpoint

    event = demo.seed()
    if event is None:
        print("turnout: --demo: there are upcoming events already, nothing seeded", flush=True)
        return None
    print(f"turnout: --demo: seeded {event.name!r} on {event.starts_at:%A %d %B %H:%M} ({event.timezone}), "
          f"{event.capacity} seats, id {event.event_id}", flush=True)
    return f"curl -X PUT {{url}}/events/{event.event_id}/signups/melvin"


def _announce(stack: Stack, curl: str | None) -> None:
    deadline = time.monotonic() + READY_WITHIN_SECONDS
    while stack.waiting_for() and time.monotonic() < deadline:
        time.sleep(0.05)
    lines = ["", "Turnout runs on this machine (loopback only):"]
    lines += [f"  {line}" for line in stack.describe()]
    waiting = stack.waiting_for()
    if waiting:
        lines.append(f"  NOT READY after {READY_WITHIN_SECONDS} s: {', '.join(waiting)} - see the log above")
    try_line = (curl or "curl {url}/events").format(url=stack.url)
    from core.config import settings  # only after build_stack has set the environment core reads

    if not settings.auth_open:
        try_line = try_line.replace(
            "curl ", 'curl -H "Authorization: Bearer $(.venv/bin/python -m local.token melvin)" ', 1
        )
    lines += _auth_lines(settings.auth_open)
    lines += ["", f"Try:  {try_line}", "Stop with Ctrl-C.", ""]
    print("\n".join(lines), flush=True)


def _auth_lines(auth_open: bool) -> list[str]:
    if not auth_open:
        return ["",
                "Tokens are checked as API Gateway's JWT authorizer checks them (TURNOUT_AUTH=on). Open the page to",
                "sign up and sign in; make the first organizer, once they have signed up, with",
                "  .venv/bin/python -m local.organizer melvin",
                "For curl, .venv/bin/python -m local.token melvin prints a token as the sign-in would issue it:",
                "send it as  -H \"Authorization: Bearer $TOKEN\""]
    logging.getLogger("local").warning("OPEN MODE: no token is checked; every caller acts as an organizer")
    bar = "!" * 100
    return ["", bar,
            "!! OPEN MODE (TURNOUT_AUTH=off): NO TOKEN IS CHECKED - EVERY CALLER ACTS AS AN ORGANIZER.",
            "!! For trying Turnout on this machine only. `TURNOUT_AUTH=on make run` checks tokens as AWS does.",
            bar]


if __name__ == "__main__":
    sys.exit(main())
