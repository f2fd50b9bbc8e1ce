"""Which discovery run reads which story: one at a time, on any worker.

Each daemon runs discovery on its interval: several workers on one database
each read every story's sources, fetched each candidate once a worker, and
raced to watch what they found. A run takes the stories it reads (a hold in
the stories' rows, renewed while it runs, freed when it ends or, if it dies,
a hold's length later), and the daemon's skips a story any run took lately.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta

from raqib.app.errors import AppError
from raqib.app.home import App, new_owner

log = logging.getLogger("raqib")

# A run's hold on its stories, renewed every third of it: a run that died
# frees them this long after its last renewal.
RUN_HOLD = timedelta(minutes=15)


class StoryBusy(AppError):
    """The story asked for is being read by another discovery run."""

    exit_code = 75


@contextmanager
def holding(
    app: App,
    slugs: list[str],
    notes: list[str],
    *,
    fresh: timedelta | None = None,
    asked: str | None = None,
    reading: bool = True,
) -> Iterator[list[str]]:
    """The stories of `slugs` this run may read, held while it does: not one
    another run holds, nor (with `fresh`) one a run took within it; `notes`
    gets why the others were skipped. `asked`: the one story the user named,
    which, held, is an error to say (exit 75), not a note. `reading`: False for
    a rejudge, which leaves the daemons' turns as they were."""
    owner = new_owner()
    stop = threading.Event()
    renewer = threading.Thread(
        target=_renew, args=(app, owner, stop), name="raqib-discovery-hold", daemon=True
    )
    try:  # taken inside: a SIGTERM as it returns (KeyboardInterrupt, cli.base) frees them too
        taken = app.storage.discovery.take_stories(
            slugs, owner=owner, now=app.clock(), hold=RUN_HOLD, fresh=fresh, reading=reading
        )
        for slug, (since, _until) in taken.held.items():
            said = f"since {since:%Y-%m-%d %H:%M} UTC" if since else "now"
            message = (
                f"{slug}: another discovery run is reading it ({said}; its hold lapses "
                f"{RUN_HOLD.total_seconds() / 60:g} minutes after that run stops)"
            )
            if slug == asked:
                raise StoryBusy(message + "; try again later")
            notes.append(message + "; skipped")
        if taken.fresh and fresh is not None:
            n, names = len(taken.fresh), sorted(taken.fresh)
            notes.append(
                f"{n} stor{'ies' if n != 1 else 'y'} read by a run in the last "
                f"{fresh.total_seconds() / 60:g} min: skipped ({', '.join(names[:5])}"
                f"{' …' if n > 5 else ''})"
            )
        if taken.stories:
            renewer.start()
        yield taken.stories
    finally:
        stop.set()
        if renewer.is_alive():
            renewer.join(timeout=10)
        try:
            app.storage.discovery.let_go(owner)
        except Exception as exc:  # its holds lapse on their own
            log.warning("discover: could not free the stories it read: %s", exc)


def _renew(app: App, owner: str, stop: threading.Event) -> None:
    while not stop.wait(RUN_HOLD.total_seconds() / 3):
        try:
            if not app.storage.discovery.renew_stories(owner, now=app.clock(), hold=RUN_HOLD):
                log.warning("discover: its hold on its stories lapsed; another run may read them")
        except Exception as exc:  # the database out of reach: tried again a third of a hold on
            log.warning("discover: could not renew its hold on its stories: %s", exc)
