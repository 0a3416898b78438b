"""Local stack: where an invocation that failed every retry is kept - a JSON-lines file in the data folder per failure
queue, each line the record Lambda's on-failure destination would send to that queue in AWS, so `python -m
deploy.redrive` reads both alike."""
from __future__ import annotations

import json
import os
import threading
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

BUTTON_FAILURES = "button-failures.jsonl"
NOTICE_FAILURES = "notice-failures.jsonl"


def async_failure(function: str, request_id: str, event: Any, attempts: int, error: BaseException) -> dict[str, Any]:
    """Lambda's on-failure record of an asynchronous invocation (a click): the event as it came, and the error's type
    only - its message may quote what it failed on."""
    return {"version": "1.0", "timestamp": _now(),
            "requestContext": {"requestId": request_id, "functionArn": function, "condition": "RetriesExhausted",
                               "approximateInvokeCount": attempts},
            "requestPayload": event,
            "responseContext": {"statusCode": 200, "functionError": "Unhandled"},
            "responsePayload": {"errorType": type(error).__name__}}


def stream_failure(
    function: str, stream_arn: str, shard_id: str | None, records: list[dict[str, Any]]
) -> dict[str, Any]:
    """Lambda's on-failure record of a stream batch: where its records are in the stream, not the records."""
    return {"version": "1.0", "timestamp": _now(),
            "requestContext": {"functionArn": function, "condition": "RetryAttemptsExhausted"},
            "DDBStreamBatchInfo": {"streamArn": stream_arn, "shardId": shard_id,
                                   "startSequenceNumber": records[0]["dynamodb"]["SequenceNumber"],
                                   "endSequenceNumber": records[-1]["dynamodb"]["SequenceNumber"],
                                   "batchSize": len(records)}}


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


class JsonLines:
    """A failure queue as a file: each record one line, readable by its owner only."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self._lock = threading.Lock()

    def __call__(self, record: dict[str, Any]) -> None:
        with self._lock:
            descriptor = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
            with os.fdopen(descriptor, "a") as kept:
                kept.write(json.dumps(record) + "\n")

    def read(self) -> list[dict[str, Any]]:
        with self._lock:
            if not self.path.exists():
                return []
            return [json.loads(line) for line in self.path.read_text().splitlines() if line.strip()]

    def replace(self, records: list[dict[str, Any]]) -> None:
        """Keeps only these records (what a redrive left)."""
        with self._lock:
            text = "".join(json.dumps(record) + "\n" for record in records)
            descriptor = os.open(self.path, os.O_WRONLY | os.O_TRUNC | os.O_CREAT, 0o600)
            with os.fdopen(descriptor, "w") as kept:
                kept.write(text)
