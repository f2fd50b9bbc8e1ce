"""`raqib report`: the static, self-contained site (no CDN, works from file://)."""

from __future__ import annotations

import html
import logging
import os
import re
import signal
import stat
import tempfile
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any, BinaryIO

from raqib.archive.leftovers import sweep_stale
from raqib.extract.decoding import decoded
from raqib.present import labels
from raqib.report import views
from raqib.storage import Storage, StoreFault

# A process's own streams by name (/dev/stdout, /dev/fd/1, /proc/self/fd/1):
# written to as they are, appended to (`>> log` must keep what it holds).
_STREAMS = re.compile(r"^/(?:dev/(?:stdout|stderr|fd/\d+)|proc/[^/]+/fd/\d+)$")


TMP_PREFIX = ".raqib-tmp-"  # a file being written (archive.leftovers sweeps stale ones)


@contextmanager
def atomic(path: Path) -> Iterator[BinaryIO]:
    """A binary file that appears whole at `path`, or not at all: a reader
    (or a crash) never sees half a page or half an export. Through a symlink
    to its target; a file replaced keeps its mode (and, as root, its owner
    where it can); a device, a pipe or a stream (/dev/stdout, a FIFO) is
    written to as it is, never replaced by a file."""
    try:
        st: os.stat_result | None = os.stat(path)  # what the path leads to
    except FileNotFoundError:
        st = None
    if _STREAMS.match(os.path.abspath(path)) or (st is not None and not stat.S_ISREG(st.st_mode)):
        with open(path, "ab") as raw:
            yield raw
        return
    target = Path(os.path.realpath(path))
    sweep_stale(target.parent, TMP_PREFIX)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=TMP_PREFIX, suffix=target.suffix)
    previous = _exit_on_sigterm()
    try:
        with os.fdopen(fd, "wb") as f:
            if st is not None:
                if os.geteuid() == 0:  # before chmod: chown clears set-id bits
                    with suppress(OSError):  # a user namespace, NFS root_squash
                        os.chown(tmp, st.st_uid, st.st_gid)
                os.chmod(tmp, stat.S_IMODE(st.st_mode))
            else:
                umask = os.umask(0)
                os.umask(umask)
                os.chmod(tmp, 0o666 & ~umask)  # mkstemp makes it private; this is a normal file
            yield f
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)


def _exit_on_sigterm() -> Any:
    """SIGTERM (kill, a cron's timeout, a container stopping) as an exit while
    a temporary file is written, so that it goes with it: by default the
    process died at once and left it beside the output (27 MB for one
    export). Only where nothing else handles the signal, in the main thread;
    returns the handler to put back (None: none was replaced)."""
    if threading.current_thread() is not threading.main_thread():
        return None
    if signal.getsignal(signal.SIGTERM) != signal.SIG_DFL:
        return None
    return signal.signal(signal.SIGTERM, _terminated)


def _terminated(signum: int, frame: Any) -> None:
    raise SystemExit(128 + signum)


log = logging.getLogger("raqib")


def write_atomic(path: Path, text: str) -> None:
    with atomic(path) as f:
        f.write(text.encode("utf-8"))


def _unshown(change_id: int, exc: Exception) -> str:
    """The page of a change the report could not draw: it says so (the
    article's page links to it), and `raqib diff` may still show it."""
    why = html.escape(f"{type(exc).__name__}: {exc}"[:300])
    return (
        '<!doctype html><html lang="en"><meta charset="utf-8">'
        f"<title>change {change_id}</title><p>This change could not be shown: {why}. "
        f"Compare its versions with <code>raqib diff</code>.</p></html>"
    )


def raw_text(storage: Storage, raw_hash: str) -> str | None:
    raw = storage.history.raw_body(raw_hash)
    return decoded(raw) if raw is not None else None


# The names `write_site` gives its files, and the list of them it leaves in
# the directory: only a name on the last report's list is ever removed.
_PAGE = re.compile(
    r"index\.html|(article|change)-\d+\.html|outcome-[a-z_]+\.html"
    r"|capture-[0-9a-f]{64}\.html|raw-[0-9a-f]{64}\.txt"
)
MANIFEST = ".raqib-report"


