"""IoT edge, on the device: a button press published over MQTT with awsiotsdk/awscrt, and Turnout's answer in words.

    python -m iot.device press SERIAL single|double|long                    # the local stack's broker
    python -m iot.device press SERIAL long --device-dir .turnout/devices/SERIAL  # AWS IoT Core, mutual TLS
    python -m iot.device listen SERIAL --count 1                            # hear the person's notices

Never imported by the Lambda handler: awscrt is for devices only (and makes every botocore import slower)."""
from __future__ import annotations

import argparse
import dataclasses
import json
import os
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from awscrt import io, mqtt
from awscrt.exceptions import AwsCrtError
from awsiot import mqtt_connection_builder

from core import topics
from core.moments import told

CLICKS = {click.lower(): click for click in topics.CLICK_TYPES}  # what the command line takes
DEFAULT_TIMEOUT_SECONDS = 10.0
KEEP_ALIVE_SECONDS = 30
# 2 is argparse's, for a command line it cannot read.
EXIT_ANSWERED, EXIT_REFUSED, EXIT_NO_ANSWER, EXIT_UNREACHABLE = 0, 1, 3, 4
# awscrt's name for a refused TCP connection: nothing listens at that host and port.
CONNECTION_REFUSED = "AWS_IO_SOCKET_CONNECTION_REFUSED"


@dataclass(frozen=True)
class Target:
    """Where a button connects: the local broker over plain TCP, or AWS IoT Core with its certificate."""

    host: str
    port: int
    client_id: str
    cert: str | None = None  # with key: mutual TLS to AWS IoT Core
    key: str | None = None
    ca: str | None = None  # None: the system's trust store (which carries Amazon Root CA 1)

    @classmethod
    def local(cls, serial: str, host: str = "127.0.0.1", port: int | None = None) -> Target:
        port = port if port is not None else int(os.environ.get("TURNOUT_MQTT_PORT") or 1883)
        # A fixed client id per button is what lets the broker keep its persistent session between presses.
        return cls(host=host, port=port, client_id=f"turnout-button-{serial}")

    @classmethod
    def aws(cls, device_dir: Path) -> tuple[Target, str]:
        """(target, serial) from the device.json that `python -m iot.onboard` wrote."""
        config = json.loads((device_dir / "device.json").read_text())
        ca = config.get("ca")
        return cls(
            host=config["endpoint"],
            port=int(config.get("port", 8883)),
            client_id=config["thing_name"],  # the policy lets a certificate connect only as its own thing
            cert=str(device_dir / config["certificate"]),
            key=str(device_dir / config["private_key"]),
            ca=str(device_dir / ca) if ca else None,
        ), config["serial"]


def listener_client_id(client_id: str) -> str:
    """The client id a button's notice listener connects with, beside the button's own (iot.onboard allows both)."""
    return f"{client_id}-notices"


class NoAnswer(Exception):
    pass


class Unreachable(Exception):
    """The connection to the broker was refused: nothing listens there."""


