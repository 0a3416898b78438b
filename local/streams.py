"""Local stack: the table's stream read from the embedded DynamoDB (moto's streams API) and handed, batch by batch,
to the real notify function in the event Lambda delivers - through the template's own filters, with its retries,
partial batch failures and on-failure destination as Lambda's event source mapping has them."""
from __future__ import annotations

import json
import logging
import os
import threading
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

import boto3

from deploy.template import load_template
from local import failures
from local.runtime import LambdaFunction

if TYPE_CHECKING:
    from local.dynamodb import DynamoDBProcess

log = logging.getLogger(__name__)

FUNCTION = "NotifyFunction"
# How long the poller waits after a read that was not a full batch. Lambda polls a shard about four times a
# second; a tenth of a second keeps a promotion's notice well under a second behind its change, for one cheap
# call to moto each time.
POLL_SECONDS = 0.1


def event_source_mapping(template: dict[str, Any] | None = None) -> dict[str, Any]:
    """The template's DynamoDB event of NotifyFunction: batch size, retries, filters."""
    resource = (template or load_template())["Resources"][FUNCTION]["Properties"]
    (source,) = [event["Properties"] for event in resource["Events"].values() if event["Type"] == "DynamoDB"]
    return source


def filters(mapping: dict[str, Any]) -> list[dict[str, Any]]:
    return [json.loads(each["Pattern"]) for each in mapping.get("FilterCriteria", {}).get("Filters", [])]


def matches(pattern: Any, value: Any) -> bool:
    """Lambda's event filtering for the part of its pattern syntax the template uses: nested objects, lists of
    allowed values, and {"exists": true|false}. A record is let through when any pattern matches."""
    if isinstance(pattern, dict):
        if not isinstance(value, dict):
            return False
        for key, inner in pattern.items():
            if isinstance(inner, list) and any(isinstance(option, dict) and "exists" in option for option in inner):
                wanted = next(option["exists"] for option in inner if isinstance(option, dict) and "exists" in option)
                if (key in value) != wanted:
                    return False
            elif key not in value or not matches(inner, value[key]):
                return False
        return True
    if isinstance(pattern, list):
        return any(not isinstance(option, dict) and option == value for option in pattern)
    raise ValueError(f"unsupported filter pattern {pattern!r}")


def lambda_record(record: dict[str, Any], stream_arn: str) -> dict[str, Any]:
    """A GetRecords record as Lambda hands it over: the stream's ARN added, the creation time in epoch seconds
    (boto3 parsed it into a datetime), eventVersion 1.1."""
    change = dict(record["dynamodb"])
    created = change.get("ApproximateCreationDateTime")
    if isinstance(created, datetime):
        change["ApproximateCreationDateTime"] = float(int(created.timestamp()))
    return {**record, "eventVersion": "1.1", "dynamodb": change, "eventSourceARN": stream_arn}


