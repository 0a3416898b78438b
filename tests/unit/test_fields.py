"""An event's fields are declared once (core/fields.py): each reader takes them from there, and each typed slot a
field needs is named here when it is missing, so adding a field fails loudly rather than half-way."""
from __future__ import annotations

from datetime import datetime, timezone

import pytest

from api import openapi, render, routes
from core import errors, fields, services
from core.member_values import Series
from core.store.series import SeriesItem
from core.table import LISTED, EventItem
from core.values import Event

NOW = datetime(2030, 12, 1, 12, 0, tzinfo=timezone.utc)
SERIES_SLOTS = [name for name in fields.TEXT if fields.EVENT[name].repeats]


@pytest.mark.parametrize("name", list(fields.EVENT))
def test_each_field_has_its_slot_in_the_event_value(name):
    assert name in Event._fields, f"core.values.Event needs an attribute {name!r} (with a default)"


@pytest.mark.parametrize("name", fields.TEXT)
def test_each_text_field_is_stored_and_listed(name):
    assert name in EventItem.get_attributes(), f"core.table.EventItem needs `{name} = UnicodeAttribute(...)`"
    assert name in LISTED  # template.yaml's by_start projection follows (tests/checks/test_table_definition.py)


@pytest.mark.parametrize("name", SERIES_SLOTS)
def test_each_repeated_text_field_has_its_slot_in_a_series(name):
    assert name in Series._fields, f"core.member_values.Series needs an attribute {name!r}"
    assert name in SeriesItem.get_attributes(), f"core.store.series.SeriesItem needs `{name} = UnicodeAttribute(...)`"


def test_the_api_bodies_are_the_declaration():
    assert routes.NEW_EVENT.fields == fields.EVENT
    assert set(routes.EVENT_CHANGES.fields) == fields.CHANGEABLE
    assert not any(spec.required for spec in routes.EVENT_CHANGES.fields.values())
    assert set(routes.NEW_SERIES.fields) == set(fields.EVENT) - {"signups_close_at", "seat_blocks"} | {"repeat"}


def test_the_answer_and_its_schema_hold_every_field(table):
    event = services.create_event(name="Ski trip", starts_at="2030-12-04T07:00:00", timezone="Europe/Oslo",
                                  location="Hemsedal", now=NOW)
    answered = render.event(event)
    schema = openapi.SCHEMAS["Event"]
    assert set(fields.EVENT) <= set(answered) == set(schema["properties"]) == set(schema["required"])
    assert answered["location"] == "Hemsedal"


def test_each_text_rule_comes_from_the_declaration(table):
    longest = fields.EVENT["location"].max_length
    with pytest.raises(errors.InvalidInput, match=f"location is at most {longest} characters"):
        services.create_event(name="Ski", starts_at="2030-12-04T07:00:00", location="x" * (longest + 1), now=NOW)
    with pytest.raises(errors.InvalidInput, match="name is required"):
        services.create_event(starts_at="2030-12-04T07:00:00", now=NOW)
    assert services.create_event(name=" Ski ", starts_at="2030-12-04T07:00:00", description="a\r\nb",
                                 now=NOW).description == "a\nb"


@pytest.mark.parametrize("call", [
    lambda: services.create_event(name="Ski", starts_at="2030-12-04T07:00:00", locaton="Hemsedal", now=NOW),
    lambda: services.update_event("abc", {"seat_blocks": 4}, now=NOW),
])
def test_a_field_not_declared_or_fixed_is_refused_by_name(table, call):
    with pytest.raises(errors.InvalidInput, match="Unknown field"):
        call()
