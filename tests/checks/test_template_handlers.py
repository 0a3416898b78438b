"""Every Handler in template.yaml imports from what its zip will hold, and each zip's rules catch what they promise.

The import runs in a fresh interpreter that sees only core/, the function's own package, the distributions
its requirements.txt pins and the SDK the Lambda runtime provides: a handler reaching for local/, another
function's package or an undeclared library fails here, before `make package` or AWS."""
from __future__ import annotations

import os
import subprocess
import sys
import tomllib
import zipfile
from importlib.metadata import PackageNotFoundError, distribution
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from deploy import package

ROOT = Path(__file__).resolve().parents[2]
FUNCTIONS = {f.name: f for f in package.functions()}
# The runtime's SDK and what it brings, as the Lambda python3.13 runtime has them.
RUNTIME_SDK = ("boto3", "botocore", "s3transfer", "jmespath", "python-dateutil", "urllib3", "six")


def _top_level(dist_name: str) -> set[Path]:
    """The importable files and folders a distribution installed in this venv."""
    dist = distribution(dist_name)
    tops = set()
    for file in dist.files or []:
        first = file.parts[0]
        if first.endswith((".dist-info", ".egg-info", ".data")) or first in ("..", "__pycache__", "bin"):
            continue
        tops.add(Path(dist.locate_file(first)))
    return tops


def _site(tmp_path: Path, dist_names) -> Path:
    site = tmp_path / "site"
    site.mkdir()
    for name in dist_names:
        for top in _top_level(name):
            link = site / top.name
            if not link.exists():
                link.symlink_to(top)
    return site


def _stage(tmp_path: Path, function: package.Function) -> Path:
    stage = tmp_path / "task"
    stage.mkdir()
    for name in (package.SHARED_PACKAGE, function.package):
        (stage / name).symlink_to(ROOT / name)
    return stage


def _import(function: package.Function, *path: Path) -> subprocess.CompletedProcess:
    return _python(
        f"module = importlib.import_module({function.module!r})\n"
        f"handler = getattr(module, {function.handler.rsplit('.', 1)[1]!r})\n"
        "assert callable(handler), handler\n", *path)


def _python(code: str, *path: Path) -> subprocess.CompletedProcess:
    """Runs code in a fresh interpreter that sees only `path` (and the standard library)."""
    code = f"import importlib, sys\nsys.path[:0] = {[str(p) for p in path]!r}\n{code}"
    env = {
        "PATH": os.environ["PATH"],
        "AWS_REGION": "us-east-1", "AWS_DEFAULT_REGION": "us-east-1",  # Lambda sets both
        "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
        "TURNOUT_TABLE": "turnout", "TURNOUT_RESULT_PUBLISHER": "iot-data",
        "TURNOUT_SKILL_ID": "amzn1.ask.skill.00000000-0000-0000-0000-000000000000",
    }
    # -I: no PYTHONPATH or user site; -S: no site-packages either; -B: nothing written into the repository.
    return subprocess.run([sys.executable, "-I", "-S", "-B", "-c", code], capture_output=True, text=True,
                          env=env, cwd=path[0], timeout=120)


@pytest.mark.parametrize("name", sorted(FUNCTIONS))
def test_handler_imports_from_its_own_package_core_and_pinned_requirements(name, tmp_path):
    function = FUNCTIONS[name]
    stage = _stage(tmp_path, function)
    site = _site(tmp_path, [*package.pinned(function.requirements), *RUNTIME_SDK])
    result = _import(function, stage, site)
    assert result.returncode == 0, result.stderr


# zoneinfo reads the system's database first; with none (a minimal runtime image), only the tzdata package
# can answer. Every event read from the table is put in its own zone (core.table.EventItem.value).
_ZONE_WITHOUT_SYSTEM_DATABASE = (
    "import zoneinfo\n"
    "zoneinfo.reset_tzpath(to=[])\n"
    "from core.table import EventItem\n"
    "item = EventItem('EVENT#ski', 'EVENT', event_id='ski', name='Ski trip', timezone='Europe/Oslo',\n"
    "                 starts_at='2026-07-01T06:00:00.000000Z', closes_at='2026-07-02T00:00:00.000000Z',\n"
    "                 created_at='2026-06-01T06:00:00.000000Z', going=0, waitlisted=0, seats_left=10)\n"
    "assert item.value().starts_at.isoformat() == '2026-07-01T08:00:00+02:00'\n"
)


