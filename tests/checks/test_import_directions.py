"""The flow runs one way: entry points call core; only core touches pynamodb; nothing in a Lambda loads awscrt."""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
# Every Lambda function's own package: each calls core, none another's.
ENTRY_POINTS = ("api", "skills", "iot", "notify", "accounts")
# What runs beside the functions and may import them: the local stack, packaging and operations.
TOOLS = ("local", "deploy")


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
        assert not names & {*ENTRY_POINTS, *TOOLS}, path


@pytest.mark.parametrize("package", ENTRY_POINTS)
def test_entry_points_never_touch_the_table_directly(package):
    for path, names in imports_of(package).items():
        assert "pynamodb" not in names, path
        assert not {module for module in _core_modules(ROOT / path) if module == "core.table"
                    or module.startswith("core.store")}, path


@pytest.mark.parametrize("package", ENTRY_POINTS)
def test_entry_points_do_not_import_each_other(package):
    others = set(ENTRY_POINTS) - {package} | set(TOOLS)
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


def _module_graph() -> dict[str, set[str]]:
    """Each first-party module -> the first-party modules it imports, at its top or inside a function."""
    packages = ("core", *ENTRY_POINTS, *TOOLS)
    graph: dict[str, set[str]] = {}
    for package in packages:
        for path in sorted((ROOT / package).rglob("*.py")):
            module = ".".join(path.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__")
            found: set[str] = set()
            for node in ast.walk(ast.parse(path.read_text())):
                if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                    found.add(node.module)
                    found.update(f"{node.module}.{alias.name}" for alias in node.names)
                elif isinstance(node, ast.Import):
                    found.update(alias.name for alias in node.names)
            graph[module] = found
    return {module: {name for name in names if name in graph and name != module} for module, names in graph.items()}


def test_no_module_imports_itself_back_through_others():
    graph = _module_graph()
    circles = []
    for start in graph:
        stack, seen = [(start, (start,))], set()
        while stack:
            module, trail = stack.pop()
            for name in graph[module]:
                if name == start:
                    circles.append(" -> ".join((*trail, start)))
                elif name not in seen:
                    seen.add(name)
                    stack.append((name, (*trail, name)))
    assert not circles, "\n".join(sorted(set(circles)))
