"""The composition root: a home directory's configuration, storage and clock."""

from __future__ import annotations

import os
import socket
import uuid
from dataclasses import dataclass
from pathlib import Path

from raqib import config_file
from raqib.app.errors import HomeError, no_database
from raqib.clock import Clock
from raqib.clock import from_env as clock_from_env
from raqib.config import Config, ConfigError
from raqib.storage import Storage, open_storage, sqlite

DB_NAME = "raqib.db"


@dataclass
class App:
    home: Path
    config: Config
    storage: Storage
    clock: Clock
    readonly: bool = False

    def close(self) -> None:
        self.storage.close()


def ensure_home(home: Path) -> Path:
    try:
        home.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise HomeError(f"cannot create the home directory {home}: {exc.strerror or exc}") from exc
    try:
        read_only = bool(os.statvfs(home).f_flag & os.ST_RDONLY)
    except OSError:
        read_only = False
    if read_only:
        raise HomeError(f"the home directory {home} is on a read-only file system")
    if not os.access(home, os.W_OK | os.X_OK):
        raise HomeError(f"the home directory {home} is not writable")
    return home


def database_url(home: Path, config: Config) -> str:
    """RAQIB_DATABASE_URL, else [storage] url (e.g. postgresql+psycopg://…), else <home>/raqib.db."""
    return (
        os.environ.get("RAQIB_DATABASE_URL") or config.storage.url or sqlite.url_for(home / DB_NAME)
    )


def load_config(home: Path) -> Config:
    try:
        return config_file.load(home)
    except ConfigError as exc:
        raise HomeError(str(exc)) from exc


def open_app(
    home: Path, *, readonly: bool = False, existing: bool = False, clock: Clock | None = None
) -> App:
    """The home's app; `existing`: a command with nothing to do in a new home
    (a pass) says so instead of making one, as a mistyped home would."""
    if (readonly or existing) and not (home / DB_NAME).exists():
        if database_url(home, load_config(home)) == sqlite.url_for(home / DB_NAME):
            raise HomeError(no_database(home))
    if not readonly:
        ensure_home(home)
    cfg = load_config(home)
    url = database_url(home, cfg)
    try:
        clock = clock or clock_from_env()
    except ValueError as exc:
        raise HomeError(str(exc)) from exc
    storage = open_storage(url, readonly=readonly)
    return App(home=home, config=cfg, storage=storage, clock=clock, readonly=readonly)


def warc_dir(app: App) -> Path:
    return (
        Path(app.config.archive.directory).expanduser()
        if app.config.archive.directory
        else app.home / "warc"
    )


def new_owner() -> str:
    """A name for this worker's claims: host, process and a nonce."""
    return f"{_this_host()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def _this_host() -> str:
    """The host a PID means something on: its name and, on Linux, its PID
    namespace. Containers on host networking share the host's name, each with
    PIDs of its own: a PID from one names no process, or another, in the next."""
    try:
        ns = os.readlink("/proc/self/ns/pid")  # "pid:[4026531836]"
    except OSError:
        return socket.gethostname()
    return f"{socket.gethostname()}/{ns.strip('pid:[]')}"


def owner_alive(owner: str) -> bool:
    """False only when the owner is a process on this host that no longer exists."""
    host, _, rest = owner.partition(":")
    pid_text = rest.partition(":")[0]
    if host != _this_host() or not pid_text.isdigit():
        return True  # another machine or PID namespace: trust its lease until it expires
    try:
        os.kill(int(pid_text), 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