@pytest.mark.parametrize("name", sorted(FUNCTIONS))
def test_time_zones_load_without_the_system_database(name, tmp_path):
    function = FUNCTIONS[name]
    site = _site(tmp_path, [*package.pinned(function.requirements), *RUNTIME_SDK])
    result = _python(_ZONE_WITHOUT_SYSTEM_DATABASE, _stage(tmp_path, function), site)
    assert result.returncode == 0, result.stderr


def test_time_zones_do_not_load_without_the_system_database_or_tzdata(tmp_path):
    # The check above proves something only if the system's database is really out of reach there.
    function = FUNCTIONS["ApiFunction"]
    pins = [pin for pin in package.pinned(function.requirements) if pin != "tzdata"]
    result = _python(_ZONE_WITHOUT_SYSTEM_DATABASE, _stage(tmp_path, function), _site(tmp_path, [*pins, *RUNTIME_SDK]))
    assert "ZoneInfoNotFoundError" in result.stderr


def test_the_isolated_import_does_fail_without_the_requirements(tmp_path):
    # The check above proves something only if a missing dependency makes it fail.
    function = FUNCTIONS["SkillFunction"]
    result = _import(function, _stage(tmp_path, function), _site(tmp_path, RUNTIME_SDK))
    assert result.returncode != 0
    assert "ModuleNotFoundError" in result.stderr


# --- requirements ------------------------------------------------------------------------------


def _pyproject_pins() -> dict[str, str]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    pins = {}
    extras = project["optional-dependencies"]
    for text in project["dependencies"] + extras["api"] + extras["skill"]:
        requirement = Requirement(text)
        pins[canonicalize_name(requirement.name)] = next(iter(requirement.specifier)).version
    return pins


@pytest.mark.parametrize("name", sorted(FUNCTIONS))
def test_requirements_pin_what_pyproject_pins(name):
    pins = package.pinned(FUNCTIONS[name].requirements)
    project = _pyproject_pins()
    assert pins["pynamodb"] == project["pynamodb"]
    for shared in set(pins) & set(project):
        assert pins[shared] == project[shared], shared


def test_only_the_skill_carries_the_alexa_sdk():
    assert "ask-sdk-core" in package.pinned(FUNCTIONS["SkillFunction"].requirements)
    assert set(package.pinned(FUNCTIONS["ButtonFunction"].requirements)) == {"orjson", "pynamodb", "tzdata"}
    # The API function adds icalendar and its closure, for the calendar file only.
    assert set(package.pinned(FUNCTIONS["ApiFunction"].requirements)) == {
        "orjson", "pynamodb", "tzdata", "icalendar", "python-dateutil", "six"}


@pytest.mark.parametrize("name", sorted(FUNCTIONS))
def test_requirements_are_a_whole_closure_without_the_runtime_sdk(name):
    pins = package.pinned(FUNCTIONS[name].requirements)
    assert not set(pins) & package.FORBIDDEN
    dists = []
    for pin in pins:
        try:
            dists.append(distribution(pin))
        except PackageNotFoundError:
            pytest.fail(f"{pin} is pinned for {name} but not installed here, so no test runs against it")
    # Versions are those installed here; `make package` repeats this on the exact pinned wheels.
    unmet = package.unmet_requirements(dists)
    assert [line for line in unmet if "needs" in line and "(has nothing)" in line] == []


# --- the zip checks ----------------------------------------------------------------------------


def _zip(tmp_path: Path, names: list[str]) -> Path:
    path = tmp_path / "fn.zip"
    with zipfile.ZipFile(path, "w") as archive:
        for name in names:
            archive.writestr(name, b"")
    return path


def _compiled(*modules: str) -> list[str]:
    names = []
    for module in modules:
        folder, _, stem = module.rpartition("/")
        names += [module, f"{folder}/__pycache__/{stem[:-3]}.cpython-313.pyc"]
    return names


