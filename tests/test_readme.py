"""README's set-up commands are the ones CI runs."""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def setup_commands() -> list[str]:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Set-up", 1)[1]
    block = re.search(r"```sh\n(.*?)```", section, re.S).group(1)
    return [line for line in block.splitlines() if line.strip()]


def test_readme_gives_two_setup_commands_and_ci_runs_them():
    commands = setup_commands()
    assert len(commands) == 2
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8").splitlines()
    assert commands == [line for line in ci if line in commands]


def test_ci_makes_system_tests_mandatory():
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert "MEDNET_REQUIRE_SYSTEM=1" in ci
    assert "postgresql" in ci and "chromium" in ci
