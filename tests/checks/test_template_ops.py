"""template.yaml's operations: each function's reserved concurrency, the topic rule's error action, tracing, the
alarms (each to the operations topic, each explained in docs/OPERATIONS.md) and the dashboard, whose business
metrics are the ones core/metrics.py writes."""
from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from samtranslator.yaml_helper import yaml_parse

from core import metrics
from tests.support.template import FUNCTIONS, of_type, role_statements, transformed

ROOT = Path(__file__).resolve().parents[2]


def source() -> dict:
    """template.yaml as written, its tags in CloudFormation's long form (Fn::If, Fn::Sub, Fn::GetAtt as a list)."""
    return yaml_parse((ROOT / "template.yaml").read_text())
# Cognito's pre-sign-up check exists only with the stack's own user pool (a Condition the dashboard's one body
# cannot follow), touches no table and fails in the sign-up page's own words: no alarms of its own yet.
WATCHED = tuple(function for function in FUNCTIONS if function != "SignUpCheckFunction")
CONCURRENCY = {"ApiFunction": "ApiConcurrency", "SkillFunction": "SkillConcurrency",
               "ButtonFunction": "ButtonConcurrency", "NotifyFunction": "NotifyConcurrency",
               "ReminderFunction": "ReminderConcurrency", "SignUpCheckFunction": "SignUpCheckConcurrency"}


@pytest.mark.parametrize("function", FUNCTIONS)
def test_each_function_reserves_its_own_concurrency_unless_told_0(function):
    parameter = CONCURRENCY[function]
    reserved = source()["Resources"][function]["Properties"]["ReservedConcurrentExecutions"]
    condition = reserved["Fn::If"][0]
    assert reserved["Fn::If"][1:] == [{"Ref": parameter}, {"Ref": "AWS::NoValue"}]
    assert source()["Conditions"][condition] == {"Fn::Not": [{"Fn::Equals": [{"Ref": parameter}, "0"]}]}
    declared = source()["Parameters"][parameter]
    assert declared["Type"] == "Number" and declared["MinValue"] == 0 and declared["Default"] >= 1
    assert "Description" in declared
    function_props = transformed()["Resources"][function]["Properties"]
    assert function_props["ReservedConcurrentExecutions"]["Fn::If"][1] == {"Ref": parameter}


def test_reserved_defaults_leave_the_account_its_unreserved_hundred_and_cover_provisioned_concurrency():
    parameters = source()["Parameters"]
    assert sum(parameters[p]["Default"] for p in CONCURRENCY.values()) <= 1000 - 100
    assert parameters["ButtonConcurrency"]["Default"] < 10  # 2,000 clicks wait in Lambda's queue, a few at a time


def test_the_topic_rule_hands_what_it_cannot_deliver_to_the_button_failure_queue():
    template = transformed()
    (rule,) = of_type(template, "AWS::IoT::TopicRule").values()
    error = rule["Properties"]["TopicRulePayload"]["ErrorAction"]["Sqs"]
    assert error["QueueUrl"] == {"Ref": "ButtonFailures"}
    role = template["Resources"][error["RoleArn"]["Fn::GetAtt"][0]]["Properties"]
    assert role["AssumeRolePolicyDocument"]["Statement"][0]["Principal"] == {"Service": "iot.amazonaws.com"}
    (policy,) = role["Policies"]
    assert policy["PolicyDocument"]["Statement"] == [
        {"Effect": "Allow", "Action": "sqs:SendMessage", "Resource": {"Fn::GetAtt": ["ButtonFailures", "Arn"]}}]


def test_iot_may_invoke_only_the_buttons_live_alias_and_only_from_the_rule():
    permissions = [p["Properties"] for p in of_type(transformed(), "AWS::Lambda::Permission").values()
                   if p["Properties"]["Principal"] == "iot.amazonaws.com"]
    assert permissions == [{"Action": "lambda:InvokeFunction", "FunctionName": {"Ref": "ButtonFunctionAliaslive"},
                            "Principal": "iot.amazonaws.com", "SourceAccount": {"Ref": "AWS::AccountId"},
                            "SourceArn": {"Fn::GetAtt": ["ButtonClickRule", "Arn"]}}]


@pytest.mark.parametrize("function", WATCHED)
def test_every_function_is_traced_and_may_write_its_traces(function):
    template = transformed()
    assert template["Resources"][function]["Properties"]["TracingConfig"] == {"Mode": "Active"}
    role = template["Resources"][f"{function}Role"]["Properties"]
    assert any("AWSXrayWriteOnlyAccess" in json.dumps(arn) for arn in role["ManagedPolicyArns"])
    assert role_statements(template, function)  # its own table statements are still there beside it


def _alarms() -> dict[str, dict]:
    return {name: r["Properties"] for name, r in of_type(source(), "AWS::CloudWatch::Alarm").items()}


def test_every_alarm_goes_to_the_operations_topic_and_stays_quiet_without_data():
    assert _alarms()
    for name, alarm in _alarms().items():
        assert alarm["AlarmActions"] == [{"Ref": "OpsTopic"}], name
        assert alarm["OKActions"] == [{"Ref": "OpsTopic"}], name
        assert alarm["TreatMissingData"] == "notBreaching", name
        assert alarm["AlarmName"] == {"Fn::Sub": f"${{AWS::StackName}}-{name}"}