def test_a_clean_zip_passes(tmp_path):
    clean = _zip(tmp_path, _compiled("core/__init__.py", "api/__init__.py", "api/handler.py", "pynamodb/__init__.py")
                 + ["pynamodb-6.1.0.dist-info/METADATA"])
    assert package.problems(clean, FUNCTIONS["ApiFunction"], list(FUNCTIONS.values())) == []


@pytest.mark.parametrize("intruder", ["awscrt/__init__.py", "gpiozero/__init__.py", "moto/__init__.py",
                                      "boto3/__init__.py", "botocore/__init__.py", "_pytest/__init__.py",
                                      "tests/__init__.py", "skills/__init__.py", "yaml/__init__.py"])
def test_a_forbidden_or_foreign_package_is_refused(tmp_path, intruder):
    dirty = _zip(tmp_path, _compiled("core/__init__.py", "api/__init__.py", intruder))
    found = package.problems(dirty, FUNCTIONS["ApiFunction"], list(FUNCTIONS.values()))
    assert found == [f"{intruder.split('/')[0]} must not be in ApiFunction"]


def test_a_module_without_python_3_13_bytecode_is_refused(tmp_path):
    stale = _zip(tmp_path, _compiled("core/__init__.py", "api/__init__.py")
                 + ["api/handler.py", "api/__pycache__/handler.cpython-311.pyc"])
    assert package.problems(stale, FUNCTIONS["ApiFunction"], list(FUNCTIONS.values())) == [
        "api/handler.py has no python3.13 bytecode"]


def _elf(machine: int) -> bytes:
    # The first 20 bytes of a 64-bit little-endian ELF shared object: magic, class, data, ..., e_type, e_machine.
    return b"\x7fELF\x02\x01\x01" + bytes(9) + (3).to_bytes(2, "little") + machine.to_bytes(2, "little")


AARCH64, X86_64 = 183, 62


@pytest.mark.parametrize("name, machine, refused", [
    ("orjson/orjson.cpython-313-aarch64-linux-gnu.so", AARCH64, False),
    ("cryptography/hazmat/bindings/_rust.abi3.so", AARCH64, False),
    ("orjson/orjson.cpython-313-x86_64-linux-gnu.so", X86_64, True),  # built for this machine, not Lambda
    ("orjson/orjson.cpython-313-aarch64-linux-gnu.so", X86_64, True),  # named for arm64, built for x86-64
    ("orjson/orjson.cpython-312-aarch64-linux-gnu.so", AARCH64, True),  # another Python's ABI
])
def test_an_extension_module_must_be_built_for_python_3_13_on_arm64(tmp_path, name, machine, refused):
    path = _zip(tmp_path, _compiled("core/__init__.py", "api/__init__.py"))
    with zipfile.ZipFile(path, "a") as archive:
        archive.writestr(name, _elf(machine) + bytes(100))
    found = package.problems(path, FUNCTIONS["ApiFunction"], list(FUNCTIONS.values()))
    assert found == ([f"{name} is not an extension module built for CPython 3.13 on arm64"] if refused else [])


def test_a_zip_without_core_is_refused(tmp_path):
    partial = _zip(tmp_path, _compiled("api/__init__.py"))
    assert package.problems(partial, FUNCTIONS["ApiFunction"], list(FUNCTIONS.values())) == ["core/ is missing"]


def test_an_unpinned_dependency_is_reported():
    # requests needs urllib3, idna, certifi and charset-normalizer; alone, all four are missing.
    unmet = package.unmet_requirements([distribution("requests")])
    assert {line.split(" needs ")[1].split()[0].split("<")[0].split(">")[0] for line in unmet} >= {
        "urllib3",
        "idna",
        "certifi",
    }
    assert package.unmet_requirements([distribution("pynamodb")]) == []  # botocore is the runtime's


def test_a_requirements_line_that_is_not_an_exact_pin_is_refused(tmp_path):
    loose = tmp_path / "requirements.txt"
    loose.write_text("pynamodb>=6\n")
    with pytest.raises(package.PackageError, match="not a plain name==version pin"):
        package.pinned(loose)
