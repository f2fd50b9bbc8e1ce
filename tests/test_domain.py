"""The decisions that belong to the domain, not to SQL: what a recorded
fetch changes on its watch, and when a new version is really new."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from raqib.domain import FetchRecord, Outcome, Snapshot
from raqib.recording import extends_version, settle, watch_update

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def _snap(h: str) -> Snapshot:
    return Snapshot("t", None, None, None, "نص", [], "ar", h, "x")


def _rec(outcome: Outcome, **kw: object) -> FetchRecord:
    return FetchRecord(1, T0, outcome, T0 + timedelta(hours=1), **kw)  # type: ignore[arg-type]


def test_a_new_version_already_stored_is_unchanged() -> None:
    assert settle(_rec(Outcome.NEW_VERSION, snapshot=_snap("a")), "a")[0] is Outcome.UNCHANGED
    assert settle(_rec(Outcome.NEW_VERSION, snapshot=_snap("b")), "a")[0] is Outcome.NEW_VERSION
    assert settle(_rec(Outcome.NEW_VERSION), "a")[0] is Outcome.UNCHANGED  # nothing to store
    assert settle(_rec(Outcome.ERROR, detail="HTTP 503"), "a") == (Outcome.ERROR, "HTTP 503")


def test_a_version_needs_changed_text_or_headline() -> None:
    """A byline or a date that changed alone (JSON-LD that failed to parse, say)
    is said in the fetch log and makes no version."""
    latest = _snap("old-hash")
    latest.byline, latest.modified = "فريق التحرير", "2026-01-01T10:00:00+03:00"
    now = _snap("new-hash")  # the same title and text, hashed another way
    outcome, detail = settle(_rec(Outcome.NEW_VERSION, snapshot=now), "old-hash", latest)
    assert outcome is Outcome.UNCHANGED
    assert detail == "metadata changed, text and headline not: byline gone; modified gone"
    edited = _snap("new-hash")
    edited.text = "نص آخر"
    assert settle(_rec(Outcome.NEW_VERSION, snapshot=edited), "old-hash", latest)[0] is (
        Outcome.NEW_VERSION
    )


def test_validators_follow_what_the_fetch_saw() -> None:
    ok = watch_update(_rec(Outcome.UNCHANGED, etag='"e2"', last_modified=None), Outcome.UNCHANGED)
    assert ok["etag"] == '"e2"' and ok["last_modified"] is None
    # A 304 without validators keeps the ones that earned it.
    assert "etag" not in watch_update(_rec(Outcome.NOT_MODIFIED), Outcome.NOT_MODIFIED)
    # A page seen to disappear loses them: a later 304 must not vouch for it.
    gone = watch_update(_rec(Outcome.REMOVED, etag='"e3"'), Outcome.REMOVED)
    assert gone["etag"] is None and gone["last_modified"] is None
    # An error keeps them, and says so in the outcome.
    err = watch_update(_rec(Outcome.ERROR, etag='"e4"'), Outcome.ERROR)
    assert "etag" not in err and err["last_outcome"] == "error"


def test_which_outcomes_extend_the_latest_version() -> None:
    assert {o for o in Outcome if extends_version(o)} == {
        Outcome.UNCHANGED,
        Outcome.NOT_MODIFIED,
        Outcome.RESTORED,
    }
