"""The transformed template deployed into moto's CloudFormation: the table it creates is the one core/ expects.

moto's CloudFormation creates only some resource types. What it cannot create (the HTTP API and its stage,
the topic rule, aliases, the event invoke config) is left out, together with whatever refers to it, and the
test names what was left out. Of what it creates, moto does not apply the table's TimeToLiveSpecification,
PointInTimeRecoverySpecification or SSESpecification (CloudFormation's SSEEnabled spelling) nor a function's
Architectures: tests/checks/test_template.py checks those in the transformed template. The stack is created in
its own region so the unit tests' table is never touched."""
from __future__ import annotations

import io
import json
import re
import warnings
import zipfile
from typing import Any

import boto3
import pytest
from moto.cloudformation.parsing import get_model_map

from core.table import TurnoutItem
from tests.support import moto_cloudwatch  # noqa: F401  (teaches moto's CloudFormation the template's alarms)
from tests.support.template import (
    ARTIFACT_BUCKET,
    SKILL_ID,
    indexes_of,
    key_schema,
    model_indexes,
    of_type,
    source,
    transformed,
)

REGION = "eu-west-1"
STACK = "turnout-template-test"
AUTH_ISSUER = "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_Example"
AUTH_AUDIENCE = "turnout-web,turnout-cli"
# What moto 5.2.5's CloudFormation cannot create, and what goes with it because it points there.
EXPECTED_LEFT_OUT = {
    "HttpApi": "AWS::ApiGatewayV2::Api",
    "HttpApiApiGatewayDefaultStage": "AWS::ApiGatewayV2::Stage",
    "ButtonClickRule": "AWS::IoT::TopicRule",
    "ApiFunctionAliaslive": "AWS::Lambda::Alias",
    "SkillFunctionAliaslive": "AWS::Lambda::Alias",
    "ButtonFunctionAliaslive": "AWS::Lambda::Alias",
    "ButtonFunctionEventInvokeConfig": "AWS::Lambda::EventInvokeConfig",
    "NotifyFunctionAliaslive": "AWS::Lambda::Alias",
    "ReminderFunctionAliaslive": "AWS::Lambda::Alias",
    # On the alias too; moto has no alias to point it at.
    "NotifyFunctionChanges": "AWS::Lambda::EventSourceMapping",
    "ReminderFunctionEveryFiveMinutes": "AWS::Events::Rule",
    "ReminderFunctionEveryFiveMinutesPermission": "AWS::Lambda::Permission",
    # Permissions are supported, but these are granted on the aliases.
    "ApiFunctionAnyPermission": "AWS::Lambda::Permission",
    "ApiFunctionHealthPermission": "AWS::Lambda::Permission",
    "ApiFunctionOpenApiDocumentPermission": "AWS::Lambda::Permission",
    "ApiFunctionWebPagePermission": "AWS::Lambda::Permission",
    "ApiFunctionWebFilesPermission": "AWS::Lambda::Permission",
    "ApiFunctionCalendarFeedPermission": "AWS::Lambda::Permission",
    "SkillFunctionAlexaPermission": "AWS::Lambda::Permission",
    "ButtonClickPermission": "AWS::Lambda::Permission",
    # moto has no SNS subscription resource (and the deploy leaves AlarmEmail empty, so it would not be created).
    "OpsTopicEmail": "AWS::SNS::Subscription",
}
# moto has no HTTP API: the alarms and the dashboard that name it are deployed with this id written in its place.
STAND_IN_API_ID = "a1b2c3d4e5"


