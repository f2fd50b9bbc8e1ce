"""Times as people read them: in the user's time zone (`[display] timezone`,
default the system's), to the second, with the offset. JSON keeps ISO UTC."""

from __future__ import annotations

from datetime import datetime, tzinfo

from raqib.config import zone

_zone: tzinfo | None = None  # None: the system's zone


def use(name: str) -> None:
    """Show times in zone `name` from now on ("": the system's)."""
    global _zone
    _zone = zone(name)


def local(value: str | datetime | None, missing: str = "-") -> str:
    """'2026-12-02 20:01:05 +03:00' for an ISO string or an aware datetime."""
    if value is None:
        return missing
    moment = datetime.fromisoformat(value) if isinstance(value, str) else value
    shown = moment.astimezone(_zone)  # astimezone(None): the system's zone
    offset = shown.strftime("%z")
    return shown.strftime("%Y-%m-%d %H:%M:%S ") + f"{offset[:3]}:{offset[3:]}"
