"""Configuration: read once from the environment, with local defaults. Annotations are evaluated, not
postponed: NamedTuple compiles every postponed (string) annotation, a cost every cold start pays."""

import os
from typing import NamedTuple


class Settings(NamedTuple):
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
    # Who may do what (core.access). TURNOUT_AUTH=off treats every caller as an organizer: for the local
    # stack's quick start only, so it is ignored inside Lambda, where API Gateway's JWT authorizer stands in front.
    auth_open: bool
    # Reading events and who is going needs no token (the template's PublicReads parameter).
    public_reads: bool
    # The verified token's claim holding the caller's person handle, and the claim and group that make an organizer.
    person_claim: str
    group_claim: str
    organizer_group: str
    # How the page signs in (OAuth 2.0 code + PKCE): the issuer whose OpenID configuration it reads, the public client
    # it signs in as, and the provider's sign-in site where it differs from the issuer (Cognito's managed login).
    auth_issuer: str | None
    auth_client_id: str | None
    sign_in_url: str | None
    # The Cognito user pool whose organizers group the API changes (core.organizers); None: organizers are made
    # at the identity provider itself.
    user_pool_id: str | None
    # The SNS topic a notice with an email address is published to (notify/); None: no email is sent.
    notice_topic_arn: str | None
    # The CloudWatch namespace core/metrics.py writes the business metrics to (template.yaml: Turnout/<stack name>).
    metrics_namespace: str


class Variable(NamedTuple):
    name: str
    default: str  # "" leaves it unset
    meaning: str


# The TURNOUT_ settings core reads, with the defaults it uses: `python -m local --help` lists this very table.
VARIABLES = (
    Variable("TURNOUT_AUTH", "on", "on checks bearer tokens as API Gateway does; off is open mode (never in Lambda)"),
    Variable("TURNOUT_PUBLIC_READS", "false", "true: reading events and who is going needs no token"),
    Variable("TURNOUT_PERSON_CLAIM", "username", "the token claim holding the caller's person handle"),
    Variable("TURNOUT_GROUP_CLAIM", "cognito:groups", "the token claim listing the caller's groups"),
    Variable("TURNOUT_ORGANIZER_GROUP", "organizers", "the group whose members are organizers"),
    Variable("TURNOUT_AUTH_ISSUER", "", "the issuer the page signs in at (the local stack sets its own provider's)"),
    Variable("TURNOUT_AUTH_CLIENT_ID", "", "the public client id the page signs in as"),
    Variable("TURNOUT_SIGN_IN_URL", "", "the provider's sign-in site, where it is not the issuer's (Cognito's domain)"),
    Variable("TURNOUT_USER_POOL_ID", "", "the user pool whose organizers group the API changes; unset: none"),
    Variable("TURNOUT_SKILL_ID", "", "the only Alexa skill the skill answers; unset: any (not allowed in Lambda)"),
    Variable("TURNOUT_TABLE", "turnout", "the DynamoDB table's name"),
    Variable("TURNOUT_CHECK_IN_OPENS_MINUTES", "120", "check-in opens this long before an event starts"),
    Variable("TURNOUT_PAIRING_CODE_MINUTES", "10", "how long an Alexa pairing code is good for"),
    Variable("TURNOUT_PAIRING_MAX_MISSES", "5", "wrong pairing codes an Alexa user may give in one window"),
    Variable("TURNOUT_PAIRING_LOCK_MINUTES", "15", "that window, from the first wrong code; locked out until it ends"),
    Variable("TURNOUT_NOTICE_TOPIC_ARN", "", "the SNS topic notices are emailed through; unset: no email is sent"),
    Variable("TURNOUT_METRICS_NAMESPACE", "Turnout", "the CloudWatch namespace of the business metrics (Lambda only)"),
)
DEFAULTS = {each.name: each.default for each in VARIABLES}


def _text(name: str) -> str:
    return os.environ.get(name) or DEFAULTS[name]


def _int(name: str) -> int:
    return int(_text(name))


def _switch(name: str, on: str, off: str) -> bool:
    raw = _text(name).strip().lower()
    if raw not in (on, off):
        raise ValueError(f"{name} must be {on} or {off}, got {raw!r}")
    return raw == on


def load() -> Settings:
    in_lambda = bool(os.environ.get("AWS_LAMBDA_FUNCTION_NAME"))
    return Settings(
        table_name=_text("TURNOUT_TABLE"),
        region=os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or "us-east-1",
        dynamodb_endpoint=os.environ.get("AWS_ENDPOINT_URL_DYNAMODB") or None,
        pairing_code_minutes=_int("TURNOUT_PAIRING_CODE_MINUTES"),
        pairing_max_misses=_int("TURNOUT_PAIRING_MAX_MISSES"),
        pairing_lock_minutes=_int("TURNOUT_PAIRING_LOCK_MINUTES"),
        check_in_opens_minutes=_int("TURNOUT_CHECK_IN_OPENS_MINUTES"),
        skill_id=_text("TURNOUT_SKILL_ID") or None,
        result_publisher=os.environ.get("TURNOUT_RESULT_PUBLISHER", "iot-data"),
        iot_data_endpoint=os.environ.get("TURNOUT_IOT_DATA_ENDPOINT") or None,
        in_lambda=in_lambda,
        auth_open=not _switch("TURNOUT_AUTH", "on", "off") and not in_lambda,
        public_reads=_switch("TURNOUT_PUBLIC_READS", "true", "false"),
        person_claim=_text("TURNOUT_PERSON_CLAIM"),
        group_claim=_text("TURNOUT_GROUP_CLAIM"),
        organizer_group=_text("TURNOUT_ORGANIZER_GROUP"),
        auth_issuer=_text("TURNOUT_AUTH_ISSUER") or None,
        auth_client_id=_text("TURNOUT_AUTH_CLIENT_ID") or None,
        sign_in_url=_text("TURNOUT_SIGN_IN_URL") or None,
        user_pool_id=_text("TURNOUT_USER_POOL_ID") or None,
        notice_topic_arn=_text("TURNOUT_NOTICE_TOPIC_ARN") or None,
        metrics_namespace=_text("TURNOUT_METRICS_NAMESPACE"),
    )


settings = load()
