"""The commands that write region, table and travel files do it all or none, with the user's umask; a
read-only folder or a full disk is one line and exit 2, and nothing is left behind."""

import contextlib
import errno
import json
import os
import pathlib
import socket
import stat
import tempfile
import threading
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


# ------------------------------------------------------------------ what a target may be
# A file mednet writes never replaces anything but a regular file: a device or a FIFO is written in place and
# stays what it was, a socket or a folder is refused in one line. The tests make their own nodes.

#: every all-or-none writer, with the name its output must have; init takes --force for an output that exists
WRITERS = [
    *[([*c, "--force"] if c[0] == "init" else c, n) for c, n in COMMANDS],
    (["coverage", "quzhou", "-s", "儿科", "--max-km", "30", "--format", "csv", "-o", "{out}"], "gaps.csv"),
    (["coverage", "quzhou", "-s", "儿科", "--max-km", "30", "--map", "{out}"], "gaps.svg"),
    (["travel", "catchments", "quzhou", "-s", "儿科", "--cost", "km", "--map", "{out}"], "catchments.svg"),
]
WRITER_IDS = [f"{c[0]}-{n}" for c, n in WRITERS]


def device_node(path: Path) -> Path:
    """A character device with /dev/null's numbers, made in the test's own folder."""
    try:
        os.mknod(path, stat.S_IFCHR | 0o666, os.stat(os.devnull).st_rdev)
    except PermissionError:
        pytest.skip("needs-system: root (CAP_MKNOD) to make a device node, as CI runs")
    return path


@pytest.fixture
def own_tmp(tmp_path, monkeypatch):
    """The system's temporary folder for this test only: what a run leaves in it is seen."""
    folder = tmp_path / "systmp"
    folder.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(folder))
    return folder


@pytest.mark.parametrize(("command", "name"), WRITERS, ids=WRITER_IDS)
def test_a_device_is_written_in_place_and_stays_a_device(tmp_path, own_tmp, capsys, command, name):
    dev = tmp_path / "dev"
    dev.mkdir()
    node = device_node(dev / name)
    args = argv(command, node, tmp_path)
    assert main(args) == 0, capsys.readouterr().err
    after = os.lstat(node)
    assert stat.S_ISCHR(after.st_mode) and after.st_rdev == os.stat(os.devnull).st_rdev
    assert leftovers(dev) == [name] and leftovers(own_tmp) == []


@pytest.mark.parametrize(("command", "name"), WRITERS, ids=WRITER_IDS)
def test_a_socket_is_refused_in_one_line_before_anything_is_written(tmp_path, own_tmp, capsys, command, name):
    out = tmp_path / "out"
    out.mkdir()
    args = argv(command, out / name, tmp_path)
    capsys.readouterr()
    with socket.socket(socket.AF_UNIX) as sock:
        sock.bind(str(out / name))
        assert main(args) == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and f"{out / name}: is a socket" in err and "Traceback" not in err, err
        assert stat.S_ISSOCK(os.lstat(out / name).st_mode)
    assert leftovers(out) == [name] and leftovers(own_tmp) == []


@pytest.mark.parametrize(("command", "name"), [WRITERS[3], WRITERS[6], WRITERS[1]], ids=["fhir", "csv", "xlsx"])
def test_a_fifo_gets_the_whole_output_and_stays_a_fifo(tmp_path, own_tmp, capsys, command, name):
    fifo = tmp_path / name
    os.mkfifo(fifo)
    args = argv(command, fifo, tmp_path)
    received: list[bytes] = []
    reader = threading.Thread(target=lambda: received.append(fifo.read_bytes()), daemon=True)
    reader.start()
    try:
        assert main(args) == 0, capsys.readouterr().err
    finally:
        if reader.is_alive() and not received:  # the command never opened it: release the reader
            with contextlib.suppress(OSError):
                os.close(os.open(fifo, os.O_WRONLY | os.O_NONBLOCK))
        reader.join(10)
    data = received[0]
    if name.endswith(".xlsx"):
        assert data[:2] == b"PK"
    elif name.endswith(".json"):
        assert json.loads(data)["resourceType"] == "Bundle"
    else:
        assert data.decode().startswith("institution") or "," in data.decode().splitlines()[0]
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode) and leftovers(own_tmp) == []


def test_a_folder_named_as_a_file_is_refused_in_one_line(tmp_path, capsys):
    (tmp_path / "m.json").mkdir()
    assert main(["export", "minhang", "-o", str(tmp_path / "m.json"), "--format", "fhir"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "m.json: is a folder" in err
    assert list((tmp_path / "m.json").iterdir()) == []


def test_a_device_named_as_a_csv_folder_is_refused_and_stays_a_device(tmp_path, capsys):
    node = device_node(tmp_path / "tables")
    assert main(["export", "minhang", "-o", str(node)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "tables: is not a folder; a folder of files is written here" in err
    assert stat.S_ISCHR(os.lstat(node).st_mode) and leftovers(tmp_path) == ["tables"]


def test_a_link_to_a_regular_file_replaces_the_file_and_keeps_the_link(tmp_path, capsys):
    """As the shell's `>` and an editor's save do: the link still points at the file, which now holds the output."""
    (tmp_path / "shared").mkdir()
    real = tmp_path / "shared" / "m.json"
    real.write_text("old")
    link = tmp_path / "m.json"
    link.symlink_to(real)
    assert main(["export", "minhang", "-o", str(link), "--format", "fhir"]) == 0, capsys.readouterr().err
    assert link.is_symlink() and os.readlink(link) == str(real)
    assert json.loads(real.read_text())["resourceType"] == "Bundle"
    assert leftovers(tmp_path / "shared") == ["m.json"] and leftovers(tmp_path) == ["m.json", "shared"]


def test_a_link_to_nothing_creates_its_target(tmp_path, capsys):
    link = tmp_path / "m.json"
    link.symlink_to(tmp_path / "target.json")
    assert main(["export", "minhang", "-o", str(link), "--format", "fhir"]) == 0, capsys.readouterr().err
    assert link.is_symlink() and json.loads((tmp_path / "target.json").read_text())["resourceType"] == "Bundle"


def test_a_link_to_a_device_writes_the_device(tmp_path, capsys):
    node = device_node(tmp_path / "null")
    (tmp_path / "m.json").symlink_to(node)
    assert main(["export", "minhang", "-o", str(tmp_path / "m.json"), "--format", "fhir"]) == 0
    assert stat.S_ISCHR(os.lstat(node).st_mode) and (tmp_path / "m.json").is_symlink()
    assert leftovers(tmp_path) == ["m.json", "null"]


def leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())
