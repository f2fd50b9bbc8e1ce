"""The tables of outlets (`raqib outlet`): an outlet, its sources, and what its
sources listed that Raqib did not watch. On storage.models' Base (the storage
package imports both, so its metadata holds every table)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from raqib.storage.models import Base
from raqib.storage.types import UTCDateTime


class Outlet(Base):
    """A news outlet whose every new article is watched from first sight."""

    __tablename__ = "outlets"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    retain_days: Mapped[int] = mapped_column(Integer)
    added_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # Set by `outlet remove`: the row stays so its watches keep their outlet
    # (`changes --outlet` still finds their history); `outlet add` revives it.
    removed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class OutletSource(Base):
    """A feed, news sitemap or front page of an outlet, read on its own interval."""

    __tablename__ = "outlet_sources"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    outlet_id: Mapped[int] = mapped_column(ForeignKey("outlets.id", ondelete="CASCADE"), index=True)
    url: Mapped[str] = mapped_column(String(2048))
    kind: Mapped[str] = mapped_column(String(16))  # feed | sitemap | front
    added_at: Mapped[datetime] = mapped_column(UTCDateTime)
    next_check_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_checked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    etag: Mapped[str | None] = mapped_column(String(256))
    last_modified: Mapped[str | None] = mapped_column(String(64))
    last_status: Mapped[str | None] = mapped_column(String(500))
    entries_seen: Mapped[int] = mapped_column(Integer, default=0)
    # The last listing taken in (body and declared type): the same again is not parsed again.
    body_sha256: Mapped[str | None] = mapped_column(String(64))

    __table_args__ = (UniqueConstraint("outlet_id", "url", name="uq_outlet_sources_outlet_url"),)


class OutletSeen(Base):
    """A URL an outlet listed and Raqib did not watch, and why (so it is judged once)."""

    __tablename__ = "outlet_seen"
    outlet_id: Mapped[int] = mapped_column(
        ForeignKey("outlets.id", ondelete="CASCADE"), primary_key=True
    )
    url: Mapped[str] = mapped_column(String(2048), primary_key=True)
    reason: Mapped[str] = mapped_column(String(500))
    seen_at: Mapped[datetime] = mapped_column(UTCDateTime)
