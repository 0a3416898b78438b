"""Load model beside hot_event.py: sign-ups spread over many items and partitions - the whole system's events
together (before and after by_start stopped holding counts), and one hot event's seat blocks (docs/SCALING.md).

    .venv/bin/python -m tests.bench.spread             # the figures SCALING.md quotes

The same discrete-event simulation as hot_event.py, generalised: each sign-up is one transaction that holds one
contended item (an event item, or a seat block) for HOLD seconds and draws write units from every partition it
writes (each refilled at its own rate, with a tenth of a second's worth of burst, so that a sustained rate over
a partition's shows within a few simulated seconds). A conflict or a throttle is retried exactly as
core.store.transactions.with_retries does, and given up as Busy after its last attempt.
"""
from __future__ import annotations

import heapq
import json
import random
import sys
from collections.abc import Callable

from core.store.transactions import ATTEMPTS
from tests.bench.hot_event import PARTITION_WCU_PER_SECOND, ROUND_TRIP, WCU_PER_SIGN_UP, _backoff

EVENTS = 1000  # concurrent events, sign-ups spread evenly over them
# DynamoDB's default per-table quota for an on-demand table (an account quota that can be raised): writes of
# the whole table together, whatever its partitions.
TABLE_WRU_PER_SECOND = 40_000
# Before: the event item's changed by_start entry (<= 1 KB, 1 unit), all in the index's one partition.
INDEX_WCU_PER_SIGN_UP = 1
# A hot event's sign-up: on the event's partition the signup put (2, transactional) and its by_status entry (1);
# on the seat blocks' own partition the block's update (2). core/store/signups.py, seat blocks.
HOT_EVENT_PARTITION_WCU = 3
HOT_BLOCKS_PARTITION_WCU = 2

BURST_SECONDS = 0.1

Pick = Callable[[random.Random], tuple[str, list[tuple[str, int]]]]