def _prune(out: Path, wanted: set[str]) -> int:
    """Remove the pages the last report here wrote that this one does not
    (another filter, an article purged since): opened from an old link, they
    would show a past state as the report's. A directory no report wrote
    (no list) keeps every file. Returns how many were removed."""
    try:
        before = (out / MANIFEST).read_text(encoding="utf-8").split()
    except FileNotFoundError:
        before = []
    removed = 0
    for name in before:
        p = out / name
        if name not in wanted and _PAGE.fullmatch(name) and p.is_file() and not p.is_symlink():
            p.unlink(missing_ok=True)
            removed += 1
    write_atomic(out / MANIFEST, "".join(f"{n}\n" for n in sorted(wanted)))
    return removed


def _remember(out: Path, written: set[str]) -> None:
    """A report that stopped: the pages it wrote join the last report's list,
    so that the next report removes those it does not want (none is removed
    now: the last front page still links to its own)."""
    try:
        before = set((out / MANIFEST).read_text(encoding="utf-8").split())
    except FileNotFoundError:
        before = set()
    write_atomic(out / MANIFEST, "".join(f"{n}\n" for n in sorted(before | written)))


def write_site(
    storage: Storage,
    out: Path,
    progress: Callable[[str], None] | None = None,
    news: Any = None,
) -> tuple[int, int]:
    """Render every page, and remove the pages of the last report there that
    this one does not have; returns how many files were written and removed.
    `news`: the front page's latest changes (raqib.app.newsroom.Newsroom)."""
    out.mkdir(parents=True, exist_ok=True)
    env = views.environment()
    written = 0
    wanted: set[str] = set()

    def emit(name: str, text: str) -> None:
        nonlocal written
        wanted.add(name)
        write_atomic(out / name, text)
        written += 1
        if progress is not None:
            progress(name)

    index = views.index_view(storage, news)
    front = env.get_template("index.html").render(**index)  # written last: see below
    capture = env.get_template("capture.html")
    captured: set[str] = set()

    def capture_pages(h: str) -> None:
        if h in captured:
            return
        captured.add(h)
        target = out / f"raw-{h}.txt"
        if target.exists() and (out / f"capture-{h}.html").exists():
            wanted.update((target.name, f"capture-{h}.html"))
            return  # content-addressed: existing files are already right
        text = raw_text(storage, h)
        view = views.capture_view(storage, h, text)
        if text is not None and view is not None:
            emit(target.name, text)
            emit(f"capture-{h}.html", capture.render(**view))

    ids = [a["id"] for story in index["stories"] for a in story["articles"]]
    ids += [c["watch_id"] for c in index.get("latest") or []]
    ids += [w["id"] for w in index.get("failing") or []]
    outcomes = {kind: views.outcome_view(storage, kind) for kind in labels.OUTCOMES}
    ids += [f.watch_id for view in outcomes.values() if view for f, _u, _t in view["rows"]]
    try:
        _pages(storage, env, ids, outcomes, emit, capture_pages)
        emit("index.html", front)
    except BaseException:
        _remember(out, wanted)
        raise
    return written, _prune(out, wanted)


def _pages(
    storage: Storage,
    env: Any,
    ids: list[int],
    outcomes: dict[str, Any],
    emit: Callable[[str, str], None],
    capture_pages: Callable[[str], None],
) -> None:
    # Each page after the pages it links to, the front page last: a report
    # that stops midway leaves no link from the front page to a missing page.
    for watch_id in dict.fromkeys(ids):  # every article page some other page links to
        view = views.article_view(storage, watch_id)
        if view is None:
            continue
        for v in view["versions"]:
            if v.raw_hash:
                capture_pages(v.raw_hash)
        for c in view["changes"]:
            try:
                cv = views.change_view(storage, c["id"])
                page = env.get_template("change.html").render(**cv) if cv is not None else None
            except StoreFault:  # the database's, not the change's: say so, stop
                raise
            except Exception as exc:  # one change must not cost the site its other pages
                log.error("report: change %d: %s: %s", c["id"], type(exc).__name__, exc)
                page = _unshown(c["id"], exc)
            if page is not None:
                emit(f"change-{c['id']}.html", page)
        emit(f"article-{watch_id}.html", env.get_template("article.html").render(**view))
    for kind, view in outcomes.items():
        assert view is not None
        emit(f"outcome-{kind}.html", env.get_template("outcome.html").render(**view))
