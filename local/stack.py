"""Local stack: the components that make up Turnout on one machine, started in order and stopped in reverse.

Plugging in a component
-----------------------
A component is any object with the `Component` shape below. The MQTT broker joins the stack from
`local/broker.py`, which must expose

    def build_component(settings: StackSettings) -> Component

It is called after the DynamoDB endpoint exists and AWS_ENDPOINT_URL_DYNAMODB points at it, so code that
imports core may run; it must not bind anything yet (start() does, on settings.host - loopback - and
settings.mqtt_port). The component's name ("broker") is what GET /health reports while it is not ready,
so ready() should be True only once the broker listens and its topic rule is subscribed. Without
local/broker.py the stack runs without a broker; a local/broker.py that fails to import stops start-up.
"""
from __future__ import annotations

import importlib
import importlib.util
import logging
import os
import textwrap
from collections.abc import Mapping, MutableMapping
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple, Protocol

from local import reminders, streams
from local.authorizer import Authorizer, IssuerKeys
from local.dynamodb import DynamoDBProcess, moto_account
from local.gateway import Gateway
from local.runtime import LambdaFunction
from local.summary import MetricsSummary

log = logging.getLogger(__name__)

# Optional components, by module: each module exposes build_component(settings) as described above.
PLUG_INS = ("local.broker",)


class Component(Protocol):
    name: str

    def start(self) -> None:
        """Binds and starts serving; returns once it can take requests (or raises)."""

    def stop(self) -> None:
        """Stops serving and releases everything; safe to call after a failed start()."""

    def ready(self) -> bool:
        """True once the component does its whole job."""

    def describe(self) -> str:
        """One line: what listens where."""


class Setting(NamedTuple):
    """As core.config.Variable, which this module cannot import: importing core.config reads the environment
    before the stack has pointed core at its endpoint."""

    name: str
    default: str  # what the stack runs with when the variable is unset; "" leaves it unset
    meaning: str


# The stack's own settings (StackSettings), then the one core setting whose default the stack changes: open mode,
# so the README's curl quick start works without a token (local/__main__.py says so loudly). Core's others keep
# core's defaults (core.config.VARIABLES). `python -m local --help` prints both tables, and
# tests/checks/test_local_settings.py fails when a TURNOUT_ name the code reads is missing from that help.
SETTINGS = (
    Setting("TURNOUT_HTTP_PORT", "3000", "the JSON API and POST /alexa"),
    Setting("TURNOUT_MQTT_PORT", "1883", "the MQTT broker (python -m iot.device reads it too)"),
    Setting("TURNOUT_DYNAMODB_PORT", "0", "the DynamoDB endpoint; 0 takes any free port"),
    Setting("TURNOUT_AUTH_PORT", "3001", "the OpenID provider people sign in at, when tokens are checked"),
    Setting("TURNOUT_AUTH_TOKEN_MINUTES", "60", "how long the provider's access tokens last (as the page client's)"),
    Setting("TURNOUT_DATA_DIR", ".turnout", "the table's snapshot, the accounts and the token signing key"),
    Setting("TURNOUT_DEMO", "0", "1 seeds a sample event when none is upcoming (as --demo)"),
)
LOCAL_DEFAULTS = {"TURNOUT_AUTH": "off"}
DEFAULTS = {each.name: each.default for each in SETTINGS}
# What the stack sets itself, whatever the environment says (use_local_aws below).
FIXED = ("TURNOUT_RESULT_PUBLISHER=local: button results and notices go out through the local broker, so "
         "TURNOUT_IOT_DATA_ENDPOINT is not used; AWS_ENDPOINT_URL_DYNAMODB and AWS_ENDPOINT_URL_SNS (moto), "
         "TURNOUT_NOTICE_TOPIC_ARN (moto's topic), and fake AWS credentials; with tokens checked, "
         "TURNOUT_AUTH_ISSUER, TURNOUT_AUTH_CLIENT_ID, TURNOUT_USER_POOL_ID and "
         "AWS_ENDPOINT_URL_COGNITO_IDENTITY_PROVIDER (the local OpenID provider)")


