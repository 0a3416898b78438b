"""Load model: how many sign-ups per second one event takes on AWS, where every sign-up is a transaction on the
same event item (docs/SCALING.md).

    .venv/bin/python -m tests.bench.hot_event          # the sweep SCALING.md quotes

A discrete-event simulation of one event's partition. Sign-ups arrive at random (Poisson) at an offered rate.
Each attempt is one TransactWriteItems that holds the event item for HOLD seconds (DynamoDB's prepare-to-commit
window; not published, so a few values are swept). An attempt that reaches the item while another transaction
holds it is cancelled with TransactionConflict; one that finds the partition out of write units is throttled.
Either way the client backs off exactly as core.store.transactions.with_retries does (uniform jitter, doubling from
4 ms, capped at 250 ms, 12 attempts) and gives up as Busy after the last. Write units are refilled at the
partition's 1,000 per second; a committed sign-up spends WCU_PER_SIGN_UP of them.
"""
from __future__ import annotations

import heapq
import json
import random
import sys

from core.store.transactions import ATTEMPTS

PARTITION_WCU_PER_SECOND = 1000
# A going sign-up without a request id (the API's): the signup put and the event update, each <= 1 KB, at the
# transactional 2 write units per item = 4; plus the by_status local index entries the two items carry
# (a new entry for the signup, a changed one for the event, 1 each), which local indexes draw from the same
# partition = 6. Button and voice sign-ups add a request item (+2 = 8).
WCU_PER_SIGN_UP = 6
ROUND_TRIP = 0.004  # seconds from Lambda to DynamoDB and back, outside the item hold


def _backoff(attempt: int, rng: random.Random) -> float:
    return rng.uniform(0, min(0.25, 0.004 * 2**attempt))  # core.store.transactions.with_retries


def simulate(rate: float, hold: float, *, seconds: float = 30.0, seed: int = 7,
             wcu_per_sign_up: int = WCU_PER_SIGN_UP) -> dict:
    """Offered `rate` sign-ups/s for `seconds`; returns goodput, latency percentiles and the share given up."""
    rng = random.Random(seed)
    queue: list[tuple[float, int, int, float]] = []  # (time, tie-break, attempt number, arrived at)
    tie = 0
    t = 0.0
    while t < seconds:
        t += rng.expovariate(rate)
        tie += 1
        heapq.heappush(queue, (t, tie, 0, t))
    held_until = 0.0
    tokens, refilled_at = float(PARTITION_WCU_PER_SECOND), 0.0
    done: list[float] = []
    busy = conflicts = throttled = attempts = 0
    while queue:
        now, _, attempt, arrived = heapq.heappop(queue)
        attempts += 1
        tokens = min(PARTITION_WCU_PER_SECOND, tokens + (now - refilled_at) * PARTITION_WCU_PER_SECOND)
        refilled_at = now
        at_item = now + ROUND_TRIP / 2
        if at_item < held_until:
            conflicts += 1
            failed = True
        elif tokens < wcu_per_sign_up:
            throttled += 1
            failed = True
        else:
            tokens -= wcu_per_sign_up
            held_until = at_item + hold
            done.append(held_until + ROUND_TRIP / 2 - arrived)
            failed = False
        if failed:
            if attempt + 1 >= ATTEMPTS:
                busy += 1
                continue
            tie += 1
            heapq.heappush(queue, (now + ROUND_TRIP + _backoff(attempt, rng), tie, attempt + 1, arrived))
    done.sort()
    offered = len(done) + busy
    return {
        "offered_per_s": rate,
        "hold_ms": hold * 1000,
        "committed_per_s": len(done) / seconds,
        "busy_share": busy / offered if offered else 0.0,
        "attempts_per_sign_up": attempts / offered if offered else 0.0,
        "conflicts": conflicts,
        "throttled": throttled,
        "p50_ms": done[len(done) // 2] * 1000 if done else None,
        "p99_ms": done[int(len(done) * 0.99)] * 1000 if done else None,
    }


def sustainable(hold: float, *, busy_at_most: float = 0.001, p99_at_most: float = 1.0) -> float:
    """The highest offered rate (to 1/s) at which almost nobody gives up and the 99th percentile stays under a
    second: the most sign-ups per second one event can be promised."""
    low, high = 1.0, PARTITION_WCU_PER_SECOND / WCU_PER_SIGN_UP
    while high - low > 1:
        mid = (low + high) / 2
        result = simulate(mid, hold)
        ok = result["busy_share"] <= busy_at_most and (result["p99_ms"] or 0) <= p99_at_most * 1000
        low, high = (mid, high) if ok else (low, mid)
    return low


def sweep() -> list[dict]:
    rows = []
    for hold in (0.005, 0.010, 0.020):
        for rate in (25, 50, 75, 100, 150, 200):
            rows.append(simulate(rate, hold))
    return rows


if __name__ == "__main__":
    for row in sweep():
        print(json.dumps({k: (round(v, 3) if isinstance(v, float) else v) for k, v in row.items()}))
    for hold in (0.005, 0.010, 0.020):
        print(json.dumps({"hold_ms": hold * 1000, "sustainable_per_s": round(sustainable(hold))}))
    sys.exit(0)
