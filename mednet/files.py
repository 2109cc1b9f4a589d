"""Writing files all or none, complete or absent, with the user's permissions, replacing only regular files.

:func:`write_files` writes every output to a temporary file, and only once
every one of them is written puts them in place, with Ctrl-C held off for
those few steps. A failure or Ctrl-C at any moment removes the temporary
files: no half-written file and no map left from a run whose table failed.
Files get the permissions the user's umask gives (0644 under umask 022),
not the 0600 of temporary files.

What a target may be (:func:`writing_mode`, checked before anything is
written and again just before each file is put in place):

- a path that does not exist, or a regular file: the temporary file is
  written beside it and renamed onto it (a rename within a folder is
  atomic: a crash leaves the old file whole);
- a character or block device or a FIFO (``-o /dev/null``, a named pipe):
  the temporary file is written in the system's temporary folder and then
  copied into the node, which stays what it was;
- a symbolic link is followed, as the shell's ``>`` follows it: a link to a
  regular file gets that file replaced (the link is kept and still points
  at it), a link to a device writes the device, a link whose target does
  not exist creates the target;
- anything else (a folder, a socket) is refused with :class:`UnwritableTarget`
  naming the path, before any file is written.

    >>> import tempfile, pathlib
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> write_files({folder / "a.txt": lambda tmp: pathlib.Path(tmp).write_text("a")})
    >>> (folder / "a.txt").read_text(), [p.name for p in folder.iterdir()]
    ('a', ['a.txt'])
    >>> write_files({folder: lambda tmp: None})
    Traceback (most recent call last):
    ...
    mednet.errors.UnwritableTarget: ...: is a folder; mednet writes a new file, replaces a regular file, ...
"""

from __future__ import annotations

import errno
import os
import shutil
import signal
import stat
import tempfile
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Literal

from mednet.errors import UnwritableTarget

#: How a target is written: ``rename`` (a temporary file beside it renamed onto it) or ``in_place`` (copied
#: into a device or FIFO).
WritingMode = Literal["rename", "in_place"]

_KINDS = ((stat.S_ISDIR, "a folder"), (stat.S_ISSOCK, "a socket"))


def writing_mode(path: str | os.PathLike[str]) -> tuple[WritingMode, Path]:
    """How ``path`` is written and where: ``("rename", real path)`` for a new path or a regular file (through
    any symbolic links), ``("in_place", path)`` for a device or FIFO; :class:`UnwritableTarget` for anything else.

    >>> writing_mode("/no/such/folder/out.csv")[0], writing_mode(os.devnull)
    ('rename', ('in_place', PosixPath('/dev/null')))
    """
    path = Path(path)
    try:
        mode = os.stat(path).st_mode  # through symbolic links
    except FileNotFoundError:  # a new path, or a link to one: created where the link points
        return "rename", Path(os.path.realpath(path))
    except OSError as err:
        if err.errno == errno.ELOOP:
            raise UnwritableTarget(path, "a symbolic link loop") from None
        raise
    if stat.S_ISREG(mode):
        return "rename", Path(os.path.realpath(path))
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode) or stat.S_ISFIFO(mode):
        return "in_place", path
    kind = next((name for test, name in _KINDS if test(mode)), f"not a regular file (mode {stat.filemode(mode)})")
    raise UnwritableTarget(path, kind)


def check_targets(paths: Iterator[Path] | list[Path] | tuple[Path, ...]) -> None:
    """Refuse, before any work, a target :func:`write_files` would refuse (:class:`UnwritableTarget`)."""
    for path in paths:
        writing_mode(path)


