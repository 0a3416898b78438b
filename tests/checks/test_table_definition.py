"""The pynamodb models and template.yaml describe the same table."""
from __future__ import annotations

from core.table import EventItem, TurnoutItem
from local.tables import table_properties
from tests.support.template import indexes_of, key_schema, model_indexes


def test_primary_key_matches_template():
    props = table_properties()
    assert key_schema(props["KeySchema"]) == {
        "HASH": TurnoutItem._hash_key_attribute().attr_name,
        "RANGE": TurnoutItem._range_key_attribute().attr_name,
    }


def test_indexes_match_template():
    assert indexes_of(table_properties()) == model_indexes()


def _projected(index_props):
    return sorted(index_props["Projection"].get("NonKeyAttributes", []))


def test_the_listing_index_projects_what_the_model_lists_and_no_count():
    props = table_properties()
    (listing,) = props["GlobalSecondaryIndexes"]
    assert _projected(listing) == sorted(TurnoutItem.by_start.Meta.projection.non_key_attributes)
    names = {attr.attr_name for attr in EventItem.get_attributes().values()}
    assert set(_projected(listing)) <= names  # every projected attribute is one the event item has
    counts = {EventItem.going.attr_name, EventItem.waitlisted.attr_name, EventItem.seats_left.attr_name,
              EventItem.tickets.attr_name}
    assert not counts & set(_projected(listing))


def test_the_created_listing_index_holds_no_counts(table):
    description = table.describe_table(TableName=TurnoutItem.Meta.table_name)["Table"]
    (listing,) = description["GlobalSecondaryIndexes"]
    assert listing["Projection"]["ProjectionType"] == "INCLUDE"
    assert _projected(listing) == sorted(TurnoutItem.by_start.Meta.projection.non_key_attributes)


def test_local_index_is_local_and_global_is_global():
    props = table_properties()
    assert [i["IndexName"] for i in props["LocalSecondaryIndexes"]] == [TurnoutItem.by_status.Meta.index_name]
    assert [i["IndexName"] for i in props["GlobalSecondaryIndexes"]] == [TurnoutItem.by_start.Meta.index_name]


def test_ttl_attribute_matches_model():
    props = table_properties()
    assert props["TimeToLiveSpecification"] == {
        "AttributeName": TurnoutItem.expires.attr_name,
        "Enabled": True,
    }


def test_table_builds_on_moto(table):
    description = table.describe_table(TableName=TurnoutItem.Meta.table_name)["Table"]
    assert {i["IndexName"] for i in description["LocalSecondaryIndexes"]} == {"by_status"}
    ttl = table.describe_time_to_live(TableName=TurnoutItem.Meta.table_name)["TimeToLiveDescription"]
    assert ttl["AttributeName"] == "expires_at_epoch"
