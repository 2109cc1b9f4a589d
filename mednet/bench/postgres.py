"""A throwaway PostgreSQL server from the Debian packages, for the ledger's tests and benchmark.

``initdb`` a temporary folder, start ``postgres`` on a free port of
127.0.0.1 and stop and delete it at the end. PostgreSQL refuses to run as
root, so as root (CI) the server runs as the unprivileged ``nobody``.

    >>> find_postgres_bin() is None or (find_postgres_bin() / "pg_ctl").exists()
    True
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from mednet.bench.local import free_port, process_tree_cpu_seconds

#: Where Debian's postgresql packages put the server programs, newest version first.
BIN_GLOB = "/usr/lib/postgresql/*/bin"
RUN_AS = "nobody"


def find_postgres_bin() -> Path | None:
    """The folder holding ``initdb`` and ``pg_ctl`` of the newest installed server, or None."""
    found = sorted(Path("/").glob(BIN_GLOB.lstrip("/")), key=lambda p: _version(p.parent.name), reverse=True)
    return next((p for p in found if (p / "initdb").exists() and (p / "pg_ctl").exists()), None)


def _version(text: str) -> tuple[int, ...]:
    return tuple(int(p) for p in text.split(".") if p.isdigit())


class ThrowawayPostgres:
    """A private server: ``start()``, ``url``, ``new_database()``, ``stop()`` (also a context manager).

    ``durable=False`` (tests) turns off ``fsync``; the benchmark keeps it on.
    ``commit_delay_us`` (with ``durable``) sets PostgreSQL's group commit:
    a committing transaction waits that long before its WAL flush when
    ``commit_siblings`` others are active, so that one flush serves them all.
    Every commit is still flushed before it is answered (``synchronous_commit``
    stays on): this trades latency for flushes, never durability.
    """

    def __init__(self, *, durable: bool = False, max_connections: int = 300, commit_delay_us: int = 0,
                 commit_siblings: int = 4):
        found = find_postgres_bin()
        if found is None:
            raise FileNotFoundError(f"no PostgreSQL server programs under {BIN_GLOB} (Debian: apt-get install "
                                    "postgresql)")
        self.bin: Path = found
        self.durable, self.max_connections = durable, max_connections
        self.commit_delay_us, self.commit_siblings = commit_delay_us, commit_siblings
        self.port = free_port()
        self.folder: Path | None = None
        self._databases = 0

    @property
    def url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def _run(self, *args: str) -> subprocess.CompletedProcess:
        command = list(args)
        if os.geteuid() == 0:
            command = ["setpriv", f"--reuid={RUN_AS}", f"--regid={_group_of(RUN_AS)}", "--clear-groups", *command]
        return subprocess.run(command, check=True, capture_output=True, text=True, env={**os.environ, "LC_ALL": "C"})

    def start(self) -> ThrowawayPostgres:
        self.folder = Path(tempfile.mkdtemp(prefix="mednet-pg-"))
        if os.geteuid() == 0:
            shutil.chown(self.folder, RUN_AS, _group_of(RUN_AS))
        data = self.folder / "data"
        self._run(str(self.bin / "initdb"), "-D", str(data), "-U", "postgres", "--auth=trust", "-E", "UTF8",
                  *(() if self.durable else ("--no-sync",)))
        options = [f"-p {self.port}", "-c listen_addresses=127.0.0.1", f"-k {self.folder}",
                   f"-c max_connections={self.max_connections}", "-c shared_buffers=128MB"]
        if not self.durable:
            options += ["-c fsync=off", "-c synchronous_commit=off", "-c full_page_writes=off"]
        elif self.commit_delay_us:
            options += [f"-c commit_delay={self.commit_delay_us}", f"-c commit_siblings={self.commit_siblings}"]
        self._run(str(self.bin / "pg_ctl"), "-D", str(data), "-l", str(self.folder / "log"), "-o", " ".join(options),
                  "-w", "-t", "60", "start")
        return self

    def new_database(self) -> str:
        """A fresh, empty database on this server; its URL."""
        import psycopg

        self._databases += 1
        name = f"ledger_{self._databases}"
        with psycopg.connect(self.url, autocommit=True) as conn:
            conn.execute(f"CREATE DATABASE {name}")
        return self.url.rsplit("/", 1)[0] + f"/{name}"

    def cpu_seconds(self) -> float:
        """CPU seconds used so far by the server and its live processes (Linux /proc; 0 elsewhere)."""
        if self.folder is None:
            return 0.0
        with contextlib.suppress(OSError, ValueError):
            pid = int((self.folder / "data" / "postmaster.pid").read_text().split()[0])
            return process_tree_cpu_seconds(pid)
        return 0.0

    def stop(self) -> None:
        if self.folder is None:
            return
        with contextlib.suppress(subprocess.CalledProcessError):  # already down
            self._run(str(self.bin / "pg_ctl"), "-D", str(self.folder / "data"), "-m", "immediate", "-w", "stop")
        shutil.rmtree(self.folder, ignore_errors=True)
        self.folder = None

    def __enter__(self) -> ThrowawayPostgres:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def _group_of(user: str) -> str:
    import grp
    import pwd

    return grp.getgrgid(pwd.getpwnam(user).pw_gid).gr_name
