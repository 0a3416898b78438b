"""Operations, by hand: what waits in a failure queue handed back to its function once the fault is fixed
(docs/OPERATIONS.md, "Redrive").

    python -m deploy.redrive --stack turnout [--region eu-west-1] [clicks|notices]   # what `make redrive` runs

A click's record (Lambda's on-failure record, or the topic rule's error action) holds the click: it is invoked again.
A stream batch's record holds only where its records are: they are read from the stream again (it keeps them 24
hours), filtered as the event source mapping filters them, and invoked as one batch. A message is deleted only once
its invocation succeeded; what fails again stays for the next try."""
from __future__ import annotations

import argparse
import base64
import json
import logging
import sys
from collections.abc import Callable, Iterator
from functools import partial
from typing import Any, NamedTuple

log = logging.getLogger(__name__)

# A record, what removes it from its queue, and what shows it again to the next reader.
Message = tuple[dict[str, Any], Callable[[], None], Callable[[], None]]


class Redriven(NamedTuple):
    redriven: int
    left: int


def click_event(record: dict[str, Any]) -> dict[str, Any]:
    """The event the button function is invoked with again."""
    if "requestPayload" in record:  # Lambda gave up after its retries: the event as the rule made it
        return record["requestPayload"]
    if "base64OriginalPayload" in record:  # the rule could not invoke at all: the message as the button sent it
        from local.broker import select  # the rule's own statement, applied as IoT Core applies it

        event = select(record["topic"], base64.b64decode(record["base64OriginalPayload"]))
        if event is None:
            raise ValueError(f"the rule does not fire on this message of {record['topic']}")
        return event
    raise ValueError("not a click's failure record")


def stream_records(record: dict[str, Any], streams: Any) -> list[dict[str, Any]]:
    """The stream records a batch's failure record points at, as Lambda delivers them (filtered by the mapping)."""
    from local.streams import event_source_mapping, filters, lambda_record, matches

    info = record["DDBStreamBatchInfo"]
    shard = info.get("shardId") or _only_shard(streams, info["streamArn"])
    iterator = streams.get_shard_iterator(
        StreamArn=info["streamArn"],
        ShardId=shard,
        ShardIteratorType="AT_SEQUENCE_NUMBER",
        SequenceNumber=info["startSequenceNumber"],
    )["ShardIterator"]
    end, found = int(info["endSequenceNumber"]), []
    while iterator:
        answer = streams.get_records(ShardIterator=iterator, Limit=100)
        inside = [each for each in answer["Records"] if int(each["dynamodb"]["SequenceNumber"]) <= end]
        found += [lambda_record(each, info["streamArn"]) for each in inside]
        if len(inside) < len(answer["Records"]) or not answer["Records"]:
            break
        iterator = answer.get("NextShardIterator")
    patterns = filters(event_source_mapping())
    return [each for each in found if any(matches(pattern, each) for pattern in patterns)]


def _only_shard(streams: Any, arn: str) -> str:
    (shard,) = streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"]
    return shard["ShardId"]


def sqs_messages(sqs: Any, queue_url: str) -> Iterator[Message]:
    """Every message in the queue once: each stays hidden from other readers (and from this pass) while the pass
    lasts, up to five minutes, unless it is removed or shown again."""
    while True:
        received = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10, VisibilityTimeout=300,
                                       WaitTimeSeconds=0).get("Messages", [])
        if not received:
            return
        for message in received:
            receipt = message["ReceiptHandle"]
            yield (json.loads(message["Body"]),
                   partial(sqs.delete_message, QueueUrl=queue_url, ReceiptHandle=receipt),
                   partial(sqs.change_message_visibility, QueueUrl=queue_url, ReceiptHandle=receipt,
                           VisibilityTimeout=0))


def redrive(messages: Iterator[Message], replay: Callable[[dict[str, Any]], None]) -> Redriven:
    """Replays each message's record; removes it once replay returned. A replay that raises leaves its message, shown
    again once every message was tried (so this pass does not meet it twice)."""
    done, failed = 0, []
    for record, remove, release in messages:
        try:
            replay(record)
        except Exception as err:
            log.warning("still failing, left in the queue: %s", err)
            failed.append(release)
            continue
        remove()
        done += 1
    for release in failed:
        release()
    return Redriven(done, len(failed))


def replay_clicks(invoke: Callable[[dict[str, Any]], Any]) -> Callable[[dict[str, Any]], None]:
    return lambda record: invoke(click_event(record))


def replay_notices(invoke: Callable[[dict[str, Any]], Any], streams: Any) -> Callable[[dict[str, Any]], None]:
    def replay(record: dict[str, Any]) -> None:
        records = stream_records(record, streams)
        if not records:
            return  # nothing in it tells anyone anything (any more): nothing to send
        answer = invoke({"Records": records})
        if (answer or {}).get("batchItemFailures"):
            raise RuntimeError(f"{len(answer['batchItemFailures'])} of {len(records)} records failed again")
    return replay


def _lambda_invoker(client: Any, function: str) -> Callable[[dict[str, Any]], Any]:
    """Invokes the function's live alias and waits: a function error raises, so its message stays."""
    def invoke(event: dict[str, Any]) -> Any:
        answer = client.invoke(FunctionName=function, Qualifier="live", InvocationType="RequestResponse",
                               Payload=json.dumps(event).encode())
        body = json.loads(answer["Payload"].read() or b"null")
        if answer.get("FunctionError"):
            raise RuntimeError(f"{function}: {answer['FunctionError']} {(body or {}).get('errorType', '')}")
        return body
    return invoke


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m deploy.redrive", description=__doc__.split("\n\n")[0])
    parser.add_argument("--stack", required=True, help="the deployed stack's name")
    parser.add_argument("--region", default=None, help="its region (default: the AWS CLI's)")
    parser.add_argument("queues", nargs="*", choices=["clicks", "notices"], default=[],
                        help="which failure queues (default: both)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(message)s")
    import boto3

    session = boto3.Session(region_name=args.region)
    stack = session.client("cloudformation").describe_stacks(StackName=args.stack)["Stacks"][0]
    outputs = {each["OutputKey"]: each["OutputValue"] for each in stack.get("Outputs", [])}
    resources = session.client("cloudformation").describe_stack_resources(StackName=args.stack)["StackResources"]
    functions = {each["LogicalResourceId"]: each["PhysicalResourceId"] for each in resources}
    sqs, lambdas = session.client("sqs"), session.client("lambda")
    status = 0
    for name in args.queues or ["clicks", "notices"]:
        if name == "clicks":
            queue = outputs["ButtonFailureQueueUrl"]
            replay = replay_clicks(_lambda_invoker(lambdas, functions["ButtonFunction"]))
        else:
            queue = outputs["NoticeFailureQueueUrl"]
            replay = replay_notices(
                _lambda_invoker(lambdas, functions["NotifyFunction"]), session.client("dynamodbstreams")
            )
        result = redrive(sqs_messages(sqs, queue), replay)
        print(f"{name}: {result.redriven} redriven, {result.left} still failing (left in {queue})")
        status |= 1 if result.left else 0
    return status


if __name__ == "__main__":
    sys.exit(main())
