"""Fixtures the unit tests share, beside tests/conftest.py's table and clock."""
from __future__ import annotations

import json

import boto3
import pytest

from notify import channels


@pytest.fixture
def sns_sent(table, monkeypatch):
    """The notice topic on moto with a queue behind it: every message SNS sent, with its person attribute."""
    sns, sqs = boto3.client("sns", region_name="us-east-1"), boto3.client("sqs", region_name="us-east-1")
    arn = sns.create_topic(Name="turnout-notices")["TopicArn"]
    # Kept the longest SQS allows: the test's week is read at its end, by its own clock.
    queue = sqs.create_queue(QueueName="reminders-sent", Attributes={"MessageRetentionPeriod": "1209600"})["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    sns.subscribe(TopicArn=arn, Protocol="sqs", Endpoint=queue_arn)
    monkeypatch.setattr(channels, "settings", channels.settings._replace(notice_topic_arn=arn))
    kept: list[tuple[str, str]] = []

    def sent() -> list[tuple[str, str]]:
        while messages := sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10).get("Messages", []):
            for message in messages:
                body = json.loads(message["Body"])
                kept.append((body["MessageAttributes"]["person"]["Value"], body["Message"]))
                sqs.delete_message(QueueUrl=queue, ReceiptHandle=message["ReceiptHandle"])
        return kept

    yield sent
    sqs.delete_queue(QueueUrl=queue)
    sns.delete_topic(TopicArn=arn)
