"""Deployment: builds each function's zip named in template.yaml, offline-checkable, for python3.13 on arm64.

    python -m deploy.package            # all functions (what `make package` runs)
    python -m deploy.package ApiFunction

A function's zip holds core/, its own package (the Handler's first name), its own pinned requirements
(<package>/requirements.txt) and its plain files (ASSETS: the API's web page), installed for CPython 3.13 on
manylinux2014_aarch64 from wheels only, with every module compiled by python3.13. The build then refuses the zip if a
forbidden package got in, a module lacks its bytecode, an extension module is not built for CPython 3.13 on arm64, a
requirement is unmet, or the handler does not import from the zip alone (its extension modules swapped, for that check
only, for this machine's build of the same pinned version)."""
from __future__ import annotations

import argparse
import glob
import os
import shutil
import subprocess
import sys
import tempfile
import tomllib
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from importlib.metadata import Distribution, distributions
from pathlib import Path
from typing import TypedDict

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from deploy.template import load_template

ROOT = Path(__file__).resolve().parent.parent
TEMPLATE = ROOT / "template.yaml"
OUT = ROOT / "build" / "lambda"
SHARED_PACKAGE = "core"
# Folders of plain files a function's zip carries beside its code: the API function serves the web page.
ASSETS = {"api": ("web",)}
PYTHON_VERSION = "3.13"
PLATFORM = "manylinux2014_aarch64"
# The environment Requires-Dist markers are evaluated in: the Lambda python3.13 runtime on arm64.
LAMBDA_MARKERS = {
    "python_version": PYTHON_VERSION,
    "python_full_version": f"{PYTHON_VERSION}.0",
    "implementation_name": "cpython",
    "platform_python_implementation": "CPython",
    "platform_machine": "aarch64",
    "platform_system": "Linux",
    "sys_platform": "linux",
    "os_name": "posix",
    "extra": "",
}
# The Lambda Python runtime ships the AWS SDK. Vendoring it would make every function several times larger
# (docs/SCALING.md, "Sizes behind two choices") for APIs (DynamoDB items, IoT Publish) that every runtime SDK
# release has; pynamodb and core/buttons.py use the runtime's copy.
RUNTIME_PROVIDED = frozenset({"boto3", "botocore", "s3transfer", "jmespath"})
# Top-level names no function may carry: test and dev tools, the local stack, the device's packages (awsiotsdk and
# its native awscrt; gpiozero and its colorzero, for a Raspberry Pi), and the SDK the runtime already has.
FORBIDDEN = frozenset({
    "awscrt", "awsiot", "gpiozero", "colorzero", "moto", "pytest", "_pytest", "hypothesis", "cfnlint", "samtranslator",
    "amqtt",
    "yaml", "flask", "werkzeug", "pip", "setuptools", "tests", "local", "deploy", *RUNTIME_PROVIDED,
})
# An extension module in a zip must load in the runtime: CPython 3.13's ABI (or the stable one), aarch64 ELF.
EXTENSION_TAGS = (".cpython-313-aarch64-linux-gnu.so", ".abi3.so")
ELF_AARCH64 = 183  # e_machine
# From when Lambda blocks updates to functions on each Python runtime (its runtime deprecation table). A build
# is refused from that day and warned about in the year before it: the date matters when deploying, so it is
# checked here, on the day of the build, rather than by a test that would fail on some future day.
RUNTIME_BLOCKED_FROM = {
    "python3.10": date(2027, 1, 15),
    "python3.11": date(2027, 8, 31),
    "python3.12": date(2029, 1, 10),
    "python3.13": date(2029, 8, 31),
    "python3.14": date(2029, 8, 31),
}
RUNTIME_WARNING = timedelta(days=365)
FIXED_TIME = (1980, 1, 1, 0, 0, 0)  # zip entries carry no build time, so the same inputs give the same zip


class PackageError(Exception):
    pass


@dataclass(frozen=True)
class Function:
    name: str  # the template's logical id
    handler: str  # module.function
    artifact: Path  # the CodeUri: what this module builds

    @property
    def package(self) -> str:
        return self.handler.split(".", 1)[0]

    @property
    def module(self) -> str:
        return self.handler.rsplit(".", 1)[0]

    @property
    def requirements(self) -> Path:
        return ROOT / self.package / "requirements.txt"


def functions(template: Path = TEMPLATE) -> list[Function]:
    """Every AWS::Serverless::Function in the template, with its Handler and CodeUri."""
    found = []
    for name, resource in load_template(template)["Resources"].items():
        if resource["Type"] == "AWS::Serverless::Function":
            props = resource["Properties"]
            found.append(Function(name, props["Handler"], ROOT / props["CodeUri"]))
    return found