def connect(target: Target, *, on_interrupted: Callable[[Exception], None] | None = None,
            on_resumed: Callable[[], None] | None = None, operation_timeout_ms: int = 0) -> mqtt.Connection:
    """A persistent-session (clean_session=False) connection; QoS 1 messages survive a dropped link. on_interrupted
    is told when the link drops, on_resumed when it is back and subscribed again. operation_timeout_ms (0: none):
    awscrt fails a QoS 1 publish written to the socket but not acknowledged in that time, instead of keeping it."""

    def resumed(connection: mqtt.Connection, return_code: Any, session_present: bool, **kwargs: Any) -> None:
        if session_present:
            if on_resumed is not None:
                on_resumed()
            return
        # The broker forgot us (a local broker restarted): subscribe again. The client has already sent
        # what it queued offline, so that one answer may go to nobody; later ones arrive.
        resubscribed, _ = connection.resubscribe_existing_topics()
        if on_resumed is not None:
            resubscribed.add_done_callback(lambda _: on_resumed())

    def interrupted(connection: mqtt.Connection, error: Exception, **kwargs: Any) -> None:
        if on_interrupted is not None:
            on_interrupted(error)

    common: dict[str, Any] = dict(
        client_id=target.client_id,
        clean_session=False,
        keep_alive_secs=KEEP_ALIVE_SECONDS,
        reconnect_min_timeout_secs=1,
        reconnect_max_timeout_secs=4,
        protocol_operation_timeout_ms=operation_timeout_ms,
        on_connection_interrupted=interrupted,
        on_connection_resumed=resumed,
    )
    if target.cert is not None:
        return mqtt_connection_builder.mtls_from_path(
            endpoint=target.host, port=target.port, cert_filepath=target.cert, pri_key_filepath=target.key,
            ca_filepath=target.ca, enable_metrics_collection=False, **common)
    # The awsiot builders always wrap the socket in TLS; the local broker speaks plain TCP on loopback,
    # so this is awscrt's own connection on a client without a TLS context.
    client = mqtt.Client(io.ClientBootstrap.get_or_create_static_default(), None)
    return mqtt.Connection(client=client, host_name=target.host, port=target.port, disable_metrics=True, **common)


def press(target: Target, serial: str, click_type: str, *, timeout: float = DEFAULT_TIMEOUT_SECONDS,
          wait_for_broker: bool = False) -> dict[str, Any]:
    """Publishes one click (the classic button payload with a fresh clickId) and returns Turnout's answer.
    Raises Unreachable at once when the broker refuses the connection, unless wait_for_broker: then it keeps
    trying until the deadline, so a press made while the broker restarts is delivered when it is back. Other
    failures to connect are retried until the deadline. Raises NoAnswer when nothing came back in time."""
    deadline = time.monotonic() + timeout
    click_id = uuid.uuid4().hex
    answered = threading.Event()
    answer: dict[str, Any] = {}

    def on_result(topic: str, payload: bytes, **kwargs: Any) -> None:
        try:
            message = json.loads(payload)
        except ValueError:
            return
        # A persistent session may also hand over answers to earlier presses: only this click's counts.
        if isinstance(message, dict) and message.get("click_id") == click_id:
            answer.update(message)
            answered.set()

    with _subscribed(target, topics.results(serial), deadline, on_result, wait_for_broker) as connection:
        payload = json.dumps({"serialNumber": serial, "clickType": click_type, "clickId": click_id})
        connection.publish(topics.clicks(serial), payload, mqtt.QoS.AT_LEAST_ONCE)
        if not answered.wait(_left(deadline)):
            raise NoAnswer(f"no answer on {topics.results(serial)} within {timeout:g} s")
        return answer


def listen(target: Target, serial: str, on_notice: Callable[[dict[str, Any]], None], *, count: int | None = None,
           timeout: float = DEFAULT_TIMEOUT_SECONDS) -> int:
    """Hears iotbutton/{serial}/notice - what changed for the button's person - handing each notice to on_notice,
    until `count` arrived or the timeout passed; returns how many arrived. The session persists (QoS 1), so a
    listener that was subscribed once also gets what was published while it was away."""
    deadline = time.monotonic() + timeout
    heard = threading.Event()
    arrived = 0
    lock = threading.Lock()

    def on_message(topic: str, payload: bytes, **kwargs: Any) -> None:
        nonlocal arrived
        try:
            message = json.loads(payload)
        except ValueError:
            return
        if not isinstance(message, dict) or topic != topics.notices(serial):
            return
        with lock:
            arrived += 1
            on_notice(message)
            if count is not None and arrived >= count:
                heard.set()

    with _subscribed(target, topics.notices(serial), deadline, on_message, wait_for_broker=False):
        heard.wait(_left(deadline))
        return arrived