def _references(value: Any) -> set[str]:
    """Logical ids a template fragment points at: Ref, Fn::GetAtt and ${...} inside Fn::Sub."""
    found: set[str] = set()
    if isinstance(value, dict):
        for key, inner in value.items():
            if key == "Ref" and isinstance(inner, str):
                found.add(inner)
            elif key == "Fn::GetAtt":
                found.add(inner[0] if isinstance(inner, list) else inner.split(".")[0])
            elif key == "Fn::Sub":
                text = inner[0] if isinstance(inner, list) else inner
                found |= {name.split(".")[0] for name in re.findall(r"\$\{([^}!]+)\}", text)}
            found |= _references(inner)
    elif isinstance(value, list):
        for inner in value:
            found |= _references(inner)
    return found


def deployable(template: dict[str, Any]) -> tuple[dict[str, Any], dict[str, str]]:
    """The template without what moto cannot create, and {logical id: type} of what was left out."""
    supported = get_model_map()
    resources = template["Resources"]
    for name, resource in resources.items():
        if resource["Type"].startswith("AWS::CloudWatch::"):
            resources[name] = json.loads(json.dumps(resource).replace('{"Ref": "HttpApi"}', json.dumps(STAND_IN_API_ID))
                                         .replace("${HttpApi}", STAND_IN_API_ID))
    left_out = {name: r["Type"] for name, r in resources.items() if r["Type"] not in supported}
    changed = True
    while changed:
        changed = False
        for name, resource in resources.items():
            if name in left_out:
                continue
            points_at = _references(resource) | set(resource.get("DependsOn", []))
            if points_at & set(left_out):
                left_out[name] = resource["Type"]
                changed = True
    template["Resources"] = {n: r for n, r in resources.items() if n not in left_out}
    template["Outputs"] = {n: o for n, o in template.get("Outputs", {}).items() if not _references(o) & set(left_out)}
    return template, left_out


def with_an_issuer_named(value: Any) -> Any:
    """The template as CloudFormation evaluates it when AuthIssuer is given: the stack's own user pool (which moto's
    CloudFormation could not create) is not there, and every Fn::If on it takes its other branch."""
    if isinstance(value, dict):
        if value.get("Condition") == "OwnUserPool":
            return None
        if set(value) == {"Fn::If"} and value["Fn::If"][0] == "OwnUserPool":
            return with_an_issuer_named(value["Fn::If"][2])
        if set(value) == {"Fn::If"}:  # another condition's: both branches kept, AWS::NoValue among them
            condition, *branches = value["Fn::If"]
            return {"Fn::If": [condition, *(item if item == {"Ref": "AWS::NoValue"} else with_an_issuer_named(item)
                                             for item in branches)]}
        kept = {key: with_an_issuer_named(item) for key, item in value.items()}
        return {key: item for key, item in kept.items() if item is not None and item != {"Ref": "AWS::NoValue"}}
    if isinstance(value, list):
        kept = [with_an_issuer_named(item) for item in value]
        return [item for item in kept if item is not None and item != {"Ref": "AWS::NoValue"}]
    return value


@pytest.fixture(scope="module")
def stack(_moto):
    """The stack, created once in moto (the session's mock_aws is active through _moto)."""
    template, left_out = deployable(with_an_issuer_named(transformed()))
    s3 = boto3.client("s3", region_name=REGION)
    s3.create_bucket(Bucket=ARTIFACT_BUCKET, CreateBucketConfiguration={"LocationConstraint": REGION})
    code = io.BytesIO()
    with zipfile.ZipFile(code, "w") as archive:
        archive.writestr("placeholder.py", "")
    for resource in source()["Resources"].values():
        if resource["Type"] == "AWS::Serverless::Function":
            s3.put_object(Bucket=ARTIFACT_BUCKET, Key=resource["Properties"]["CodeUri"], Body=code.getvalue())
    cloudformation = boto3.client("cloudformation", region_name=REGION)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        cloudformation.create_stack(
            StackName=STACK, TemplateBody=json.dumps(template), Capabilities=["CAPABILITY_IAM"],
            Parameters=[{"ParameterKey": "SkillId", "ParameterValue": SKILL_ID},
                        {"ParameterKey": "AuthIssuer", "ParameterValue": AUTH_ISSUER},
                        {"ParameterKey": "AuthAudience", "ParameterValue": AUTH_AUDIENCE}],
        )
    description = cloudformation.describe_stacks(StackName=STACK)["Stacks"][0]
    summaries = cloudformation.list_stack_resources(StackName=STACK)["StackResourceSummaries"]
    yield {
        "status": description["StackStatus"],
        "outputs": {o["OutputKey"]: o["OutputValue"] for o in description.get("Outputs", [])},
        "physical": {r["LogicalResourceId"]: r["PhysicalResourceId"] for r in summaries},
        "types": {r["LogicalResourceId"]: r["ResourceType"] for r in summaries},
        "left_out": left_out,
        "unsupported_warnings": [str(w.message) for w in caught if "not supported by moto" in str(w.message)],
        "template": template,
    }


