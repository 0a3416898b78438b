"""local/moto_patches.py: every answer the same as unpatched moto's, for queries and for the items they carry."""
from __future__ import annotations

import contextlib
import itertools
import json

import boto3
import pytest
from moto import mock_aws
from moto.core.base_backend import BackendDict

from local import moto_patches as moto_shortcuts
from local.tables import create_table

TABLE = "turnout"

# Items of three partitions, with every attribute type, some outside the local index (no lsi1sk).
ITEMS = [
    {"pk": {"S": f"EVENT#{event}"}, "sk": {"S": f"SIGNUP#{n:03d}"},
     "lsi1sk": {"S": f"{'G' if n % 3 else 'W'}#{n % 7}"},
     "n": {"N": str(n)}, "blob": {"B": bytes([n, 0, 255])}, "tags": {"SS": ["a", f"t{n}"]},
     "nums": {"NS": ["1", "2.5"]},
     "blobs": {"BS": [b"\x00", bytes([n])]}, "m": {"M": {"x": {"L": [{"N": "1"}, {"NULL": True}, {"BOOL": False}]}}},
     "empty": {"S": ""}}
    for event in ("a", "b", "c") for n in range(40)
] + [{"pk": {"S": "EVENT#a"}, "sk": {"S": "EVENT"}, "lsi1sk": {"S": "H#"}, "going": {"N": "26"}},
     {"pk": {"S": "EVENT#b"}, "sk": {"S": "LOOSE#1"}, "flag": {"BOOL": True}}]

KEY = {"pk": {"S": "EVENT#a"}, "sk": {"S": "SIGNUP#005"}}


def _queries() -> list[dict]:
    """Key conditions of each kind, on the table and on its local index, with limits, start keys, both directions."""
    a = {":p": {"S": "EVENT#a"}}
    conditions = [
        ("pk = :p", {}, None),
        ("pk = :p AND sk BETWEEN :l AND :h", {":l": {"S": "SIGNUP#010"}, ":h": {"S": "SIGNUP#020"}}, None),
        ("pk = :p AND sk > :l", {":l": {"S": "SIGNUP#030"}}, None),
        ("pk = :p AND sk <= :l", {":l": {"S": "SIGNUP#004"}}, None),
        ("pk = :p AND begins_with(sk, :l)", {":l": {"S": "SIGNUP#01"}}, None),
        ("pk = :p AND lsi1sk BETWEEN :l AND :h", {":l": {"S": "G#"}, ":h": {"S": "G#~"}}, "by_status"),
        ("pk = :p AND lsi1sk >= :l", {":l": {"S": "H#"}}, "by_status"),
        ("pk = :p AND lsi1sk = :l", {":l": {"S": "W#3"}}, "by_status"),
        ("pk = :p AND lsi1sk < :l", {":l": {"S": "G#4"}}, "by_status"),
        ("pk = :p AND begins_with(lsi1sk, :l)", {":l": {"S": "W"}}, "by_status"),
        ("pk = :p", {}, "by_status"),
    ]
    queries = []
    for (condition, values, index), limit, forward in itertools.product(conditions, (None, 1, 5, 52), (True, False)):
        query = {"TableName": TABLE, "KeyConditionExpression": condition,
                 "ExpressionAttributeValues": {**a, **values}, "ScanIndexForward": forward}
        if index:
            query["IndexName"] = index
        if limit:
            query["Limit"] = limit
        queries.append(query)
    # With a filter, a projection, consumed capacity and counting only.
    queries.append({"TableName": TABLE, "IndexName": "by_status", "KeyConditionExpression": "pk = :p AND lsi1sk > :l",
                    "FilterExpression": "n > :n", "Limit": 7,
                    "ExpressionAttributeValues": {**a, ":l": {"S": "G#2"}, ":n": {"N": "20"}}})
    queries.append({"TableName": TABLE, "KeyConditionExpression": "pk = :p", "ProjectionExpression": "sk, m.x[1], #b",
                    "ExpressionAttributeNames": {"#b": "blob"},
                    "ExpressionAttributeValues": a, "ReturnConsumedCapacity": "INDEXES", "Limit": 3})
    queries.append({"TableName": TABLE, "IndexName": "by_status", "KeyConditionExpression": "pk = :p",
                    "ExpressionAttributeValues": a, "Select": "COUNT", "ReturnConsumedCapacity": "TOTAL"})
    # The legacy form, with a QueryFilter that skips candidates inside moto's loop.
    queries.append({"TableName": TABLE, "KeyConditions": {
        "pk": {"ComparisonOperator": "EQ", "AttributeValueList": [{"S": "EVENT#c"}]},
        "sk": {"ComparisonOperator": "BEGINS_WITH", "AttributeValueList": [{"S": "SIGNUP#"}]}},
        "QueryFilter": {"n": {"ComparisonOperator": "GT", "AttributeValueList": [{"N": "30"}]}}, "Limit": 4})
    return queries