@contextmanager
def _subscribed(target: Target, topic: str, deadline: float, on_message: Callable[..., None],
                wait_for_broker: bool) -> Iterator[mqtt.Connection]:
    """A connection subscribed to `topic` (QoS 1) for the block, disconnected after it."""
    connection = _connect_until(target, deadline, on_message, wait_for_broker)
    try:
        subscribed, _ = connection.subscribe(topic, mqtt.QoS.AT_LEAST_ONCE)
        subscribed.result(_left(deadline))
        yield connection
    except TimeoutError:
        raise NoAnswer(f"the broker at {target.host}:{target.port} did not acknowledge in time") from None
    finally:
        try:
            connection.disconnect().result(2)
        except Exception:
            pass  # what was heard (or not) is what matters; the broker drops the link either way


def _connect_until(target: Target, deadline: float, on_message: Callable[..., None],
                   wait_for_broker: bool) -> mqtt.Connection:
    backoff = 0.2
    while True:
        connection = connect(target)
        # Set before connecting: a resumed session hands over what waited for it before any subscribe.
        connection.on_message(on_message)
        try:
            connection.connect().result(_left(deadline))
            return connection
        except Exception as err:
            # The connect future fails within milliseconds when the port is closed; retrying that until the
            # deadline only made "nothing listens there" take the whole --timeout to say.
            if isinstance(err, AwsCrtError) and err.name == CONNECTION_REFUSED and not wait_for_broker:
                raise Unreachable(f"nothing listens at {target.host}:{target.port} (connection refused)") from None
            if time.monotonic() + backoff >= deadline:
                raise NoAnswer(f"could not reach the broker at {target.host}:{target.port}: {err}") from None
            time.sleep(backoff)
            backoff = min(backoff * 2, 2.0)


def _left(deadline: float) -> float:
    return max(0.0, deadline - time.monotonic())


def words(result: dict[str, Any]) -> str:
    """What a device with a small screen (or a person at a terminal) is told."""
    name = result.get("event_name") or "the event"
    when = _when(result.get("starts_at"))
    event = f"{name}{f' ({when})' if when else ''}"
    position = result.get("position")
    outcome = result.get("outcome")
    if outcome == "signed_up":
        return f"You're going to {event}."
    if outcome == "waitlisted":
        return f"{event}: {_in_line(result.get('in_line') or {}, position)}"
    if outcome == "already_signed_up":
        if result.get("status") == "waitlisted":
            return f"You're already on the waitlist for {event}, number {position}."
        return f"You were already going to {event}."
    if outcome == "cancelled":
        return f"Cancelled: you're no longer signed up for {event}."
    if outcome == "checked_in":
        return f"Checked in at {event}. Have fun!"
    error = result.get("error") or {}
    return f"Nothing changed: {error.get('message', 'the button was refused')}"


def _in_line(why: dict[str, Any], position: Any) -> str:
    """Why the party waits, as core.lines tells it: "2 places are left; your party of 3 doesn't fit, so you're
    number 1 in line." """
    place = f"you're number {position} in line"
    left, party = why.get("places_left"), why.get("party")
    if why.get("reason") == "too_big":
        return f"{_places(left)} left; your party of {party} doesn't fit, so {place}."
    if why.get("reason") == "behind":
        return f"{_places(left)} left, but they go first to those ahead of you in line, so {place}."
    if why.get("reason") == "full":
        return f"it's full, so {place}."
    return f"{place}."


def _places(count: Any) -> str:
    return "1 place is" if count == 1 else f"{count} places are"