def all_settings() -> tuple[Setting, ...]:
    """The stack's settings and core's, each with the default the stack runs with."""
    from core.config import VARIABLES  # only here: importing core.config reads the environment, and the stack
    # starts core only once it has pointed it at the local endpoint (build_stack)

    core = tuple(Setting(v.name, LOCAL_DEFAULTS.get(v.name, v.default), v.meaning) for v in VARIABLES)
    return SETTINGS + core


def settings_help() -> str:
    """The settings table as `python -m local --help` shows it."""
    shown = all_settings()
    width = max(len(f"{each.name}={each.default}") for each in shown)
    lines = ["settings (environment variables, shown with the defaults the stack runs with):"]
    lines += [f"  {f'{each.name}={each.default}':<{width}}  {each.meaning}" for each in shown]
    lines += ["", "set by the stack itself:", *textwrap.wrap(FIXED, 100, initial_indent="  ", subsequent_indent="  ")]
    return "\n".join(lines)


def use_local_defaults(environ: MutableMapping[str, str] = os.environ) -> None:
    """The defaults the stack changes from core's, put into the environment unless set already, for core to read."""
    for name, default in LOCAL_DEFAULTS.items():
        environ.setdefault(name, default)


@dataclass(frozen=True)
class StackSettings:
    """The local stack's configuration, read from the environment once, with the defaults of SETTINGS."""

    http_port: int
    mqtt_port: int
    dynamodb_port: int  # 0: any free port; core finds it through AWS_ENDPOINT_URL_DYNAMODB
    data_dir: Path
    demo: bool
    auth_port: int = 3001
    token_minutes: float = 60.0
    host: str = "127.0.0.1"  # not configurable: nothing in the stack listens beyond this machine

    @classmethod
    def from_environ(cls, environ: Mapping[str, str] = os.environ) -> StackSettings:
        return cls(
            http_port=_port(environ, "TURNOUT_HTTP_PORT"),
            mqtt_port=_port(environ, "TURNOUT_MQTT_PORT"),
            dynamodb_port=_port(environ, "TURNOUT_DYNAMODB_PORT"),
            data_dir=Path(environ.get("TURNOUT_DATA_DIR") or DEFAULTS["TURNOUT_DATA_DIR"]),
            demo=(environ.get("TURNOUT_DEMO") or DEFAULTS["TURNOUT_DEMO"]).lower() in ("1", "true", "yes"),
            auth_port=_port(environ, "TURNOUT_AUTH_PORT"),
            token_minutes=_minutes(environ, "TURNOUT_AUTH_TOKEN_MINUTES"),
        )


def _minutes(environ: Mapping[str, str], name: str) -> float:
    raw = environ.get(name) or DEFAULTS[name]
    try:
        minutes = float(raw)
    except ValueError:
        raise ValueError(f"{name} must be a number of minutes, got {raw!r}") from None
    if not 0 < minutes <= 24 * 60:
        raise ValueError(f"{name} must be more than 0 and at most a day, got {raw!r}")
    return minutes


def _port(environ: Mapping[str, str], name: str) -> int:
    raw = environ.get(name) or DEFAULTS[name]
    try:
        port = int(raw)
    except ValueError:
        raise ValueError(f"{name} must be a port number, got {raw!r}") from None
    if not 0 <= port <= 65535:
        raise ValueError(f"{name} must be a port number, got {raw!r}")
    return port


class Stack:
    def __init__(self) -> None:
        self.components: list[Component] = []
        self.url = ""  # where the JSON API answers
        self._started: list[Component] = []

    def add(self, component: Component) -> None:
        self.components.append(component)

    def start(self) -> None:
        for component in self.components:
            try:
                component.start()
            except BaseException:
                log.error("%s failed to start; stopping the rest", component.name)
                self._started.append(component)  # its stop() releases what it did get hold of
                self.stop()
                raise
            self._started.append(component)

    def stop(self) -> None:
        while self._started:
            component = self._started.pop()
            try:
                component.stop()
            except Exception:
                # One component failing to stop must not keep the others (the DynamoDB snapshot) from stopping.
                log.exception("%s failed to stop cleanly", component.name)

    def waiting_for(self) -> list[str]:
        """The names of the components that are not ready; empty once the whole stack is."""
        return [component.name for component in self.components if not component.ready()]

    def describe(self) -> list[str]:
        return [component.describe() for component in self.components]