def test_the_alarm_email_is_subscribed_only_when_given():
    subscription = source()["Resources"]["OpsTopicEmail"]
    assert subscription["Condition"] == "HasAlarmEmail"
    assert subscription["Properties"] == {"TopicArn": {"Ref": "OpsTopic"}, "Protocol": "email",
                                          "Endpoint": {"Ref": "AlarmEmail"}}
    pattern = source()["Parameters"]["AlarmEmail"]["AllowedPattern"]
    assert re.fullmatch(pattern, "") and re.fullmatch(pattern, "ops@example.com")
    assert not re.fullmatch(pattern, "not an address")


def test_each_watched_thing_has_its_alarm():
    watched = set()
    for alarm in _alarms().values():
        queries = [q["MetricStat"]["Metric"] for q in alarm.get("Metrics", []) if "MetricStat" in q]
        for metric in queries or [alarm]:
            dimensions = tuple((d["Name"], json.dumps(d["Value"])) for d in metric.get("Dimensions", []))
            watched.add((metric.get("Namespace"), metric.get("MetricName"), dimensions))
        for query in alarm.get("Metrics", []):
            if "SELECT" in str(query.get("Expression")):
                watched.add(("AWS/DynamoDB", "SystemErrors", ()))

    def on(function: str) -> tuple:
        return (("FunctionName", json.dumps({"Ref": function})),)

    for function in WATCHED:
        for metric in ("Errors", "Throttles", "Duration"):
            assert ("AWS/Lambda", metric, on(function)) in watched, (function, metric)
    assert ("AWS/Lambda", "IteratorAge", on("NotifyFunction")) in watched
    for queue in ("ButtonFailures", "NoticeFailures"):
        dimension = (("QueueName", json.dumps({"Fn::GetAtt": [queue, "QueueName"]})),)
        assert ("AWS/SQS", "ApproximateNumberOfMessagesVisible", dimension) in watched
    api = (("ApiId", json.dumps({"Ref": "HttpApi"})),)
    for metric in ("5xx", "Count", "Latency"):
        assert ("AWS/ApiGateway", metric, api) in watched
    table = (("TableName", json.dumps({"Ref": "Table"})),)
    for metric in ("ReadThrottleEvents", "WriteThrottleEvents"):
        assert ("AWS/DynamoDB", metric, table) in watched
    assert ("AWS/DynamoDB", "SystemErrors", ()) in watched


def test_duration_alarms_fire_at_four_fifths_of_the_timeout():
    timeout_ms = source()["Globals"]["Function"]["Timeout"] * 1000
    for name, alarm in _alarms().items():
        if alarm.get("MetricName") == "Duration":
            assert alarm["Threshold"] == 0.8 * timeout_ms, name
            assert alarm["ExtendedStatistic"] == "p99"


def test_every_alarm_is_explained_in_the_runbook_with_a_first_query():
    runbook = (ROOT / "docs" / "OPERATIONS.md").read_text()
    for name, alarm in _alarms().items():
        assert alarm["AlarmDescription"].endswith(f"docs/OPERATIONS.md#{name.lower()}"), name
        section = runbook.split(f"### {name}\n", 1)
        assert len(section) == 2, f"docs/OPERATIONS.md has no section ### {name}"
        body = section[1].split("\n### ", 1)[0]
        assert "```" in body, f"{name}: the runbook gives no first query"


def _dashboard() -> dict:
    body, variables = source()["Resources"]["Dashboard"]["Properties"]["DashboardBody"]["Fn::Sub"]
    assert set(variables) == {"Namespace"}
    # Every ${...} CloudFormation fills in stands for a plain string: the rest must be JSON already.
    return json.loads(re.sub(r"\$\{[^}]+\}", "x", body))


def test_the_dashboard_reads_the_metrics_core_writes_and_every_one_of_them():
    body = source()["Resources"]["Dashboard"]["Properties"]["DashboardBody"]["Fn::Sub"][0]
    read = set(re.findall(r'\["\$\{Namespace\}", "(\w+)"', body)) | set(re.findall(r'MetricName=\\"(\w+)\\"', body))
    assert read == set(metrics.DIMENSIONS)
    for metric, dimension in metrics.DIMENSIONS.items():
        if dimension is not None:
            assert f"{{${{Namespace}},{dimension}}} MetricName=\\\"{metric}\\\"" in body, metric
    assert _dashboard()["widgets"]


def test_the_dashboard_shows_every_alarm():
    body = source()["Resources"]["Dashboard"]["Properties"]["DashboardBody"]["Fn::Sub"][0]
    (widget,) = [w for w in _dashboard()["widgets"] if w["type"] == "alarm"]
    assert len(widget["properties"]["alarms"]) == len(_alarms())
    assert set(re.findall(r'"\$\{(\w+)\.Arn\}"', body)) == set(_alarms())


def test_the_functions_write_metrics_where_the_dashboard_reads_them():
    namespace = source()["Globals"]["Function"]["Environment"]["Variables"]["TURNOUT_METRICS_NAMESPACE"]
    assert source()["Resources"]["Dashboard"]["Properties"]["DashboardBody"]["Fn::Sub"][1]["Namespace"] == namespace


def test_the_functions_look_for_zones_where_python_would():
    # Written out only so that zoneinfo need not read sysconfig for it at a cold start: it must be Python's default.
    import sysconfig

    written = source()["Globals"]["Function"]["Environment"]["Variables"]["PYTHONTZPATH"]
    assert written == sysconfig.get_config_var("TZPATH")
