"""Benchmark reference: the least a handler can do to give each warm scenario's answer.

Each function here makes the same client calls as the real handler for its scenario, in the same order, and
does nothing else: it reads what it needs of the request, builds each call's parameters, reads what it needs of
the replies and renders the answer. No checks, no errors, no retries, no stored outcome beyond the one the
transaction carries. The probe measures it exactly as it measures the handler, in the same process, so the
table can show what any handler making these calls pays here before it does any work of its own.

It runs inside each function's bench environment, beside the probe: the standard library, botocore, and orjson
(which every function carries) for what it writes.
"""
import base64
import json
import os
from datetime import datetime, timedelta, timezone

import orjson

TABLE = os.environ.get("TURNOUT_TABLE", "turnout")
UTC = timezone.utc


def _dumps(value: object) -> str:
    return orjson.dumps(value).decode()


def _stamp(now: datetime) -> str:
    return now.isoformat(timespec="microseconds")[:26] + "Z"


def _take_seat(event_id: str, moment: str) -> dict:
    return {"Update": {
        "TableName": TABLE, "Key": {"pk": {"S": f"EVENT#{event_id}"}, "sk": {"S": "EVENT"}},
        "UpdateExpression": "ADD #going :one, #left :taken",
        "ConditionExpression": "attribute_exists(#pk) AND #closes > :now AND #left >= :seats AND #waitlisted = :zero",
        "ExpressionAttributeNames": {"#pk": "pk", "#going": "going", "#left": "seats_left", "#closes": "closes_at",
                                     "#waitlisted": "waitlisted"},
        "ExpressionAttributeValues": {":one": {"N": "1"}, ":taken": {"N": "-1"}, ":now": {"S": moment},
                                      ":seats": {"N": "1"}, ":zero": {"N": "0"}}}}


def _signup_put(event_id: str, person: str, moment: str, source: str, name: str | None) -> dict:
    item = {"pk": {"S": f"EVENT#{event_id}"}, "sk": {"S": f"SIGNUP#{person}"}, "kind": {"S": "signup"},
            "lsi1sk": {"S": f"B#{moment}#{person}"}, "event_id": {"S": event_id}, "person": {"S": person},
            "guests": {"N": "0"}, "status": {"S": "going"}, "source": {"S": source}, "signed_up_at": {"S": moment}}
    if name is not None:
        item["name"] = {"S": name}
    return {"Put": {"TableName": TABLE, "Item": item, "ConditionExpression": "attribute_not_exists(#pk)",
                    "ExpressionAttributeNames": {"#pk": "pk"}}}


def _names_query(event_id: str, limit: int) -> dict:
    return {"TableName": TABLE, "IndexName": "by_status", "ConsistentRead": True, "Limit": limit,
            "KeyConditionExpression": "#pk = :pk AND #order BETWEEN :low AND :high",
            "ExpressionAttributeNames": {"#pk": "pk", "#order": "lsi1sk"},
            "ExpressionAttributeValues": {":pk": {"S": f"EVENT#{event_id}"}, ":low": {"S": "B#"}, ":high": {"S": "D$"}}}


def api_sign_up(clients: dict):
    dynamodb = clients["dynamodb"]

    def handle(event: dict, context: object) -> dict:
        _, _, event_id, _, person = event["rawPath"].split("/")
        body = json.loads(base64.b64decode(event["body"]) if event.get("isBase64Encoded") else event["body"])
        now = datetime.now(UTC)
        moment = _stamp(now)
        dynamodb.transact_write_items(TransactItems=[
            _signup_put(event_id, person, moment, "api", body.get("name")), _take_seat(event_id, moment)])
        signup = {"event_id": event_id, "person": person, "name": body.get("name"), "guests": 0, "status": "going",
                  "position": None, "source": "api", "signed_up_at": now, "checked_in_at": None}
        return {"statusCode": 201, "headers": {"content-type": "application/json"}, "body": _dumps(signup),
                "isBase64Encoded": False}

    return handle


