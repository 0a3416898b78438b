"""Onboarding a real button, against moto's IoT: thing, certificate, a policy scoped to that one button, its files."""
from __future__ import annotations

import json
import stat
import uuid

import boto3
import pytest
from moto import mock_aws

from core.errors import InvalidInput
from iot import device, onboard


@pytest.fixture
def iot():
    with mock_aws():
        yield boto3.client("iot", region_name="eu-west-1")


@pytest.fixture
def serial():
    return f"G030-{uuid.uuid4().hex[:10]}"


def certificates(iot) -> set[str]:
    """The account's certificates that could still connect (moto may live for the whole test session)."""
    return {c["certificateArn"] for c in iot.list_certificates()["certificates"] if c["status"] == "ACTIVE"}


def test_a_button_gets_its_thing_certificate_policy_and_files(iot, serial, tmp_path):
    written = onboard.onboard(serial, tmp_path, iot)

    arn = written["certificate_arn"]
    assert iot.describe_thing(thingName=serial)["thingName"] == serial
    assert iot.list_thing_principals(thingName=serial)["principals"] == [arn]
    certificate = iot.describe_certificate(certificateId=arn.rsplit("/", 1)[1])["certificateDescription"]
    assert certificate["status"] == "ACTIVE"
    assert (tmp_path / "certificate.pem.crt").read_text() == certificate["certificatePem"]
    assert stat.S_IMODE((tmp_path / "private.pem.key").stat().st_mode) == 0o600
    assert "PRIVATE KEY" in (tmp_path / "private.pem.key").read_text()
    assert json.loads((tmp_path / "device.json").read_text()) == written
    assert written["endpoint"].endswith("-ats.iot.eu-west-1.amazonaws.com")
    assert [p["policyName"] for p in iot.list_attached_policies(target=arn)["policies"]] == [f"turnout-button-{serial}"]


def test_the_policy_allows_only_this_buttons_press_its_result_and_its_notices(iot, serial, tmp_path):
    written = onboard.onboard(serial, tmp_path, iot)

    document = json.loads(iot.get_policy(policyName=written["policy"])["policyDocument"])
    allowed = {(s["Action"], resource.split(":", 5)[5]) for s in document["Statement"] if s["Effect"] == "Allow"
               for resource in (s["Resource"] if isinstance(s["Resource"], list) else [s["Resource"]])}
    assert allowed == {
        # The button pressing, and its listener (python -m iot.device listen) on a connection of its own.
        ("iot:Connect", f"client/{serial}"),
        ("iot:Connect", f"client/{serial}-notices"),
        ("iot:Publish", f"topic/iotbutton/{serial}"),
        ("iot:Subscribe", f"topicfilter/iotbutton/{serial}/result"),
        ("iot:Receive", f"topic/iotbutton/{serial}/result"),
        # What the notify function publishes to the person's buttons (template.yaml's ButtonNoticeTopic).
        ("iot:Subscribe", f"topicfilter/iotbutton/{serial}/notice"),
        ("iot:Receive", f"topic/iotbutton/{serial}/notice"),
    }
    assert all(":eu-west-1:123456789012:" in json.dumps(s["Resource"]) for s in document["Statement"])
    assert "*" not in json.dumps(document)


def test_the_device_client_reads_what_onboarding_wrote(iot, serial, tmp_path):
    written = onboard.onboard(serial, tmp_path, iot)

    target, onboarded = device.Target.aws(tmp_path)

    assert onboarded == serial
    assert (target.host, target.port, target.client_id) == (written["endpoint"], 8883, serial)
    assert (target.cert, target.key, target.ca) == (str(tmp_path / "certificate.pem.crt"),
                                                     str(tmp_path / "private.pem.key"), None)


def test_onboarding_twice_into_the_same_place_is_refused_before_any_new_certificate(iot, serial, tmp_path):
    onboard.onboard(serial, tmp_path, iot)
    before = certificates(iot)

    with pytest.raises(onboard.AlreadyOnboarded):
        onboard.onboard(serial, tmp_path, iot)
    assert certificates(iot) == before


def test_a_failure_half_way_leaves_no_usable_certificate_and_no_files(iot, serial, tmp_path):
    class AttachFails:
        def __init__(self, client):
            self._client = client

        def __getattr__(self, name):
            return getattr(self._client, name)

        def attach_thing_principal(self, **kwargs):
            raise RuntimeError("throttled")

    before = certificates(iot)

    with pytest.raises(RuntimeError, match="throttled"):
        onboard.onboard(serial, tmp_path, AttachFails(iot))

    assert certificates(iot) == before
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("bad", ["a/b", "iotbutton/+", "#", ""])
def test_a_serial_that_is_no_topic_level_is_refused_before_anything_is_created(iot, bad, tmp_path):
    before = certificates(iot)

    with pytest.raises(InvalidInput):
        onboard.onboard(bad, tmp_path, iot)
    assert bad not in [thing["thingName"] for thing in iot.list_things()["things"]]
    assert certificates(iot) == before
