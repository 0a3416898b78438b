"""core/tracing.py: with an X-Ray daemon address and a sampled trace header, each AWS call a client makes arrives at the
daemon as a subsegment of the invocation's segment; without either, nothing is registered or sent."""
from __future__ import annotations

import json
import socket

import boto3
import botocore.session
import pytest

from core import tracing

TRACE = "Root=1-67891233-abcdef012345678912345678;Parent=53995c3f42cd8ad8;Sampled=1"


@pytest.fixture
def daemon():
    listening = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    listening.bind(("127.0.0.1", 0))
    listening.settimeout(5)
    yield listening
    listening.close()


def _client(environ: dict[str, str]):
    session = botocore.session.get_session()
    installed = tracing.install(session, environ)
    client = session.create_client("dynamodb", region_name="us-east-1", aws_access_key_id="x",
                                   aws_secret_access_key="x")
    return installed, client


def test_each_call_is_a_subsegment_of_the_invocations_segment(table, daemon, monkeypatch):
    monkeypatch.setenv("_X_AMZN_TRACE_ID", TRACE)
    installed, client = _client(
        {"AWS_XRAY_DAEMON_ADDRESS": f"udp:127.0.0.1:{daemon.getsockname()[1]} tcp:127.0.0.1:2000"}
    )
    assert installed
    client.list_tables()
    with pytest.raises(client.exceptions.ResourceNotFoundException):
        client.describe_table(TableName="no-such-table")
    sent = [daemon.recvfrom(65536)[0] for _ in range(2)]
    header, first = sent[0].split(b"\n", 1)
    assert json.loads(header) == {"format": "json", "version": 1}
    ok, refused = json.loads(first), json.loads(sent[1].split(b"\n", 1)[1])
    assert ok["type"] == "subsegment" and ok["namespace"] == "aws"
    assert (ok["trace_id"], ok["parent_id"]) == ("1-67891233-abcdef012345678912345678", "53995c3f42cd8ad8")
    assert (ok["name"], ok["aws"]["operation"], ok["http"]["response"]["status"]) == ("DynamoDB", "ListTables", 200)
    assert ok["start_time"] <= ok["end_time"] and "error" not in ok and "fault" not in ok
    assert refused["aws"]["operation"] == "DescribeTable" and refused["error"] is True


def test_nothing_is_sent_for_an_unsampled_invocation(table, daemon, monkeypatch):
    monkeypatch.setenv("_X_AMZN_TRACE_ID", TRACE.replace("Sampled=1", "Sampled=0"))
    _, client = _client({"AWS_XRAY_DAEMON_ADDRESS": f"127.0.0.1:{daemon.getsockname()[1]}"})
    client.list_tables()
    daemon.settimeout(0.2)
    with pytest.raises(socket.timeout):
        daemon.recvfrom(65536)


def test_nothing_is_registered_without_a_daemon():
    assert tracing.install(boto3.Session()._session, {}) is False
