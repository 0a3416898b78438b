"""Import directions at the API edge, stricter than test_import_directions: only core's services, their vocabulary."""
from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
STORAGE = {"pynamodb", "boto3", "botocore"}
# What an entry point may take from core: services to call, the rules of who may call them (access) with the
# settings that name the caller's claims (config), the values, errors and checks they speak in, the one clock
# (clock), and the start-up bracket around the entry point's own imports (startup).
# core.feeds is a service module too, the calendar feeds'; core.logs and
# core.metrics carry the correlation id and the business metrics the edges write; core.organizers is a service too:
# who organizes, kept by the identity provider rather than the table.
CORE_FOR_EDGES = {"core.services", "core.services.devices", "core.services.events", "core.services.people",
                  "core.services.signups", "core.feeds", "core.access", "core.config", "core.values",
                  "core.member_values", "core.errors", "core.validation", "core.clock", "core.startup", "core.logs",
                  "core.metrics", "core.organizers",
                  # a series: its service, and its rule's vocabulary; an organizer moving someone up
                  "core.services.series", "core.recurrence", "core.services.waitlist",
                  "core.lines",  # why a party waits, as facts each edge words
                  "core.fields"}  # an event's fields, which the API's bodies, answers and document are built from


def imported(path: Path) -> set[str]:
    """Every module a file imports, at the top or inside a function, as full dotted names."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module)
            # `from core import services` imports the module core.services.
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


def api_modules() -> list[Path]:
    found = sorted((ROOT / "api").glob("*.py"))
    assert {path.name for path in found} >= {"__init__.py", "handler.py", "routes.py", "request.py", "render.py",
                                             "openapi.py"}
    return found


def test_the_collector_sees_imports_inside_functions(tmp_path):
    sample = tmp_path / "sample.py"
    sample.write_text("def later():\n    import boto3\n    from pynamodb.models import Model\n")
    assert {"boto3", "pynamodb.models"} <= imported(sample)


def test_api_imports_neither_pynamodb_nor_boto3():
    for path in api_modules():
        storage = {name for name in imported(path) if name.split(".")[0] in STORAGE}
        assert not storage, f"{path.name} imports {storage}"


def test_api_takes_from_core_only_services_access_and_their_vocabulary():
    for path in api_modules():
        # core's modules sit one level down, so `core.errors.TurnoutError` counts as core.errors.
        core_modules = {".".join(name.split(".")[:2]) for name in imported(path) if name.startswith("core.")}
        assert core_modules <= CORE_FOR_EDGES, f"{path.name} imports {core_modules - CORE_FOR_EDGES}"


def test_a_fresh_import_of_the_handler_loads_no_boto3_and_no_openapi_document():
    # boto3 would add its own import time to every cold start; the document is built only when asked for, and so
    # are the web page's files and the calendar file with its library, and the services' rooms with their items.
    late = ('boto3', 'api.openapi', 'api.web', 'api.ics', 'icalendar', 'core.services.people', 'core.store.people',
            'core.store.notices', 'core.store.pairing', 'core.store.feeds')
    probe = f"import sys, api.handler; print(sorted(m for m in {late!r} if m in sys.modules))"
    result = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"
