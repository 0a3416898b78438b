"""Test set-up shared by every test: fake AWS credentials and a fresh in-process table for unit tests."""
from __future__ import annotations

import os

# Before anything imports botocore: no test may ever reach AWS.
os.environ["AWS_ACCESS_KEY_ID"] = "testing"
os.environ["AWS_SECRET_ACCESS_KEY"] = "testing"
os.environ["AWS_SESSION_TOKEN"] = "testing"
os.environ["AWS_DEFAULT_REGION"] = "us-east-1"
os.environ["AWS_REGION"] = "us-east-1"
os.environ.pop("AWS_ENDPOINT_URL_DYNAMODB", None)
os.environ.pop("AWS_PROFILE", None)
# API tests act as everyone (open mode) unless they say who they are: tests/unit/test_api_auth.py
# switches auth on and sends the claims API Gateway's JWT authorizer would.
os.environ["TURNOUT_AUTH"] = "off"
for _claim_setting in (
    "TURNOUT_PUBLIC_READS",
    "TURNOUT_PERSON_CLAIM",
    "TURNOUT_GROUP_CLAIM",
    "TURNOUT_ORGANIZER_GROUP",
):
    os.environ.pop(_claim_setting, None)

import boto3  # noqa: E402
import pytest  # noqa: E402
import time_machine  # noqa: E402
from moto import mock_aws  # noqa: E402

from core.config import settings  # noqa: E402
from local import moto_patches  # noqa: E402
from local.tables import create_table  # noqa: E402
from tests.support.clock import PINNED_AT  # noqa: E402


def pytest_addoption(parser):
    parser.addoption(
        "--clock", metavar="ISO-TIME",
        help="run the whole session with the clock moved to this time and ticking on from there (the time-bomb "
             "guard `make test` runs: no test may depend on the day it runs)",
    )


def pytest_configure(config):
    # Started before collection, so nothing a test module reads at import escapes it; subprocesses a test starts
    # (the local stack, fresh interpreters) keep the real clock.
    moved_to = config.getoption("--clock")
    if moved_to:
        config._turnout_clock = time_machine.travel(moved_to, tick=True)
        config._turnout_clock.start()


def pytest_unconfigure(config):
    traveller = getattr(config, "_turnout_clock", None)
    if traveller is not None:
        traveller.stop()


def pytest_report_header(config):
    moved_to = config.getoption("--clock")
    return f"clock moved to {moved_to} (time-bomb guard)" if moved_to else None


@pytest.fixture(scope="session")
def _moto():
    """moto in-process for the whole session: starting it per test costs more than the tests."""
    moto_patches.install()  # the same moto the local stack runs (local/moto_patches.py)
    with mock_aws():
        yield boto3.client("dynamodb", region_name=settings.region)


def _empty(client) -> None:
    try:
        client.describe_table(TableName=settings.table_name)
    except client.exceptions.ResourceNotFoundException:
        create_table(client, settings.table_name)
        return
    pages = client.get_paginator("scan").paginate(TableName=settings.table_name, ProjectionExpression="pk, sk")
    keys = [{"pk": item["pk"], "sk": item["sk"]} for page in pages for item in page["Items"]]
    for start in range(0, len(keys), 25):
        chunk = keys[start : start + 25]
        client.batch_write_item(RequestItems={settings.table_name: [{"DeleteRequest": {"Key": k}} for k in chunk]})


def _forget_stream(client) -> None:
    # The table streams every write (template.yaml); moto keeps each record, old and new image, for the session.
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.dynamodb.models import dynamodb_backends

    table = dynamodb_backends[DEFAULT_ACCOUNT_ID][settings.region].tables.get(settings.table_name)
    if table is not None and table.stream_shard is not None:
        moto_patches.forget_records(
            table.stream_shard, table.stream_shard.starting_sequence_number + len(table.stream_shard.items)
        )


@pytest.fixture
def reset_table(_moto):
    """Empties the table (creating it from template.yaml if needed); for tests that need several fresh starts."""
    return lambda: (_empty(_moto), _forget_stream(_moto))


@pytest.fixture
def table(_moto, reset_table):
    """An empty table on moto in-process, built from template.yaml; yields the boto3 client."""
    reset_table()
    return _moto


@pytest.fixture
def pinned_clock():
    """Core's clock (and every other reader of the time in this process) at tests.support.clock.PINNED_AT, ticking on
    from there: for tests whose dates are fixed (fixtures, written-out times) and whose code reads the clock itself."""
    with time_machine.travel(PINNED_AT, tick=True) as traveller:
        yield traveller
