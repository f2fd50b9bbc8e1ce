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
    def __init__(self, bin_dir: Path) -> None:
        self.bin = bin_dir
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
            [*self.run_as, *args], capture_output=True, text=True, timeout=120, cwd=self.root
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
            f"\nlisten_addresses = '127.0.0.1'\nport = {self.port}\n"
            f"unix_socket_directories = '{self.root}'\nmax_connections = 300\n"
            # A throwaway cluster: durability buys nothing here, speed does.
            "fsync = off\nsynchronous_commit = off\nfull_page_writes = off\n"
        )
        (self.data / "pg_hba.conf").write_text(
            "local all all trust\nhost all all 127.0.0.1/32 trust\n", encoding="utf-8"
        )
        with conf.open("a", encoding="utf-8") as f:
            f.write(settings)
        self._run(
            str(self.bin / "pg_ctl"), "-D", str(self.data), "-l", str(self.root / "log"), "-w",
            "-t", "60", "start",
        )  # fmt: skip
        return self

    def url(self, database: str = "postgres", host: str = "127.0.0.1") -> str:
        return f"postgresql+psycopg://{self.user}@{host}:{self.port}/{database}"

    def new_database(self) -> str:
        """A fresh, empty database; its SQLAlchemy URL."""
        import psycopg

        name = f"t_{uuid.uuid4().hex[:12]}"
        with psycopg.connect(
            f"host=127.0.0.1 port={self.port} user={self.user} dbname=postgres", autocommit=True
        ) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)

    def stop(self) -> None:
        try:
            self._run(str(self.bin / "pg_ctl"), "-D", str(self.data), "-m", "immediate", "stop")
        finally:
            shutil.rmtree(self.root, ignore_errors=True)
