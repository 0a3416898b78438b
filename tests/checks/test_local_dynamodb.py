"""The local DynamoDB endpoint: one request at a time inside moto, data kept on disk across restarts, and stream
records forgotten once read."""
from __future__ import annotations

import json
import os
import stat
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from types import SimpleNamespace

import pytest
from botocore.exceptions import ClientError
from moto.core.base_backend import BackendDict

import local.dynamodb
from local.dynamodb import DynamoDBEndpoint, MotoServer, SerializedApp
from local.moto_patches import forget_records

TABLE = "turnout"
REGION = "us-east-1"


@pytest.fixture
def fresh_moto():
    """moto keeps its data in module globals: forget it, as a new process would."""
    BackendDict.reset()
    yield
    BackendDict.reset()


def _endpoint(data_dir, **options) -> DynamoDBEndpoint:
    return DynamoDBEndpoint(MotoServer(), data_dir=data_dir, table_name=TABLE, region=REGION, **options)


@pytest.fixture
def endpoint(tmp_path, fresh_moto):
    ddb = _endpoint(tmp_path)
    ddb.start()
    yield ddb
    ddb.stop()


def _restart(ddb: DynamoDBEndpoint) -> DynamoDBEndpoint:
    ddb.stop()
    BackendDict.reset()
    again = _endpoint(ddb.data_dir)
    again.start()
    return again


# --- serialization -------------------------------------------------------------------------------


class _OverlapProbe:
    """Wraps moto's app and records how many requests were inside it at once."""

    def __init__(self, app):
        self.app = app
        self.inside = 0
        self.most_inside = 0
        self.calls = 0
        self._lock = threading.Lock()

    def __call__(self, environ, start_response):
        with self._lock:
            self.inside += 1
            self.calls += 1
            self.most_inside = max(self.most_inside, self.inside)
        try:
            time.sleep(0.002)  # widen the window an unserialized server would show overlap in
            return self.app(environ, start_response)
        finally:
            with self._lock:
                self.inside -= 1


def test_concurrent_requests_never_overlap_inside_moto(tmp_path, fresh_moto, monkeypatch):
    probes = []

    def probed_moto(*args, **kwargs):
        probes.append(_OverlapProbe(real_dispatcher(*args, **kwargs)))
        return probes[-1]

    real_dispatcher = local.dynamodb.DomainDispatcherApplication
    monkeypatch.setattr(local.dynamodb, "DomainDispatcherApplication", probed_moto)
    ddb = _endpoint(tmp_path)
    ddb.start()
    try:
        client = ddb.server.client(REGION)
        with ThreadPoolExecutor(32) as pool:
            list(pool.map(lambda n: client.put_item(TableName=TABLE, Item={"pk": {"S": f"p{n}"}, "sk": {"S": "x"}}),
                          range(200)))
    finally:
        ddb.stop()
    (probe,) = probes
    assert probe.calls >= 200
    assert probe.most_inside == 1


def test_conditional_writes_hold_a_capacity_under_64_clients(endpoint):
    client = endpoint.server.client(REGION)
    client.put_item(TableName=TABLE, Item={"pk": {"S": "event"}, "sk": {"S": "e"}, "seats": {"N": "50"},
                                           "going": {"N": "0"}})

    def take_seat(n: int) -> bool:
        try:
            client.update_item(
                TableName=TABLE, Key={"pk": {"S": "event"}, "sk": {"S": "e"}},
                UpdateExpression="SET seats = seats - :one, going = going + :one",
                ConditionExpression="seats >= :one", ExpressionAttributeValues={":one": {"N": "1"}},
            )
            return True
        except ClientError as err:
            assert err.response["Error"]["Code"] == "ConditionalCheckFailedException"
            return False

    with ThreadPoolExecutor(64) as pool:
        taken = sum(pool.map(take_seat, range(120)))
    item = client.get_item(TableName=TABLE, Key={"pk": {"S": "event"}, "sk": {"S": "e"}})["Item"]
    assert taken == 50
    assert (item["seats"]["N"], item["going"]["N"]) == ("0", "50")


def test_a_closed_app_refuses_requests_instead_of_losing_them():
    def moto(environ, start_response):
        start_response("200 OK", [])
        return [b"{}"]

    app = SerializedApp(moto)
    app.closed = True
    statuses = []
    body = app({"wsgi.input": None, "CONTENT_LENGTH": "0"}, lambda status, headers: statuses.append(status))
    assert statuses == ["503 Service Unavailable"]
    assert b"stopping" in b"".join(body)


def test_only_writes_count_as_changes():
    def moto(environ, start_response):
        start_response("200 OK", [])
        return [b"{}"]

    app = SerializedApp(moto)

    def call(target: str) -> None:
        app({"wsgi.input": None, "CONTENT_LENGTH": "0", "HTTP_X_AMZ_TARGET": f"DynamoDB_20120810.{target}"},
            lambda *_: None)

    for read in ("GetItem", "Query", "Scan", "DescribeTable"):
        call(read)
    assert app.writes == 0
    for write in ("PutItem", "TransactWriteItems", "SomethingNew"):
        call(write)
    assert app.writes == 3