def template_runtime(template: Path = TEMPLATE) -> str:
    return load_template(template)["Globals"]["Function"]["Runtime"]


def runtime_notice(runtime: str, today: date) -> str | None:
    """A warning for a runtime Lambda stops updating within a year of `today`; None with more time left.
    Raises PackageError for a runtime it no longer updates, or one this table does not know."""
    blocked = RUNTIME_BLOCKED_FROM.get(runtime)
    if blocked is None:
        raise PackageError(f"{runtime} is not a Python runtime this build knows (RUNTIME_BLOCKED_FROM)")
    if today >= blocked:
        raise PackageError(f"AWS Lambda blocks updates to functions on {runtime} since {blocked}: move template.yaml "
                           "and PYTHON_VERSION to a newer runtime")
    if blocked - today <= RUNTIME_WARNING:
        return f"warning: AWS Lambda blocks updates to functions on {runtime} from {blocked}; plan the move"
    return None


def pinned(path: Path) -> dict[str, str]:
    """name -> version of a requirements file where every line is `name==version` (comments allowed)."""
    pins: dict[str, str] = {}
    for line in path.read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        requirement = Requirement(line)
        spec = list(requirement.specifier)
        if len(spec) != 1 or spec[0].operator != "==" or requirement.marker or requirement.extras:
            raise PackageError(f"{path}: {line!r} is not a plain name==version pin")
        pins[canonicalize_name(requirement.name)] = spec[0].version
    return pins


def unmet_requirements(dists: Iterable[Distribution], provided: Iterable[str] = RUNTIME_PROVIDED) -> list[str]:
    """What these distributions require on the Lambda runtime that neither they nor the runtime provide."""
    have = {canonicalize_name(d.metadata["Name"]): d.version for d in dists}
    runtime = {canonicalize_name(name) for name in provided}
    unmet = []
    for dist in dists:
        for text in dist.requires or []:
            requirement = Requirement(text)
            if requirement.marker and not requirement.marker.evaluate(LAMBDA_MARKERS):
                continue
            name = canonicalize_name(requirement.name)
            if name in runtime:
                continue
            if name not in have or not requirement.specifier.contains(have[name], prereleases=True):
                unmet.append(f"{dist.metadata['Name']} needs {requirement} (has {have.get(name, 'nothing')})")
    return unmet


def find_python313() -> str:
    """python3.13 for compileall and the import check: $PYTHON313, the PATH, or pyenv's 3.13 install."""
    candidates = [os.environ.get("PYTHON313"), shutil.which("python3.13")]
    pyenv_root = os.environ.get("PYENV_ROOT", str(Path.home() / ".pyenv"))
    candidates += sorted(
        glob.glob(f"{pyenv_root}/versions/{PYTHON_VERSION}.*/bin/python{PYTHON_VERSION}"), reverse=True
    )
    for candidate in filter(None, candidates):
        probe = subprocess.run(
            [candidate, "-c", "import sys; print(sys.version_info[:2])"], capture_output=True, text=True
        )
        if probe.returncode == 0 and probe.stdout.strip() == "(3, 13)":
            return candidate
    raise PackageError("python3.13 not found: install it (pyenv install 3.13) or set PYTHON313")


def _pip_install(target: Path, args: list[str]) -> None:
    command = [
        sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check", "--no-warn-script-location",
        "--target", str(target), "--no-compile", "--only-binary=:all:", "--platform", PLATFORM,
        "--python-version", PYTHON_VERSION, "--implementation", "cp", *args,
    ]
    result = subprocess.run(command, capture_output=True, text=True)
    if result.returncode != 0:
        raise PackageError(f"pip install into {target} failed:\n{result.stdout}{result.stderr}")


def _copy_package(name: str, stage: Path) -> None:
    shutil.copytree(
        ROOT / name, stage / name,
        # *.service: the Raspberry Pi button's systemd unit (iot/), which only a device installs.
        ignore=shutil.ignore_patterns("__pycache__", "*.pyc", "requirements.txt", "*.service"),
    )


def _compile(python: str, stage: Path) -> None:
    # unchecked-hash: the bytecode is used as is, never re-validated against source mtimes that a zip does
    # not keep; -s/-p put /var/task, where Lambda unpacks the zip, into tracebacks.
    result = subprocess.run(
        [python, "-m", "compileall", "-q", "-j", "0", "--invalidation-mode", "unchecked-hash",
         "-s", str(stage), "-p", "/var/task", str(stage)],
        capture_output=True, text=True,
    )
    if result.returncode != 0:
        raise PackageError(f"compileall failed in {stage}:\n{result.stdout}{result.stderr}")