def api_who_is_going(clients: dict):
    dynamodb = clients["dynamodb"]

    def handle(event: dict, context: object) -> dict:
        event_id = event["rawPath"].split("/")[2]
        page = dynamodb.query(**_names_query(event_id, 51))
        signups, counts = [], {}
        for item in page["Items"]:
            if item["kind"]["S"] == "event":
                counts = {"going": int(item["going"]["N"]), "waitlisted": int(item["waitlisted"]["N"])}
                continue
            signups.append({"event_id": event_id, "person": item["person"]["S"], "name": item.get("name", {}).get("S"),
                            "guests": int(item["guests"]["N"]), "status": item["status"]["S"], "position": None,
                            "source": item["source"]["S"], "signed_up_at": item["signed_up_at"]["S"],
                            "checked_in_at": None})
        return {"statusCode": 200, "headers": {"content-type": "application/json"},
                "body": _dumps({"signups": signups, **counts, "next_cursor": None}), "isBase64Encoded": False}

    return handle


def button_press_bound(clients: dict):
    dynamodb, iot_data = clients["dynamodb"], clients["iot-data-plane"]

    def handle(event: dict, context: object) -> dict:
        serial, click_id = event["serialNumber"], event["clickId"]
        device = dynamodb.get_item(TableName=TABLE, ConsistentRead=True, Key={
            "pk": {"S": f"DEVICE#{serial}"}, "sk": {"S": "DEVICE"}})["Item"]
        person, event_id = device["person"]["S"], device["event_id"]["S"]
        now = datetime.now(UTC)
        moment = _stamp(now)
        outcome = _dumps({"kind": "sign_up", "created": True, "signup": {
            "event_id": event_id, "person": person, "status": "going", "signed_up_at": moment}})
        dynamodb.transact_write_items(TransactItems=[
            _signup_put(event_id, person, moment, "iot", None),
            _take_seat(event_id, moment),
            {"Put": {"TableName": TABLE, "ConditionExpression": "attribute_not_exists(#pk)",
                     "ExpressionAttributeNames": {"#pk": "pk"},
                     "Item": {"pk": {"S": f"REQUEST#iot:{serial}:click:{click_id}"}, "sk": {"S": "REQUEST"},
                              "kind": {"S": "request"}, "outcome": {"S": outcome},
                              "expires_at_epoch": {"N": str(int((now + timedelta(days=2)).timestamp()))}}}},
        ])
        result = {"serial": serial, "click": event["clickType"], "click_id": click_id, "outcome": "signed_up",
                  "event_id": event_id, "event_name": device["event_name"]["S"],
                  "starts_at": device["event_starts_at"]["S"], "status": "going", "position": None}
        iot_data.publish(topic=f"iotbutton/{serial}/result", qos=1, payload=orjson.dumps(result))
        return result

    return handle


def voice_who_is_going(clients: dict):
    dynamodb = clients["dynamodb"]

    def handle(envelope: dict, context: object) -> dict:
        wanted = envelope["request"]["intent"]["slots"]["event"]["value"].lower()
        now = _stamp(datetime.now(UTC))
        events = dynamodb.query(
            TableName=TABLE, IndexName="by_start", Limit=20, KeyConditionExpression="#pk = :pk AND #start >= :from",
            ExpressionAttributeNames={"#pk": "gsi1pk", "#start": "gsi1sk"},
            ExpressionAttributeValues={":pk": {"S": "EVENTS"}, ":from": {"S": now[:10]}})["Items"]
        chosen = next((e for e in events if e["name"]["S"].lower() in wanted), events[0])
        page = dynamodb.query(**_names_query(chosen["event_id"]["S"], 4))["Items"]
        names = [item["person"]["S"].title() for item in page if item["kind"]["S"] == "signup"]
        # by_start holds no counts: they come from the event item, which the names page reaches.
        waiting = next(int(item["waitlisted"]["N"]) for item in page if item["kind"]["S"] == "event")
        speech = (f"<speak>{', '.join(names[:-1])} and {names[-1]} are going to {chosen['name']['S']}. "
                  f"{waiting} more {'is' if waiting == 1 else 'are'} on the waitlist.</speak>")
        # Whether a linked person has notices to hear first: the Alexa user's link, read once per request.
        user = envelope["context"]["System"]["user"]["userId"]
        dynamodb.get_item(TableName=TABLE, ConsistentRead=True, Key={"pk": {"S": f"ALEXA#{user}"}, "sk": {"S": "LINK"}})
        return {"version": "1.0", "sessionAttributes": {}, "userAgent": "least",
                "response": {"outputSpeech": {"type": "SSML", "ssml": speech}, "shouldEndSession": True}}

    return handle


HANDLERS = {
    "api_sign_up": api_sign_up,
    "api_who_is_going": api_who_is_going,
    "button_press_bound": button_press_bound,
    "voice_who_is_going": voice_who_is_going,
}
