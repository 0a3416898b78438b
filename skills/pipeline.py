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

Reader = Callable[[Any], Any]
Writer = Callable[[Any], Any]


class Serializer:
    """JSON-shaped values <-> ask_sdk_model objects, driven by each class's `deserialized_types`,
    `attribute_map` and `get_real_child_model`, as ask_sdk_core's DefaultSerializer is.

    Each declared type (a class, or a string such as "list[ask_sdk_model.slot.Slot]") is worked out into a
    reader once, on the first payload that needs it, and each class of value into a writer, on the first value
    of it: a warm request then runs through a few small functions, not through the models' reflection."""

    def __init__(self) -> None:
        self._readers: dict[Any, Reader] = {}
        self._writers: dict[type, Writer] = {}

    # --- Writing: values -> JSON --------------------------------------------------------------------------

    def serialize(self, value: Any) -> Any:
        write = self._writers.get(type(value))
        if write is None:
            write = self._writers[type(value)] = self._writer(type(value))
        return write(value)

    def _writer(self, kind: type) -> Writer:
        # The order of DefaultSerializer's isinstance checks, asked once of the class.
        if kind is type(None) or issubclass(kind, _PRIMITIVES):
            return _same
        serialize = self.serialize
        if issubclass(kind, list):
            return lambda value: [serialize(item) for item in value]
        if issubclass(kind, tuple):
            return lambda value: tuple(serialize(item) for item in value)
        if issubclass(kind, (datetime, date)):
            return lambda value: value.isoformat()
        if issubclass(kind, Enum):
            return lambda value: value.value
        if issubclass(kind, Decimal):
            return lambda value: int(value) if value % 1 == 0 else float(value)
        if issubclass(kind, dict):
            return lambda value: {key: serialize(item) for key, item in value.items()}
        return self._model_writer(kind)

    def _model_writer(self, kind: type) -> Writer:
        serialize, writers = self.serialize, self._writers
        declared = getattr(kind, "deserialized_types", None)
        names = getattr(kind, "attribute_map", None)
        pairs = None
        if isinstance(declared, dict):
            pairs = tuple((attr, (names or {}).get(attr, attr)) for attr in declared)

        def write(value: Any) -> Any:
            if (pairs is None or getattr(value, "deserialized_types", None) is not declared
                    or getattr(value, "attribute_map", None) is not names):
                # An instance that names its own fields (an unknown key read into it can): read them from it.
                own = getattr(value, "attribute_map", {})
                return {own.get(attr, attr): serialize(item)
                        for attr in value.deserialized_types
                        if (item := getattr(value, attr)) is not None}
            written = {}
            for attr, key in pairs:
                item = getattr(value, attr)
                if item is not None:
                    # serialize(), without a call of its own for each value, nor any for a value written as it is.
                    write_item = writers.get(type(item))
                    if write_item is _same:
                        written[key] = item
                    else:
                        written[key] = serialize(item) if write_item is None else write_item(item)
            return written

        return write

    # --- Reading: JSON -> values ----------------------------------------------------------------------------

    def deserialize(self, payload: Any, kind: Any) -> Any:
        if payload is None:
            return None
        return (self._readers.get(kind) or self._resolved(kind))(payload)

    def _resolved(self, kind: Any) -> Reader:
        # Worked out on the first value that needs it: a class named here that never arrives is never imported,
        # and one that does not resolve is refused each time it is needed.
        try:
            read = self._reader(kind)
        except SerializationException:
            raise
        except Exception as error:
            raise SerializationException(str(error)) from error
        self._readers[kind] = read
        return read

    def _reader(self, kind: Any) -> Reader:
        """How a value of this declared type is read; never called with None."""
        if isinstance(kind, str):
            if kind.startswith("list["):
                return self._list(kind)
            if kind.startswith("dict("):
                return self._dict(kind)
            return self._reader(_NATIVE[kind] if kind in _NATIVE else _load_class(kind))
        if kind in _PRIMITIVES:
            return _primitive(kind)
        if kind is object:
            return _same
        if kind is datetime:
            return _timestamp
        if kind is date:
            return lambda payload: _moment(payload, date)
        if issubclass(kind, Enum):
            return _enum(kind)
        if not hasattr(kind, "deserialized_types"):
            return _same
        if hasattr(kind, "get_real_child_model"):
            return self._discriminated(kind)
        return self._model(kind)

    def _list(self, kind: str) -> Reader:
        inner = _LIST.match(kind)
        deserialize = self.deserialize
        if inner is None:
            return lambda payload: []
        kinds = inner.group(1)
        if "," in kinds:
            each = [k.strip() for k in kinds.split(",")]
            return lambda payload: [deserialize(item, k) for item, k in zip(payload, each)]
        one = kinds.strip()
        return lambda payload: [deserialize(item, one) for item in payload]

    def _dict(self, kind: str) -> Reader:
        inner = _DICT.match(kind)
        deserialize = self.deserialize
        if inner is None:
            return lambda payload: {}
        value_kind = inner.group(2)
        return lambda payload: {k: deserialize(v, value_kind) for k, v in payload.items()}

    def _discriminated(self, kind: type) -> Reader:
        """A model whose JSON names its own subclass (a Request's "type")."""
        models: dict[type, Reader] = {}

        def read(payload: Any) -> Any:
            try:
                child = kind.get_real_child_model(payload)
                if not child:
                    raise SerializationException(f"Couldn't resolve object by discriminator type for {kind} class")
                real = _CLASSES.get(child) or _load_class(child)
                model = models.get(real)
                if model is None:
                    model = models[real] = self._model(real)
            except SerializationException:
                raise
            except Exception as error:
                raise SerializationException(str(error)) from error
            return model(payload)

        return read

    def _model(self, kind: type) -> Reader:
        """One model of exactly this class from its JSON object: each declared field read as its type, then
        each key the class does not declare kept as it is. Driven by the keys present (a few), not by the
        fields declared (many models declare a dozen, and an envelope fills two or three of them)."""
        deserialize, readers = self.deserialize, self._readers
        names = getattr(kind, "attribute_map", {})
        declared = [(attr, names.get(attr, attr), attr_kind) for attr, attr_kind in kind.deserialized_types.items()]
        # JSON key -> (attribute, declared type, the primitive a value of which is already read as itself)
        fields = {key: (attr, attr_kind, _NATIVE.get(attr_kind) if attr_kind in _AS_IS else None)
                  for attr, key, attr_kind in declared}
        one_field_a_key = len(fields) == len(declared)

        def read(payload: Any) -> Any:
            try:
                model = kind()
                if type(payload) is not dict or not one_field_a_key:
                    # Not an object, or two fields under one key: field by field, as DefaultSerializer reads it
                    # (so an empty "" or [] is an empty model).
                    for attr, key, attr_kind in declared:
                        if key in payload:
                            setattr(model, attr, deserialize(payload[key], attr_kind))
                    for key in payload:
                        if key not in fields:
                            setattr(model, key, payload[key])
                    return model
                unknown = None
                for key, value in payload.items():
                    field = fields.get(key)
                    if field is None:
                        unknown = [key] if unknown is None else [*unknown, key]
                        continue
                    attr, attr_kind, as_is = field
                    if value is not None and type(value) is not as_is:
                        # deserialize(), without a call of its own for each value.
                        value = (readers.get(attr_kind) or self._resolved(attr_kind))(value)
                    setattr(model, attr, value)
                if unknown is not None:
                    for key in unknown:
                        setattr(model, key, payload[key])
                return model
            except SerializationException:
                raise
            except Exception as error:
                raise SerializationException(str(error)) from error

        return read