# --- persistence ---------------------------------------------------------------------------------


EVERY_TYPE = {
    "pk": {"S": "item"}, "sk": {"S": "1"}, "n": {"N": "12.5"}, "b": {"B": b"\x00\xff"}, "bool": {"BOOL": True},
    "null": {"NULL": True}, "ss": {"SS": ["a", "b"]}, "ns": {"NS": ["1", "2"]}, "bs": {"BS": [b"\x01"]},
    "m": {"M": {"s": {"S": "x"}, "b": {"B": b"\x02"}, "l": {"L": [{"B": b"\x03"}, {"N": "7"}]}}},
}


def test_every_attribute_type_survives_a_restart(endpoint):
    endpoint.server.client(REGION).put_item(TableName=TABLE, Item=EVERY_TYPE)
    again = _restart(endpoint)
    try:
        items = again.server.client(REGION).scan(TableName=TABLE)["Items"]
    finally:
        again.stop()
    assert len(items) == 1
    item = items[0]
    assert {name: item[name] for name in EVERY_TYPE if name not in ("ss", "ns")} == {
        name: value for name, value in EVERY_TYPE.items() if name not in ("ss", "ns")}
    assert sorted(item["ss"]["SS"]) == ["a", "b"] and sorted(item["ns"]["NS"]) == ["1", "2"]


def test_indexes_answer_after_a_restart(endpoint):
    endpoint.server.client(REGION).put_item(TableName=TABLE, Item={
        "pk": {"S": "e#1"}, "sk": {"S": "event"}, "gsi1pk": {"S": "events"}, "gsi1sk": {"S": "2030"},
        "lsi1sk": {"S": "1#going"}})
    again = _restart(endpoint)
    try:
        client = again.server.client(REGION)
        by_start = client.query(TableName=TABLE, IndexName="by_start", KeyConditionExpression="gsi1pk = :p",
                                ExpressionAttributeValues={":p": {"S": "events"}})["Items"]
        by_status = client.query(TableName=TABLE, IndexName="by_status", KeyConditionExpression="pk = :p",
                                 ExpressionAttributeValues={":p": {"S": "e#1"}})["Items"]
    finally:
        again.stop()
    assert [i["pk"]["S"] for i in by_start] == ["e#1"]
    assert [i["lsi1sk"]["S"] for i in by_status] == ["1#going"]


def test_writes_reach_the_disk_within_a_second_without_a_stop(endpoint):
    endpoint.server.client(REGION).put_item(TableName=TABLE, Item={"pk": {"S": "a"}, "sk": {"S": "b"}})
    deadline = time.monotonic() + 1.0
    snapshot = endpoint.data_dir / f"{TABLE}.dynamodb.json"
    while time.monotonic() < deadline and not snapshot.exists():
        time.sleep(0.02)
    assert [item["pk"]["S"] for item in json.loads(snapshot.read_text())["items"]] == ["a"]
    assert not snapshot.with_name(snapshot.name + ".tmp").exists()


def test_the_snapshot_and_its_folder_are_for_their_owner_alone(tmp_path, fresh_moto):
    # The items hold emails and phones: nobody else on the machine reads them, whatever the umask.
    before = os.umask(0o022)
    try:
        ddb = _endpoint(tmp_path / "data")
        ddb.start()
        try:
            ddb.server.client(REGION).put_item(TableName=TABLE, Item={"pk": {"S": "a"}, "sk": {"S": "b"}})
            stale = ddb.data_dir / f"{TABLE}.dynamodb.json.tmp"
            stale.write_text("left by a crash")  # 0644 under this umask
            assert ddb.save() is True
        finally:
            ddb.stop()
    finally:
        os.umask(before)
    assert stat.S_IMODE((tmp_path / "data").stat().st_mode) == 0o700
    assert stat.S_IMODE((tmp_path / "data" / f"{TABLE}.dynamodb.json").stat().st_mode) == 0o600


def test_nothing_is_written_when_nothing_changed(endpoint):
    client = endpoint.server.client(REGION)
    client.put_item(TableName=TABLE, Item={"pk": {"S": "a"}, "sk": {"S": "b"}})
    endpoint.save()
    client.get_item(TableName=TABLE, Key={"pk": {"S": "a"}, "sk": {"S": "b"}})
    client.scan(TableName=TABLE)
    assert endpoint.save() is False
    client.delete_item(TableName=TABLE, Key={"pk": {"S": "a"}, "sk": {"S": "b"}})
    assert endpoint.save() is True


def test_a_failed_restore_never_overwrites_the_snapshot(tmp_path, fresh_moto, monkeypatch):
    snapshot = tmp_path / f"{TABLE}.dynamodb.json"
    good = {"format": "turnout-dynamodb-snapshot/1", "table": TABLE, "saved_at": 0,
            "items": [{"pk": {"S": f"p{n}"}, "sk": {"S": "x"}} for n in range(60)]}
    snapshot.write_text(json.dumps(good))

    def restore_half(client, table_name, items):
        local_restore(client, table_name, items[:30])
        raise OSError("disk went away")

    local_restore = local.dynamodb._restore
    monkeypatch.setattr(local.dynamodb, "_restore", restore_half)
    ddb = _endpoint(tmp_path)
    with pytest.raises(OSError):
        ddb.start()
    ddb.stop()
    assert json.loads(snapshot.read_text()) == good