def test_the_stack_is_created(stack):
    assert stack["status"] == "CREATE_COMPLETE"
    assert set(stack["physical"]) == set(stack["template"]["Resources"])
    assert stack["unsupported_warnings"] == []


def test_only_what_moto_cannot_create_is_left_out(stack):
    assert stack["left_out"] == EXPECTED_LEFT_OUT
    created = sorted(set(stack["types"].values()))
    assert created == sorted({
        "AWS::DynamoDB::Table", "AWS::IAM::Role", "AWS::Lambda::Function", "AWS::Lambda::Version",
        "AWS::Logs::LogGroup", "AWS::SNS::Topic", "AWS::SQS::Queue", "AWS::CloudWatch::Alarm",
        "AWS::CloudWatch::Dashboard",
    })


def test_every_alarm_is_created_and_tells_the_operations_topic(stack):
    declared = of_type(transformed(), "AWS::CloudWatch::Alarm")
    topic = stack["physical"]["OpsTopic"]
    assert topic.startswith("arn:aws:sns:")
    alarms = boto3.client("cloudwatch", region_name=REGION).describe_alarms(AlarmNamePrefix=STACK)["MetricAlarms"]
    assert sorted(alarm["AlarmName"] for alarm in alarms) == sorted(f"{STACK}-{name}" for name in declared)
    for alarm in alarms:
        assert alarm["AlarmActions"] == [topic], alarm["AlarmName"]
        assert alarm["OKActions"] == [topic], alarm["AlarmName"]
        assert alarm["TreatMissingData"] == "notBreaching", alarm["AlarmName"]


def test_the_alarms_watch_the_created_functions_queues_and_table(stack):
    alarms = {alarm["AlarmName"].removeprefix(f"{STACK}-"): alarm for alarm in
              boto3.client("cloudwatch", region_name=REGION).describe_alarms(AlarmNamePrefix=STACK)["MetricAlarms"]}
    watched = {name: {d["Name"]: d["Value"] for d in alarm.get("Dimensions", [])} for name, alarm in alarms.items()}
    for function in ("ApiFunction", "SkillFunction", "ButtonFunction", "NotifyFunction"):
        short = function.removesuffix("Function")
        for kind in ("Errors", "Throttles", "SlowP99"):
            assert watched[f"{short}{kind}"] == {"FunctionName": stack["physical"][function]}
    assert watched["NotifyIteratorAge"] == {"FunctionName": stack["physical"]["NotifyFunction"]}
    sqs = boto3.client("sqs", region_name=REGION)
    for alarm, queue in (("ButtonFailuresWaiting", "ButtonFailures"), ("NoticeFailuresWaiting", "NoticeFailures")):
        name = sqs.get_queue_attributes(QueueUrl=stack["physical"][queue], AttributeNames=["QueueArn"])[
            "Attributes"]["QueueArn"].rsplit(":", 1)[1]
        assert watched[alarm] == {"QueueName": name}
    assert watched["HttpApiSlowP99"] == {"ApiId": STAND_IN_API_ID}
    throttles = [q for q in alarms["TableThrottles"]["Metrics"] if "MetricStat" in q]
    assert {q["MetricStat"]["Metric"]["Dimensions"][0]["Value"] for q in throttles} == {stack["physical"]["Table"]}
    assert f"TableName = '{stack['physical']['Table']}'" in alarms["TableSystemErrors"]["Metrics"][0]["Expression"]


