"""Bring a database to the current schema with Alembic (no alembic.ini needed).

Every command opens the database, so the common case — already at the head
revision — is checked with one query and without importing Alembic (a fifth
of a second per process). HEAD must name the newest migration; a test checks
it against Alembic's own view.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import Engine, inspect, text

HEAD = "0001"
MIGRATIONS = Path(__file__).with_name("migrations")


def config(engine: Engine | None = None) -> Any:
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    if engine is not None:
        cfg.set_main_option("sqlalchemy.url", engine.url.render_as_string(hide_password=False))
    return cfg


def head() -> str | None:
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(config()).get_current_head()


def current(engine: Engine) -> str | None:
    with engine.connect() as conn:
        if not inspect(conn).has_table("alembic_version"):
            return None
        return conn.execute(text("SELECT version_num FROM alembic_version")).scalar()


def upgrade(engine: Engine) -> None:
    """Migrate to head; a no-op (one cheap query) when already there."""
    if current(engine) == HEAD:
        return
    from alembic import command

    cfg = config(engine)
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "head")
