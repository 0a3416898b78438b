"""Integration: the README's walk-through, run as a new user would - every `sh` block in order, in one shell, beside
one fresh local stack - and each `# -> ...` line held against what its commands printed."""
from __future__ import annotations

import re
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

from tests.support.stack import REPO, LocalStack

README = REPO / "README.md"
# Walk-throughs one link away, run after the README's in the same shell (they use what it set), in this order.
MORE = (REPO / "docs" / "CALENDAR.md", REPO / "docs" / "SERIES.md", REPO / "docs" / "SIGNING-IN.md")
# The walk-through: the sections from the curl story to the one before the architecture.
FIRST_SECTION, AFTER_LAST = "## Try it with curl", "## How it fits together"
# Where the README has the reader restart `make run` with other settings (an HTML comment, unseen on the page).
RESTART = re.compile(r"<!-- the README test restarts the stack here with (?P<settings>[A-Z_=a-z ]+) -->")
BLOCK = re.compile(r"^```sh\n(?P<body>.*?)^```\n", re.S | re.M)
EXPECT = re.compile(r"^\s*# -> (?P<text>.*)$")
CONTINUED = re.compile(r"^\s*#\s{3,}(?P<text>.*)$")
EXIT_CODE = re.compile(r"\s*\(exit code (?P<code>\d+)\)\s*$")
SHELL_TIMEOUT_SECONDS = 180


@dataclass
class Step:
    """Commands, and what the README says they print: `expect` patterns ("..." and <words> stand for anything)."""

    commands: list[str] = field(default_factory=list)
    expect: list[str] = field(default_factory=list)
    exit_code: int = 0


@dataclass
class Part:
    """The blocks between two restarts of the stack, with the settings that stack runs with."""

    settings: dict[str, str]
    steps: list[Step] = field(default_factory=list)


def walkthrough(text: str, *more: str) -> list[Part]:
    section = text[text.index(FIRST_SECTION):text.index(AFTER_LAST)] + "".join(more)
    parts = [Part({})]
    position = 0
    for block in BLOCK.finditer(section):
        restart = RESTART.search(section, position, block.start())
        if restart:
            parts.append(Part(dict(pair.split("=", 1) for pair in restart["settings"].split())))
        position = block.end()
        parts[-1].steps.extend(steps_of(block["body"]))
    return parts


def steps_of(body: str) -> list[Step]:
    steps = [Step()]
    for line in body.splitlines():
        expected, continued = EXPECT.match(line), CONTINUED.match(line)
        if expected:
            steps[-1].expect.append(expected["text"])
        elif continued and steps[-1].expect:
            steps[-1].expect[-1] += " " + continued["text"]
        else:
            if steps[-1].expect:
                steps.append(Step())
            steps[-1].commands.append(line)
    for step in steps:
        for n, pattern in enumerate(step.expect):
            code = EXIT_CODE.search(pattern)
            if code:
                step.exit_code = int(code["code"])
                step.expect[n] = pattern[:code.start()]
    return [step for step in steps if any(c.strip() and not c.lstrip().startswith("#") for c in step.commands)]


def matches(pattern: str, printed: str) -> bool:
    """Whitespace aside, `printed` holds the pattern, with "..." and <placeholders> standing for any text."""
    squeezed = re.sub(r"\s+", "", pattern)
    pieces = re.split(r"\.\.\.|<[a-z][a-z ]*>", squeezed)
    return re.search(".*?".join(map(re.escape, pieces)), re.sub(r"\s+", "", printed), re.S) is not None


MARK = "@@readme-step"


def script(part: Part, stack, variables: Path) -> str:
    """One bash script for a part: the README's lines, pointed at this stack, each step closed by a marker with its
    exit code; the variables the README set are saved for the next part."""
    lines = [f"[ -f {variables} ] && source {variables}", "readme_start_vars=$(compgen -v)"]
    for n, step in enumerate(part.steps):
        lines += [c.replace("127.0.0.1:3000", f"127.0.0.1:{stack.http_port}") for c in step.commands]
        lines.append(f"printf '\\n{MARK} {n} %d\\n' $?")
    lines.append(f"for v in $(comm -13 <(echo \"$readme_start_vars\" | sort) <(compgen -v | sort)); do "
                 f"[[ $v == [A-Z]* ]] && declare -p $v; done >> {variables}")
    return "\n".join(lines) + "\n"


def outputs(printed: str) -> dict[int, tuple[int, str]]:
    found, chunk = {}, []
    for line in printed.splitlines():
        if line.startswith(MARK):
            _, n, code = line.split()
            found[int(n)] = (int(code), "\n".join(chunk))
            chunk = []
        else:
            chunk.append(line)
    return found


def test_the_readme_walkthrough_parses_into_checked_steps():
    parts = walkthrough(README.read_text(), *(path.read_text() for path in MORE))
    steps = [step for part in parts for step in part.steps]
    assert len(parts) >= 2 and parts[1].settings == {"TURNOUT_AUTH": "on"}
    assert sum(len(step.expect) for step in steps) >= 15
    assert any(step.exit_code for step in steps)
    assert matches('{..."going":2,...}', '{"event_id":"x","going": 2,"waitlisted":0}')
    assert not matches('{"going":2,...}', '{"going":3}')
    assert matches("Check-in opens Fri <day> 05:00.", "Check-in opens Fri 06 Jun 05:00.")


def test_every_readme_block_runs_in_order_and_prints_what_the_readme_says(tmp_path):
    parts = walkthrough(README.read_text(), *(path.read_text() for path in MORE))
    variables = tmp_path / "variables.sh"
    stack = LocalStack(tmp_path / "data", tmp_path / "stack.log")
    failures: list[str] = []
    try:
        for n, part in enumerate(parts):
            if n:  # the reader stops `make run` and starts it again with other settings, on the same data
                stack.stop()
            stack.settings = part.settings
            stack.start()
            failures += run_part(part, stack, variables)
            if failures:
                break
    finally:
        if stack.process is not None and stack.process.poll() is None:
            stack.stop()
    assert not failures, "\n\n".join(failures) + f"\n\nstack log:\n{stack.log()[-4000:]}"


def run_part(part: Part, stack: LocalStack, variables: Path) -> list[str]:
    environment = stack.environment()
    ran = subprocess.run(["bash", "-c", script(part, stack, variables)], cwd=REPO, env=environment,
                         capture_output=True, text=True, timeout=SHELL_TIMEOUT_SECONDS)
    printed = outputs(ran.stdout)
    failures = []
    for n, step in enumerate(part.steps):
        shown = "\n".join(step.commands).strip()
        if n not in printed:
            return failures + [f"never reached:\n{shown}\nstderr:\n{ran.stderr[-2000:]}"]
        code, output = printed[n]
        if code != step.exit_code:
            failures.append(f"exit code {code}, README says {step.exit_code}:\n{shown}\nprinted:\n{output}")
        failures += [f"README says it prints {want!r}:\n{shown}\nprinted:\n{output}"
                     for want in step.expect if not matches(want, output)]
    return failures
