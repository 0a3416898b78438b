"""The flow runs one way: entry points call core; only core touches pynamodb; nothing in a Lambda loads awscrt."""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
ENTRY_POINTS = ("api", "skills", "iot")


def imports_of(package: str) -> dict[str, set[str]]:
    found: dict[str, set[str]] = {}
    for path in sorted((ROOT / package).rglob("*.py")):
        names: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
            if isinstance(node, ast.Import):
                names.update(alias.name.split(".")[0] for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names.add(node.module.split(".")[0])
        found[str(path.relative_to(ROOT))] = names
    return found


def test_core_imports_no_entry_point_and_no_local_stack():
    for path, names in imports_of("core").items():
        assert not names & {"api", "skills", "iot", "local"}, path


@pytest.mark.parametrize("package", ENTRY_POINTS)
def test_entry_points_never_touch_the_table_directly(package):
    for path, names in imports_of(package).items():
        assert "pynamodb" not in names, path
        assert not {module for module in _core_modules(ROOT / path) if module == "core.table"
                    or module.startswith("core.store")}, path


@pytest.mark.parametrize("package", ENTRY_POINTS)
def test_entry_points_do_not_import_each_other(package):
    others = set(ENTRY_POINTS) - {package} | {"local"}
    for path, names in imports_of(package).items():
        assert not names & others, path


def _core_modules(path: Path) -> set[str]:
    modules: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module == "core":
            modules.update(f"core.{alias.name}" for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("core."):
            modules.add(node.module)
        elif isinstance(node, ast.Import):
            modules.update(alias.name for alias in node.names if alias.name.startswith("core."))
    return modules
