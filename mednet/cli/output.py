"""Writing what a command produces: all its files or none, complete or absent, with the user's permissions.

:func:`write_files` writes every output to a temporary file beside its
target, and only once every one of them is written renames them into place
(a rename within a folder is atomic), with Ctrl-C held off for those few
renames. A failure or Ctrl-C at any moment removes the temporary files:
no half-written file and no map left from a run whose table failed. Files
get the permissions the user's umask gives (0644 under umask 022), not the
0600 of temporary files. :func:`write_stdout` reports a closed standard
output as an error instead of printing nowhere.

    >>> import tempfile, pathlib
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> write_files({folder / "a.txt": lambda tmp: pathlib.Path(tmp).write_text("a")})
    >>> (folder / "a.txt").read_text(), [p.name for p in folder.iterdir()]
    ('a', ['a.txt'])
"""

from __future__ import annotations

import errno
import os
import signal
import sys
import tempfile
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager, suppress
from pathlib import Path


def write_files(outputs: Mapping[str, Callable[[str], object]] | Mapping[Path, Callable[[str], object]]) -> None:
    """Write each ``path`` by calling ``write(temporary_path)``; all are renamed into place only when every
    write succeeded. Raises the first error (an ``OSError`` names the file)."""
    mode = 0o666 & ~current_umask()
    written: dict[Path, str] = {}
    try:
        for path, write in outputs.items():
            target = Path(path)
            try:
                fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=f".part{target.suffix}")
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
        with sigint_held():
            for target, tmp in written.items():
                os.replace(tmp, target)
            written.clear()
    finally:
        for tmp in written.values():
            Path(tmp).unlink(missing_ok=True)


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
    created = not folder.exists()
    folder.mkdir(parents=True, exist_ok=True)
    try:
        write_files({folder / name: write for name, write in files.items()})
    except BaseException:
        if created:
            with suppress(OSError):
                folder.rmdir()  # only while empty: never anything the user put there
        raise


def write_text_file(path: str | Path, text: str) -> None:
    """Write one text file (UTF-8) through :func:`write_files`."""
    write_files({Path(path): lambda tmp: Path(tmp).write_text(text, encoding="utf-8")})


def write_stdout(text: str) -> None:
    """Write ``text`` to standard output; an ``OSError`` when there is none (closed by the caller)."""
    if sys.stdout is None:
        raise OSError(errno.EBADF, "standard output is closed", "<stdout>")
    sys.stdout.write(text if text.endswith("\n") else text + "\n")
    sys.stdout.flush()


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


def describe_os_error(err: OSError) -> str:
    """One line for an operating-system error: what failed, on which file, and its errno name.

    >>> describe_os_error(OSError(errno.ENOSPC, "No space left on device", "out.csv"))
    'out.csv: No space left on device (ENOSPC)'
    >>> describe_os_error(OSError(errno.EROFS, "Read-only file system"))
    'Read-only file system (EROFS)'
    """
    code = errno.errorcode.get(err.errno or 0)
    text = err.strerror or str(err)
    where = f"{err.filename}: " if err.filename else ""
    return f"{where}{text}" + (f" ({code})" if code else "")
