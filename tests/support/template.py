"""template.yaml as the template tests read it: its source, SAM's transform of it offline, and lookups in both."""
from __future__ import annotations

import copy
from functools import cache
from pathlib import Path
from typing import Any

from samtranslator.translator.transform import transform

from deploy.template import load_template

ROOT = Path(__file__).resolve().parents[2]
SKILL_ID = "amzn1.ask.skill.5f1c7d2e-3b8a-4f6e-9c1d-2a7b8e4f6c30"
ARTIFACT_BUCKET = "turnout-artifacts"
FUNCTIONS = ("ApiFunction", "SkillFunction", "ButtonFunction", "NotifyFunction", "ReminderFunction",
             "SignUpCheckFunction")
# The one function that is not Turnout's code: CloudFormation's custom resource for the page's app client, written
# inline in the template (tests/checks/test_template_accounts.py runs it).
INLINE_FUNCTIONS = ("PageClientSettingsFunction",)


class _NoManagedPolicies:
    """samtranslator asks for managed policy ARNs only for policies named by name; this template names none."""

    def load(self) -> dict[str, str]:
        return {}


def source() -> dict[str, Any]:
    return load_template()


@cache
def _transformed() -> dict[str, Any]:
    from samtranslator.yaml_helper import yaml_parse

    template = yaml_parse((ROOT / "template.yaml").read_text())
    for resource in template["Resources"].values():
        if resource["Type"] == "AWS::Serverless::Function":
            # What `sam deploy` does to a local CodeUri: upload it and put its S3 location in its place.
            resource["Properties"]["CodeUri"] = f"s3://{ARTIFACT_BUCKET}/{resource['Properties']['CodeUri']}"
    return transform(template, {"SkillId": SKILL_ID}, _NoManagedPolicies())


def transformed() -> dict[str, Any]:
    """The plain CloudFormation template SAM would deploy (a fresh copy each call)."""
    return copy.deepcopy(_transformed())


def turnout_functions(template: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The Lambda functions that run Turnout's own packaged code: all but the template's inline one."""
    return {name: f for name, f in of_type(template, "AWS::Lambda::Function").items() if name not in INLINE_FUNCTIONS}


def of_type(template: dict[str, Any], kind: str) -> dict[str, dict[str, Any]]:
    return {name: r for name, r in template["Resources"].items() if r["Type"] == kind}


def role_statements(template: dict[str, Any], function: str) -> list[dict[str, Any]]:
    role = template["Resources"][function]["Properties"]["Role"]["Fn::GetAtt"][0]
    statements = []
    for policy in template["Resources"][role]["Properties"].get("Policies", []):
        if "Fn::If" in policy:  # a policy only some deployments have: its statements count as granted
            policy = policy["Fn::If"][1]
        statements += policy["PolicyDocument"]["Statement"]
    return statements


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def granted(template: dict[str, Any], function: str) -> set[tuple[str, str]]:
    """(action, 'table' | 'index') pairs the function's role allows on the table."""
    pairs = set()
    for statement in role_statements(template, function):
        assert statement["Effect"] == "Allow"
        for resource in as_list(statement["Resource"]):
            if resource == {"Fn::GetAtt": ["Table", "Arn"]}:
                target = "table"
            elif resource == {"Fn::Sub": "${Table.Arn}/index/*"}:
                target = "index"
            else:
                continue
            for action in as_list(statement["Action"]):
                service, _, name = action.partition(":")
                assert service == "dynamodb", action
                pairs.add((name, target))
    return pairs


def key_schema(schema: list[dict[str, str]]) -> dict[str, str]:
    """A KeySchema (the template's, or DescribeTable's) as {"HASH": name, "RANGE": name}."""
    return {entry["KeyType"]: entry["AttributeName"] for entry in schema}


def indexes_of(table: dict[str, Any]) -> dict[str, tuple[dict[str, str], str]]:
    """A table's indexes, as the template or DescribeTable lists them: name -> (keys, projection type)."""
    return {index["IndexName"]: (key_schema(index["KeySchema"]), index["Projection"]["ProjectionType"])
            for index in table["LocalSecondaryIndexes"] + table["GlobalSecondaryIndexes"]}


def model_indexes() -> dict[str, tuple[dict[str, str], str]]:
    """The same of the pynamodb models' indexes (core/table.py)."""
    from core.table import TurnoutItem

    found = {}
    for index in (TurnoutItem.by_status, TurnoutItem.by_start):
        keys = {}
        for attribute in index.Meta.attributes.values():
            if attribute.is_hash_key:
                keys["HASH"] = attribute.attr_name
            if attribute.is_range_key:
                keys["RANGE"] = attribute.attr_name
        found[index.Meta.index_name] = (keys, index.Meta.projection.projection_type)
    return found