class StreamPoller:
    """The stack's stream component: one thread reading the table's one shard from LATEST at start-up (what the
    snapshot restored is not news) and invoking the function with each batch that passes the filters."""

    name = "streams"

    def __init__(self, *, endpoint: str, region: str, table_name: str, function: LambdaFunction,
                 data_dir: Path, poll_seconds: float = POLL_SECONDS,
                 on_start: Callable[[], None] | None = None, forget: Callable[[str], None] | None = None):
        self.endpoint = endpoint
        self.region = region
        self.table_name = table_name
        self.function = function
        self.mapping = event_source_mapping()
        self.patterns = filters(self.mapping)
        self.batch_size = int(self.mapping.get("BatchSize", 100))
        self.retries = int(self.mapping.get("MaximumRetryAttempts", 2))
        # As Lambda gathers a batch: records read within the window of the first one are delivered together.
        self.batching_window = float(self.mapping.get("MaximumBatchingWindowInSeconds", 0))
        self.failures_path = Path(data_dir) / failures.NOTICE_FAILURES
        self.on_failure: Callable[[dict[str, Any]], None] = failures.JsonLines(self.failures_path)
        self.shard_id: str | None = None
        self.poll_seconds = poll_seconds
        self.on_start = on_start
        self.forget = forget  # drops a used shard iterator, which moto would otherwise keep for ever
        self.stream_arn = ""
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self._polling = False

    def start(self) -> None:
        if self.on_start is not None:
            self.on_start()
        self.function.load()
        streams = boto3.client("dynamodbstreams", endpoint_url=self.endpoint, region_name=self.region,
                               aws_access_key_id="local", aws_secret_access_key="local")
        table = boto3.client("dynamodb", endpoint_url=self.endpoint, region_name=self.region,
                             aws_access_key_id="local", aws_secret_access_key="local")
        self.stream_arn = table.describe_table(TableName=self.table_name)["Table"]["LatestStreamArn"]
        (shard,) = streams.describe_stream(StreamArn=self.stream_arn)["StreamDescription"]["Shards"]
        self.shard_id = shard["ShardId"]
        iterator = streams.get_shard_iterator(StreamArn=self.stream_arn, ShardId=shard["ShardId"],
                                              ShardIteratorType="LATEST")["ShardIterator"]
        self._thread = threading.Thread(target=self._poll, args=(streams, iterator), name="dynamodb-stream",
                                        daemon=True)
        self._polling = True
        self._thread.start()

    def _poll(self, streams: Any, iterator: str) -> None:
        gathered: list[dict[str, Any]] = []
        first_at = 0.0
        while not self._stopping.is_set():
            try:
                answer = streams.get_records(ShardIterator=iterator, Limit=self.batch_size)
            except Exception:
                if self._stopping.is_set():
                    break
                log.exception("could not read the table's stream; trying again")
                self._stopping.wait(1)
                continue
            if self.forget is not None:
                self.forget(iterator)
            iterator = answer["NextShardIterator"]
            records = [lambda_record(each, self.stream_arn) for each in answer["Records"]]
            wanted = [each for each in records if any(matches(p, each) for p in self.patterns)]
            if wanted and not gathered:
                first_at = time.monotonic()
            gathered += wanted
            while gathered and (len(gathered) >= self.batch_size
                                or time.monotonic() - first_at >= self.batching_window):
                batch, gathered = gathered[:self.batch_size], gathered[self.batch_size:]
                self.deliver(batch)
                first_at = time.monotonic()
            if len(answer["Records"]) < self.batch_size:  # a full batch: more may wait already
                self._stopping.wait(self.poll_seconds)
        if gathered:  # read already: a restart reads from LATEST, so what was gathered is delivered now
            self.deliver(gathered)
        self._polling = False

    def deliver(self, records: list[dict[str, Any]]) -> None:
        """Invokes the function with the batch; from the first failed record on, again, up to the mapping's retries;
        what still fails goes to the on-failure file, as Lambda sends it to the queue."""
        for attempt in range(self.retries + 1):
            try:
                # The stream handler answers a partial batch response (a dict) or None.
                answer = cast("dict[str, Any] | None", self.function.invoke({"Records": records}))
                failed = [each["itemIdentifier"] for each in (answer or {}).get("batchItemFailures", [])]
            except Exception:
                log.exception("%s failed on a batch of %d records", FUNCTION, len(records))
                failed = [records[0]["dynamodb"]["SequenceNumber"]]
            if not failed:
                return
            first = min(int(each) for each in failed)
            records = [each for each in records if int(each["dynamodb"]["SequenceNumber"]) >= first]
            time.sleep(min(1.0, 0.1 * 2 ** attempt))
        log.error("%d stream records still failed after %d retries: kept as their on-failure record",
                  len(records), self.retries)
        self.on_failure(failures.stream_failure(FUNCTION, self.stream_arn, self.shard_id, records))

    def stop(self) -> None:
        self._stopping.set()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def ready(self) -> bool:
        return self._polling and self.function.loaded()

    def describe(self) -> str:
        return (f"Table stream      {self.stream_arn or self.table_name}   -> {self.function.module} "
                f"(filtered as template.yaml's {FUNCTION}), SNS on moto")


NOTICE_TOPIC = "turnout-notices"


def use_local_sns(endpoint: str, region: str, account: str) -> None:
    """Points every SNS client at the embedded moto server and names the notice topic start() creates there; called
    before core is imported, since core reads its configuration once."""
    os.environ["AWS_ENDPOINT_URL_SNS"] = endpoint
    os.environ["TURNOUT_NOTICE_TOPIC_ARN"] = f"arn:aws:sns:{region}:{account}:{NOTICE_TOPIC}"


def build_component(dynamodb: DynamoDBProcess, *, region: str, table_name: str, data_dir: Path) -> StreamPoller:
    """What local/stack.py adds after the broker: the notice topic on moto; the broker, once started, is the
    buttons' publisher for notices as for click results (core.buttons)."""

    def prepare() -> None:
        boto3.client("sns", endpoint_url=dynamodb.url, region_name=region, aws_access_key_id="local",
                     aws_secret_access_key="local").create_topic(Name=NOTICE_TOPIC)

    return StreamPoller(
        endpoint=dynamodb.url,
        region=region,
        table_name=table_name,
        data_dir=data_dir,
        function=LambdaFunction.from_template(FUNCTION, "notify.handler.lambda_handler"),
        on_start=prepare,
        forget=dynamodb.forget_iterator,
    )
