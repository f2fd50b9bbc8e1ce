"""The progress bar of `raqib check` on a terminal: shown from the start,
with an estimate of the time left and what the fetches found so far."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

from raqib.domain import Outcome

# What the bar counts, in order: a fetch's outcome, a first capture told
# apart from a new version of an article already held.
_KIND = {
    Outcome.UNCHANGED: "unchanged",
    Outcome.NOT_MODIFIED: "unchanged",
    Outcome.RESTORED: "restored",
    Outcome.REMOVED: "removed",
    Outcome.ERROR: "errors",
    Outcome.NOT_ARTICLE: "not articles",
}
_ORDER = (
    "first captures",
    "new versions",
    "unchanged",
    "restored",
    "removed",
    "errors",
    "not articles",
)


class PassProgress:
    """Started before anything is claimed (the feeds, the crawler's start-up
    take seconds), so the terminal shows at once that the pass is alive."""

    def __init__(self) -> None:
        self.found: Counter[str] = Counter()
        self.bar = Progress(
            TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
            TextColumn("eta"), TimeRemainingColumn(), TimeElapsedColumn(),
            TextColumn("{task.fields[found]}"),
            transient=True,
        )  # fmt: skip
        self.task = self.bar.add_task("starting", total=None, found="")
        self.bar.start()

    def claimed(self, total: int) -> None:
        """Called per batch claimed, with the pass's running total."""
        self.bar.update(self.task, description="checking", total=total)

    def recorded(self, _task: Any, recorded: Any) -> None:
        if recorded.outcome == Outcome.NEW_VERSION:
            kind = "first captures" if recorded.version_number == 1 else "new versions"
        else:
            kind = _KIND.get(recorded.outcome, str(recorded.outcome))
        self.found[kind] += 1
        shown = ", ".join(f"{self.found[k]} {k}" for k in _ORDER if self.found[k])
        self.bar.update(self.task, advance=1, found=shown)

    def stop(self) -> None:
        self.bar.stop()


@contextmanager
def counting(label: str, total: int) -> Iterator[Callable[[int], None]]:
    """A bar on stderr for `total` things done a batch at a time: yields what
    to call with each batch's size (`search --reindex`, `changes --rejudge`)."""
    with Progress(
        TextColumn(label), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(),
        console=Console(stderr=True), transient=True,
    ) as bar:  # fmt: skip
        task = bar.add_task("", total=total)
        yield lambda n: bar.advance(task, n)
