"""A throwaway PostgreSQL server on 127.0.0.1, for tests and benchmarks of the PostgreSQL log.

::

    with PostgresServer() as server:             # initdb + postgres in a temporary folder
        url = server.create_database()            # a fresh, empty database: its URL
        with PostgresEventLog(url) as log:
            ...

It runs the real ``initdb`` and ``postgres`` binaries (found on ``PATH`` or in Debian's
``/usr/lib/postgresql/<version>/bin``) on a free loopback port, with trust authentication for
the user ``mapek`` and nothing listening anywhere but 127.0.0.1 and a socket in its own folder.
Both programs refuse to run as root: as root they run as an unprivileged user (``postgres``,
which Debian's package creates, else ``nobody``) that owns the temporary folder. Stopping the
server (a fast shutdown) removes the folder; if the process that started it dies first, the
server is told to shut down too.

``durable=False`` (the default, for tests) turns off ``fsync`` and synchronous commit: the
server is faster and loses nothing unless the machine itself crashes. Benchmarks that compare
with SQLite pass ``durable=True`` for PostgreSQL's default settings.
"""

from __future__ import annotations

import ctypes
import glob
import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path
from types import TracebackType

__all__ = ["PostgresServer", "PostgresUnavailable", "find_binaries"]

_USER = "mapek"
"""The database superuser ``initdb`` creates (trust authentication, loopback only)."""


class PostgresUnavailable(RuntimeError):
    """The PostgreSQL server binaries are not installed (or cannot run here)."""


def find_binaries() -> Path:
    """The folder holding ``initdb`` and ``postgres``: from ``PATH``, else the newest version
    in Debian's ``/usr/lib/postgresql/*/bin``. Raises :class:`PostgresUnavailable`."""
    found = shutil.which("initdb")
    if found and shutil.which("postgres"):
        return Path(os.path.realpath(found)).parent
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"),
                        key=lambda p: int(Path(p).parts[-3]) if Path(p).parts[-3].isdigit() else 0)
    for initdb in reversed(candidates):
        folder = Path(initdb).parent
        if (folder / "postgres").exists():
            return folder
    raise PostgresUnavailable("the PostgreSQL server binaries (initdb, postgres) are not "
                              "installed: apt-get install postgresql")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _unprivileged() -> pwd.struct_passwd:
    for name in ("postgres", "nobody"):
        try:
            return pwd.getpwnam(name)
        except KeyError:
            continue
    raise PostgresUnavailable("running as root, and there is no 'postgres' or 'nobody' user to "
                              "run the PostgreSQL server as")


