"""Managing watches through the CLI: ids wherever URLs go, pause, resume,
unwatch, tags and stories on one watch, filters, CSV in and out, and the
newsroom filters of `raqib changes`."""

from __future__ import annotations

import csv
import io
from dataclasses import replace

import pytest

from raqib.demo.pages import VERSIONS, render
from raqib.demo.server import Route
from tests.conftest import Raqib

pytestmark = pytest.mark.backends


def _three(server, raqib: Raqib) -> list[str]:
    """Three articles: a (politics, story s1 and s2), b (sport, s1), c (no tag; a 500)."""
    for path in ("/a", "/b"):
        server.routes[path] = Route(render(VERSIONS[2], server.base))
    server.routes["/c"] = Route(b"down", 500)
    a, b, c = (server.base + p for p in ("/a", "/b", "/c"))
    raqib("watch", "--no-fetch", a, "--story", "s1", "--tag", "politics")
    raqib("watch", "--no-fetch", a, "--story", "s2")
    raqib("watch", "--no-fetch", b, "--story", "s1", "--tag", "sport")
    raqib("watch", "--no-fetch", c)
    raqib.proc("check", "--all")
    return [a, b, c]


def test_ids_work_wherever_urls_do(server, raqib: Raqib) -> None:
    a, _b, _c = _three(server, raqib)
    listed = raqib("watches", "--json").json()
    ida = next(w["id"] for w in listed if w["url"] == a)
    server.routes["/a"] = Route(render(VERSIONS[3], server.base))
    raqib.proc("check", "--all")
    assert raqib("versions", str(ida), "--json").json() == raqib("versions", a, "--json").json()
    assert raqib("log", f"#{ida}", "--json").json() == raqib("log", a, "--json").json()
    by_id = raqib("diff", str(ida), "--format", "json").json()
    assert by_id["kind"] == "substantive" and by_id["url"] == a
    assert raqib("changes", "--url", str(ida), "--json").json()[0]["watch_id"] == ida
    r = raqib("diff", "987654", expect=4)
    assert "no watch with id 987654" in r.err


def test_listing_has_a_header_titles_stories_tags_and_filters(server, raqib: Raqib) -> None:
    a, b, c = _three(server, raqib)
    out = raqib("watches").out.splitlines()
    assert out[0].split()[:3] == ["ID", "STATE", "VER"]
    row_a = next(line for line in out if line.endswith(a))
    assert VERSIONS[2].title[:20] in row_a and "s1, s2, #politics" in row_a
    data = {w["url"]: w for w in raqib("watches", "--json").json()}
    assert data[a]["stories"] == ["s1", "s2"] and data[a]["tags"] == ["politics"]
    assert [w["url"] for w in raqib("watches", "--tag", "sport", "--json").json()] == [b]
    assert {w["url"] for w in raqib("watches", "--story", "s1", "--json").json()} == {a, b}
    assert [w["url"] for w in raqib("watches", "--story", "s2", "--json").json()] == [a]
    failing = raqib("watches", "--failing", "--json").json()
    assert [(w["url"], w["last_outcome"]) for w in failing] == [(c, "error")]
    assert raqib("watches", "--state", "paused", "--json").json() == []
    r = raqib("watches", "--state", "sleeping", expect=2)
    assert "sleeping" in r.err


def test_pause_resume_unwatch(server, raqib: Raqib) -> None:
    a, b, c = _three(server, raqib)
    ids = {w["url"]: w["id"] for w in raqib("watches", "--json").json()}
    assert "paused" in raqib("pause", str(ids[a]), b).out
    fetched_before = {u: len(raqib("log", u, "--json").json()) for u in (a, b, c)}
    raqib.proc("check", "--all")
    after = {u: len(raqib("log", u, "--json").json()) for u in (a, b, c)}
    assert after[a] == fetched_before[a] and after[b] == fetched_before[b]  # not fetched
    assert after[c] == fetched_before[c] + 1
    states = {w["url"]: w["state"] for w in raqib("watches", "--json").json()}
    assert states[a] == states[b] == "paused"

    raqib("resume", a)
    upcoming = [w["url"] for w in raqib("schedule", "--json").json()]
    assert a in upcoming and b not in upcoming
    raqib.proc("check")  # due at once after resuming
    assert len(raqib("log", a, "--json").json()) == fetched_before[a] + 1

    raqib("unwatch", b)
    assert b not in [w["url"] for w in raqib("watches", "--json").json()]
    hidden = raqib("watches", "--state", "unwatched", "--json").json()
    assert [w["url"] for w in hidden] == [b]
    assert len(raqib("versions", b, "--json").json()) == 1  # history kept
    raqib("watch", "--no-fetch", b)  # watched again: back it comes
    assert b in [w["url"] for w in raqib("watches", "--json").json()]

    raqib("unwatch", "--purge", c)
    raqib("versions", c, expect=4)
    r = raqib("pause", "https://nowhere.example/x", str(ids[a]), expect=4)
    assert "nowhere.example" in r.err
    states = {w["url"]: w["state"] for w in raqib("watches", "--json").json()}
    assert states[a] == "active"  # all or nothing
    # Retired (gone 404 for six checks, or past an outlet's window), watched
    # again: it said "already watching" and stayed retired, never checked again.
    from datetime import UTC, datetime

    from raqib.domain import WatchState

    storage = raqib.open_storage()
    try:
        storage.watches.set_state([ids[a]], WatchState.RETIRED, now=datetime.now(UTC))
    finally:
        storage.close()
    raqib("watch", "--no-fetch", a)
    states = {w["url"]: w["state"] for w in raqib("watches", "--json").json()}
    assert states[a] == "active"


