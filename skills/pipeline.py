"""Skill edge, around the handlers: ask-sdk's own request pipeline, assembled without ask_sdk_core.skill.

What runs is the SDK's: ask_sdk_runtime's dispatcher (request mapper, handler adapter, exception mapper,
interceptors), ask_sdk_core's HandlerInput, AttributesManager and response builder, and the ask_sdk_model
classes. Left out are the two modules that import ask_sdk_model.services for a base class and a factory this
skill never uses - ask_sdk_core.skill and ask_sdk_core.serialize. That package imports every Alexa service
client (lists, reminders, monetization, ...) and cost about a tenth of the function's whole cold start. In their
place, SkillBuilder.lambda_handler does what CustomSkill.invoke and SkillBuilder.lambda_handler do (skill id
check, envelope in, response envelope out), and Serializer reads and writes JSON the way DefaultSerializer does:
same model classes, same discriminators, same SerializationException.
"""
from __future__ import annotations

import re
import sys
from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from importlib import import_module
from typing import Any, Callable

from ask_sdk_core.__version__ import __version__ as ASK_SDK_CORE_VERSION
from ask_sdk_core.attributes_manager import AttributesManager
from ask_sdk_core.exceptions import SerializationException
from ask_sdk_core.handler_input import HandlerInput
from ask_sdk_core.utils import RESPONSE_FORMAT_VERSION
from ask_sdk_core.view_resolvers import TemplateFactory
from ask_sdk_model import RequestEnvelope, ResponseEnvelope
from ask_sdk_runtime.dispatch import GenericRequestDispatcher
from ask_sdk_runtime.exceptions import AskSdkException
from ask_sdk_runtime.skill import AbstractSkill
from ask_sdk_runtime.skill_builder import AbstractSkillBuilder
from ask_sdk_runtime.utils import UserAgentManager, user_agent_info

_PRIMITIVES = (str, bool, int, float, bytes)
_NATIVE = {"int": int, "long": int, "float": float, "str": str, "bool": bool, "date": date,
           "datetime": datetime, "object": object}
_LIST = re.compile(r"list\[(.*)\]")
_DICT = re.compile(r"dict\(([^,]*), (.*)\)")


class Serializer:
    """JSON-shaped values <-> ask_sdk_model objects, driven by each class's `deserialized_types`,
    `attribute_map` and `get_real_child_model`, as ask_sdk_core's DefaultSerializer is."""

    def serialize(self, value: Any) -> Any:
        if value is None or isinstance(value, _PRIMITIVES):
            return value
        if isinstance(value, list):
            return [self.serialize(item) for item in value]
        if isinstance(value, tuple):
            return tuple(self.serialize(item) for item in value)
        if isinstance(value, (datetime, date)):
            return value.isoformat()
        if isinstance(value, Enum):
            return value.value
        if isinstance(value, Decimal):
            return int(value) if value % 1 == 0 else float(value)
        if isinstance(value, dict):
            return {key: self.serialize(item) for key, item in value.items()}
        names = getattr(value, "attribute_map", {})
        return {names.get(attr, attr): self.serialize(item)
                for attr in value.deserialized_types
                if (item := getattr(value, attr)) is not None}

    def deserialize(self, payload: Any, kind: Any) -> Any:
        if payload is None:
            return None
        if isinstance(kind, str):
            if kind.startswith("list["):
                inner = _LIST.match(kind)
                if inner is None:
                    return []
                kinds = inner.group(1)
                if "," in kinds:
                    return [self.deserialize(item, k.strip()) for item, k in zip(payload, kinds.split(","))]
                return [self.deserialize(item, kinds.strip()) for item in payload]
            if kind.startswith("dict("):
                inner = _DICT.match(kind)
                return {} if inner is None else {k: self.deserialize(v, inner.group(2)) for k, v in payload.items()}
            kind = _NATIVE[kind] if kind in _NATIVE else _load_class(kind)
        if kind in _PRIMITIVES:
            try:
                return kind(payload)
            except TypeError:
                return payload
            except ValueError:
                raise SerializationException(f"Failed to parse {payload} into '{kind.__name__}' object") from None
        if kind is object:
            return payload
        if kind in (date, datetime):
            return _moment(payload, kind)
        return self._model(payload, kind)

    def _model(self, payload: Any, kind: Any) -> Any:
        try:
            if issubclass(kind, Enum):
                return kind(payload)
            if not hasattr(kind, "deserialized_types"):
                return payload
            if hasattr(kind, "get_real_child_model"):
                child = kind.get_real_child_model(payload)
                if not child:
                    raise SerializationException(f"Couldn't resolve object by discriminator type for {kind} class")
                kind = _load_class(child)
            fields, known = _fields(kind)
            model = kind()
            for attr, key, attr_kind in fields:
                if key in payload:
                    setattr(model, attr, self.deserialize(payload[key], attr_kind))
            for key in payload:
                if key not in known:
                    setattr(model, key, payload[key])
            return model
        except SerializationException:
            raise
        except Exception as error:
            raise SerializationException(str(error)) from error


