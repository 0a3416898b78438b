"""Benchmark probe: one fresh python3.13 process inside a function's own environment (its zip's packages plus
the runtime's SDK, nothing else), with every AWS call answered in-process by a canned responder.

    python3.13 -I -S probe.py MODE STAGE SDK SCENARIO

MODE is `floor` (import pynamodb and build its client: what every DynamoDB handler pays), `cold` (import the
handler and serve its first request) or `warm` (serve it many times, beside the bare client calls that request
makes). The parent times `floor` and `cold` from spawn to exit, so both pay the same interpreter start; this
file only does the work and prints one JSON line. It imports nothing but the standard library and botocore,
which both sides import anyway, so the harness adds the same to either side.
"""
import os
import sys
from time import perf_counter as _perf_counter

MODE, STAGE, SDK, SCENARIO = sys.argv[1:5]
sys.path[:0] = [STAGE, SDK]

# Registered through botocore's own extension list before any session exists, so every client - the ones
# pynamodb builds lazily, an iot-data client built at import - answers from here and reports its calls here.
import botocore.handlers  # noqa: E402  (pynamodb imports it first thing either way)
from botocore.awsrequest import AWSResponse  # noqa: E402

_replies: dict = {}
_served: dict = {}
calls: dict = {}
clients: dict = {}
captured: list = []
capturing = [False]


class _Body:
    def __init__(self, data: bytes) -> None:
        self._data = data

    def stream(self, **_):
        yield self._data


def _respond(request, event_name, **_):
    _, service, operation = event_name.split(".", 2)
    queue = _replies.get(service)
    if not queue:
        raise RuntimeError(f"no canned reply for {service} {operation}: the probe never goes to the network")
    n = _served.get(service, 0)
    _served[service] = n + 1
    reply = queue[n % len(queue)]
    if reply["operation"] != operation:
        raise RuntimeError(f"canned reply {n} of {service} is {reply['operation']}, but {operation} was sent")
    return AWSResponse(request.url, reply["status"], reply["headers"], _Body(reply["body"].encode()))


def _count(event_name, **_):
    _, service, operation = event_name.split(".", 2)
    key = f"{service}.{operation}"
    calls[key] = calls.get(key, 0) + 1


def _count_client(event_name, **_):
    service = event_name.split(".", 1)[1]
    clients[service] = clients.get(service, 0) + 1


def _capture(params, event_name, **_):
    if capturing[0]:
        import copy

        _, service, operation = event_name.split(".", 2)
        captured.append((service, operation, copy.deepcopy(params)))


# Time inside client calls, from botocore's first event of a call (its parameters) to its last (the parsed reply).
in_calls = [0.0]
_call_began = [0.0]


def _call_starts(**_):
    _call_began[0] = _perf_counter()


def _call_ends(**_):
    in_calls[0] += _perf_counter() - _call_began[0]


botocore.handlers.BUILTIN_HANDLERS.extend([
    ("before-send", _respond),
    ("before-call", _count),
    ("creating-client-class", _count_client),
    ("provide-client-params", _call_starts),
    ("provide-client-params", _capture),
    ("after-call", _call_ends),
])


def _load_scenario() -> dict:
    import json

    with open(SCENARIO) as file:
        scenario = json.load(file)
    for reply in scenario["replies"]:
        _replies.setdefault(reply["service"], []).append(reply)
    return scenario


class _Context:
    """What the handlers read from Lambda's context object."""

    aws_request_id = "bench-0000"
    function_name = "bench"

    @staticmethod
    def get_remaining_time_in_millis() -> int:
        return 9000


def _handler(scenario: dict):
    import importlib

    module, name = scenario["handler"].rsplit(".", 1)
    return getattr(importlib.import_module(module), name)


def _rss_kib() -> int:
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def _summary(answer) -> str:
    if isinstance(answer, dict) and "statusCode" in answer:
        return str(answer["statusCode"])
    if isinstance(answer, dict) and "response" in answer:
        speech = (answer["response"].get("outputSpeech") or {}).get("ssml", "")
        return speech[:60]
    if isinstance(answer, dict) and "outcome" in answer:
        return answer["outcome"]
    return repr(answer)[:60]


