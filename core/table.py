"""Core: the one DynamoDB table as pynamodb models, one subclass per entity under a discriminator."""
from __future__ import annotations

from pynamodb.attributes import (
    DiscriminatorAttribute,
    NumberAttribute,
    TTLAttribute,
    UnicodeAttribute,
)
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex, LocalSecondaryIndex
from pynamodb.models import Model

from core.config import settings


class ByStatusIndex(LocalSecondaryIndex):
    """Per event: going, then the event item, then the waitlist by ticket (strongly consistent)."""

    class Meta:
        index_name = "by_status"
        projection = AllProjection()

    pk = UnicodeAttribute(hash_key=True)
    status_order = UnicodeAttribute(range_key=True, attr_name="lsi1sk")


class ByStartIndex(GlobalSecondaryIndex):
    """All events by start time, for 'what is coming up'."""

    class Meta:
        index_name = "by_start"
        projection = AllProjection()

    start_partition = UnicodeAttribute(hash_key=True, attr_name="gsi1pk")
    start_order = UnicodeAttribute(range_key=True, attr_name="gsi1sk")


class TurnoutItem(Model):
    class Meta:
        table_name = settings.table_name
        region = settings.region
        host = settings.dynamodb_endpoint
        connect_timeout_seconds = 2
        read_timeout_seconds = 5

    pk = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True)
    kind = DiscriminatorAttribute(attr_name="kind")
    status_order = UnicodeAttribute(null=True, attr_name="lsi1sk")
    start_partition = UnicodeAttribute(null=True, attr_name="gsi1pk")
    start_order = UnicodeAttribute(null=True, attr_name="gsi1sk")
    expires = TTLAttribute(null=True, attr_name="expires_at_epoch")

    by_status = ByStatusIndex()
    by_start = ByStartIndex()


class EventItem(TurnoutItem, discriminator="event"):
    event_id = UnicodeAttribute()
    name = UnicodeAttribute()
    starts_at = UnicodeAttribute()  # UTC, keys.utc format
    ends_at = UnicodeAttribute(null=True)
    closes_at = UnicodeAttribute()  # UTC; signups are refused from then on
    timezone = UnicodeAttribute()
    location = UnicodeAttribute(null=True)
    description = UnicodeAttribute(null=True)
    capacity = NumberAttribute(null=True)
    going = NumberAttribute(default=0)
    waitlisted = NumberAttribute(default=0)
    seats_left = NumberAttribute()  # keys.UNLIMITED_SEATS-based when capacity is None
    tickets = NumberAttribute(default=0)  # how many have ever joined the waitlist: a change tells the line moved
    created_at = UnicodeAttribute()


class SignupItem(TurnoutItem, discriminator="signup"):
    event_id = UnicodeAttribute()
    person = UnicodeAttribute()
    name = UnicodeAttribute(null=True)
    guests = NumberAttribute(default=0)
    status = UnicodeAttribute()
    source = UnicodeAttribute()
    signed_up_at = UnicodeAttribute()
    checked_in_at = UnicodeAttribute(null=True)


class DeviceItem(TurnoutItem, discriminator="device"):
    serial = UnicodeAttribute()
    person = UnicodeAttribute()
    event_id = UnicodeAttribute(null=True)
    bound_at = UnicodeAttribute()
    # The bound event as the button's answers name it (core.values.Device).
    event_name = UnicodeAttribute(null=True)
    event_starts_at = UnicodeAttribute(null=True)  # UTC, keys.utc format
    event_timezone = UnicodeAttribute(null=True)


class PairingCodeItem(TurnoutItem, discriminator="pairing_code"):
    person = UnicodeAttribute()
    valid_until = UnicodeAttribute()


class AlexaLinkItem(TurnoutItem, discriminator="alexa_link"):
    person = UnicodeAttribute()
    linked_at = UnicodeAttribute()


class PairingMissesItem(TurnoutItem, discriminator="pairing_misses"):
    misses = NumberAttribute(default=0)
    locked_until = UnicodeAttribute(null=True)


class RequestItem(TurnoutItem, discriminator="request"):
    """The stored outcome of an idempotent request (a button click, a retried call)."""

    outcome = UnicodeAttribute()


# One botocore session and client for every model, index and transaction. Left alone, pynamodb gives each
# model class that reaches the table first a session of its own, and each reloads botocore's data: about a
# quarter of a cold start apiece (measured by make bench).
_shared = TurnoutItem._get_connection()
for _model in (EventItem, SignupItem, DeviceItem, PairingCodeItem, AlexaLinkItem, PairingMissesItem, RequestItem):
    _model._connection = _shared
connection = _shared.connection
