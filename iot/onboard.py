"""IoT edge, before the first press: registers a real button with AWS IoT Core (thing, certificate, a policy that
lets it do nothing but press and hear back) and writes the files the device client needs.

    python -m iot.onboard SERIAL [--out .turnout/devices/SERIAL]

Uses the AWS credentials and region of the shell; run it once per button, by whoever administers the account."""
from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import Any

import boto3

from core import topics, validation
from core.errors import InvalidInput
from iot.device import listener_client_id

CERTIFICATE_FILE = "certificate.pem.crt"
PRIVATE_KEY_FILE = "private.pem.key"
DEVICE_FILE = "device.json"
MQTT_TLS_PORT = 8883


class AlreadyOnboarded(Exception):
    pass


def policy_name(serial: str) -> str:
    return f"turnout-button-{serial}"


def policy_document(serial: str, region: str, account: str) -> dict[str, Any]:
    """Least privilege: connect only as its own thing (pressing) or its listener (iot.device listen, a second
    connection of its own: IoT Core drops the older of two with one client id), publish only its clicks, hear only
    its own results and its person's notices."""
    arn = f"arn:aws:iot:{region}:{account}"
    heard = (topics.results(serial), topics.notices(serial))
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Action": "iot:Connect",
                "Resource": [f"{arn}:client/{serial}", f"{arn}:client/{listener_client_id(serial)}"],
            },
            {"Effect": "Allow", "Action": "iot:Publish", "Resource": f"{arn}:topic/{topics.clicks(serial)}"},
            {
                "Effect": "Allow",
                "Action": "iot:Subscribe",
                "Resource": [f"{arn}:topicfilter/{topic}" for topic in heard],
            },
            {"Effect": "Allow", "Action": "iot:Receive", "Resource": [f"{arn}:topic/{topic}" for topic in heard]},
        ],
    }



def onboard(serial: str, out_dir: Path, iot: Any = None) -> dict[str, Any]:
    """Creates thing, certificate and policy, and writes certificate, private key and device.json to out_dir.
    Returns device.json's content. Raises InvalidInput, AlreadyOnboarded, or botocore's errors; a failure
    after the certificate exists removes it again, so no usable credential is left behind."""
    validation.serial(serial)  # the thing name, the client id and a topic level: no '/', '+' or '#'
    iot = iot or boto3.client("iot")
    key_path = out_dir / PRIVATE_KEY_FILE
    if key_path.exists():
        raise AlreadyOnboarded(f"{key_path} exists: this button was onboarded already")

    iot.create_thing(thingName=serial, attributePayload={"attributes": {"app": "turnout"}})
    created = iot.create_keys_and_certificate(setAsActive=True)
    certificate_arn = created["certificateArn"]
    try:
        _, _, _, region, account, _ = certificate_arn.split(":", 5)
        name = policy_name(serial)
        try:
            iot.create_policy(policyName=name, policyDocument=json.dumps(policy_document(serial, region, account)))
        except iot.exceptions.ResourceAlreadyExistsException:
            pass  # the button's own policy from an earlier certificate: the same document by construction
        iot.attach_policy(policyName=name, target=certificate_arn)
        iot.attach_thing_principal(thingName=serial, principal=certificate_arn)
        endpoint = iot.describe_endpoint(endpointType="iot:Data-ATS")["endpointAddress"]
        device = {
            "serial": serial,
            "thing_name": serial,
            "endpoint": endpoint,
            "port": MQTT_TLS_PORT,
            "certificate": CERTIFICATE_FILE,
            "private_key": PRIVATE_KEY_FILE,
            "ca": None,  # the system trust store carries Amazon Root CA 1; put a file name here to pin one
            "certificate_arn": certificate_arn,
            "policy": name,
        }
        out_dir.mkdir(parents=True, exist_ok=True)
        (out_dir / CERTIFICATE_FILE).write_text(created["certificatePem"])
        # The private key exists nowhere else: AWS does not keep it. Readable by its owner only.
        descriptor = os.open(key_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "w") as key_file:
            key_file.write(created["keyPair"]["PrivateKey"])
        (out_dir / DEVICE_FILE).write_text(json.dumps(device, indent=2) + "\n")
    except BaseException:
        _remove_certificate(iot, serial, certificate_arn, created["certificateId"])
        for leftover in (CERTIFICATE_FILE, PRIVATE_KEY_FILE, DEVICE_FILE):
            (out_dir / leftover).unlink(missing_ok=True)
        raise
    return device


def _remove_certificate(iot: Any, serial: str, certificate_arn: str, certificate_id: str) -> None:
    for undo in (
        lambda: iot.detach_thing_principal(thingName=serial, principal=certificate_arn),
        lambda: iot.detach_policy(policyName=policy_name(serial), target=certificate_arn),
        lambda: iot.update_certificate(certificateId=certificate_id, newStatus="INACTIVE"),
        lambda: iot.delete_certificate(certificateId=certificate_id),
    ):
        try:
            undo()
        except Exception:
            pass  # that step never happened (or the next one reports what is left); the original error matters


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m iot.onboard", description=(
        "Register a button with AWS IoT Core: thing, certificate, least-privilege policy, and its files."))
    parser.add_argument("serial", help="the button's serial: thing name, MQTT client id and topic iotbutton/SERIAL")
    parser.add_argument("--out", type=Path, default=None, help="where to write the files (.turnout/devices/SERIAL)")
    args = parser.parse_args(argv)
    out_dir = args.out or Path(".turnout") / "devices" / args.serial
    try:
        device = onboard(args.serial, out_dir)
    except (InvalidInput, AlreadyOnboarded) as refused:
        print(f"turnout: {refused}", file=sys.stderr)
        return 2
    print(f"Button {device['serial']} is registered with AWS IoT Core at {device['endpoint']}.")
    print(f"Its certificate, private key and device.json are in {out_dir}/ (keep the key secret).")
    print(f"Press it:  python -m iot.device press {device['serial']} single --device-dir {out_dir}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