def simulate(rate: float, hold: float, pick: Pick, *, seconds: float = 10.0, seed: int = 7,
             capacity: Callable[[str], float] = lambda partition: PARTITION_WCU_PER_SECOND) -> dict:
    """Offered `rate` sign-ups/s for `seconds`. pick(rng) -> (the contended item, [(partition, write units)])
    for one sign-up; capacity(partition) -> its write units per second."""
    rng = random.Random(seed)
    queue: list[tuple[float, int, int, float, str, list[tuple[str, int]]]] = []
    tie = 0
    t = 0.0
    while t < seconds:
        t += rng.expovariate(rate)
        tie += 1
        item, draws = pick(rng)
        heapq.heappush(queue, (t, tie, 0, t, item, draws))
    held_until: dict[str, float] = {}
    tokens: dict[str, tuple[float, float]] = {}  # partition -> (units, refilled at)
    done: list[float] = []
    busy = conflicts = throttled = attempts = 0
    while queue:
        now, _, attempt, arrived, item, draws = heapq.heappop(queue)
        attempts += 1
        at_item = now + ROUND_TRIP / 2
        levels = {}
        for partition, _units in draws:
            rate_of = capacity(partition)
            units, at = tokens.get(partition, (rate_of * BURST_SECONDS, 0.0))
            levels[partition] = min(rate_of * BURST_SECONDS, units + (now - at) * rate_of)
        if at_item < held_until.get(item, 0.0):
            conflicts += 1
            failed = True
        elif any(levels[partition] < units for partition, units in draws):
            throttled += 1
            failed = True
        else:
            for partition, units in draws:
                levels[partition] -= units
            held_until[item] = at_item + hold
            done.append(at_item + hold + ROUND_TRIP / 2 - arrived)
            failed = False
        for partition, level in levels.items():
            tokens[partition] = (level, now)
        if failed:
            if attempt + 1 >= ATTEMPTS:
                busy += 1
                continue
            tie += 1
            heapq.heappush(queue, (now + ROUND_TRIP + _backoff(attempt, rng), tie, attempt + 1, arrived, item, draws))
    done.sort()
    offered = len(done) + busy
    return {
        "offered_per_s": rate,
        "committed_per_s": len(done) / seconds,
        "busy_share": busy / offered if offered else 0.0,
        "attempts_per_sign_up": attempts / offered if offered else 0.0,
        "conflicts": conflicts,
        "throttled": throttled,
        "p50_ms": done[len(done) // 2] * 1000 if done else None,
        "p99_ms": done[int(len(done) * 0.99)] * 1000 if done else None,
    }


def _table_capacity(partition: str) -> float:
    return TABLE_WRU_PER_SECOND if partition == "table" else PARTITION_WCU_PER_SECOND


def whole_system(index_holds_counts: bool) -> Pick:
    """A sign-up on one of EVENTS events: its event's partition, the table's quota and, while by_start holds the
    counts (before), the index's one partition."""
    per_sign_up = WCU_PER_SIGN_UP + (INDEX_WCU_PER_SIGN_UP if index_holds_counts else 0)

    def pick(rng: random.Random) -> tuple[str, list[tuple[str, int]]]:
        event = f"event{rng.randrange(EVENTS)}"
        draws = [(event, WCU_PER_SIGN_UP), ("table", per_sign_up)]
        if index_holds_counts:
            draws.append(("by_start", INDEX_WCU_PER_SIGN_UP))
        return event, draws

    return pick


def hot_event(blocks: int) -> Pick:
    """A sign-up on one event with `blocks` seat blocks (a person's block is a hash of their handle: even)."""

    def pick(rng: random.Random) -> tuple[str, list[tuple[str, int]]]:
        return f"block{rng.randrange(blocks)}", [
            ("event", HOT_EVENT_PARTITION_WCU),
            ("blocks", HOT_BLOCKS_PARTITION_WCU),
        ]

    return pick


def sustainable(pick: Pick, hold: float, high: float, *, seconds: float = 10.0, busy_at_most: float = 0.001,
                p99_at_most: float = 1.0) -> float:
    """The highest offered rate (to 1 %) at which almost nobody gives up and the 99th percentile stays under a
    second (hot_event.sustainable's promise, over many items)."""
    low = 1.0
    while high - low > max(1.0, low / 100):
        mid = (low + high) / 2
        result = simulate(mid, hold, pick, seconds=seconds, capacity=_table_capacity)
        ok = result["busy_share"] <= busy_at_most and (result["p99_ms"] or 0) <= p99_at_most * 1000
        low, high = (mid, high) if ok else (low, mid)
    return low


HOLD = 0.010  # the middle of hot_event.py's sweep
HOT_BLOCKS = 8  # core.validation.SEAT_BLOCKS_DEFAULT


def figures() -> dict:
    """What make bench prints: the whole system's sign-ups/s before and after, one hot event's with seat blocks."""
    return {
        "whole_before": sustainable(whole_system(True), HOLD, 2 * PARTITION_WCU_PER_SECOND, seconds=20.0),
        "whole_after": sustainable(
            whole_system(False), HOLD, TABLE_WRU_PER_SECOND / WCU_PER_SIGN_UP * 1.2, seconds=10.0
        ),
        "hot_blocks": sustainable(
            hot_event(HOT_BLOCKS), HOLD, PARTITION_WCU_PER_SECOND / HOT_EVENT_PARTITION_WCU * 1.2, seconds=20.0
        ),
    }


if __name__ == "__main__":
    for rate in (500, 900, 1000, 1100, 2000, 5000):
        for before in (True, False):
            row = simulate(rate, HOLD, whole_system(before), seconds=5.0, capacity=_table_capacity)
            print(json.dumps({"whole_system": "before" if before else "after",
                              **{k: (round(v, 3) if isinstance(v, float) else v) for k, v in row.items()}}))
    for blocks in (1, 4, 8, 16):
        for rate in (100, 200, 300, 350):
            row = simulate(rate, HOLD, hot_event(blocks), capacity=_table_capacity)
            print(json.dumps({"hot_event_blocks": blocks,
                              **{k: (round(v, 3) if isinstance(v, float) else v) for k, v in row.items()}}))
    print(json.dumps({k: round(v) for k, v in figures().items()}))
    sys.exit(0)
