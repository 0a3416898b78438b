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

import boto3  # noqa: E402
import pytest  # noqa: E402
from moto import mock_aws  # noqa: E402

from core.config import settings  # noqa: E402
from local.tables import create_table  # noqa: E402


@pytest.fixture
def table():
    """An empty table on moto in-process, built from template.yaml; yields the boto3 client."""
    with mock_aws():
        client = boto3.client("dynamodb", region_name=settings.region)
        create_table(client, settings.table_name)
        yield client