def _emit(result: dict) -> None:
    import json

    sys.stdout.write(json.dumps(result) + "\n")
    sys.stdout.flush()
    # No interpreter teardown: Lambda freezes the process instead, and teardown is only noise here.
    os._exit(0)


def floor() -> None:
    import pynamodb.models  # noqa: F401
    from pynamodb.connection import Connection

    Connection(region=os.environ["AWS_REGION"]).client  # noqa: B018 - builds the client, what is measured
    _emit({"clients": clients, "maxrss_kib": _rss_kib()})


def cold() -> None:
    scenario = _load_scenario()
    handle = _handler(scenario)
    answer = handle(scenario["request"], _Context())
    _emit({"answer": _summary(answer), "calls": calls, "clients": clients, "maxrss_kib": _rss_kib()})


def _bare_clients(scenario: dict) -> dict:
    import botocore.config
    import botocore.session

    session = botocore.session.get_session()
    # pynamodb's own client settings (pynamodb.connection.base), so the bare side does no extra validation.
    config = botocore.config.Config(parameter_validation=False, retries={"total_max_attempts": 4, "mode": "standard"})
    services = {service for service, _, _ in captured}
    names = {"dynamodb": "dynamodb", "iot-data-plane": "iot-data"}
    return {
        service: session.create_client(names[service], os.environ["AWS_REGION"], config=config) for service in services
    }


def warm() -> None:
    """The handler served again and again, and beside it the same client calls made back to back on a bare
    client. Overhead is measured in situ: each handler block's time less the time spent inside its own AWS
    client calls (timed from botocore's first event of each call to its last). The bare loop is kept as a second
    view: calls made back to back, with nothing in between, run faster than the same calls interleaved with
    any other work (warm caches), so handler minus bare loop also counts that, not only the handler's own work.
    A third side, the least handler (tests/bench/least.py), makes the same calls with no other work and is timed
    like the handler in the same blocks: what any handler pays here before its own work."""
    import gc
    import statistics
    import time

    from botocore import xform_name

    scenario = _load_scenario()
    handle = _handler(scenario)
    request, context = scenario["request"], _Context()
    expected = _summary(handle(request, context))
    capturing[0] = True
    handle(request, context)
    capturing[0] = False
    bare = _bare_clients(scenario)
    replay = [
        (getattr(bare[service], xform_name(operation)), params, service) for service, operation, params in captured
    ]
    # The least handler counts only if it makes the handler's calls, in order, and gives its answer.
    least = _least(scenario, bare)
    handler_calls = [(service, operation) for service, operation, _ in captured]
    capturing[0] = True
    least_answer = _summary(least(request, context))
    capturing[0] = False
    least_calls = [(service, operation) for service, operation, _ in captured[len(handler_calls):]]
    del captured[len(handler_calls):]
    if least_answer != expected or least_calls != handler_calls:
        raise RuntimeError(f"the least handler answered {least_answer!r} with {least_calls}, not {expected!r} "
                           f"with {handler_calls}")

    def handler_once() -> None:
        handle(request, context)

    def bare_once() -> None:
        for call, params, _ in replay:
            call(**params)

    for _ in range(50):
        handler_once()
        least(request, context)
        bare_once()
    inner = int(scenario.get("inner", 50))
    blocks = int(scenario.get("blocks", 20))
    handler_times, bare_times, outside, in_client, least_outside = [], [], [], [], []
    gc.collect()
    for _ in range(blocks):
        # Side by side, alternating, so a busy moment of the machine lands on all three.
        in_calls[0] = 0.0
        start = time.perf_counter()
        for _ in range(inner):
            handler_once()
        took = time.perf_counter() - start
        handler_times.append(took / inner)
        outside.append((took - in_calls[0]) / inner)
        in_client.append(in_calls[0] / inner)
        in_calls[0] = 0.0
        start = time.perf_counter()
        for _ in range(inner):
            least(request, context)
        least_outside.append((time.perf_counter() - start - in_calls[0]) / inner)
        start = time.perf_counter()
        for _ in range(inner):
            bare_once()
        bare_times.append((time.perf_counter() - start) / inner)
    check = _summary(handle(request, context))
    own_us = _own_us(handle, request, context, inner, blocks)
    handler_us, bare_us = statistics.median(handler_times) * 1e6, statistics.median(bare_times) * 1e6
    _emit({
        "answer": check,
        "same_answer": check == expected,
        "calls_per_request": len(captured),
        "handler_us": handler_us,
        "client_us": statistics.median(in_client) * 1e6,
        "bare_us": bare_us,
        "overhead_us": statistics.median(outside) * 1e6,
        "overhead_min_us": min(outside) * 1e6,
        "least_us": statistics.median(least_outside) * 1e6,
        "least_min_us": min(least_outside) * 1e6,
        "own_us": own_us,
        "loop_overhead_us": handler_us - bare_us,
        "edge_us": _edge_us(handle, request, context, inner, blocks) if "core.services" in sys.modules else None,
    })


