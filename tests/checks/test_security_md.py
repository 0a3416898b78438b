"""SECURITY.md maps each threat to tests by name: every name it gives is a test that exists."""
from __future__ import annotations

import importlib
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
THREATS = ("Forged requests", "Acting for others", "Brute-forced pairing codes", "Replayed clicks",
           "Oversized input", "Overload", "Exposed data")
NODE_ID = re.compile(r"`(tests/[\w/]+\.py)::(\w+)`")


def threat_rows() -> dict[str, str]:
    rows = {}
    for line in (ROOT / "SECURITY.md").read_text().splitlines():
        found = re.match(r"\| \*\*(.+?)\*\* \|", line)
        if found:
            rows[found.group(1)] = line
    return rows


def test_every_threat_has_its_row():
    assert tuple(threat_rows()) == THREATS


def test_every_test_named_exists():
    named = NODE_ID.findall((ROOT / "SECURITY.md").read_text())
    assert len(named) > 20
    for path, name in named:
        module = importlib.import_module(path[:-3].replace("/", "."))
        assert callable(getattr(module, name, None)), f"{path}::{name} is not a test"


def threat_details(threat: str) -> str:
    """The threat's own section below the table: how it is stopped, and the tests that show it."""
    text = (ROOT / "SECURITY.md").read_text()
    start = text.index(f"\n### {threat}\n")
    end = text.find("\n#", start + 1)
    return text[start:end]


def test_every_threat_filled_in_names_a_test():
    for threat, row in threat_rows().items():
        assert "TODO" not in row, threat
        assert NODE_ID.search(threat_details(threat)), threat