def _pages(client, query: dict) -> list[dict]:
    """Every page of a query, following LastEvaluatedKey, without the per-request metadata."""
    pages, start = [], None
    while True:
        page = client.query(**query, **({"ExclusiveStartKey": start} if start else {}))
        page.pop("ResponseMetadata")
        pages.append(page)
        start = page.get("LastEvaluatedKey")
        if not start or len(pages) > 200:
            return pages


def _other_reads_and_writes(client) -> list[dict]:
    """The other operations the JSON shortcut writes answers for, in a fixed order."""
    answers = [
        client.get_item(TableName=TABLE, Key=KEY, ReturnConsumedCapacity="TOTAL"),
        client.get_item(TableName=TABLE, Key={"pk": {"S": "EVENT#z"}, "sk": {"S": "nothing"}}),
        client.scan(TableName=TABLE, Limit=9),
        client.scan(TableName=TABLE, IndexName="by_status", Limit=4),
        client.batch_get_item(RequestItems={TABLE: {"Keys": [KEY, {"pk": {"S": "EVENT#b"}, "sk": {"S": "LOOSE#1"}}]}}),
        client.transact_get_items(TransactItems=[{"Get": {"TableName": TABLE, "Key": KEY}}]),
        client.put_item(TableName=TABLE, Item={**KEY, "n": {"N": "7"}}, ReturnValues="ALL_OLD"),
        client.update_item(TableName=TABLE, Key=KEY, UpdateExpression="ADD n :one", ReturnValues="ALL_NEW",
                           ExpressionAttributeValues={":one": {"N": "1"}}, ReturnConsumedCapacity="TOTAL"),
        client.delete_item(TableName=TABLE, Key=KEY, ReturnValues="ALL_OLD"),
        client.transact_write_items(TransactItems=[{"Put": {"TableName": TABLE, "Item": {**KEY, "n": {"N": "1"}}}}]),
        client.batch_write_item(RequestItems={TABLE: [{"PutRequest": {"Item": {**KEY, "n": {"N": "2"}}}}]}),
    ]
    for answer in answers:
        answer.pop("ResponseMetadata")
    return answers


def _answers() -> tuple[list, list]:
    """Each side on a table of its own: the writes among them change it."""
    with _filled_table() as client:
        return [_pages(client, query) for query in _queries()], _other_reads_and_writes(client)


