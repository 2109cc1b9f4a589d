"""Operating-system faults in the CLI: one line and exit 2, all output files or none, the user's umask."""

import contextlib
import errno
import os
import pathlib
import subprocess
import sys

import pytest

from mednet.cli import main

COVERAGE = ["coverage", "quzhou", "-s", "儿科", "--max-km", "30"]
MEDNET = [sys.executable, "-c", "import sys; from mednet.cli import main; sys.exit(main())"]


def one_line(err: str) -> str:
    assert err.count("\n") == 1 and "Traceback" not in err, err
    return err


def leftovers(folder: pathlib.Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


def fail_with(code: int, text: str):
    def write_text(self, *args, **kwargs):
        raise OSError(code, text, str(self))
    return write_text


def test_a_full_disk_is_one_line_exit_2_and_leaves_no_file(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(pathlib.Path, "write_text", fail_with(errno.ENOSPC, "No space left on device"))
    out = tmp_path / "gaps.csv"
    assert main([*COVERAGE, "--format", "csv", "-o", str(out)]) == 2
    err = one_line(capsys.readouterr().err)
    assert "gaps.csv: No space left on device (ENOSPC)" in err
    assert leftovers(tmp_path) == []


def test_a_read_only_folder_is_one_line_exit_2(tmp_path, monkeypatch, capsys):
    def refuse(*args, dir=None, **kwargs):
        raise OSError(errno.EROFS, "Read-only file system", dir)
    monkeypatch.setattr("tempfile.mkstemp", refuse)
    assert main([*COVERAGE, "-o", str(tmp_path / "gaps.txt")]) == 2
    assert "Read-only file system (EROFS)" in one_line(capsys.readouterr().err)
    assert leftovers(tmp_path) == []


def test_a_missing_folder_is_one_line_exit_2(tmp_path, capsys):
    assert main([*COVERAGE, "-o", str(tmp_path / "no" / "such" / "gaps.txt")]) == 2
    assert "所在的文件夹不存在" in one_line(capsys.readouterr().err)  # coverage speaks Chinese by default
    assert main(["validate", str(tmp_path / "missing.json")]) == 2
    one_line(capsys.readouterr().err)


def test_the_map_is_kept_only_when_the_table_is_written_too(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(pathlib.Path, "write_text", fail_with(errno.ENOSPC, "No space left on device"))
    assert main([*COVERAGE, "--map", str(tmp_path / "map.png"), "-o", str(tmp_path / "gaps.txt")]) == 2
    one_line(capsys.readouterr().err)
    assert leftovers(tmp_path) == []  # neither the map nor a temporary file


def test_ctrl_c_while_writing_leaves_no_partial_file(tmp_path, monkeypatch):
    def interrupted(self, text, **kwargs):
        pathlib.Path.write_bytes(self, text.encode()[:10])  # half of it is on disk when Ctrl-C comes
        raise KeyboardInterrupt
    monkeypatch.setattr(pathlib.Path, "write_text", interrupted)
    assert main([*COVERAGE, "--map", str(tmp_path / "map.png"), "-o", str(tmp_path / "gaps.txt")]) == 130
    assert leftovers(tmp_path) == []


def test_written_files_follow_the_umask(tmp_path):
    old = os.umask(0o022)
    try:
        assert main([*COVERAGE, "--map", str(tmp_path / "map.png"), "-o", str(tmp_path / "gaps.txt")]) == 0
        os.umask(0o077)
        assert main([*COVERAGE, "-o", str(tmp_path / "private.txt")]) == 0
    finally:
        os.umask(old)
    modes = {p.name: p.stat().st_mode & 0o777 for p in tmp_path.iterdir()}
    assert modes == {"map.png": 0o644, "gaps.txt": 0o644, "private.txt": 0o600}


@pytest.mark.parametrize(("shell", "words"), [
    ("{cmd} > /dev/full", "No space left on device (ENOSPC)"),
    ("{cmd} >&-", "standard output is closed"),
])
def test_standard_output_faults_are_one_line_exit_2(shell, words):
    cmd = " ".join(f"'{a}'" for a in [*MEDNET, "validate", "quzhou"])
    done = subprocess.run(["bash", "-c", shell.format(cmd=cmd)], capture_output=True, text=True, timeout=120)
    assert done.returncode == 2, done.stderr
    assert words in one_line(done.stderr)


def test_a_reader_that_goes_away_is_one_line_exit_2():
    process = subprocess.Popen([*MEDNET, "validate", "quzhou"], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    process.stdout.close()  # the reader is gone before anything is written
    err = process.stderr.read().decode()
    assert process.wait(timeout=120) == 2
    assert "standard output was closed" in one_line(err)


WITHOUT_LEDGER = [sys.executable, "-c", "import sys; sys.modules['sqlalchemy'] = None; from mednet.cli import main; "
                  "sys.exit(main())"]


def test_without_the_ledger_extra_routing_works_and_the_ledger_commands_name_the_extra():
    """An install without the ``ledger`` extra (no SQLAlchemy): every command used to fail with a traceback
    while the parser was built; now routing runs, and the ledger's commands say what to install."""
    route = subprocess.run([*WITHOUT_LEDGER, "validate", "minhang"], capture_output=True, text=True)
    assert route.returncode == 0 and "Traceback" not in route.stderr, route.stderr
    for command in (["keys", "list"], ["referrals", "list"], ["db", "upgrade"]):
        done = subprocess.run([*WITHOUT_LEDGER, *command], capture_output=True, text=True)
        assert done.returncode == 2, (command, done.stderr)
        assert one_line(done.stderr) == ("mednet: error: sqlalchemy is needed for this: install mednet's 'ledger' "
                                         "extra (pip install 'mednet[ledger]')\n"), command


@pytest.fixture
def default_sigint():
    """Ctrl-C handled as Python does by default around the test, whatever a command installed."""
    import signal

    yield
    signal.signal(signal.SIGINT, signal.default_int_handler)
    sys.unraisablehook = sys.__unraisablehook__


def test_ctrl_c_that_a_library_turns_into_its_own_error_is_exit_130_without_a_traceback(monkeypatch, capsys,
                                                                                      default_sigint):
    """numba, interrupted while it compiles, swallows the KeyboardInterrupt in a callback and raises RuntimeError."""
    import signal

    def interrupted_in_a_library(args):
        with contextlib.suppress(KeyboardInterrupt):  # swallowed, as inside a library's callback
            signal.raise_signal(signal.SIGINT)
        raise RuntimeError("no compiled object yet")

    monkeypatch.setattr("mednet.cli.validate.run", interrupted_in_a_library)
    assert main(["validate", "quzhou"]) == 130
    assert "Traceback" not in capsys.readouterr().err


def test_an_error_without_ctrl_c_is_still_raised(monkeypatch, default_sigint):
    def fails(args):
        raise RuntimeError("a fault")

    monkeypatch.setattr("mednet.cli.validate.run", fails)
    with pytest.raises(RuntimeError, match="a fault"):
        main(["validate", "quzhou"])
