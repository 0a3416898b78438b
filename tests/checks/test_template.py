"""template.yaml, read and transformed by samtranslator offline: the shape production needs, function by function."""
from __future__ import annotations

import json
import re
from datetime import date
from pathlib import Path

import pytest

from core.table import TurnoutItem
from deploy import package
from local.broker import RULE_SQL
from local.tables import table_properties
from tests.support.template import (
    FUNCTIONS,
    INLINE_FUNCTIONS,
    ROOT,
    SKILL_ID,
    as_list,
    granted,
    of_type,
    role_statements,
    source,
    transformed,
    turnout_functions,
)

# The DynamoDB actions each function's code performs on the table itself (core/store/, through the
# services each edge calls); every function also queries the indexes. tests/checks/test_template_permissions.py
# records what each handler really calls on moto and compares.
TABLE_ACTIONS = {
    # ConditionCheckItem: a button's binding checks, in its transaction, that its event is still there.
    "ApiFunction": {"GetItem", "PutItem", "UpdateItem", "DeleteItem", "ConditionCheckItem", "BatchWriteItem",
                    "BatchGetItem", "Query"},
    # Query: the person's unread notices, read out before an answer (issue 17).
    "SkillFunction": {"GetItem", "PutItem", "UpdateItem", "DeleteItem", "Query"},
    "ButtonFunction": {"GetItem", "PutItem", "UpdateItem", "DeleteItem"},
    # Notices: kept once, marked sent; the event and who is signed up read; a person's buttons' bindings batch-read.
    "NotifyFunction": {"GetItem", "PutItem", "UpdateItem", "Query", "BatchGetItem"},
    # Reminders: the events starting soon's reminder state batch-read; the reminder left and noted in a transaction;
    # a due series read, and its next occurrences made with it in a transaction.
    "ReminderFunction": {"PutItem", "UpdateItem", "BatchGetItem", "GetItem"},
    # Cognito's pre-sign-up trigger checks a user name and touches no table.
    "SignUpCheckFunction": set(),
}
INDEX_ACTIONS = {"Query"}


# --- the table -----------------------------------------------------------------------------------


def test_exactly_one_table_and_it_is_the_one_local_tables_builds():
    tables = of_type(source(), "AWS::DynamoDB::Table")
    assert list(tables) == ["Table"]
    assert tables["Table"]["Properties"] == table_properties()
    assert list(of_type(transformed(), "AWS::DynamoDB::Table")) == ["Table"]