def _die_with_parent() -> None:  # pragma: no cover - runs in the child before exec
    """Ask Linux to send SIGINT (PostgreSQL's fast shutdown) when the starter dies."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGINT)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


class PostgresServer:
    """A PostgreSQL server in a temporary folder; a context manager (start, then stop)."""

    def __init__(self, *, durable: bool = False, max_connections: int = 200,
                 start_timeout: float = 60.0) -> None:
        self.bindir = find_binaries()
        self.durable = durable
        self.max_connections = max_connections
        self.start_timeout = start_timeout
        self.port = 0
        self.folder: Path | None = None
        self._proc: subprocess.Popen[bytes] | None = None
        self._run_as: pwd.struct_passwd | None = _unprivileged() if os.geteuid() == 0 else None
        self._databases = 0

    # -- life cycle -----------------------------------------------------------------------------

    def start(self) -> PostgresServer:
        """initdb, then start the server and wait until it accepts connections."""
        if self._proc is not None:
            return self
        # as root, in /tmp: the server's user must reach the folder (a root-only TMPDIR would
        # not let it)
        where = "/tmp" if self._run_as is not None and os.path.isdir("/tmp") else None
        self.folder = Path(tempfile.mkdtemp(prefix="mapek-pg-", dir=where))
        try:
            if self._run_as is not None:
                os.chown(self.folder, self._run_as.pw_uid, self._run_as.pw_gid)
            self._initdb()
            for attempt in range(5):  # another process may take the port we picked
                self.port = _free_port()
                if self._launch():
                    return self
                if attempt == 4:
                    break
            raise PostgresUnavailable(f"the PostgreSQL server did not start: {self._log_tail()}")
        except BaseException:
            self.stop()
            raise

    def _run_kwargs(self) -> dict[str, object]:
        if self._run_as is None:
            return {}
        return {"user": self._run_as.pw_uid, "group": self._run_as.pw_gid, "extra_groups": []}

    def _initdb(self) -> None:
        assert self.folder is not None
        cmd = [str(self.bindir / "initdb"), "-D", str(self.folder / "data"), "-U", _USER,
               "-A", "trust", "-E", "UTF8", "--locale=C", "--no-sync", "--no-instructions"]
        done = subprocess.run(cmd, capture_output=True, text=True, cwd=self.folder,
                              **self._run_kwargs())  # type: ignore[call-overload]
        if done.returncode != 0:
            raise PostgresUnavailable(f"initdb failed: {(done.stderr or done.stdout).strip()}")

    def _launch(self) -> bool:
        """Start postgres on ``self.port``; False if it exited (the port was taken)."""
        assert self.folder is not None
        settings = {"listen_addresses": "127.0.0.1", "port": str(self.port),
                    "unix_socket_directories": str(self.folder),
                    "max_connections": str(self.max_connections), "shared_buffers": "64MB",
                    "logging_collector": "off", "log_min_messages": "warning"}
        if not self.durable:
            settings.update(fsync="off", synchronous_commit="off", full_page_writes="off")
        cmd = [str(self.bindir / "postgres"), "-D", str(self.folder / "data")]
        for name, value in settings.items():
            cmd += ["-c", f"{name}={value}"]
        log = open(self.folder / "server.log", "ab")  # noqa: SIM115 - the child keeps it
        try:
            self._proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT,
                                          stdin=subprocess.DEVNULL, cwd=self.folder,
                                          start_new_session=True, preexec_fn=_die_with_parent,
                                          **self._run_kwargs())  # type: ignore[call-overload]
        finally:
            log.close()
        deadline = time.monotonic() + self.start_timeout
        while time.monotonic() < deadline:
            if self._proc.poll() is not None:
                self._proc = None
                return False
            if self._accepts():
                return True
            time.sleep(0.05)
        raise PostgresUnavailable(f"the PostgreSQL server did not accept connections within "
                                  f"{self.start_timeout:.0f} s: {self._log_tail()}")

    def _accepts(self) -> bool:
        import psycopg

        try:
            with psycopg.connect(self.url(), connect_timeout=2):
                return True
        except psycopg.OperationalError:
            return False

    def _log_tail(self) -> str:
        try:
            assert self.folder is not None
            lines = (self.folder / "server.log").read_text(errors="replace").strip().splitlines()
        except (OSError, AssertionError):
            return "no server log"
        return " | ".join(lines[-3:]) or "empty server log"

    def stop(self) -> None:
        """Shut the server down (fast shutdown: clients are disconnected) and remove its folder.
        Idempotent."""
        proc, self._proc = self._proc, None
        if proc is not None and proc.poll() is None:
            proc.send_signal(signal.SIGINT)
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=30)
        folder, self.folder = self.folder, None
        if folder is not None:
            shutil.rmtree(folder, ignore_errors=True)

    def __enter__(self) -> PostgresServer:
        return self.start()

    def __exit__(self, et: type[BaseException] | None, ev: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()

    # -- using it -------------------------------------------------------------------------------

    @property
    def running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    @property
    def pid(self) -> int | None:
        """The postmaster's process id, while it runs."""
        return self._proc.pid if self._proc is not None else None

    def url(self, database: str = "postgres") -> str:
        """The connection URL of one of the server's databases."""
        return f"postgresql://{_USER}@127.0.0.1:{self.port}/{database}"

    def create_database(self, name: str | None = None) -> str:
        """Create an empty database (named ``name``, else ``t1``, ``t2``, ...); its URL."""
        import psycopg
        from psycopg import sql

        if name is None:
            self._databases += 1
            name = f"t{self._databases}"
        with psycopg.connect(self.url(), autocommit=True) as conn:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        return self.url(name)

    def drop_database(self, name: str) -> None:
        """Drop a database, disconnecting whoever is still connected to it."""
        import psycopg
        from psycopg import sql

        with psycopg.connect(self.url(), autocommit=True) as conn:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(
                sql.Identifier(name)))

    def __repr__(self) -> str:
        state = f"port {self.port}" if self.running else "stopped"
        return f"PostgresServer({state})"