def _when(starts_at: Any) -> str | None:
    try:
        return told(datetime.fromisoformat(starts_at))
    except (TypeError, ValueError):
        return None


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    parser = argparse.ArgumentParser(prog="python -m iot.device", description="Press a Turnout button.")
    commands = parser.add_subparsers(dest="command", required=True)
    pressing = commands.add_parser("press", help="press a button and print Turnout's answer")
    pressing.add_argument("serial", help="the button's serial, as bound with PUT /devices/{serial}")
    pressing.add_argument("click", choices=sorted(CLICKS), help="single: sign up, double: cancel, long: check in")
    pressing.add_argument("--host", default="127.0.0.1", help="the local broker's host (plain TCP)")
    pressing.add_argument("--port", type=int, default=None, help="the local broker's port (TURNOUT_MQTT_PORT, 1883)")
    pressing.add_argument("--device-dir", type=Path, default=None,
                          help="talk to AWS IoT Core with the files `python -m iot.onboard` wrote there")
    pressing.add_argument(
        "--timeout", type=float, default=DEFAULT_TIMEOUT_SECONDS, help="seconds to wait for the answer"
    )
    pressing.add_argument("--json", action="store_true", help="print the answer as JSON instead of words")
    pressing.add_argument("--wait", action="store_true",
                          help="when nothing listens yet (a broker restarting), keep trying until --timeout "
                               "instead of exiting at once with 4")
    listening = commands.add_parser("listen", help="print the notices the button's person is sent")
    listening.add_argument("serial", help="the button's serial")
    listening.add_argument("--host", default="127.0.0.1", help="the local broker's host (plain TCP)")
    listening.add_argument("--port", type=int, default=None, help="the local broker's port (TURNOUT_MQTT_PORT, 1883)")
    listening.add_argument("--device-dir", type=Path, default=None,
                           help="talk to AWS IoT Core with the files `python -m iot.onboard` wrote there")
    listening.add_argument("--count", type=int, default=None, help="stop after this many notices")
    listening.add_argument("--timeout", type=float, default=60.0, help="seconds to listen for")
    listening.add_argument("--json", action="store_true", help="print each notice as JSON instead of words")
    args = parser.parse_args(argv)

    if args.command == "listen":
        return _listen(parser, args)
    target = target_of(parser, args)
    try:
        result = press(target, args.serial, CLICKS[args.click], timeout=args.timeout,
                       wait_for_broker=args.wait)
    except Unreachable as refused:
        hint = "; is `make run` going?" if target.cert is None else ""
        print(f"Unreachable: {refused}{hint}", file=sys.stderr)
        return EXIT_UNREACHABLE
    except NoAnswer as silence:
        print(f"No answer: {silence}", file=sys.stderr)
        return EXIT_NO_ANSWER
    print(json.dumps(result) if args.json else words(result))
    return EXIT_REFUSED if result.get("outcome") == "error" else EXIT_ANSWERED


def target_of(parser: argparse.ArgumentParser, args: argparse.Namespace) -> Target:
    """The broker a command line names: AWS IoT Core with the certificate in --device-dir, which must be this
    serial's, or else the local broker (--host, --port)."""
    if args.device_dir is None:
        return Target.local(args.serial, args.host, args.port)
    target, onboarded = Target.aws(args.device_dir)
    if onboarded != args.serial:
        parser.error(f"{args.device_dir} holds the certificate of button {onboarded}, not {args.serial}")
    return target


def _listen(parser: argparse.ArgumentParser, args: argparse.Namespace) -> int:
    target = target_of(parser, args)
    # Its own client id, locally and on AWS (iot.onboard's policy allows it): a press made meanwhile connects as the
    # button itself, and one id is one connection.
    target = dataclasses.replace(target, client_id=listener_client_id(target.client_id))

    def show(notice: dict[str, Any]) -> None:
        print(json.dumps(notice) if args.json else notice.get("text", ""), flush=True)

    try:
        heard = listen(target, args.serial, show, count=args.count, timeout=args.timeout)
    except Unreachable as refused:
        print(f"Unreachable: {refused}", file=sys.stderr)
        return EXIT_UNREACHABLE
    except NoAnswer as silence:
        print(f"No answer: {silence}", file=sys.stderr)
        return EXIT_NO_ANSWER
    if args.count is not None and heard < args.count:
        print(f"No answer: {heard} of {args.count} notices within {args.timeout:g} s", file=sys.stderr)
        return EXIT_NO_ANSWER
    return EXIT_ANSWERED


if __name__ == "__main__":
    sys.exit(main())
