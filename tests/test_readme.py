"""README's set-up commands are the ones CI runs."""

import re
import shlex
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


def test_readme_reads_in_ten_minutes_and_its_links_lead_somewhere():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert len(readme.splitlines()) <= 250
    targets = re.findall(r"\]\(([^)#\s]+)(?:#[^)]*)?\)", readme)
    assert any(t.startswith("docs/tutorials/") for t in targets)
    pictures = [t for t in targets if t.endswith(".png")]
    assert len(pictures) == 2 and all(t.startswith("artifacts/") for t in pictures)  # taken by tests, not committed
    assert not [t for t in targets if t not in pictures and not t.startswith("http") and not (ROOT / t).exists()]
    tests = "\n".join(p.read_text(encoding="utf-8") for p in (ROOT / "tests").rglob("test_*.py"))
    assert not [t for t in pictures if f'"{Path(t).stem}"' not in tests], "a README picture no test takes"


def test_the_version_is_one_and_the_changelog_records_it(capsys):
    import tomllib

    from mednet import __version__
    from mednet.cli import main

    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    assert project["version"] == __version__
    try:
        main(["--version"])
    except SystemExit as done:
        assert done.code == 0
    assert capsys.readouterr().out.strip() == f"mednet {__version__}"
    changelog = (ROOT / "CHANGELOG.md").read_text(encoding="utf-8")
    assert re.findall(r"^## (\d+\.\d+\.\d+)", changelog, re.M)[0] == __version__


def test_every_mednet_command_the_readme_shows_is_one_mednet_accepts():
    from mednet.cli import build_parser

    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    shown = [line.split("  #")[0] for block in re.findall(r"```sh\n(.*?)```", readme, re.S)
             for line in block.splitlines()] + re.findall(r"`((?:\.venv/bin/)?mednet [^`]+)`", readme)
    commands = [shlex.split(line.split("&&")[-1])[1:] for line in shown if re.match(r"\s*(\.venv/bin/)?mednet ", line)
                or "&& .venv/bin/mednet " in line]
    assert len(commands) >= 5
    for words in commands:
        build_parser(words[0]).parse_args(words)  # exits (a failure here) on anything it does not accept
