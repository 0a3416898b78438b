"""Benchmark set-up: each Lambda function's own python3.13 environment under .bench/, built for this machine.

A function's folder holds what its zip holds - its pinned requirements (`<package>/requirements.txt`, the
list `make package` vendors), core/ and its own package - and a shared folder stands in for the SDK the
Lambda runtime provides (boto3 at the local extra's pin, with its dependencies, without awscrt). Every module
on both is compiled by python3.13 with unchecked-hash bytecode, as the zips are, so the floor and the handler
get the same bytecode treatment. Requirements are installed again only when their file changes; the
project's own packages are copied and compiled fresh on every run.
"""
from __future__ import annotations

import hashlib
import shutil
import subprocess
import tomllib
from dataclasses import dataclass
from pathlib import Path

from deploy.package import PackageError, find_python313

ROOT = Path(__file__).resolve().parents[2]
BENCH = ROOT / ".bench"
# (logical id in template.yaml, package, handler module); the handler name is lambda_handler for all three.
FUNCTIONS = (
    ("ApiFunction", "api", "api.handler"),
    ("SkillFunction", "skills", "skills.handler"),
    ("ButtonFunction", "iot", "iot.handler"),
)
# Nothing that a Lambda zip or the runtime would not have: awscrt in particular slows every botocore import.
FORBIDDEN = ("awscrt", "moto", "pytest", "hypothesis")


class SetupError(Exception):
    pass


@dataclass(frozen=True)
class Environment:
    function: str
    package: str
    module: str
    stage: Path  # what the zip holds
    sdk: Path  # what the runtime provides
    python: str


def _pip(python: str, target: Path, args: list[str]) -> None:
    command = [python, "-m", "pip", "install", "--quiet", "--disable-pip-version-check", "--no-warn-script-location",
               "--no-compile", "--target", str(target), *args]
    result = subprocess.run(command, capture_output=True, text=True)
    if result.returncode != 0:
        raise SetupError(f"pip install into {target} failed:\n{result.stdout}{result.stderr}")


def _compile(python: str, *folders: Path) -> None:
    result = subprocess.run([python, "-m", "compileall", "-q", "-f", "-j", "0", "--invalidation-mode", "unchecked-hash",
                             *map(str, folders)], capture_output=True, text=True)
    if result.returncode != 0:
        raise SetupError(f"compileall failed:\n{result.stdout}{result.stderr}")


def _fingerprint(*parts: str) -> str:
    return hashlib.sha256("\0".join(parts).encode()).hexdigest()


def _requirements(package: str) -> list[str]:
    """The function's own pinned list; before packaging existed, pyproject's pins for it (with their deps)."""
    listed = ROOT / package / "requirements.txt"
    if listed.exists():
        return ["--no-deps", "--requirement", str(listed)]
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    pins = list(project["dependencies"])
    if package == "skills":
        pins += project["optional-dependencies"]["skill"]
    return pins


def _sdk(python: str) -> Path:
    local_extra = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["optional-dependencies"]["local"]
    boto3_pin = next(pin for pin in local_extra if pin.lower().startswith("boto3=="))
    sdk = BENCH / "runtime-sdk"
    stamp = sdk / ".stamp"
    want = _fingerprint(python, boto3_pin)
    if not stamp.exists() or stamp.read_text() != want:
        shutil.rmtree(sdk, ignore_errors=True)
        _pip(python, sdk, [boto3_pin])
        _compile(python, sdk)
        stamp.write_text(want)
    return sdk


def _stage(python: str, function: str, package: str) -> Path:
    stage = BENCH / function
    stamp = stage / ".stamp"
    args = _requirements(package)
    listed = ROOT / package / "requirements.txt"
    want = _fingerprint(python, *args, listed.read_text() if listed.exists() else "")
    if not stamp.exists() or stamp.read_text() != want:
        shutil.rmtree(stage, ignore_errors=True)
        stage.mkdir(parents=True)
        _pip(python, stage, args)
        shutil.rmtree(stage / "bin", ignore_errors=True)
        _compile(python, stage)
        stamp.write_text(want)
    for name in ("core", package):
        shutil.rmtree(stage / name, ignore_errors=True)
        shutil.copytree(
            ROOT / name, stage / name, ignore=shutil.ignore_patterns("__pycache__", "*.pyc", "requirements.txt")
        )
        _compile(python, stage / name)
    return stage


def build() -> list[Environment]:
    try:
        python = find_python313()
    except PackageError as missing:
        raise SetupError(str(missing)) from None
    BENCH.mkdir(exist_ok=True)
    sdk = _sdk(python)
    environments = []
    for function, package, module in FUNCTIONS:
        stage = _stage(python, function, package)
        found = [name for name in FORBIDDEN for folder in (stage, sdk) if (folder / name).exists()]
        if found:
            raise SetupError(f"{function}'s environment holds {', '.join(found)}")
        environments.append(Environment(function, package, module, stage, sdk, python))
    return environments