def test_tags_on_many_watches_and_csv_round_trip(server, raqib: Raqib, tmp_path) -> None:
    a, b, _c = _three(server, raqib)
    raqib("tag", a, b, "--add", "gaza", "--remove", "sport")
    tags = {w["url"]: w["tags"] for w in raqib("watches", "--json").json()}
    assert tags[a] == ["gaza", "politics"] and tags[b] == ["gaza"]
    raqib("tag", a, "--add", "bad;tag", expect=2)
    formula = '=HYPERLINK("http://evil.example/","open")'  # a stranger's headline
    server.routes["/f"] = Route(render(replace(VERSIONS[2], title=formula), server.base))
    raqib.proc("watch", server.base + "/f")

    exported = raqib("watches", "--format", "csv").out
    rows = list(csv.DictReader(io.StringIO(exported)))
    assert {r["url"] for r in rows} >= {a, b}
    assert next(r for r in rows if r["url"] == a)["stories"] == "s1;s2"
    # A spreadsheet shows it as text, never runs it.
    assert next(r for r in rows if r["url"].endswith("/f"))["title"] == "'" + formula
    path = tmp_path / "watches.csv"
    path.write_text(exported + "99,not a url\n", encoding="utf-8")

    other = Raqib(tmp_path / "other-home")  # a second newsroom, on SQLite
    # A list may come from elsewhere: its 127.0.0.1 rows need the user's word.
    r = other("watch", "--from-csv", str(path), "--json", expect=2)  # nothing imported
    assert r.json()["created"] == 0 and len(r.json()["invalid"]) == len(rows) + 1
    assert "names a loopback address" in r.json()["invalid"][0]["error"]
    assert other("watches", "--json").json() == []
    r = other("watch", "--from-csv", str(path), "--json", "--allow-private")
    assert r.json()["created"] == len(rows) and r.json()["invalid"][0]["line"] == len(rows) + 2
    assert r.json()["existing"] == 0  # a row in two stories is one new watch
    back = {w["url"]: w for w in other("watches", "--json").json()}
    assert back[a]["stories"] == ["s1", "s2"] and back[a]["tags"] == ["gaza", "politics"]
    r = other("watch", "--from-csv", "-", input="link\nhttps://x.example/1\n", expect=2)
    assert "no 'url' column" in r.err


def test_changes_filters(server, raqib: Raqib) -> None:
    a, _b, _c = _three(server, raqib)
    server.routes["/a"] = Route(render(VERSIONS[3], server.base))  # silent, figures
    raqib.proc("check", "--all")

    def urls(*args: str) -> list[str]:
        return [c["url"] for c in raqib("changes", *args, "--json").json()]

    assert urls() == [a]
    assert urls("--tag", "politics") == [a] and urls("--tag", "sport") == []
    assert urls("--story", "s2") == [a]
    # A mistyped name names nothing: said, not shown as "no changes".
    assert "no outlet 'none'" in raqib("changes", "--outlet", "none", expect=4).err
    assert "no story 's9'" in raqib("changes", "--story", "s9", expect=4).err
    assert "no story 's9'" in raqib("feed", "--story", "s9", "--out", "-", expect=4).err
    for command in ("changes", "watches"):  # a tag too, as a story is ("no changes" before)
        said = raqib(command, "--tag", "politcs", expect=4).err
        assert "no watch has the tag 'politcs'" in said
        # Given twice, a filter is refused: the last one alone was used.
        said = raqib(command, "--tag", "politics", "--tag", "sport", expect=2).err
        assert "given 2 times ('politics', 'sport'): it takes one" in said
    assert raqib("watches", "--tag", "sport", "--failing").out.strip() == "no watches match"
    assert urls("--silent", "--kind", "substantive", "--facts", "figures") == [a]
    assert urls("--kind", "cosmetic") == []
    assert urls("--since", "1d") == [a] and urls("--since", "2999-01-01T00:00:00Z") == []
    assert urls("--search", "2500") == [a] and urls("--search", "قطعا غير موجود") == []
    assert urls("--since", "yesterday") == [a]
    r = raqib("changes", "--since", "the other day", expect=2)
    assert "2d" in r.err


