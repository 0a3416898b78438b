"""The local stack's stream poller: Lambda's record shape and its filter syntax."""
from __future__ import annotations

from datetime import datetime, timezone

from local import streams


def test_a_get_records_record_becomes_the_record_lambda_delivers():
    record = {"eventID": "1", "eventName": "INSERT", "eventVersion": "1.0", "eventSource": "aws:dynamodb",
              "awsRegion": "us-east-1",
              "dynamodb": {"ApproximateCreationDateTime": datetime(2026, 12, 1, tzinfo=timezone.utc),
                           "SequenceNumber": "7", "Keys": {}}}
    delivered = streams.lambda_record(record, "arn:stream")
    assert delivered["eventSourceARN"] == "arn:stream" and delivered["eventVersion"] == "1.1"
    assert delivered["dynamodb"]["ApproximateCreationDateTime"] == 1796083200.0  # 2026-12-01T00:00Z in epoch seconds


def test_filter_patterns_match_values_nested_objects_and_existence():
    pattern = {
        "eventName": ["MODIFY"],
        "dynamodb": {"NewImage": {"kind": {"S": ["change"]}, "person": [{"exists": False}]}},
    }
    record = {"eventName": "MODIFY", "dynamodb": {"NewImage": {"kind": {"S": "change"}}}}
    assert streams.matches(pattern, record)
    assert not streams.matches(pattern, {**record, "eventName": "INSERT"})
    assert not streams.matches(pattern, {"eventName": "MODIFY", "dynamodb": {"NewImage": {"kind": {"S": "change"},
                                                                                          "person": {"S": "x"}}}})