@contextlib.contextmanager
def _filled_table():
    BackendDict.reset()  # a table the stack's tests left in this process's moto would be in the way
    with mock_aws():
        client = boto3.client("dynamodb", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x")
        create_table(client, TABLE)
        for item in ITEMS:
            client.put_item(TableName=TABLE, Item=item)
        yield client


@pytest.fixture
def filled():
    with _filled_table() as client:
        yield client


@pytest.fixture
def stock():
    moto_shortcuts.uninstall()
    yield
    moto_shortcuts.install()  # the stack's tests in this process run with them, as the stack does


def test_every_answer_is_the_same_as_moto_alone(stock):
    expected = _answers()
    moto_shortcuts.install()
    assert _answers() == expected


# Condition expressions of each kind, each with values that hold for KEY's item and values that do not: a
# kept syntax tree that carried a former request's values would answer the second as it answered the first.
CONDITIONS = [
    ("attribute_exists(#n) AND n BETWEEN :lo AND :hi", {"#n": "n"}, [(":lo", "N", "1", "9"), (":hi", "N", "9", "4")]),
    ("NOT (n > :v) OR attribute_not_exists(#b)", {"#b": "blob"}, [(":v", "N", "3", "9")]),
    ("n IN (:a, :b) AND size(tags) = :s", {}, [(":a", "N", "5", "6"), (":b", "N", "7", "8"), (":s", "N", "2", "3")]),
    ("begins_with(lsi1sk, :p) AND contains(tags, :t)", {}, [(":p", "S", "G", "W"), (":t", "S", "t5", "t6")]),
    ("attribute_type(#m, :k) AND (n <> :v)", {"#m": "m"}, [(":k", "S", "M", "L"), (":v", "N", "4", "5")]),
]
# moto's own refusals (in-process, raised as they are), which leave no tree: a value the request does not give, a
# reserved word.
REFUSED = [("n = :missing", {}, []), ("size = :v", {}, [(":v", "N", "1", "1")])]


def _conditional_writes(client) -> list:
    """Each condition, twice in turn (first values, then second ones), on an update and inside a transaction: the
    answer, or the error's code and message."""
    outcomes = []
    for expression, names, values in CONDITIONS + REFUSED:
        for turn in (0, 1):
            given = {name: {kind: pair[turn]} for name, kind, *pair in values}
            condition = {"ConditionExpression": expression, **({"ExpressionAttributeNames": names} if names else {})}
            writes = [
                ("update_item", {"TableName": TABLE, "Key": KEY, "UpdateExpression": "SET touched = :touched",
                                 "ExpressionAttributeValues": {**given, ":touched": {"N": str(turn)}}, **condition}),
                ("transact_write_items", {"TransactItems": [
                    {"ConditionCheck": {"TableName": TABLE, "Key": KEY, **condition,
                                        **({"ExpressionAttributeValues": given} if given else {})}},
                    {"Put": {"TableName": TABLE, "Item": {**KEY, "sk": {"S": "ZZ"}, "turn": {"N": str(turn)}}}}]}),
            ]
            for operation, request in writes:
                try:
                    answer = getattr(client, operation)(**request)
                    answer.pop("ResponseMetadata")
                    outcomes.append(answer)
                except client.exceptions.ClientError as err:
                    outcomes.append((err.response["Error"]["Code"], err.response["Error"]["Message"]))
                except (KeyError, ValueError) as err:
                    outcomes.append((type(err).__name__, str(err)))
    return outcomes


def test_conditions_answer_as_moto_alone(stock):
    with _filled_table() as client:
        expected = _conditional_writes(client)
    assert {type(outcome) for outcome in expected} == {dict, tuple}, "some conditions hold, some do not"
    moto_shortcuts.install()
    moto_shortcuts._trees.clear()  # earlier tests in this process may have left trees: these must be this run's
    with _filled_table() as client:
        assert _conditional_writes(client) == expected
    assert {key[0] for key in moto_shortcuts._trees} >= {expression for expression, _, _ in CONDITIONS}


def test_the_stream_records_are_the_same_as_moto_alone(filled, stock, monkeypatch):
    # The same records read twice through one iterator (moto keeps it): once as moto writes them, once by the walker.
    filled.update_item(
        TableName=TABLE, Key=KEY, UpdateExpression="ADD n :one", ExpressionAttributeValues={":one": {"N": "1"}}
    )
    filled.delete_item(TableName=TABLE, Key={"pk": {"S": "EVENT#b"}, "sk": {"S": "LOOSE#1"}})
    streams = boto3.client("dynamodbstreams", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x")
    arn = filled.describe_table(TableName=TABLE)["Table"]["LatestStreamArn"]
    (shard,) = streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"]
    iterator = streams.get_shard_iterator(StreamArn=arn, ShardId=shard["ShardId"],
                                          ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
    raw = streams.meta.events  # the answer's bytes, as the poller's botocore receives them

    def read() -> tuple[dict, dict]:  # (the body as sent, as botocore parsed it)
        seen: list[bytes] = []
        keep = lambda response_dict, **_: seen.append(response_dict["body"])  # noqa: E731
        raw.register("before-parse.dynamodbstreams.GetRecords", keep)
        try:
            answer = streams.get_records(ShardIterator=iterator, Limit=200)
        finally:
            raw.unregister("before-parse.dynamodbstreams.GetRecords", keep)
        answer.pop("ResponseMetadata")
        answer.pop("NextShardIterator")  # a new one each time
        body = json.loads(seen[0])
        body.pop("NextShardIterator")
        return body, answer

    expected = read()
    moto_shortcuts.install()

    def moto_writes(*_):
        raise AssertionError("moto's serializer wrote the records")

    monkeypatch.setattr(moto_shortcuts, "_moto_execute_result", moto_writes)  # where the walker would hand over
    got = read()
    assert len(got[1]["Records"]) == len(ITEMS) + 2 and {r["eventName"] for r in got[1]["Records"]} == {
        "INSERT", "MODIFY", "REMOVE"}
    assert got[1] == expected[1]
    assert got[0] == expected[0]


def test_sorted_partitions_kept_between_writes_are_forgotten_by_a_write(filled, stock):
    query = {"TableName": TABLE, "IndexName": "by_status", "KeyConditionExpression": "pk = :p AND lsi1sk > :l",
             "ExpressionAttributeValues": {":p": {"S": "EVENT#a"}, ":l": {"S": "A"}}, "Limit": 3}
    moto_shortcuts.install()
    moto_shortcuts.reading(True)
    try:
        first = _pages(filled, query)
        assert moto_shortcuts._ordered, "a read-only request keeps the sorted partition"
        moto_shortcuts.reading(False)
        moto_shortcuts.forget()  # what SerializedApp does around a write
        filled.put_item(TableName=TABLE, Item={"pk": {"S": "EVENT#a"}, "sk": {"S": "SIGNUP#000a"},
                                               "lsi1sk": {"S": "B#first"}})
        moto_shortcuts.forget()
        moto_shortcuts.reading(True)
        again = _pages(filled, query)
    finally:
        moto_shortcuts.reading(False)
        moto_shortcuts.forget()
    assert again[0]["Items"][0]["sk"] == {"S": "SIGNUP#000a"}
    assert sum(page["Count"] for page in again) == sum(page["Count"] for page in first) + 1


def test_outside_a_request_nothing_is_kept(filled):
    moto_shortcuts.forget()
    filled.query(TableName=TABLE, KeyConditionExpression="pk = :p", ExpressionAttributeValues={":p": {"S": "EVENT#a"}})
    assert moto_shortcuts._ordered == {}