def test_the_dashboard_is_created_and_shows_every_alarm(stack):
    cloudwatch = boto3.client("cloudwatch", region_name=REGION)
    body = json.loads(cloudwatch.get_dashboard(DashboardName=stack["physical"]["Dashboard"])["DashboardBody"])
    (widget,) = [w for w in body["widgets"] if w["type"] == "alarm"]
    arns = {alarm["AlarmArn"] for alarm in cloudwatch.describe_alarms(AlarmNamePrefix=STACK)["MetricAlarms"]}
    assert sorted(widget["properties"]["alarms"]) == sorted(arns)


@pytest.fixture(scope="module")
def table(stack):
    client = boto3.client("dynamodb", region_name=REGION)
    return client.describe_table(TableName=stack["physical"]["Table"])["Table"]


def test_the_created_table_has_the_models_keys(table):
    assert key_schema(table["KeySchema"]) == {
        "HASH": TurnoutItem._hash_key_attribute().attr_name,
        "RANGE": TurnoutItem._range_key_attribute().attr_name,
    }


def test_the_created_table_has_the_models_indexes(table):
    assert indexes_of(table) == model_indexes()
    assert [i["IndexName"] for i in table["LocalSecondaryIndexes"]] == [TurnoutItem.by_status.Meta.index_name]


def test_the_created_table_is_on_demand_and_protected(table):
    assert table["BillingModeSummary"]["BillingMode"] == "PAY_PER_REQUEST"
    assert table["DeletionProtectionEnabled"] is True


def test_the_ttl_the_stack_declares_is_the_models(stack):
    # moto's CloudFormation does not apply TimeToLiveSpecification, so the deployed stack's own template is
    # what says which attribute expires items.
    deployed = boto3.client("cloudformation", region_name=REGION).get_template(StackName=STACK)["TemplateBody"]
    body = deployed if isinstance(deployed, dict) else json.loads(deployed)
    assert body["Resources"]["Table"]["Properties"]["TimeToLiveSpecification"] == {
        "AttributeName": TurnoutItem.expires.attr_name, "Enabled": True}


def test_each_function_is_created_pointing_at_the_created_table(stack):
    client = boto3.client("lambda", region_name=REGION)
    table_name = stack["physical"]["Table"]
    for name, handler in (("ApiFunction", "api.handler.lambda_handler"),
                          ("SkillFunction", "skills.handler.lambda_handler"),
                          ("ButtonFunction", "iot.handler.lambda_handler")):
        config = client.get_function_configuration(FunctionName=stack["physical"][name])
        assert config["Handler"] == handler
        assert config["Runtime"] == "python3.13"
        assert config["Environment"]["Variables"]["TURNOUT_TABLE"] == table_name
    skill = client.get_function_configuration(FunctionName=stack["physical"]["SkillFunction"])
    assert skill["Environment"]["Variables"]["TURNOUT_SKILL_ID"] == SKILL_ID


def test_each_function_log_group_is_named_after_the_created_function(stack):
    logs = boto3.client("logs", region_name=REGION)
    groups = {g["logGroupName"]: g.get("retentionInDays") for g in logs.describe_log_groups()["logGroups"]}
    for name in ("ApiFunction", "SkillFunction", "ButtonFunction"):
        assert groups[f"/aws/lambda/{stack['physical'][name]}"] == 30


def test_the_outputs_moto_can_resolve_name_the_created_resources(stack):
    assert stack["outputs"]["TableName"] == stack["physical"]["Table"]
    assert stack["outputs"]["ButtonTopic"] == "iotbutton/{serial}"
