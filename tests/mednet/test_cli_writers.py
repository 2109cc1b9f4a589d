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
ROADS = ROOT / "tests" / "fixtures" / "travel"


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
    (["roads", "import", str(ROADS / "handmade_region.json"), str(ROADS / "handmade.osm"), "--output", "{out}"],
     "handmade.travel.json"),
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


#: the commands writing a folder of CSV files (the output names a folder: no suffix)
FOLDER_COMMANDS = [["init", "龙游县", "--id", "ly", "-o", "{out}"], ["export", "minhang", "-o", "{out}"]]


@pytest.mark.parametrize("command", FOLDER_COMMANDS)
def test_a_csv_folder_gets_every_table_0644_under_umask_022(tmp_path, capsys, umask_022, command):
    out = tmp_path / "tables"
    assert main(argv(command, out, tmp_path)) == 0, capsys.readouterr().err
    names = sorted(p.name for p in out.iterdir())
    assert "institutions.csv" in names and "links.csv" in names and all(n.endswith(".csv") for n in names)
    assert {(out / n).stat().st_mode & 0o777 for n in names} == {0o644}


@pytest.mark.parametrize("command", FOLDER_COMMANDS)
def test_a_csv_folder_failing_midway_leaves_no_file_and_no_new_folder(tmp_path, monkeypatch, capsys, command):
    """The third table hits a full disk: the two written before it are not left behind, nor the folder."""
    import pandas as pd

    args = argv(command, tmp_path / "out" / "tables", tmp_path)
    (tmp_path / "out").mkdir()
    capsys.readouterr()
    to_csv, calls = pd.DataFrame.to_csv, []

    def full_at_third(self, target=None, *a, **kw):
        calls.append(target)
        if len(calls) == 3:
            raise OSError(errno.ENOSPC, "No space left on device", str(target))
        return to_csv(self, target, *a, **kw)
    monkeypatch.setattr(pd.DataFrame, "to_csv", full_at_third)
    assert main(args) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "No space left on device (ENOSPC)" in err and "Traceback" not in err, err
    assert "/tables/" in err and ".part" not in err  # names the table asked for, not the temporary file
    assert list((tmp_path / "out").iterdir()) == []


def test_a_csv_folder_keeps_what_was_there_when_writing_fails(tmp_path, monkeypatch, capsys):
    """Writing into an existing folder that fails: the folder and the user's own files stay as they were."""
    out = tmp_path / "tables"
    out.mkdir()
    (out / "notes.txt").write_text("mine")
    (out / "institutions.csv").write_text("old")

    def refuse(*_args, dir=None, **_kwargs):
        raise OSError(errno.EROFS, "Read-only file system", dir)
    monkeypatch.setattr("tempfile.mkstemp", refuse)
    assert main(["export", "minhang", "-o", str(out)]) == 2
    assert sorted(p.name for p in out.iterdir()) == ["institutions.csv", "notes.txt"]
    assert (out / "institutions.csv").read_text() == "old"


@pytest.mark.parametrize("command", [["export", "minhang", "-o", "{out}"], ["init", "龙游县", "-o", "{out}"]])
def test_a_table_output_of_another_kind_is_refused_naming_the_option(tmp_path, capsys, command):
    assert main(argv(command, tmp_path / "x.csv", tmp_path)) == 2
    err = capsys.readouterr().err
    assert "`--output` must end in .xlsx" in err and str(tmp_path / "x.csv") in err
    assert list(tmp_path.iterdir()) == []