def use_local_aws() -> None:
    """Fake credentials for every AWS client in this process: nothing here may ever reach AWS."""
    os.environ["AWS_ACCESS_KEY_ID"] = "local"
    os.environ["AWS_SECRET_ACCESS_KEY"] = "local"
    os.environ.pop("AWS_SESSION_TOKEN", None)
    os.environ.pop("AWS_PROFILE", None)
    os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
    # Button results go through the local broker, never through AWS IoT Core's data plane.
    os.environ["TURNOUT_RESULT_PUBLISHER"] = "local"


def build_stack(settings: StackSettings) -> Stack:
    """Binds the DynamoDB endpoint, points core at it, and assembles the stack; nothing serves yet."""
    use_local_aws()
    # Open mode among them (TURNOUT_AUTH=off) unless asked otherwise: the README's curl quick start works
    # without a token, and local/__main__.py says so loudly.
    use_local_defaults()
    dynamodb = DynamoDBProcess(settings.dynamodb_port, data_dir=settings.data_dir)
    # core reads its configuration once, at import: the endpoint must be in the environment first.
    os.environ["AWS_ENDPOINT_URL_DYNAMODB"] = dynamodb.url
    provider = _provider(settings) if os.environ["TURNOUT_AUTH"].strip().lower() == "on" else None
    streams.use_local_sns(dynamodb.url, os.environ.get("AWS_REGION") or os.environ["AWS_DEFAULT_REGION"],
                          moto_account())
    from core.config import settings as core_settings

    if core_settings.dynamodb_endpoint != dynamodb.url:
        raise RuntimeError("core was imported before the local stack set AWS_ENDPOINT_URL_DYNAMODB")
    authorizer = None
    if provider is not None:
        from local.provider import CLIENT_ID

        provider.use_claims(core_settings.person_claim, core_settings.group_claim, core_settings.organizer_group)
        # API Gateway's authorizer reads the issuer's keys from its OpenID configuration; so does this one.
        authorizer = Authorizer(IssuerKeys(provider.issuer), public_reads=core_settings.public_reads,
                                issuer=provider.issuer, audience=(CLIENT_ID,))
    stack = Stack()
    stack.add(dynamodb)
    if provider is not None:
        stack.add(provider)
    gateway = Gateway(
        port=settings.http_port,
        api=LambdaFunction.from_template("ApiFunction", "api.handler.lambda_handler"),
        alexa=LambdaFunction.from_template("SkillFunction", "skills.handler.lambda_handler"),
        waiting_for=stack.waiting_for,
        skill_id=core_settings.skill_id,
        authorizer=authorizer,
    )
    stack.add(gateway)
    stack.url = gateway.url
    if provider is not None:
        # The page, as a browser on this machine may name it, is where sign-in comes back and sign-out lands.
        provider.allow_page(gateway.url + "/", f"http://localhost:{gateway.port}/")
    for module in PLUG_INS:
        if importlib.util.find_spec(module) is None:
            log.info("%s is not there: the stack runs without it", module)
            continue
        stack.add(importlib.import_module(module).build_component(settings))
    # The table's stream to the notify function, after the broker it publishes button notices through.
    stack.add(streams.build_component(dynamodb, region=core_settings.region, table_name=core_settings.table_name,
                                      data_dir=settings.data_dir))
    # Reminders on the template's schedule, after the stream that carries what they leave to the notify function.
    stack.add(reminders.build_component())
    # Last, so it stops first and its closing line counts everything the functions did.
    stack.add(MetricsSummary())
    return stack


def _provider(settings: StackSettings):  # -> local.provider.Provider, imported only when tokens are checked
    """The local OpenID provider, bound, with what core and the API read of it put in the environment."""
    from local.provider import CLIENT_ID, POOL_ID, Provider

    provider = Provider(port=settings.auth_port, data_dir=settings.data_dir, token_minutes=settings.token_minutes)
    os.environ["TURNOUT_AUTH_ISSUER"] = provider.issuer
    os.environ["TURNOUT_AUTH_CLIENT_ID"] = CLIENT_ID
    os.environ["TURNOUT_USER_POOL_ID"] = POOL_ID
    # Organizers are made through Cognito's admin API (core/organizers.py); here the provider answers it.
    os.environ["AWS_ENDPOINT_URL_COGNITO_IDENTITY_PROVIDER"] = provider.issuer
    return provider
