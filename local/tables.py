"""Local stack: the table definition, read from template.yaml so local and deployed tables cannot drift."""
from __future__ import annotations

from pathlib import Path
from typing import Any

from deploy.template import TEMPLATE, load_template


def table_properties(path: Path = TEMPLATE) -> dict[str, Any]:
    """The Properties of the template's one AWS::DynamoDB::Table."""
    tables = [
        resource["Properties"]
        for resource in load_template(path)["Resources"].values()
        if resource["Type"] == "AWS::DynamoDB::Table"
    ]
    if len(tables) != 1:
        raise ValueError(f"template.yaml must define exactly one DynamoDB table, found {len(tables)}")
    return tables[0]


def create_table(client: Any, table_name: str) -> None:
    """Creates the table, its stream and its TTL on a boto3 DynamoDB client, exactly as the template declares them."""
    props = table_properties()
    kwargs: dict[str, Any] = {
        "TableName": table_name,
        "AttributeDefinitions": props["AttributeDefinitions"],
        "KeySchema": props["KeySchema"],
        "BillingMode": props.get("BillingMode", "PAY_PER_REQUEST"),
    }
    for key in ("LocalSecondaryIndexes", "GlobalSecondaryIndexes"):
        if key in props:
            kwargs[key] = props[key]
    stream = props.get("StreamSpecification")
    if stream:
        # CloudFormation enables a stream by naming its view; the CreateTable API asks for both.
        kwargs["StreamSpecification"] = {"StreamEnabled": True, "StreamViewType": stream["StreamViewType"]}
    client.create_table(**kwargs)
    client.get_waiter("table_exists").wait(TableName=table_name, WaiterConfig={"Delay": 0.1, "MaxAttempts": 50})
    ttl = props.get("TimeToLiveSpecification")
    if ttl and ttl.get("Enabled"):
        client.update_time_to_live(
            TableName=table_name,
            TimeToLiveSpecification={"AttributeName": ttl["AttributeName"], "Enabled": True},
        )
