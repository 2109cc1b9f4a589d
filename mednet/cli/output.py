"""Writing what a command produces: all its files or none (:mod:`mednet.files`), or standard output.

:func:`write_files` writes every output to a temporary file and puts them in
place only once every one is written; it replaces only a regular file, writes
a device or FIFO in place (``-o /dev/null``) and refuses a folder or a socket
(see :mod:`mednet.files`). :func:`write_stdout` reports a closed standard
output as an error instead of printing nowhere.
"""

from __future__ import annotations

import errno
import sys

from mednet.files import check_targets, write_files, write_folder, write_text_file

__all__ = ["check_targets", "describe_os_error", "write_files", "write_folder", "write_stdout", "write_text_file"]


def write_stdout(text: str) -> None:
    """Write ``text`` to standard output; an ``OSError`` when there is none (closed by the caller)."""
    if sys.stdout is None:
        raise OSError(errno.EBADF, "standard output is closed", "<stdout>")
    sys.stdout.write(text if text.endswith("\n") else text + "\n")
    sys.stdout.flush()


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
