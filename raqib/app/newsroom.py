"""The newsroom view: the latest changes across everything, silent
substantive edits first, with the filters of `raqib changes`; the watches
that are failing; each outlet's figures. What the report and `serve` open on."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from raqib.app import change_list, outlets
from raqib.app.errors import BadInput, NotFound
from raqib.app.home import App
from raqib.domain import ChangeRow, Watch

LATEST = 200  # changes on the front page
FILTER_KEYS = ("outlet", "tag", "story", "silent", "kind", "facts", "since", "search")


@dataclass
class Newsroom:
    changes: list[ChangeRow]
    failing: list[Watch]
    outlets: list[outlets.OutletStats]
    filters: dict[str, str] = field(default_factory=dict)  # as given, for the page's form
    error: str | None = None  # a filter that could not be used
    total: int = 0  # changes matching, before the front page's cut


def parse_filter(args: Mapping[str, str]) -> change_list.ChangeFilter:
    """A ChangeFilter from query parameters (serve) or options (report)."""
    kind = args.get("kind") or None
    if kind not in (None, "substantive", "cosmetic"):
        raise BadInput(f"kind {kind!r}: substantive or cosmetic")
    facts = tuple(f for f in (args.get("facts") or "").split(",") if f)
    silent = (args.get("silent") or "").lower() in ("1", "true", "yes", "on")
    return change_list.ChangeFilter(
        story=args.get("story") or None, outlet=args.get("outlet") or None,
        tag=args.get("tag") or None, silent=True if silent else None, kind=kind, facts=facts,
        since=args.get("since") or None, search=args.get("search") or None,
    )  # fmt: skip


def newsroom(app: App, args: Mapping[str, str] | None = None, *, limit: int = LATEST) -> Newsroom:
    given = {k: str(v) for k, v in (args or {}).items() if k in FILTER_KEYS and v}
    error = None
    try:
        rows, total = change_list.changes(app, parse_filter(given), first=limit)
    except (BadInput, NotFound) as exc:  # a bad filter shows as a message over everything
        error = for_a_page(str(exc))
        rows, total = change_list.changes(app, change_list.ChangeFilter(), first=limit)
    names = [o.name for o in app.storage.outlets.all()]
    if (named := given.get("outlet")) and error is None and named not in names:
        names.append(named)  # a removed outlet's articles keep their figures
    figures = [outlets.stats(app, n) for n in names]
    return Newsroom(
        changes=rows,
        failing=app.storage.watches.all(failing=True),
        outlets=figures,
        filters=given,
        error=error,
        total=total,
    )


def for_a_page(message: str) -> str:
    """A filter's error as the page shows it: its fields by their names, not
    the command line's options, and no command to run."""
    return _COMMAND.sub("", _OPTION.sub(r"\1", message))


_OPTION = re.compile(r"--(since|facts|story|outlet|tag|kind|search)\b")
_COMMAND = re.compile(r" \(see `raqib [^`]*`[^)]*\)")


def provider(app: App) -> Any:
    """The callable `serve` asks for each front page, with the query's filters."""

    def view(args: Mapping[str, str]) -> Newsroom:
        return newsroom(app, args)

    return view
