"""Notify edge, entry: the Lambda behind the table's stream - each record's notices kept once, then sent."""
from __future__ import annotations

from core import startup

# Before every other import: nothing the container builds is collected while it is built (core.startup).
startup.begin()

import logging
from typing import Any

from core import logs, metrics, services
from notify import channels

log = logging.getLogger(__name__)
log.setLevel(logging.INFO)


def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """A batch of DynamoDB stream records (only those the event source mapping's filters let through). A record
    that fails is reported by its sequence number (ReportBatchItemFailures): Lambda retries the batch from it,
    and after its retries hands it to the on-failure queue. Records are independent and each notice is kept
    once, so the records after a failed one go on, and their retry sends nothing twice."""
    failures = []
    with metrics.flushed():
        for record in event.get("Records") or []:
            # Correlated by the change's id: the request that left a change item wrote its own id in it; a
            # promotion is known by the stream record's id, and its notice names the person and the event.
            with logs.correlated(services.change_correlation(record) or record.get("eventID")):
                try:
                    tell(record)
                except Exception:
                    log.exception("could not tell about stream record %s", record.get("eventID"))
                    metrics.count(metrics.FAULTS)
                    failures.append({"itemIdentifier": (record.get("dynamodb") or {}).get("SequenceNumber")})
    return {"batchItemFailures": failures}


def tell(record: dict[str, Any]) -> None:
    change = record["dynamodb"]
    for notice in services.notices_for_change(record["eventName"], change.get("OldImage"), change.get("NewImage")):
        # Kept before it is sent, and marked after: a repeated record finds it sent and sends nothing; one that
        # failed in between sends it again (at least once, as every stage here delivers).
        recipient = services.store_notice(notice)
        if recipient is None:
            log.info("notice %s for %s was sent already", notice.what, notice.person)
            continue
        sent = channels.send(notice, recipient)
        services.notice_sent(notice)
        if notice.what == "promoted":
            metrics.count(metrics.PROMOTIONS)
        for channel in sent:
            metrics.count(metrics.NOTICES, channel)
        # Who, what and where it went - never the address it went to, nor the text, which an organizer wrote.
        log.info("told %s (%s, event %s) on %s", notice.person, notice.what, notice.event_id,
                 ", ".join(["notices", *sent]), extra={"person": notice.person, "event_id": notice.event_id})


startup.end()
