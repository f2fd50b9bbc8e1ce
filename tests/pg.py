"""A throwaway PostgreSQL cluster for the tests: `initdb` in a temporary
directory, its own port on 127.0.0.1, trust authentication on loopback only,
stopped at the end. Needs only the PostgreSQL server binaries (Debian's
`postgresql` package; .ci/run installs it). As root, the cluster runs as the
`postgres` system user, because PostgreSQL refuses to run as root.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import uuid
from pathlib import Path


def bindir() -> Path | None:
    """Where initdb and pg_ctl are, or None when PostgreSQL is not installed."""
    found = shutil.which("pg_ctl")
    if found and shutil.which("initdb"):
        return Path(os.path.realpath(found)).parent
    for candidate in sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True):
        if Path(candidate, "initdb").exists() and Path(candidate, "pg_ctl").exists():
            return Path(candidate)
    return None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Cluster:
    """`host`: the address to listen on (and whose /24 may connect); `prefix`:
    a command to run the server under (`ip netns exec NAME`, for the
    several-hosts test)."""

    def __init__(
        self, bin_dir: Path, host: str = "127.0.0.1", prefix: list[str] | None = None
    ) -> None:
        self.bin = bin_dir
        self.host = host
        self.prefix = prefix or []
        self.root = Path(tempfile.mkdtemp(prefix="raqib-pg-"))
        self.data = self.root / "data"
        self.port = _free_port()
        self.user = "raqib"
        self.run_as: list[str] = []
        if os.geteuid() == 0:
            pw = pwd.getpwnam("postgres")  # Debian's package creates it
            os.chown(self.root, pw.pw_uid, pw.pw_gid)
            self.run_as = ["runuser", "-u", "postgres", "--"]

    def _run(self, *args: str) -> None:
        p = subprocess.run(
            [*self.prefix, *self.run_as, *args],
            capture_output=True,
            text=True,
            timeout=120,
            cwd=self.root,
        )
        if p.returncode != 0:
            raise RuntimeError(f"{' '.join(args[:2])} failed: {p.stdout}{p.stderr}")

    def start(self) -> Cluster:
        self._run(
            str(self.bin / "initdb"), "-D", str(self.data), "-U", self.user, "--auth=trust",
            "-E", "UTF8", "--locale=C", "--no-sync",
        )  # fmt: skip
        conf = self.data / "postgresql.conf"
        settings = (
            f"\nlisten_addresses = '{self.host}'\nport = {self.port}\n"
            f"unix_socket_directories = '{self.root}'\nmax_connections = 300\n"
            # A throwaway cluster: durability buys nothing here, speed does.
            "fsync = off\nsynchronous_commit = off\nfull_page_writes = off\n"
        )
        net = self.host if self.host == "127.0.0.1" else self.host.rsplit(".", 1)[0] + ".0"
        mask = "32" if self.host == "127.0.0.1" else "24"
        (self.data / "pg_hba.conf").write_text(
            f"local all all trust\nhost all all {net}/{mask} trust\n", encoding="utf-8"
        )
        with conf.open("a", encoding="utf-8") as f:
            f.write(settings)
        for attempt in range(3):
            try:
                self._run(
                    str(self.bin / "pg_ctl"), "-D", str(self.data), "-l", str(self.root / "log"),
                    "-w", "-t", "60", "start",
                )  # fmt: skip
                return self
            except RuntimeError:
                # The free port was released before the server bound it, and
                # another process (the other xdist worker's) took it meanwhile.
                log = self.root / "log"
                said = log.read_text(encoding="utf-8", errors="replace") if log.exists() else ""
                if attempt == 2 or "could not bind" not in said:
                    raise
                self.port = _free_port()
                with conf.open("a", encoding="utf-8") as f:
                    f.write(f"\nport = {self.port}\n")  # the last setting wins
        return self

    def url(self, database: str = "postgres") -> str:
        return f"postgresql+psycopg://{self.user}@{self.host}:{self.port}/{database}"

    def new_database(self) -> str:
        """A fresh, empty database; its SQLAlchemy URL."""
        name = f"t_{uuid.uuid4().hex[:12]}"
        if self.prefix:  # in another network namespace: ask from there
            self._run(
                str(self.bin / "createdb"), "-h", self.host, "-p", str(self.port), "-U", self.user,
                name,
            )  # fmt: skip
            return self.url(name)
        import psycopg

        with psycopg.connect(
            f"host={self.host} port={self.port} user={self.user} dbname=postgres", autocommit=True
        ) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)

    def halt(self) -> None:
        """Stop the server, its data kept (a restart's first half)."""
        self._run(str(self.bin / "pg_ctl"), "-D", str(self.data), "-m", "fast", "-w", "stop")

    def resume(self) -> None:
        self._run(
            str(self.bin / "pg_ctl"), "-D", str(self.data), "-l", str(self.root / "log"), "-w",
            "start",
        )  # fmt: skip

    def stop(self) -> None:
        try:
            self._run(str(self.bin / "pg_ctl"), "-D", str(self.data), "-m", "immediate", "stop")
        finally:
            shutil.rmtree(self.root, ignore_errors=True)
