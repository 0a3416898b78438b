"""Configuration: read once from the environment, with local defaults."""
from __future__ import annotations

import os
from dataclasses import dataclass


@dataclass(frozen=True)
class Settings:
    table_name: str
    region: str
    # None means botocore's own resolution (AWS, or AWS_ENDPOINT_URL_DYNAMODB).
    dynamodb_endpoint: str | None
    pairing_code_minutes: int
    pairing_max_misses: int
    pairing_lock_minutes: int
    check_in_opens_minutes: int
    # The Alexa skill allowed to call the skill function; None locally means "don't check".
    skill_id: str | None
    # Where button results go: "iot-data" (AWS IoT Core's data plane) or "local" (the local broker).
    result_publisher: str
    iot_data_endpoint: str | None
    # Inside AWS Lambda (the runtime sets AWS_LAMBDA_FUNCTION_NAME), where some settings become required.
    in_lambda: bool


def _int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    return int(raw) if raw else default


def load() -> Settings:
    return Settings(
        table_name=os.environ.get("TURNOUT_TABLE", "turnout"),
        region=os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or "us-east-1",
        dynamodb_endpoint=os.environ.get("AWS_ENDPOINT_URL_DYNAMODB") or None,
        pairing_code_minutes=_int("TURNOUT_PAIRING_CODE_MINUTES", 10),
        pairing_max_misses=_int("TURNOUT_PAIRING_MAX_MISSES", 5),
        pairing_lock_minutes=_int("TURNOUT_PAIRING_LOCK_MINUTES", 15),
        check_in_opens_minutes=_int("TURNOUT_CHECK_IN_OPENS_MINUTES", 120),
        skill_id=os.environ.get("TURNOUT_SKILL_ID") or None,
        result_publisher=os.environ.get("TURNOUT_RESULT_PUBLISHER", "iot-data"),
        iot_data_endpoint=os.environ.get("TURNOUT_IOT_DATA_ENDPOINT") or None,
        in_lambda=bool(os.environ.get("AWS_LAMBDA_FUNCTION_NAME")),
    )


settings = load()