def test_table_is_on_demand_recoverable_protected_and_encrypted():
    table = source()["Resources"]["Table"]
    props = table["Properties"]
    assert props["BillingMode"] == "PAY_PER_REQUEST"
    assert "ProvisionedThroughput" not in props
    assert props["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}
    assert props["DeletionProtectionEnabled"] is True
    assert props["SSESpecification"]["SSEEnabled"] is True
    assert (table["DeletionPolicy"], table["UpdateReplacePolicy"]) == ("Retain", "Retain")


def test_table_ttl_is_the_models_expiry_attribute():
    assert table_properties()["TimeToLiveSpecification"] == {
        "AttributeName": TurnoutItem.expires.attr_name, "Enabled": True}


# --- functions -----------------------------------------------------------------------------------


def test_five_functions_with_the_expected_handlers():
    functions = of_type(source(), "AWS::Serverless::Function")
    assert {name: f["Properties"]["Handler"] for name, f in functions.items()} == {
        "ApiFunction": "api.handler.lambda_handler",
        "SkillFunction": "skills.handler.lambda_handler",
        "ButtonFunction": "iot.handler.lambda_handler",
        "NotifyFunction": "notify.handler.lambda_handler",
        "ReminderFunction": "notify.schedule.lambda_handler",
        "SignUpCheckFunction": "accounts.handler.lambda_handler",
    }


def test_every_function_runs_python_3_13_on_arm64():
    functions = of_type(transformed(), "AWS::Lambda::Function")
    assert sorted(functions) == sorted(FUNCTIONS + INLINE_FUNCTIONS)
    for name, function in functions.items():
        assert function["Properties"]["Runtime"] == "python3.13", name
        assert function["Properties"]["Architectures"] == ["arm64"], name


def test_every_function_runs_on_the_runtime_make_package_builds_for():
    for name, function in of_type(transformed(), "AWS::Lambda::Function").items():
        runtime = function["Properties"]["Runtime"]
        assert runtime == f"python{package.PYTHON_VERSION}", name
        assert runtime in package.RUNTIME_BLOCKED_FROM, f"{name}: {runtime} is not a known Python runtime"


@pytest.mark.parametrize(("today", "heard"), [
    (date(2028, 8, 30), None),
    (date(2028, 9, 1), "warning: AWS Lambda blocks updates to functions on python3.13 from 2029-08-31"),
    (date(2029, 8, 30), "warning: AWS Lambda blocks updates to functions on python3.13 from 2029-08-31"),
])
def test_a_build_warns_in_the_year_before_lambda_stops_updating_its_runtime(today, heard):
    notice = package.runtime_notice("python3.13", today)
    assert (notice.split(";")[0] if notice else None) == heard


@pytest.mark.parametrize("today", [date(2029, 8, 31), date(2036, 2, 29)])
def test_a_build_is_refused_once_lambda_stops_updating_its_runtime(today):
    with pytest.raises(package.PackageError, match="blocks updates to functions on python3.13 since 2029-08-31"):
        package.runtime_notice("python3.13", today)


def test_a_runtime_the_build_does_not_know_is_refused():
    with pytest.raises(package.PackageError, match="python2.7 is not a Python runtime"):
        package.runtime_notice("python2.7", date(2020, 1, 1))


def test_each_code_uri_is_the_zip_make_package_builds():
    built = {f.name: f for f in package.functions()}
    for name, function in of_type(source(), "AWS::Serverless::Function").items():
        code_uri = function["Properties"]["CodeUri"]
        package_name = function["Properties"]["Handler"].split(".")[0]
        assert code_uri == f"build/lambda/{package_name}.zip", name
        assert built[name].artifact == ROOT / code_uri
        assert built[name].requirements.is_file(), f"{package_name}/requirements.txt is missing"


# Read by Python's standard library in every function (zoneinfo), not by our code.
READ_BY_PYTHON = frozenset({"PYTHONTZPATH"})


def _read_by_code(variable: str, package_name: str) -> bool:
    if variable in READ_BY_PYTHON:
        return True
    for folder in ("core", package_name):
        for path in (ROOT / folder).rglob("*.py"):
            if re.search(rf"""["']{variable}["']""", path.read_text()):
                return True
    return False


def test_every_environment_variable_set_is_read_by_that_functions_code():
    template = transformed()
    for name, function in turnout_functions(template).items():
        package_name = function["Properties"]["Handler"].split(".")[0]
        variables = function["Properties"]["Environment"]["Variables"]
        assert variables["TURNOUT_TABLE"] == {"Ref": "Table"}
        for variable in variables:
            assert _read_by_code(variable, package_name), f"{name} sets {variable}, which nothing in it reads"


def test_every_function_has_a_log_group_with_retention():
    groups = of_type(source(), "AWS::Logs::LogGroup")
    named = {g["Properties"].get("LogGroupName", {}).get("Sub"): g for g in groups.values()}
    for name in FUNCTIONS + INLINE_FUNCTIONS:
        group = named.get(f"/aws/lambda/${{{name}}}")
        assert group is not None, f"{name} has no log group"
        assert group["Properties"]["RetentionInDays"] == {"Ref": "LogRetentionDays"}
    assert int(source()["Parameters"]["LogRetentionDays"]["Default"]) > 0


def test_logs_are_json_at_the_chosen_level():
    for name, function in turnout_functions(transformed()).items():
        assert function["Properties"]["LoggingConfig"] == {
            "LogFormat": "JSON", "ApplicationLogLevel": {"Ref": "LogLevel"}, "SystemLogLevel": "WARN"}, name


# --- permissions ---------------------------------------------------------------------------------


def test_each_function_may_do_only_its_own_table_actions():
    template = transformed()
    for name, actions in TABLE_ACTIONS.items():
        expected = {(action, "table") for action in actions} | {
            (action, "index") for action in INDEX_ACTIONS if actions
        }
        assert granted(template, name) == expected, name


def test_no_statement_uses_a_wildcard_action_or_resource():
    template = transformed()
    for name in FUNCTIONS:
        for statement in role_statements(template, name):
            for action in as_list(statement["Action"]):
                assert "*" not in action, f"{name}: {action}"
            for resource in as_list(statement["Resource"]):
                assert resource != "*", f"{name}: {statement}"


def test_only_the_button_and_notify_publish_each_to_its_own_topics():
    template = transformed()
    result_topics = {"Fn::Sub": "arn:${AWS::Partition}:iot:${AWS::Region}:${AWS::AccountId}:topic/iotbutton/*/result"}
    notice_topics = {"Fn::Sub": "arn:${AWS::Partition}:iot:${AWS::Region}:${AWS::AccountId}:topic/iotbutton/*/notice"}
    for name in FUNCTIONS:
        iot = [s for s in role_statements(template, name) if any(a.startswith("iot:") for a in as_list(s["Action"]))]
        if name == "ButtonFunction":
            assert [(s["Action"], s["Resource"]) for s in iot] == [("iot:Publish", result_topics)]
        elif name == "NotifyFunction":
            assert [(s["Action"], s["Resource"]) for s in iot] == [("iot:Publish", notice_topics)]
        else:
            assert iot == [], name


def test_only_the_failure_queues_and_the_notice_topic_are_written_to_besides_table_and_topics():
    template = transformed()
    extra = [s for name in FUNCTIONS for s in role_statements(template, name)
             if not any(a.startswith(("dynamodb:", "iot:")) for a in as_list(s["Action"]))]
    assert sorted(extra, key=str) == sorted([
        {"Action": "sqs:SendMessage", "Effect": "Allow", "Resource": {"Fn::GetAtt": ["ButtonFailures", "Arn"]}},
        {"Sid": "NoticeMessages", "Action": "sns:Publish", "Effect": "Allow", "Resource": {"Ref": "NoticeTopic"}},
        {"Action": "sqs:SendMessage", "Effect": "Allow", "Resource": {"Fn::GetAtt": ["NoticeFailures", "Arn"]}},
        # The API makes and unmakes organizers in the stack's own user pool, and only there.
        {"Sid": "OrganizersGroup", "Effect": "Allow", "Resource": {"Fn::GetAtt": ["UserPool", "Arn"]},
         "Action": ["cognito-idp:AdminAddUserToGroup", "cognito-idp:AdminRemoveUserFromGroup",
                    "cognito-idp:ListUsersInGroup"]},
    ], key=str)


# --- triggers ------------------------------------------------------------------------------------


def test_the_api_takes_every_route_with_throttling_and_access_logs():
    template = transformed()
    api = source()["Resources"]["HttpApi"]["Properties"]
    assert source()["Resources"]["ApiFunction"]["Properties"]["Events"]["Any"]["Properties"] == {
        "ApiId": {"Ref": "HttpApi"}, "Path": "$default", "Method": "ANY"}
    # The $default route, as the local gateway's events say (routeKey "$default"): "/" included. Beside it only
    # the routes that need no token (tests/checks/test_template_auth.py).
    (http_api,) = of_type(template, "AWS::ApiGatewayV2::Api").values()
    assert set(http_api["Properties"]["Body"]["paths"]) == {
        "/$default", "/health", "/openapi.json", "/", "/web/{version}/{file}", "/feeds/{feed}",
        "/events", "/events/{event_id}", "/events/{event_id}/signups", "/events/{event_id}/signups/{person}",
        "/events/{event_id}/calendar.ics", "/series/{series_id}"}
    assert "x-amazon-apigateway-any-method" in http_api["Properties"]["Body"]["paths"]["/$default"]
    (stage,) = of_type(template, "AWS::ApiGatewayV2::Stage").values()
    throttling = stage["Properties"]["DefaultRouteSettings"]
    assert throttling == {
        "ThrottlingRateLimit": {"Ref": "ApiThrottleRate"},
        "ThrottlingBurstLimit": {"Ref": "ApiThrottleBurst"},
    }
    logs = stage["Properties"]["AccessLogSettings"]
    assert logs["DestinationArn"] == {"Fn::GetAtt": ["HttpApiAccessLogs", "Arn"]}
    assert '"requestId":"$context.requestId"' in logs["Format"] and '"status":"$context.status"' in logs["Format"]
    assert source()["Resources"]["HttpApiAccessLogs"]["Properties"]["RetentionInDays"] == {"Ref": "LogRetentionDays"}
    assert api["FailOnWarnings"] is True


def test_the_skill_answers_only_its_own_skill_id():
    function = source()["Resources"]["SkillFunction"]["Properties"]
    assert function["Events"]["Alexa"] == {"Type": "AlexaSkill", "Properties": {"SkillId": {"Ref": "SkillId"}}}
    assert function["Environment"]["Variables"]["TURNOUT_SKILL_ID"] == {"Ref": "SkillId"}
    permissions = [p["Properties"] for p in of_type(transformed(), "AWS::Lambda::Permission").values()
                   if p["Properties"]["Principal"] == "alexa-appkit.amazon.com"]
    assert permissions == [{"Action": "lambda:InvokeFunction", "FunctionName": {"Ref": "SkillFunctionAliaslive"},
                            "Principal": "alexa-appkit.amazon.com", "EventSourceToken": {"Ref": "SkillId"}}]
    assert re.fullmatch(source()["Parameters"]["SkillId"]["AllowedPattern"], SKILL_ID)
    assert not re.fullmatch(source()["Parameters"]["SkillId"]["AllowedPattern"], "")


def test_the_topic_rule_is_the_one_the_local_broker_runs():
    (rule,) = of_type(transformed(), "AWS::IoT::TopicRule").values()
    payload = rule["Properties"]["TopicRulePayload"]
    assert payload["Sql"] == RULE_SQL
    assert payload["AwsIotSqlVersion"] == "2016-03-23"
    assert payload["Actions"] == [{"Lambda": {"FunctionArn": {"Ref": "ButtonFunctionAliaslive"}}}]


def test_async_invocations_retry_at_most_twice_then_land_in_the_failure_queue():
    template = transformed()
    configs = of_type(template, "AWS::Lambda::EventInvokeConfig")
    assert configs, "the button function needs an EventInvokeConfig"
    for config in configs.values():
        props = config["Properties"]
        assert 0 <= props["MaximumRetryAttempts"] <= 2
        destination = props["DestinationConfig"]["OnFailure"]["Destination"]
        assert template["Resources"][destination["Fn::GetAtt"][0]]["Type"] == "AWS::SQS::Queue"
    assert {c["Properties"]["FunctionName"]["Ref"] for c in configs.values()} == {"ButtonFunction"}


def test_the_failure_queue_is_encrypted_and_keeps_messages_two_weeks():
    queue = source()["Resources"]["ButtonFailures"]["Properties"]
    assert queue == {"SqsManagedSseEnabled": True, "MessageRetentionPeriod": 1209600}


# --- SnapStart and provisioned concurrency ---------------------------------------------------------


def test_snapstart_and_provisioned_concurrency_are_off_by_default():
    parameters = source()["Parameters"]
    assert parameters["EnableSnapStart"]["Default"] == "false"
    assert parameters["ProvisionedConcurrency"]["Default"] == 0
    conditions = source()["Conditions"]
    assert conditions["UseSnapStart"] == {"Equals": [{"Ref": "EnableSnapStart"}, "true"]}
    assert conditions["UseProvisionedConcurrency"] == {"Not": [{"Equals": [{"Ref": "ProvisionedConcurrency"}, "0"]}]}


def test_snapstart_applies_to_published_versions_only_when_enabled():
    for name, function in turnout_functions(transformed()).items():
        assert function["Properties"]["SnapStart"] == {
            "ApplyOn": {"Fn::If": ["UseSnapStart", "PublishedVersions", "None"]}}, name


def test_provisioned_concurrency_sits_on_the_alias_of_the_interactive_functions():
    aliases = of_type(transformed(), "AWS::Lambda::Alias")
    assert {a["Properties"]["FunctionName"]["Ref"]: a["Properties"]["Name"] for a in aliases.values()} == {
        name: "live" for name in FUNCTIONS}
    with_concurrency = {a["Properties"]["FunctionName"]["Ref"] for a in aliases.values()
                        if "ProvisionedConcurrencyConfig" in a["Properties"]}
    assert with_concurrency == {"ApiFunction", "SkillFunction"}
    for alias in aliases.values():
        if "ProvisionedConcurrencyConfig" in alias["Properties"]:
            condition, when_on, when_off = alias["Properties"]["ProvisionedConcurrencyConfig"]["Fn::If"]
            assert condition == "UseProvisionedConcurrency"
            assert when_on == {"ProvisionedConcurrentExecutions": {"Ref": "ProvisionedConcurrency"}}
            assert when_off == {"Ref": "AWS::NoValue"}


def test_snapstart_and_provisioned_concurrency_are_refused_together():
    rule = source()["Rules"]["SnapStartOrProvisionedConcurrency"]
    assert rule["RuleCondition"] == {"Equals": [{"Ref": "EnableSnapStart"}, "true"]}
    assert rule["Assertions"][0]["Assert"] == {"Equals": [{"Ref": "ProvisionedConcurrency"}, "0"]}
    assert transformed()["Rules"] == {"SnapStartOrProvisionedConcurrency": {
        "RuleCondition": {"Fn::Equals": [{"Ref": "EnableSnapStart"}, "true"]},
        "Assertions": [{"Assert": {"Fn::Equals": [{"Ref": "ProvisionedConcurrency"}, "0"]},
                        "AssertDescription": rule["Assertions"][0]["AssertDescription"]}]}}


# --- outputs -------------------------------------------------------------------------------------


def test_outputs_give_a_user_what_they_need():
    outputs = transformed()["Outputs"]
    assert outputs["ApiUrl"]["Value"] == {"Fn::Sub": "https://${HttpApi}.execute-api.${AWS::Region}.${AWS::URLSuffix}"}
    assert outputs["TableName"]["Value"] == {"Ref": "Table"}
    # The alias, which the Alexa permission is on: an endpoint without it would be refused.
    assert outputs["SkillFunctionArn"]["Value"] == {"Ref": "SkillFunctionAliaslive"}
    assert outputs["ButtonTopic"]["Value"] == "iotbutton/{serial}"
    assert outputs["ButtonResultTopic"]["Value"] == "iotbutton/{serial}/result"
    assert RULE_SQL.endswith("FROM 'iotbutton/+'")


@pytest.mark.parametrize("name", FUNCTIONS)
def test_functions_inherit_timeout_and_memory_explicitly(name):
    props = of_type(transformed(), "AWS::Lambda::Function")[name]["Properties"]
    assert (props["Timeout"], props["MemorySize"]) == (10, 512)


# --- notices -------------------------------------------------------------------------------------


def test_the_table_streams_old_and_new_images():
    assert source()["Resources"]["Table"]["Properties"]["StreamSpecification"] == {
        "StreamViewType": "NEW_AND_OLD_IMAGES"
    }


def test_the_stream_reaches_notify_filtered_with_partial_failures_and_an_on_failure_queue():
    template = transformed()
    (mapping,) = of_type(template, "AWS::Lambda::EventSourceMapping").values()
    props = mapping["Properties"]
    assert props["EventSourceArn"] == {"Fn::GetAtt": ["Table", "StreamArn"]}
    assert props["FunctionName"] == {"Ref": "NotifyFunctionAliaslive"}
    assert props["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    destination = props["DestinationConfig"]["OnFailure"]["Destination"]
    assert destination == {"Fn::GetAtt": ["NoticeFailures", "Arn"]}
    assert template["Resources"]["NoticeFailures"]["Type"] == "AWS::SQS::Queue"
    assert 0 < props["MaximumRetryAttempts"] <= 10
    assert len(props["FilterCriteria"]["Filters"]) == 2


def test_the_stream_filters_pass_only_changes_that_tell_someone_something():
    from local import streams  # the local stack applies these very patterns

    patterns = streams.filters(streams.event_source_mapping(source()))
    fixtures = Path(__file__).resolve().parents[1] / "fixtures" / "dynamodb"
    told = [record for path in sorted(fixtures.glob("stream_*.json"))
            for record in json.loads(path.read_text())["Records"]]
    assert len(told) >= 4 and all(any(streams.matches(p, record) for p in patterns) for record in told)
    promotion = json.loads((fixtures / "stream_promotion.json").read_text())["Records"][0]
    party_change = {**promotion, "dynamodb": {**promotion["dynamodb"], "OldImage": {
        **promotion["dynamodb"]["OldImage"], "status": {"S": "going"}}}}
    event_counts = {**promotion, "dynamodb": {**promotion["dynamodb"], "OldImage": {"kind": {"S": "event"}},
                                               "NewImage": {"kind": {"S": "event"}}}}
    removed = {**promotion, "eventName": "REMOVE"}
    for untold in (party_change, event_counts, removed):
        assert not any(streams.matches(p, untold) for p in patterns)