def _zip(stage: Path, artifact: Path) -> None:
    artifact.parent.mkdir(parents=True, exist_ok=True)
    tmp = artifact.with_suffix(".zip.tmp")
    with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        for path in sorted(stage.rglob("*")):
            name = path.relative_to(stage).as_posix()
            if path.is_dir():
                info = zipfile.ZipInfo(name + "/", FIXED_TIME)
                info.external_attr = (0o40755 << 16) | 0x10  # a directory, readable by Lambda's runtime user
                archive.writestr(info, b"")
                continue
            info = zipfile.ZipInfo(name, FIXED_TIME)
            info.external_attr = 0o100644 << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, path.read_bytes())
    tmp.replace(artifact)


def top_level_names(names: Iterable[str]) -> set[str]:
    """The importable top-level names of a zip's entries (a/b.py -> a, c.py -> c), dist-info folders aside."""
    tops = set()
    for name in names:
        name = name.rstrip("/")
        first = name.split("/", 1)[0]
        if first.endswith((".dist-info", ".data")):
            continue
        tops.add(first.split(".", 1)[0] if "/" not in name else first)
    return tops


def problems(artifact: Path, function: Function, everyone: list[Function]) -> list[str]:
    """Why this zip must not ship: forbidden or foreign packages, modules without python3.13 bytecode."""
    with zipfile.ZipFile(artifact) as archive:
        names = archive.namelist()
        # The first bytes of each extension module: its ELF header says which machine it was built for.
        headers = {name: archive.read(name)[:20] for name in names if name.endswith(".so")}
    found: list[str] = []
    tops = top_level_names(names)
    foreign = {f.package for f in everyone} - {function.package}
    for name in sorted(tops & (FORBIDDEN | foreign)):
        found.append(f"{name} must not be in {function.name}")
    for needed in (SHARED_PACKAGE, function.package):
        if needed not in tops:
            found.append(f"{needed}/ is missing")
    entries = set(names)
    for name in names:
        if name.endswith(".py"):
            folder, _, module = name.rpartition("/")
            compiled = f"{folder}/__pycache__/{module[:-3]}.cpython-313.pyc".lstrip("/")
            if compiled not in entries:
                found.append(f"{name} has no python3.13 bytecode")
        elif name in headers and not (name.endswith(EXTENSION_TAGS) and _is_aarch64_elf(headers[name])):
            found.append(f"{name} is not an extension module built for CPython 3.13 on arm64")
    return found


def _is_aarch64_elf(header: bytes) -> bool:
    # ELF magic, 64-bit, little-endian; e_machine at offset 18.
    return header[:6] == b"\x7fELF\x02\x01" and int.from_bytes(header[18:20], "little") == ELF_AARCH64


def _host_builds(python: str, vendored: list[Distribution]) -> list[Path]:
    """This machine's build of each vendored distribution that carries extension modules (same pinned version),
    for the import check only: the zip's own are for arm64 and cannot load here. One folder per distribution,
    kept between builds."""
    folders = []
    for dist in vendored:
        if not any(str(file).endswith(".so") for file in dist.files or ()):
            continue
        pin = f"{dist.metadata['Name']}=={dist.version}"
        host = OUT / ".host-builds" / pin.replace("==", "-")
        if not host.is_dir():
            result = subprocess.run([python, "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
                                     "--no-deps", "--only-binary=:all:", "--no-compile", "--target", str(host), pin],
                                    capture_output=True, text=True)
            if result.returncode != 0:
                shutil.rmtree(host, ignore_errors=True)
                raise PackageError(f"pip could not fetch this machine's build of {pin}:\n{result.stderr}")
        folders.append(host)
    return folders


def _import_check(python: str, unpacked: Path, sdk: Path, function: Function, host_builds: list[Path]) -> None:
    """Imports the handler with python3.13 from the unpacked zip plus the runtime's SDK, and nothing else but
    host_builds: this machine's build of the zip's extension modules, found first."""
    env = {
        "PATH": os.environ.get("PATH", ""),
        "AWS_REGION": "us-east-1",
        "AWS_DEFAULT_REGION": "us-east-1",
        "TURNOUT_TABLE": "turnout",
        "TURNOUT_SKILL_ID": "amzn1.ask.skill.00000000-0000-0000-0000-000000000000",
        "TURNOUT_RESULT_PUBLISHER": "iot-data",
    }
    code = (
        "import importlib, sys\n"
        f"sys.path[:0] = {[str(p) for p in (*host_builds, unpacked, sdk)]!r}\n"
        f"module = importlib.import_module({function.module!r})\n"
        f"assert callable(getattr(module, {function.handler.rsplit('.', 1)[1]!r}))\n"
        f"assert module.__spec__.origin.startswith({str(unpacked)!r}), module.__spec__.origin\n"
    )
    # -I: no PYTHONPATH, no user site; -S: not even site-packages; -B: write nothing into the unpacked zip.
    result = subprocess.run(
        [python, "-I", "-S", "-B", "-c", code], capture_output=True, text=True, env=env, cwd=unpacked
    )
    if result.returncode != 0:
        raise PackageError(f"{function.handler} does not import from {function.artifact.name}:\n{result.stderr}")