# Declared types whose reader returns a value of exactly that type unchanged.
_AS_IS = frozenset({"str", "bool", "int", "long", "float"})


def _enum(kind: type) -> Reader:
    members = {member.value: member for member in kind}

    def read(payload: Any) -> Any:
        try:
            # The members by value, as Enum's own lookup finds them first; anything else is left to it.
            return members[payload]
        except (KeyError, TypeError):
            pass
        try:
            return kind(payload)
        except Exception as error:
            raise SerializationException(str(error)) from error

    return read


def _same(payload: Any) -> Any:
    return payload


def _primitive(kind: type) -> Reader:
    def read(payload: Any) -> Any:
        if type(payload) is kind:
            # kind(payload) is payload itself for a value already of exactly that type.
            return payload
        try:
            return kind(payload)
        except TypeError:
            return payload
        except ValueError:
            raise SerializationException(f"Failed to parse {payload} into '{kind.__name__}' object") from None

    return read


_CLASSES: dict[str, Any] = {}


def _load_class(name: str) -> Any:
    found = _CLASSES.get(name)
    if found is not None:
        return found
    module, _, attr = name.rpartition(".")
    try:
        found = getattr(import_module(module) if module else sys.modules[__name__], attr)
    except Exception as error:
        raise SerializationException(f"Unable to resolve class {name} from installed modules: {error}") from error
    _CLASSES[name] = found
    return found


def _timestamp(payload: Any) -> Any:
    """As dateutil reads it; the one shape Alexa writes ("2026-11-29T08:00:31Z") without dateutil, whose general
    parser costs more than the rest of the envelope together."""
    zulu = _ZULU[0] if _ZULU else _zulu()
    # With its separators where this shape has them, fromisoformat reads only ASCII digits in between, and only
    # into what dateutil reads from them; anything else is read, or refused, by dateutil itself.
    if (zulu is not None and type(payload) is str and len(payload) == 20 and payload[19] == "Z"
            and payload[4] == payload[7] == "-" and payload[10] == "T" and payload[13] == payload[16] == ":"):
        try:
            return datetime.fromisoformat(payload[:19]).replace(tzinfo=zulu)
        except ValueError:
            pass
    return _moment(payload, datetime)


_ZULU: list[Any] = []


def _zulu() -> Any:
    """The zone dateutil gives a "...Z" timestamp here, or None when it can differ from one moment to the next.

    dateutil reads "Z" as the name "UTC": it answers tzlocal() when the machine's own zone is called UTC (as
    Lambda's is), tz.UTC otherwise. Asked once, with dateutil itself; only a machine zone with daylight saving
    could make the answer depend on the date, and there every timestamp goes to dateutil."""
    if not _ZULU:
        import time

        _ZULU.append(None if time.daylight else _moment("2000-01-01T00:00:00Z", datetime).tzinfo)
    return _ZULU[0]


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