def write_files(outputs: Mapping[str, Callable[[str], object]] | Mapping[Path, Callable[[str], object]], *,
                mode: int | None = None) -> None:
    """Write each ``path`` by calling ``write(temporary_path)``; all are put in place only when every write
    succeeded. Raises the first error (an ``OSError`` names the file); refuses a folder or a socket
    (:class:`UnwritableTarget`) before writing anything. New and replaced files get ``mode`` (default: what
    the umask leaves of 0666)."""
    mode = 0o666 & ~current_umask() if mode is None else mode
    plans = {Path(path): writing_mode(path) for path in outputs}
    written: dict[Path, str] = {}
    try:
        for path, write in outputs.items():
            target = Path(path)
            how, where = plans[target]
            folder = where.parent if how == "rename" else None  # never a temporary file beside a device
            try:
                fd, tmp = tempfile.mkstemp(dir=folder, prefix=f".{where.name}.", suffix=f".part{where.suffix}")
            except OSError as err:  # the folder takes no file: name the file asked for, not the temporary one
                raise OSError(err.errno, f"cannot be written: {err.strerror}", str(target)) from None
            os.close(fd)
            written[target] = tmp
            try:
                write(tmp)
                os.chmod(tmp, mode)
            except OSError as err:
                if err.filename is None or err.filename == tmp:  # name the file the user asked for
                    raise OSError(err.errno, err.strerror, str(target)) from None
                raise
        for target in written:  # the same rule again, just before: a path may have changed while writing
            if writing_mode(target)[0] != plans[target][0]:
                raise UnwritableTarget(target, "a path that changed while it was being written")
        with sigint_held():
            for target, tmp in list(written.items()):
                how, where = plans[target]
                if how == "rename":
                    os.replace(tmp, where)
                else:
                    _copy_into(tmp, target)
                    Path(tmp).unlink()
                del written[target]
    finally:
        for tmp in written.values():
            Path(tmp).unlink(missing_ok=True)


def _copy_into(source: str, node: Path) -> None:
    """Copy a file into a device or FIFO, opened for writing without creating or truncating anything."""
    fd = os.open(node, os.O_WRONLY | getattr(os, "O_NOCTTY", 0))
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):  # the node opened is still a device or FIFO
            with open(source, "rb") as src, os.fdopen(os.dup(fd), "wb") as dst:
                shutil.copyfileobj(src, dst)
        else:
            raise UnwritableTarget(node, "a path that changed while it was being written")
    finally:
        os.close(fd)


def write_folder(folder: str | Path, files: Mapping[str, Callable[[str], object]]) -> None:
    """Write ``files`` (name → writer) into ``folder`` through :func:`write_files`: all of them or none. A folder
    this call created is removed again when the writing fails; files already in the folder are left as they were.

    >>> import tempfile, pathlib
    >>> out = pathlib.Path(tempfile.mkdtemp()) / "tables"
    >>> write_folder(out, {"a.csv": lambda tmp: pathlib.Path(tmp).write_text("a")})
    >>> [p.name for p in out.iterdir()]
    ['a.csv']
    """
    folder = Path(folder)
    if folder.exists() and not folder.is_dir():
        raise UnwritableTarget(folder, "not a folder", expected="a folder of files is written here: give a new "
                               "or an existing folder")
    created = not folder.exists()
    folder.mkdir(parents=True, exist_ok=True)
    try:
        write_files({folder / name: write for name, write in files.items()})
    except BaseException:
        if created:
            with suppress(OSError):
                folder.rmdir()  # only while empty: never anything the user put there
        raise


def write_text_file(path: str | os.PathLike[str], text: str) -> None:
    """Write one text file (UTF-8) through :func:`write_files`."""
    write_files({Path(path): lambda tmp: Path(tmp).write_text(text, encoding="utf-8")})


def current_umask() -> int:
    """The process's umask (read by setting it and setting it back)."""
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


@contextmanager
def sigint_held() -> Iterator[None]:
    """Ctrl-C (SIGINT) is delivered after the block, not inside it (on the main thread, where supported)."""
    try:
        old = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
    except (AttributeError, ValueError, OSError):  # not on this platform or thread
        yield
        return
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, old)
