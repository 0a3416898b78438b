"""core.services names each service once in ROOMS and imports its room on first use: the names the type checker
reads (the TYPE_CHECKING imports) are those ROOMS lists, and each resolves to its room's own object."""
from __future__ import annotations

import ast
import subprocess
import sys
from importlib import import_module
from pathlib import Path

import pytest

from core import services

ROOT = Path(__file__).resolve().parents[2]


def _checked_imports() -> dict[str, set[str]]:
    """What the package's `if TYPE_CHECKING:` block imports, by module."""
    tree = ast.parse((ROOT / "core" / "services" / "__init__.py").read_text())
    block = next(node for node in tree.body if isinstance(node, ast.If) and ast.unparse(node.test) == "TYPE_CHECKING")
    found: dict[str, set[str]] = {}
    for node in block.body:
        assert isinstance(node, ast.ImportFrom) and node.module
        found.setdefault(node.module, set()).update(alias.name for alias in node.names)
    return found


def test_the_type_checker_reads_the_names_rooms_lists():
    assert _checked_imports() == {room: set(names) for room, names in services.ROOMS.items()}


@pytest.mark.parametrize("name", services.__all__)
def test_each_name_is_its_rooms_own(name):
    room = next(room for room, names in services.ROOMS.items() if name in names)
    assert getattr(services, name) is getattr(import_module(room), name)


def test_a_name_no_room_offers_is_an_attribute_error():
    with pytest.raises(AttributeError, match="no_such_service"):
        services.no_such_service  # noqa: B018


def test_a_fresh_import_loads_no_room_until_a_name_is_read():
    probe = ("import sys; from core import services; before = sorted(m for m in sys.modules if m.startswith("
             "'core.services.')); services.sign_up; print(before, 'core.services.signups' in sys.modules, "
             "'core.services.people' in sys.modules)")
    result = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[] True False"
