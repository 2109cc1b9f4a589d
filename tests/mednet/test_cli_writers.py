"""The commands that write region, table and travel files do it all or none, with the user's umask; a
read-only folder or a full disk is one line and exit 2, and nothing is left behind."""

import errno
import os
import pathlib
from pathlib import Path

import pytest

from mednet.cli import main

ROOT = Path(__file__).resolve().parents[2]
OD = ROOT / "examples" / "quzhou_od_example.csv"


def bundle(tmp_path: Path) -> Path:
    """minhang as a FHIR Bundle (the input the import command reads fastest)."""
    path = tmp_path / "in" / "minhang.fhir.json"
    path.parent.mkdir()
    assert main(["export", "minhang", "-o", str(path), "--format", "fhir"]) == 0
    return path


#: (the command's arguments with {out} for its output file, the output's name, needs a FHIR input)
COMMANDS = [
    (["import", "{bundle}", "-o", "{out}"], "minhang.json"),
    (["init", "龙游县", "--id", "ly", "-o", "{out}"], "ly.xlsx"),
    (["export", "minhang", "-o", "{out}"], "m.xlsx"),
    (["export", "minhang", "-o", "{out}", "--format", "fhir"], "m.json"),
    (["travel", "import-od", "quzhou", str(OD), "--source", "illustrative example", "-o", "{out}"],
     "quzhou.travel.json"),
]


def argv(command: list[str], out: Path, tmp_path: Path) -> list[str]:
    fhir = bundle(tmp_path) if "{bundle}" in command else None
    return [a.format(out=out, bundle=fhir) for a in command]


@pytest.fixture
def umask_022():
    old = os.umask(0o022)
    yield
    os.umask(old)


@pytest.mark.parametrize(("command", "name"), COMMANDS)
def test_written_files_are_0644_under_umask_022(tmp_path, capsys, umask_022, command, name):
    out = tmp_path / name
    assert main(argv(command, out, tmp_path)) == 0, capsys.readouterr().err
    assert out.stat().st_mode & 0o777 == 0o644
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []  # no temporary file left


@pytest.mark.parametrize(("command", "name"), COMMANDS)
def test_a_read_only_folder_is_one_line_exit_2_and_writes_nothing(tmp_path, monkeypatch, capsys, command, name):
    args = argv(command, tmp_path / "out" / name, tmp_path)
    (tmp_path / "out").mkdir()
    capsys.readouterr()

    def refuse(*_args, dir=None, **_kwargs):
        raise OSError(errno.EROFS, "Read-only file system", dir)
    monkeypatch.setattr("tempfile.mkstemp", refuse)
    assert main(args) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Read-only file system (EROFS)" in err and "Traceback" not in err
    assert list((tmp_path / "out").iterdir()) == []


@pytest.mark.parametrize(("command", "name"), [c for c in COMMANDS if c[1].endswith(".json")])
def test_a_full_disk_is_one_line_exit_2_and_leaves_no_file(tmp_path, monkeypatch, capsys, command, name):
    args = argv(command, tmp_path / "out" / name, tmp_path)
    (tmp_path / "out").mkdir()
    capsys.readouterr()

    def full(self, *_args, **_kwargs):
        raise OSError(errno.ENOSPC, "No space left on device", str(self))
    monkeypatch.setattr(pathlib.Path, "write_text", full)
    assert main(args) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and f"{name}: No space left on device (ENOSPC)" in err, err
    assert list((tmp_path / "out").iterdir()) == []
