"""Core store, under every store module: pynamodb transactions with their refusals keyed by name, optimistic
retries, and DynamoDB's faults turned into the typed Busy and Throttled errors."""
from __future__ import annotations

import random
import time
from collections.abc import Callable, Sequence
from functools import wraps
from typing import Any, NamedTuple, ParamSpec, TypeVar

from pynamodb.constants import ALL_OLD, RETURN_VALUES_ON_CONDITION_FAILURE
from pynamodb.exceptions import CancellationReason, PynamoDBException, TransactWriteError
from pynamodb.expressions.condition import Condition
from pynamodb.expressions.update import Action

from core import errors
from core.table import TurnoutItem, connection

T = TypeVar("T")
P = ParamSpec("P")

# Optimistic attempts before Busy. Every sign-up and cancel of one event meets on its event item, so concurrent
# ones take turns; tests/integration/test_concurrency.py (30 cancels, 4 at a time) needs this many now and then.
ATTEMPTS = 16
THROTTLING_CODES = frozenset(
    {
        "ThrottlingError",
        "ThrottlingException",
        "ProvisionedThroughputExceeded",
        "ProvisionedThroughputExceededException",
        "RequestLimitExceeded",
    }
)
RETRYABLE_CODES = THROTTLING_CODES | {
    "TransactionConflict",
    "TransactionConflictException",
    "InternalServerError",
    "TransactionInProgressException",
}
CONDITION_FAILED = "ConditionalCheckFailed"
CONDITION_FAILED_EXCEPTION = "ConditionalCheckFailedException"
# The order pynamodb's Connection.transact_write_items sends its four lists in, which the reasons come back in.
KINDS = ("ConditionCheck", "Delete", "Put", "Update")


class Write(NamedTuple):
    label: str  # names the write's refusal in Refused
    kind: str  # one of KINDS
    kwargs: dict[str, Any]  # the model's own operation arguments


def put(label: str, item: TurnoutItem, condition: Condition | None = None, *, want_old: bool = False) -> Write:
    return Write(label, "Put", item.get_save_kwargs_from_instance(condition, ALL_OLD if want_old else None))


def update(label: str, item: TurnoutItem, actions: Sequence[Action], condition: Condition | None = None, *,
           want_old: bool = False) -> Write:
    return Write(label, "Update", item.get_update_kwargs_from_instance(
        actions=list(actions), condition=condition, return_values_on_condition_failure=ALL_OLD if want_old else None))


def delete(label: str, item: TurnoutItem, condition: Condition | None = None, *, want_old: bool = False) -> Write:
    # pynamodb's TransactWrite.delete cannot ask for the refused item back; the model's own kwargs can.
    return Write(label, "Delete", item.get_delete_kwargs_from_instance(condition, ALL_OLD if want_old else None))


def check(label: str, model: type[TurnoutItem], pk: str, sk: str, condition: Condition, *,
          want_old: bool = False) -> Write:
    """A condition on an item the transaction does not change."""
    kwargs = model.get_operation_kwargs_from_class(pk, sk, condition)
    if want_old:
        kwargs[RETURN_VALUES_ON_CONDITION_FAILURE] = ALL_OLD
    return Write(label, "ConditionCheck", kwargs)


class Refused(Exception):
    """A transaction refused by a condition; reasons are keyed by the labels given to its writes."""

    def __init__(self, reasons: dict[str, CancellationReason | None]) -> None:
        super().__init__(reasons)
        self.reasons = reasons

    def failed(self, label: str) -> bool:
        reason = self.reasons.get(label)
        return reason is not None and reason.code == CONDITION_FAILED

    def old(self, label: str) -> TurnoutItem | None:
        """The item as the refused condition saw it (the write asked for ALL_OLD), as its model; None if absent."""
        reason = self.reasons.get(label)
        return TurnoutItem.from_raw_data(reason.raw_item) if reason is not None and reason.raw_item else None


class Retry(Exception):
    """Contention or throttling: the same attempt may succeed a moment later."""

    def __init__(self, throttled: bool = False) -> None:
        super().__init__()
        self.throttled = throttled


def commit(writes: list[Write]) -> None:
    """One TransactWriteItems. Raises Refused (a condition said no), Retry (contention, throttling)."""
    grouped = {kind: [w for w in writes if w.kind == kind] for kind in KINDS}
    try:
        connection.transact_write_items(
            condition_check_items=[w.kwargs for w in grouped["ConditionCheck"]],
            delete_items=[w.kwargs for w in grouped["Delete"]],
            put_items=[w.kwargs for w in grouped["Put"]],
            update_items=[w.kwargs for w in grouped["Update"]],
        )
    except TransactWriteError as exc:
        reasons = exc.cancellation_reasons
        if reasons:
            codes = {r.code for r in reasons if r is not None}
            if codes & RETRYABLE_CODES:
                raise Retry(throttled=bool(codes & THROTTLING_CODES)) from exc
            sent = [w for kind in KINDS for w in grouped[kind]]
            raise Refused({w.label: reason for w, reason in zip(sent, reasons, strict=True)}) from exc
        if response_code(exc) in RETRYABLE_CODES:
            raise Retry(throttled=response_code(exc) in THROTTLING_CODES) from exc
        raise


def with_retries(attempt: Callable[[], T]) -> T:
    """Runs an optimistic attempt until it neither conflicts nor is throttled; then gives up with Busy. Not
    botocore's retries: those resend the same request, where a refused attempt is recomputed from a fresh read."""
    throttled = False
    for n in range(ATTEMPTS):
        try:
            return attempt()
        except Retry as retry:
            throttled = retry.throttled
            time.sleep(random.uniform(0, min(0.25, 0.004 * 2**n)))
    raise errors.Throttled() if throttled else errors.Busy()


def response_code(exc: PynamoDBException) -> str | None:
    """DynamoDB's error code; None when no answer came back at all."""
    return exc.cause_response_code if getattr(exc.cause, "response", None) else None


def refused_by_condition(exc: PynamoDBException) -> bool:
    return response_code(exc) == CONDITION_FAILED_EXCEPTION


def faults_as_busy(operation: Callable[P, T]) -> Callable[P, T]:
    """Throttling (as Throttled), DynamoDB's own 5xx and lost connections (as Busy) reach the edges as typed
    errors, never as a raw one."""

    @wraps(operation)
    def guarded(*args: P.args, **kwargs: P.kwargs) -> T:
        try:
            return operation(*args, **kwargs)
        except PynamoDBException as exc:
            code = response_code(exc)
            if code in THROTTLING_CODES:
                raise errors.Throttled() from exc
            if code is None or code in RETRYABLE_CODES:
                raise errors.Busy() from exc
            raise

    return guarded
