"""core/metrics.py: counts become CloudWatch embedded metric format documents, one per dimension value, written only
in Lambda; the local stack's summary prints the same counts every minute and on stop."""
from __future__ import annotations

import json
import time
from collections import Counter

import pytest

from core import metrics
from local.summary import MetricsSummary


@pytest.fixture(autouse=True)
def nothing_pending():
    metrics.flush(write=False)
    yield
    metrics.flush(write=False)


def test_each_dimension_value_is_one_document_and_plain_counts_share_one():
    documents = metrics.documents({(metrics.SIGN_UPS, None): 2, (metrics.CANCELS, None): 1,
                                  (metrics.NOTICES, "email"): 1, (metrics.NOTICES, "button"): 3}, "Turnout/test", 1000)
    plain = [d for d in documents if "Channel" not in d]
    assert plain == [{"_aws": {"Timestamp": 1000, "CloudWatchMetrics": [{
        "Namespace": "Turnout/test", "Dimensions": [[]],
        "Metrics": [{"Name": "Cancels", "Unit": "Count"}, {"Name": "SignUps", "Unit": "Count"}]}]},
        "Cancels": 1, "SignUps": 2}]
    by_channel = {d["Channel"]: d for d in documents if "Channel" in d}
    assert by_channel["button"]["Notices"] == 3 and by_channel["email"]["Notices"] == 1
    assert by_channel["email"]["_aws"]["CloudWatchMetrics"][0]["Dimensions"] == [["Channel"]]


def test_a_metric_is_counted_by_its_own_dimension_only():
    with pytest.raises(ValueError):
        metrics.count(metrics.SIGN_UPS, "email")
    with pytest.raises(ValueError):
        metrics.count(metrics.NOTICES)


def test_flush_writes_emf_lines_in_lambda_and_adds_up_totals_everywhere(capsys):
    before = metrics.totals[(metrics.CLICKS, "SINGLE")]
    metrics.count(metrics.CLICKS, "SINGLE")
    metrics.count(metrics.REFUSALS, "EventFull")
    assert metrics.flush(write=True) == {(metrics.CLICKS, "SINGLE"): 1, (metrics.REFUSALS, "EventFull"): 1}
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert {(d.get("ClickType"), d.get("Code")) for d in lines} == {("SINGLE", None), (None, "EventFull")}
    assert metrics.totals[(metrics.CLICKS, "SINGLE")] == before + 1
    metrics.count(metrics.CLICKS, "LONG")
    metrics.flush(write=False)
    assert capsys.readouterr().out == ""
    assert metrics.flush(write=True) == {}  # nothing pending: nothing written
    assert capsys.readouterr().out == ""


def test_the_summary_line_says_sign_ups_notices_and_errors():
    counts = Counter({(metrics.SIGN_UPS, None): 3, (metrics.WAITLIST_JOINS, None): 1, (metrics.NOTICES, "button"): 1,
                      (metrics.NOTICES, "email"): 2, (metrics.FAULTS, None): 1})
    line = metrics.summary(counts)
    assert "sign-ups 3 (+1 waitlisted)" in line
    assert "notices 3 (button 1, email 2)" in line
    assert line.endswith("errors 1")


def test_the_local_summary_prints_on_its_minute_and_on_stop():
    said: list[str] = []
    summary = MetricsSummary(every_seconds=0.01, say=said.append)
    summary.start()
    assert summary.ready()
    deadline = time.monotonic() + 5
    while not said and time.monotonic() < deadline:
        time.sleep(0.005)
    summary.stop()
    assert len(said) >= 2
    assert all(line.startswith("turnout: metrics so far: sign-ups ") for line in said)
    assert not summary.ready()