def test_since_without_an_offset_is_in_the_display_time_zone() -> None:
    """The times `changes` shows are in [display] timezone; a bare date or
    time given back to --since is read there too, as today and yesterday are."""
    from datetime import UTC, datetime

    from raqib.app.history import parse_since

    now = datetime(2026, 12, 5, 12, 0, tzinfo=UTC)
    baghdad = "Asia/Baghdad"  # UTC+3
    assert parse_since("2026-12-03", now=now, zone=baghdad) == datetime(2026, 12, 2, 21, tzinfo=UTC)
    assert parse_since("2026-12-03T08:00", now=now, zone=baghdad) == datetime(
        2026, 12, 3, 5, tzinfo=UTC
    )
    assert parse_since("2026-12-03T08:00Z", now=now, zone=baghdad) == datetime(
        2026, 12, 3, 8, tzinfo=UTC
    )
    assert parse_since("today", now=now, zone=baghdad) == datetime(2026, 12, 4, 21, tzinfo=UTC)


def test_since_at_the_ends_of_time_is_as_far_as_times_go(raqib: Raqib) -> None:
    """`--since 0001-01-01` (everything) was refused as "not a time", and a
    time in year 9999 that is in year 10000 in UTC ended the command with an
    unexpected error. They are the earliest and latest times Raqib can hold."""
    from datetime import UTC, datetime

    from raqib.app.history import parse_since
    from raqib.clock import parse_instant

    now = datetime(2026, 12, 5, 12, 0, tzinfo=UTC)
    for zone in ("Asia/Baghdad", "America/New_York"):
        assert parse_since("0001-01-01", now=now, zone=zone).year == 1
        assert parse_since("0001-01-01T00:00+03:00", now=now, zone=zone).year == 1
        assert parse_since("9999-12-31T23:59-05:00", now=now, zone=zone).year == 9999
        assert parse_since("9999-12-31", now=now, zone=zone).year == 9999
    with pytest.raises(ValueError, match="out of range"):  # an import's time, or a WARC's
        parse_instant("9999-12-31T23:59:59-05:00")
    raqib.home.mkdir(parents=True)
    raqib("watch", "--no-fetch", "https://example.com/a")
    for when in ("0001-01-01", "9999-12-31T23:59:59-05:00"):
        assert raqib("changes", "--since", when).out.strip() == "no changes"


def test_kind_and_silence_filter_the_verdicts_shown_while_old_ones_wait(raqib: Raqib) -> None:
    """A change an older analyzer called substantive and silent, which this one
    calls cosmetic (1,500 → 1500): until a pass stores it again, `--kind` and
    `--silent` go by what `changes` shows."""
    from datetime import timedelta

    from sqlalchemy import update

    from raqib import analysis
    from raqib.storage import models as m
    from tests.test_storage import T0, record

    raqib.home.mkdir(parents=True)
    store = raqib.open_storage()
    try:
        ((w, _),) = store.watches.add(["https://news.example.com/x"], now=T0)
        frame = "أعلنت الوزارة تسجيل {} إصابة في ثلاث محافظات خلال الساعات الماضية."
        record(store, w.id, "new_version", T0, frame.format("1,500"))
        record(store, w.id, "new_version", T0 + timedelta(hours=1), frame.format("1500"))
        analysis.analyze_pending(store)
        with store.db.session() as s:
            s.execute(
                update(m.Change).values(kind="substantive", silent=True, analyzer="raqib-diff 4")
            )
    finally:
        store.close()

    def kinds(*args: str) -> list[str]:
        return [c["kind"] for c in raqib("changes", *args, "--json").json()]

    assert kinds() == ["cosmetic"]  # as re-judged when read
    assert kinds("--kind", "substantive") == [] and kinds("--silent") == []
    assert kinds("--kind", "cosmetic") == ["cosmetic"]
