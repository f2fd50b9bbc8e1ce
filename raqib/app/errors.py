"""What a use case can fail with, each with the exit code the CLI gives it.

Exit codes: 1 failure, 2 bad input, 4 unknown watch (or story, source,
channel), 75 another pass is running (or holds the archive gc
would remove files from).
"""

from __future__ import annotations

from pathlib import Path


class AppError(Exception):
    """A failure the user can act on; the message is one line, safe to print."""

    exit_code = 1


class BadInput(AppError):
    exit_code = 2


class NotFound(AppError):
    exit_code = 4


class HomeError(AppError):
    """The home directory cannot be created or written."""


class PassFailed(AppError):
    """A pass that had to stop: the database or the archive could not be written."""


class ClockSkew(AppError):
    """This machine's clock is too far from the database server's for leases."""


class ArchiveBusy(AppError):
    """Crawls or exports held the WARC archive longer than gc would wait."""

    exit_code = 75


class PassBusy(AppError):
    """Another live pass holds the due watches."""

    exit_code = 75

    def __init__(self, holders: dict[str, int], *, sites: bool = False) -> None:
        """`holders`: owner → watches it holds; `sites`: → due watches on the
        sites it holds, which one worker at a time fetches."""
        self.holders = holders
        held = "due on a site held by" if sites else "held by"
        desc = ", ".join(
            f"{n} watch{'es' if n != 1 else ''} {held} {owner}" for owner, n in holders.items()
        )
        super().__init__(f"another raqib pass is running ({desc})")


def describe(exc: BaseException) -> str:
    """A one-line description of an error, with the usual disk problems named."""
    text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    lowered = text.lower()
    if ("disk" in lowered and "full" in lowered) or "no space" in lowered:
        return f"the disk is full ({text})"
    if "readonly" in lowered or "read-only" in lowered:
        return f"the database or its directory is read-only ({text})"
    return text


def no_database(home: Path) -> str:
    """What a command that needs a home's database says in a new one."""
    return f"no Raqib database in {home} (run `raqib watch URL` first; or is the home mistyped?)"
