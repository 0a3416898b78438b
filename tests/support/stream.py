"""Tests' view of the table's stream on moto in-process: the records written since the table was reset, as Lambda
hands them to the notify function after the template's filters."""
from __future__ import annotations

from typing import Any

import boto3

from core.config import settings
from local.streams import event_source_mapping, filters, lambda_record, matches


def arn_and_shard() -> tuple[str, str]:
    arn = boto3.client("dynamodb", region_name=settings.region).describe_table(
        TableName=settings.table_name)["Table"]["LatestStreamArn"]
    streams = boto3.client("dynamodbstreams", region_name=settings.region)
    (shard,) = streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"]
    return arn, shard["ShardId"]


def delivered() -> list[dict[str, Any]]:
    """Every record since the reset that the event source mapping lets through, in order."""
    arn, shard = arn_and_shard()
    streams = boto3.client("dynamodbstreams", region_name=settings.region)
    iterator = streams.get_shard_iterator(StreamArn=arn, ShardId=shard, ShardIteratorType="TRIM_HORIZON")[
        "ShardIterator"
    ]
    records = streams.get_records(ShardIterator=iterator, Limit=1000)["Records"]
    patterns = filters(event_source_mapping())
    wanted = [lambda_record(each, arn) for each in records]
    return [each for each in wanted if any(matches(pattern, each) for pattern in patterns)]


def stream_batches(table: Any) -> Any:
    """What the in-process table's stream holds from now on, as Lambda hands it over after the mapping's filters:
    each call of the returned function gives the batch of records written since the last call."""
    streams_client = boto3.client("dynamodbstreams", region_name=settings.region)
    arn = table.describe_table(TableName=settings.table_name)["Table"]["LatestStreamArn"]
    patterns = filters(event_source_mapping())

    def records() -> list[dict]:
        (shard,) = streams_client.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"]
        iterator = streams_client.get_shard_iterator(StreamArn=arn, ShardId=shard["ShardId"],
                                                     ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
        found = []
        while True:
            answer = streams_client.get_records(ShardIterator=iterator)
            if not answer["Records"]:
                return found
            found += answer["Records"]
            iterator = answer["NextShardIterator"]

    seen = {record["dynamodb"]["SequenceNumber"] for record in records()}

    def read() -> dict:
        fresh = [record for record in records() if record["dynamodb"]["SequenceNumber"] not in seen]
        seen.update(record["dynamodb"]["SequenceNumber"] for record in fresh)
        batch = [lambda_record(record, arn) for record in fresh]
        return {"Records": [r for r in batch if any(matches(p, r) for p in patterns)]}

    return read