def test_an_unreadable_snapshot_stops_start_up(tmp_path, fresh_moto):
    (tmp_path / f"{TABLE}.dynamodb.json").write_text('{"format": "something else", "items": []}')
    ddb = _endpoint(tmp_path)
    with pytest.raises(ValueError):
        ddb.start()
    ddb.stop()


def test_two_endpoints_cannot_share_a_data_folder(endpoint):
    second = _endpoint(endpoint.data_dir)
    with pytest.raises(RuntimeError, match="another local stack"):
        second.start()
    second.stop()


def test_the_endpoint_listens_on_loopback_only(endpoint):
    assert endpoint.server.url.startswith("http://127.0.0.1:")
    assert endpoint.server._server.server_address[0] == "127.0.0.1"


# --- transactions roll back item by item ---------------------------------------------------------


def _key(pk: str) -> dict:
    return {"pk": {"S": pk}, "sk": {"S": "x"}}


def test_a_cancelled_transaction_leaves_every_item_as_it_was(endpoint):
    client = endpoint.server.client(REGION)
    client.put_item(TableName=TABLE, Item={**_key("kept"), "n": {"N": "1"}})
    client.put_item(TableName=TABLE, Item={**_key("doomed"), "n": {"N": "1"}})
    client.put_item(TableName=TABLE, Item={**_key("guard"), "n": {"N": "1"}})
    table = local.dynamodb.dynamodb_backends[local.dynamodb.DEFAULT_ACCOUNT_ID][REGION].tables[TABLE]
    with pytest.raises(ClientError, match="TransactionCanceled"):
        client.transact_write_items(TransactItems=[
            {"Put": {"TableName": TABLE, "Item": {**_key("new"), "n": {"N": "1"}}}},
            {"Update": {"TableName": TABLE, "Key": _key("kept"), "UpdateExpression": "SET n = :two",
                        "ExpressionAttributeValues": {":two": {"N": "2"}}}},
            {"Delete": {"TableName": TABLE, "Key": _key("doomed")}},
            {"ConditionCheck": {"TableName": TABLE, "Key": _key("guard"), "ConditionExpression": "n = :nine",
                                "ExpressionAttributeValues": {":nine": {"N": "9"}}}},
        ])
    items = {item["pk"]["S"]: item["n"]["N"] for item in client.scan(TableName=TABLE)["Items"]}
    assert items == {"kept": "1", "doomed": "1", "guard": "1"}
    # Rolled back in place: moto's own rollback would have swapped in a deep copy of the whole table.
    assert local.dynamodb.dynamodb_backends[local.dynamodb.DEFAULT_ACCOUNT_ID][REGION].tables[TABLE] is table


def test_a_transaction_that_goes_through_changes_every_item(endpoint):
    client = endpoint.server.client(REGION)
    client.put_item(TableName=TABLE, Item={**_key("kept"), "n": {"N": "1"}})
    client.put_item(TableName=TABLE, Item={**_key("doomed"), "n": {"N": "1"}})
    client.transact_write_items(TransactItems=[
        {"Put": {"TableName": TABLE, "Item": {**_key("new"), "n": {"N": "1"}}}},
        {"Update": {"TableName": TABLE, "Key": _key("kept"), "UpdateExpression": "SET n = :two",
                    "ExpressionAttributeValues": {":two": {"N": "2"}}}},
        {"Delete": {"TableName": TABLE, "Key": _key("doomed")}},
    ])
    items = {item["pk"]["S"]: item["n"]["N"] for item in client.scan(TableName=TABLE)["Items"]}
    assert items == {"kept": "2", "new": "1"}


def test_a_transaction_naming_one_item_twice_is_refused_and_changes_nothing(endpoint):
    client = endpoint.server.client(REGION)
    client.put_item(TableName=TABLE, Item={**_key("kept"), "n": {"N": "1"}})
    with pytest.raises(ClientError):
        client.transact_write_items(TransactItems=[
            {"Update": {"TableName": TABLE, "Key": _key("kept"), "UpdateExpression": "SET n = :two",
                        "ExpressionAttributeValues": {":two": {"N": "2"}}}},
            {"Delete": {"TableName": TABLE, "Key": _key("kept")}},
        ])
    assert client.get_item(TableName=TABLE, Key=_key("kept"))["Item"]["n"]["N"] == "1"


def test_records_read_are_dropped_and_the_numbers_still_to_read_stay_the_same():
    shard = SimpleNamespace(starting_sequence_number=100, items=list("abcde"))
    forget_records(shard, 103)
    assert (shard.starting_sequence_number, shard.items) == (103, ["d", "e"])
    forget_records(shard, 90)  # nothing below what is kept
    assert (shard.starting_sequence_number, shard.items) == (103, ["d", "e"])
    forget_records(shard, 200)  # never past what there is
    assert (shard.starting_sequence_number, shard.items) == (105, [])
