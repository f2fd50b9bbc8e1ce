"""The Recorder's write queue: closing never hangs on a batch already written."""

from __future__ import annotations

import asyncio
import dataclasses
import threading
from typing import Any

from raqib.crawler.record import Recorder


def test_close_after_a_write_finished_but_before_its_callback_ran() -> None:
    # A batch whose write has completed, with its done-callback still queued:
    # awaiting a done future does not yield to the loop, so a close() that
    # waited for the callback to remove it spun forever (the 304 pass hung).
    recorder = Recorder(storage=None, policy=None, tasks=[], owner="t")  # type: ignore[arg-type]
    finished = threading.Event()

    async def scenario() -> None:
        written = asyncio.get_running_loop().create_future()
        written.add_done_callback(recorder._forget)
        recorder._inflight.append(written)
        written.set_result(None)  # the callback is scheduled, not run
        await recorder.close()
        finished.set()

    worker = threading.Thread(target=asyncio.run, args=(scenario(),), daemon=True)
    worker.start()
    worker.join(timeout=30)
    assert finished.is_set(), "Recorder.close() did not return"
    assert recorder._inflight == []


def test_aliases_are_the_other_addresses_a_page_answered_to() -> None:
    from datetime import UTC, datetime

    from raqib.crawler.fetch_record import aliases_for
    from raqib.domain import Fetched, Task

    now = datetime(2026, 12, 3, tzinfo=UTC)
    url = "https://news.example/a/1"
    task = Task(1, url, None, None, None, None, "active", 1, 100, now, None, 0, 0)

    def aliases(**kw: object) -> list[str]:
        return aliases_for(task, Fetched(1, kw.pop("url", url), now, **kw), None)  # type: ignore[arg-type]

    assert aliases(final_url=url) == []  # served at its own address
    moved = "https://news.example/a/1-new-slug"
    assert aliases(final_url=moved, redirects=[url]) == [moved]
    # Another site's article is never this watch's: a stranger's redirect to it
    # would make it "already watched" (its own site's AMP host is one owner's).
    other = "https://victim.example.org/disk/v.html"
    assert aliases(final_url=other, redirects=[url]) == []
    uk = "https://www.example.co.uk/a/1"
    amp = "https://amp.example.co.uk/a/1"
    at_uk = Task(2, uk, None, None, None, None, "active", 1, 100, now, None, 0, 0)
    assert aliases_for(at_uk, Fetched(2, uk, now, final_url=amp, redirects=[uk]), None) == [amp]
    # A redirect to another story (published on another day than the watch's last version
    # said) is not this watch's address: that story was "already watched" under it.
    from types import SimpleNamespace

    def page(published: str | None) -> Any:
        snapshot = SimpleNamespace(published=published)
        return SimpleNamespace(snapshot=snapshot, canonical_url=moved, amp_url=None)

    dated = dataclasses.replace(task, meta={"published": "2024-05-05T10:00:00+03:00"})
    for published, kept in (
        ("2024-06-01T09:00:00+03:00", []),
        ("2024-05-05T07:00:00Z", [moved]),  # the same day: a slug renamed
        ("Sun, 05 May 2024 10:00:00 +0300", [moved]),  # another format
        ("05/05/2024", [moved]),  # unread: the same story
        (None, [moved]),
    ):
        served = Fetched(1, url, now, final_url=moved, redirects=[url])
        assert aliases_for(dated, served, page(published)) == kept, published
    assert aliases_for(task, served, page("2024-06-01")) == [moved]  # the watch's day unknown
    # One moment written in two zones across midnight is one day (a review's), and so is
    # one local day (the fifth's); a stranger's year 9999 is no error (it failed every check).
    late = dataclasses.replace(task, meta={"published": "2024-05-05T01:00:00+03:00"})
    assert aliases_for(late, served, page("2024-05-04T22:00:00Z")) == [moved]
    assert aliases_for(late, served, page("2024-05-05T10:00:00+03:00")) == [moved]
    for far in ("9999-12-31T23:00:00-05:00", "0001-01-01T00:00:00+03:00"):
        assert aliases_for(dated, served, page(far)) == [moved], far
    # The story's day is kept: a redirect to another story is refused on later checks too.
    kept = dataclasses.replace(
        task, meta={"published": "2024-06-01T09:00:00+03:00", "story_published": "2024-05-05"}
    )
    assert aliases_for(kept, served, None) == []
    # Requested at another spelling of the watch's address: normalised, it is the watch's own.
    assert (
        aliases(url="https://NEWS.example/a/1#top", final_url="https://NEWS.example/a/1#top") == []
    )


def test_a_versions_seen_notices_keep_this_fetchs_past_their_bound() -> None:
    """Notices a fetch of a version's text saw that it does not hold (its
    moved stamp among them): none new, nothing to write; past the bound the
    oldest seen before go, never this fetch's (its stamp leads the page: cut,
    it would be new against the old text again)."""
    from raqib.recording import MAX_SEEN_NOTICES, seen_notices

    assert seen_notices(["held"], None, ["held", "stamp"]) == ["stamp"]
    assert seen_notices(["held"], ["stamp"], ["stamp", "held"]) is None  # nothing new
    older = [f"old {i}" for i in range(MAX_SEEN_NOTICES)]
    now = ["stamp 16:30", *(f"line {i}" for i in range(MAX_SEEN_NOTICES + 1))]
    kept = seen_notices(["held"], older, now)
    assert kept is not None and len(kept) == MAX_SEEN_NOTICES and kept[0] == "stamp 16:30"
    kept = seen_notices(["held"], older, ["stamp 16:30"])
    assert kept == [*older[1:], "stamp 16:30"]