def _least(scenario: dict, clients: dict):
    """tests/bench/least.py's handler for this scenario, on the bare clients: the same calls, no other work."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("least", os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                                                         "least.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.HANDLERS[scenario["name"]](clients)


def _own_us(handle, request, context, inner: int, blocks: int) -> float:
    """The handler's own Python alone: its client calls answered by the parsed replies they returned once,
    so no botocore runs at all, in a tight loop (every cache warm). What the in-situ figure adds on top of
    this is the cost of running after botocore has filled the caches with its own work."""
    import statistics
    import time

    from botocore.client import BaseClient

    # The bench's one reach into botocore's private method: no public hook answers a call before botocore
    # builds its request (the before-call event comes after), and this figure is the handler without botocore.
    real_call = BaseClient._make_api_call
    replies: list = []

    def recording(client, operation, params):
        replies.append(real_call(client, operation, params))
        return replies[-1]

    BaseClient._make_api_call = recording
    handle(request, context)
    served = [0]

    def replaying(client, operation, params):
        served[0] += 1
        return replies[(served[0] - 1) % len(replies)]

    BaseClient._make_api_call = replaying
    try:
        for _ in range(inner):
            handle(request, context)
        took = []
        for _ in range(blocks):
            start = time.perf_counter()
            for _ in range(inner):
                handle(request, context)
            took.append((time.perf_counter() - start) / inner)
    finally:
        BaseClient._make_api_call = real_call
    return statistics.median(took) * 1e6


def _edge_us(handle, request, context, inner: int, blocks: int) -> float:
    """The handler's time outside core.services and outside its own client calls (the button's result
    publish): what the entry point itself adds (parse, route, render). Measured apart from the figures above,
    with each service function wrapped in a timer and the client calls timed by their events."""
    import functools
    import statistics
    import time

    services = sys.modules["core.services"]
    in_services = [0.0]  # time inside service functions, their own client calls included
    calls_in_services = [0.0]
    depth = [0]

    def timed(function):
        @functools.wraps(function)
        def wrapper(*args, **kwargs):
            depth[0] += 1
            start, calls = time.perf_counter(), in_calls[0]
            try:
                return function(*args, **kwargs)
            finally:
                depth[0] -= 1
                if depth[0] == 0:
                    in_services[0] += time.perf_counter() - start
                    calls_in_services[0] += in_calls[0] - calls
        return wrapper

    for name in services.__all__:
        value = getattr(services, name)
        if callable(value) and not isinstance(value, type):
            setattr(services, name, timed(value))
    outside = []
    for _ in range(blocks):
        in_services[0] = calls_in_services[0] = in_calls[0] = 0.0
        start = time.perf_counter()
        for _ in range(inner):
            handle(request, context)
        calls_elsewhere = in_calls[0] - calls_in_services[0]
        outside.append((time.perf_counter() - start - in_services[0] - calls_elsewhere) / inner)
    return statistics.median(outside) * 1e6


{"floor": floor, "cold": cold, "warm": warm}[MODE]()
