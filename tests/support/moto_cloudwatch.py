"""moto's CloudFormation taught AWS::CloudWatch::Alarm, which moto 5.2.5 creates through the API but not from a
template: each alarm the stack declares is created with PutMetricAlarm on moto, with the properties CloudFormation
resolved (its topic's ARN among them), so a test can read back where every alarm goes."""
from __future__ import annotations

from typing import Any

import boto3
from moto.cloudformation import parsing
from moto.core.common_models import CloudFormationModel

INTEGERS = {"Period", "EvaluationPeriods", "DatapointsToAlarm"}


def _typed(properties: dict[str, Any]) -> dict[str, Any]:
    """CloudFormation hands numbers over as text; PutMetricAlarm wants them as numbers."""
    typed = {}
    for key, value in properties.items():
        if key in INTEGERS:
            value = int(value)
        elif key == "Threshold":
            value = float(value)
        elif key == "Metrics":
            value = [_typed({**query,
                             **({"MetricStat": {**query["MetricStat"], "Period": int(query["MetricStat"]["Period"])}}
                                if "MetricStat" in query else {})}) for query in value]
        typed[key] = value
    return typed


class AlarmFromTemplate(CloudFormationModel):
    def __init__(self, name: str, arn: str) -> None:
        self.name = name
        self.arn = arn

    @staticmethod
    def cloudformation_type() -> str:
        return "AWS::CloudWatch::Alarm"

    @staticmethod
    def cloudformation_name_type() -> str:
        return "AlarmName"

    @classmethod
    def has_cfn_attr(cls, attr: str) -> bool:
        return attr == "Arn"

    def get_cfn_attribute(self, attribute_name: str) -> str:
        return self.arn

    @property
    def physical_resource_id(self) -> str:
        return self.name

    @classmethod
    def create_from_cloudformation_json(cls, resource_name: str, cloudformation_json: dict[str, Any], account_id: str,
                                        region_name: str, **kwargs: Any) -> AlarmFromTemplate:
        properties = {"AlarmName": resource_name, **cloudformation_json["Properties"]}
        client = boto3.client("cloudwatch", region_name=region_name)
        client.put_metric_alarm(**_typed(properties))
        (alarm,) = client.describe_alarms(AlarmNames=[properties["AlarmName"]])["MetricAlarms"]
        return cls(properties["AlarmName"], alarm["AlarmArn"])


# moto lists its CloudFormation models once, from CloudFormationModel's subclasses: list them again with this one.
for cached in (parsing.get_model_list, parsing.get_model_map, parsing.get_name_type_map):
    cached.cache_clear()