_FIELDS: dict[type, tuple[tuple[tuple[str, str, Any], ...], frozenset[str]]] = {}


def _fields(kind: type) -> tuple[tuple[tuple[str, str, Any], ...], frozenset[str]]:
    """(attribute, JSON key, declared type) of a model class, and its JSON keys; worked out once per class."""
    found = _FIELDS.get(kind)
    if found is None:
        names = getattr(kind, "attribute_map", {})
        fields = tuple((attr, names.get(attr, attr), attr_kind) for attr, attr_kind in kind.deserialized_types.items())
        found = _FIELDS[kind] = (fields, frozenset(key for _, key, _ in fields))
    return found


def _load_class(name: str) -> Any:
    module, _, attr = name.rpartition(".")
    try:
        return getattr(import_module(module) if module else sys.modules[__name__], attr)
    except Exception as error:
        raise SerializationException(f"Unable to resolve class {name} from installed modules: {error}") from error


def _moment(payload: Any, kind: type) -> Any:
    # dateutil, as the SDK parses: botocore has imported it already, so this costs nothing at start.
    from dateutil.parser import parse

    try:
        parsed = parse(payload)
    except (ValueError, OverflowError):
        raise SerializationException(f"Failed to parse {payload} into '{kind.__name__}' object") from None
    return parsed.date() if kind is date else parsed


class Skill(AbstractSkill):
    """ask_sdk_core's CustomSkill.invoke for a skill without persistence or service clients."""

    def __init__(self, builder: SkillBuilder) -> None:
        self.builder = builder
        configuration = builder.runtime_configuration_builder.get_runtime_configuration()
        self.dispatcher = GenericRequestDispatcher(options=configuration)
        self.templates = TemplateFactory(template_loaders=configuration.loaders,
                                         template_renderer=configuration.renderer)
        UserAgentManager.register_component(user_agent_info(sdk_version=ASK_SDK_CORE_VERSION))

    def supports(self, event: dict, context: Any) -> bool:
        return "request" in event

    def invoke(self, request_envelope: RequestEnvelope, context: Any) -> ResponseEnvelope:
        # Read on every request, like CustomSkill's: the local stack and the tests change it after import.
        skill_id = self.builder.skill_id
        if skill_id is not None and _application_id(request_envelope) != skill_id:
            raise AskSdkException("Skill ID Verification failed!!")
        attributes = AttributesManager(request_envelope=request_envelope, persistence_adapter=None)
        handler_input = HandlerInput(request_envelope=request_envelope, attributes_manager=attributes,
                                     context=context, service_client_factory=None, template_factory=self.templates)
        response = self.dispatcher.dispatch(handler_input=handler_input)
        session_attributes = attributes.session_attributes if request_envelope.session is not None else None
        return ResponseEnvelope(response=response, version=RESPONSE_FORMAT_VERSION,
                                session_attributes=session_attributes, user_agent=UserAgentManager.get_user_agent())


def _application_id(request_envelope: RequestEnvelope) -> Any:
    """The skill an envelope is addressed to. An envelope without a context (Alexa always sends one) names
    none, and is refused like another skill's rather than failing on the missing attribute."""
    system = getattr(request_envelope.context, "system", None)
    return getattr(getattr(system, "application", None), "application_id", None)


class SkillBuilder(AbstractSkillBuilder):
    """ask_sdk_core's SkillBuilder: the same decorators (they are ask_sdk_runtime's), skill_id, lambda_handler."""

    def __init__(self) -> None:
        super().__init__()
        self.skill_id: str | None = None
        self.serializer = Serializer()

    def create(self) -> Skill:
        return Skill(self)

    def lambda_handler(self) -> Callable[[dict, Any], dict]:
        # The skill is built once, with every handler registered by now (ask_sdk_core builds it per request).
        skill = self.create()

        def handle(event: dict, context: Any) -> dict:
            request_envelope = self.serializer.deserialize(event, RequestEnvelope)
            return self.serializer.serialize(skill.invoke(request_envelope, context))

        return handle