def runtime_sdk() -> Path:
    """A stand-in for the SDK the Lambda runtime provides, for the import check only (never zipped)."""
    local_extra = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["optional-dependencies"]["local"]
    boto3_pin = next(r for r in local_extra if canonicalize_name(Requirement(r).name) == "boto3")
    sdk = OUT / ".runtime-sdk" / boto3_pin.replace("==", "-")
    if not (sdk / "boto3").is_dir():
        shutil.rmtree(sdk, ignore_errors=True)
        _pip_install(sdk, [boto3_pin])
    return sdk


class BuildReport(TypedDict):
    """What build() says of one function's zip (main prints it)."""

    function: str
    artifact: str
    zipped: int
    unzipped: int
    files: int
    vendored: list[str]


def build(function: Function, python: str, sdk: Path, everyone: list[Function]) -> BuildReport:
    stage = OUT / function.name
    shutil.rmtree(stage, ignore_errors=True)
    stage.mkdir(parents=True)
    pins = pinned(function.requirements)
    if bad := sorted(set(pins) & FORBIDDEN):
        raise PackageError(f"{function.requirements.relative_to(ROOT)} pins forbidden {', '.join(bad)}")
    if pins:
        # --no-deps: the file is the whole closure; unmet_requirements proves nothing is missing.
        _pip_install(stage, ["--no-deps", "--requirement", str(function.requirements)])
    shutil.rmtree(stage / "bin", ignore_errors=True)
    vendored = list(distributions(path=[str(stage)]))
    if unmet := unmet_requirements(vendored):
        raise PackageError(f"{function.name}: unmet requirements:\n  " + "\n  ".join(unmet))
    _copy_package(SHARED_PACKAGE, stage)
    _copy_package(function.package, stage)
    for folder in ASSETS.get(function.package, ()):
        shutil.copytree(ROOT / folder, stage / folder)
    _compile(python, stage)
    _zip(stage, function.artifact)
    if found := problems(function.artifact, function, everyone):
        raise PackageError(f"{function.artifact.relative_to(ROOT)}:\n  " + "\n  ".join(found))
    with tempfile.TemporaryDirectory() as tmp, zipfile.ZipFile(function.artifact) as archive:
        archive.extractall(tmp)
        _import_check(python, Path(tmp), sdk, function, _host_builds(python, vendored))
        unzipped = sum(p.stat().st_size for p in Path(tmp).rglob("*") if p.is_file())
        files = sum(1 for p in Path(tmp).rglob("*") if p.is_file())
    return {
        "function": function.name,
        "artifact": function.artifact.relative_to(ROOT).as_posix(),
        "zipped": function.artifact.stat().st_size,
        "unzipped": unzipped,
        "files": files,
        "vendored": sorted(f"{d.metadata['Name']}=={d.version}" for d in vendored),
    }


def _mib(size: int) -> str:
    return f"{size / 2**20:.2f} MiB"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m deploy.package", description=__doc__.split("\n\n")[0])
    parser.add_argument("names", nargs="*", help="logical ids of the functions to build (default: all)")
    args = parser.parse_args(argv)
    everyone = functions()
    chosen = [f for f in everyone if not args.names or f.name in args.names]
    if unknown := set(args.names) - {f.name for f in everyone}:
        parser.error(f"not a function in template.yaml: {', '.join(sorted(unknown))}")
    try:
        notice = runtime_notice(template_runtime(), date.today())
        if notice:
            print(notice, file=sys.stderr)
        python = find_python313()
        sdk = runtime_sdk()
        print(f"building {len(chosen)} function(s) with {python} for {PLATFORM}")
        built: set[Path] = set()
        for function in chosen:
            if function.artifact in built:  # ReminderFunction runs from NotifyFunction's zip (its own handler)
                print(f"{function.name:<15} {function.artifact.relative_to(ROOT).as_posix():<28} built above")
                continue
            built.add(function.artifact)
            report = build(function, python, sdk, everyone)
            print(f"{report['function']:<15} {report['artifact']:<28} {_mib(report['zipped']):>10} zipped "
                  f"{_mib(report['unzipped']):>10} unzipped {report['files']:>5} files")
            print(f"{'':<15} vendored: {', '.join(report['vendored']) or 'nothing'}")
            print(
                f"{'':<15} checked: no {', '.join(sorted(FORBIDDEN))}; every module compiled; extensions for arm64; "
                "handler imports"
            )
    except PackageError as error:
        print(f"package: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
