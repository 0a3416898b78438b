"""Notify edge, last step: a notice sent on every channel its person has - the SNS notice topic (email, SMS) and each
bound button's notice topic, iotbutton/{serial}/notice."""
from __future__ import annotations

import logging
from typing import Any

import orjson

from core import aws, buttons, topics
from core.config import settings
from core.member_values import Notice, Recipient

log = logging.getLogger(__name__)

# Built once per container. Locally AWS_ENDPOINT_URL_SNS points botocore at moto's SNS.
_sns = aws.client("sns")


# What each address is sent as: the channel a notice is counted by (core.metrics.NOTICES).
CHANNELS = {"email": "email", "phone": "sms"}


def message(notice: Notice, serial: str) -> dict[str, Any]:
    """What a button hears: enough to light up and show one line."""
    return {"serial": serial, "what": notice.what, "event_id": notice.event_id, "event_name": notice.event_name,
            "text": notice.text, "at": notice.at.isoformat()}


def subject(notice: Notice) -> str:
    """An email's subject line: SNS takes printable ASCII only, under 100 characters, so an event named with
    accents or emoji is spelled without them rather than refused (the message itself keeps them)."""
    name = " ".join("".join(ch for ch in notice.event_name if " " <= ch <= "~").split())
    return f"Turnout: {name}"[:99] if name else "Turnout"


def send(notice: Notice, recipient: Recipient) -> list[str]:
    """Sends the notice on every channel the person has; the channels it went to. Raises what a transport raises,
    so the record is retried (the notice is marked sent only after this returns)."""
    person, sent = recipient.person, []
    # Buttons first, so a button is told without waiting behind the SNS publish for email and SMS.
    for serial in recipient.serials:
        buttons.publish(topics.notices(serial), orjson.dumps(message(notice, serial)))
        sent.append("button")
    addresses = {name: value for name, value in (("email", person.email), ("phone", person.phone)) if value}
    if addresses and settings.notice_topic_arn:
        # One message on the notice topic, carrying the addresses as attributes: each address's subscription
        # (email, or sms for the phone) has a filter policy on its own, so it alone receives it. The function may
        # publish to this one topic only, never to any phone number or topic it is handed.
        attributes = {"person": person.person, **addresses}
        _sns.publish(TopicArn=settings.notice_topic_arn, Subject=subject(notice),
                     Message=notice.text,
                     MessageAttributes={name: {"DataType": "String", "StringValue": value}
                                        for name, value in attributes.items()})
        sent += [CHANNELS[name] for name in addresses]
    return sent
