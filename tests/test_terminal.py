"""The terminal as people use it: pipes closed early, diffs that read
without colour and with it, header rows, reasons in `schedule`, relative
times, local times, the progress bar and first captures counted apart."""

from __future__ import annotations

from datetime import UTC, datetime
from types import SimpleNamespace

import pytest

from raqib.app.errors import BadInput
from raqib.app.history import parse_since
from raqib.demo.pages import VERSIONS, render
from raqib.demo.server import Route
from raqib.diffs.render import PDI, RLI
from raqib.domain import Outcome
from tests.conftest import Raqib

ANSI = "\x1b["


def _edited(server, raqib: Raqib) -> str:
    """One article, then a silent edit of it (two checks)."""
    url = server.base + "/a"
    server.routes["/a"] = Route(render(VERSIONS[2], server.base))
    raqib("watch", "--no-fetch", url)
    first = raqib.proc("check", "--all", "--json").json()
    assert first["first_captures"] == 1 and first["outcomes"] == {"new_version": 1}
    server.routes["/a"] = Route(render(VERSIONS[3], server.base))
    second = raqib.proc("check", "--all")
    assert "0 first captures, 1 new versions (1 substantive" in second.out
    return url


@pytest.mark.parametrize(
    "command", [("watches",), ("schedule", "--limit", "0"), ("watches", "--json")]
)
def test_a_reader_that_stops_early_is_no_error(raqib: Raqib, command: tuple[str, ...]) -> None:
    urls = "".join(f"https://example.com/news/{i}\n" for i in range(3000))
    raqib("watch", "--no-fetch", "-", input=urls)
    p = raqib.popen(*command)
    assert p.stdout is not None and p.stdout.readline()
    p.stdout.close()  # `| head -1`: the reader is gone, 3,000 rows are still to come
    assert p.wait(timeout=60) == 0
    assert p.stderr is not None and p.stderr.read() == ""


def test_diff_keeps_its_markers_in_colour_and_isolates_arabic(server, raqib: Raqib) -> None:
    url = _edited(server, raqib)
    coloured = raqib("diff", url, "--color").out
    assert ANSI in coloured and "{+نحو 2500 جندي+}" in coloured and "[-آلاف الجنود-]" in coloured
    bare = raqib("diff", url, "--color", "--no-markers").out
    assert ANSI in bare and "{+" not in bare and "[-" not in bare and "نحو 2500 جندي" in bare
    # Without colour nothing would show where an edit begins: old and new ran together.
    plain = raqib("diff", url, "--no-markers", expect=2)
    assert "--no-markers needs colour" in plain.err and plain.out == ""
    isolated = raqib("diff", url, "--no-color", "--isolate").out
    line = next(x for x in isolated.splitlines() if "نحو 2500 جندي" in x)
    label, _, sentence = line.partition(RLI)
    assert label.startswith("[edited") and sentence.endswith(PDI)
    assert RLI not in raqib("diff", url, "--no-color").out  # not a terminal: no isolates


def test_listings_have_header_rows_titles_and_reasons(server, raqib: Raqib) -> None:
    url = _edited(server, raqib)
    server.routes["/down"] = Route(b"<html><body>maintenance</body></html>", 503)
    raqib("watch", "--no-fetch", server.base + "/down")
    raqib.proc("check", "--all")
    changes = raqib("changes").out.splitlines()
    assert changes[0].split()[:4] == ["DETECTED", "ID", "VERSIONS", "CHANGE"]
    assert VERSIONS[3].title[:20] in changes[1] and changes[1].endswith(url)
    sched = raqib("schedule").out.splitlines()
    assert sched[0].split()[:5] == ["NEXT", "CHECK", "WHEN", "ID", "STATE"]
    down = next(x for x in sched if x.endswith("/down"))
    assert "backing off after 1 failed fetch (error 503" in down
    assert next(x for x in sched if x.endswith(url)).count("last changed ")
    data = {d["url"]: d for d in raqib("schedule", "--json").json()}
    assert data[server.base + "/down"]["last_error"]["status"] == 503
    assert data[url]["last_error"] is None
    # A first capture is no change; watches at rest are counted by their state.
    server.routes["/once"] = Route(render(VERSIONS[0], server.base))
    raqib("watch", server.base + "/once")
    raqib("pause", "1")
    sched = raqib("schedule").out.splitlines()
    assert "unchanged since first captured " in next(x for x in sched if x.endswith("/once"))
    assert sched[-1] == "(not scheduled, not shown: 1 paused)"


def test_since_takes_spans_days_and_iso_times() -> None:
    now = datetime(2026, 12, 2, 1, 30, tzinfo=UTC)  # 04:30 in Baghdad
    assert parse_since("2h", now=now) == datetime(2026, 12, 1, 23, 30, tzinfo=UTC)
    assert parse_since("3d", now=now) == datetime(2026, 11, 29, 1, 30, tzinfo=UTC)
    # Midnight where the user is: Baghdad's 1 December began at 21:00 UTC on 30 November.
    assert parse_since("yesterday", now=now, zone="Asia/Baghdad") == datetime(
        2026, 11, 30, 21, 0, tzinfo=UTC
    )
    assert parse_since("today", now=now, zone="UTC") == datetime(2026, 12, 2, tzinfo=UTC)
    assert parse_since("2026-12-01T08:00+03:00", now=now) == datetime(2026, 12, 1, 5, tzinfo=UTC)
    with pytest.raises(BadInput, match="yesterday"):
        parse_since("last tuesday", now=now)


def test_times_show_in_the_display_zone_and_json_keeps_utc(server, raqib: Raqib) -> None:
    url = _edited(server, raqib)
    (raqib.home / "raqib.toml").write_text('[display]\ntimezone = "Asia/Baghdad"\n')
    detected = raqib("changes", "--json").json()[0]["detected_at"]
    assert detected.endswith("+00:00")
    moment = datetime.fromisoformat(detected)
    shown = raqib("changes", "--since", "yesterday").out.splitlines()[1]
    expected = moment.astimezone(__import__("zoneinfo").ZoneInfo("Asia/Baghdad"))
    assert shown.startswith(expected.strftime("%Y-%m-%d %H:%M:%S +03:00"))
    assert "+03:00" in raqib("log", url).out and "+03:00" in raqib("diff", url).out
    assert "+03:00" in raqib("diff", url, "--format", "html").out
    assert "+00:00" in raqib("diff", url, "--format", "json").json()["to_seen"]
    (raqib.home / "raqib.toml").write_text('[display]\ntimezone = "Mars/Olympus"\n')
    r = raqib("changes", expect=None)
    assert r.code != 0 and "no time zone named 'Mars/Olympus'" in r.err


def test_the_progress_bar_starts_at_once_and_counts_outcomes() -> None:
    from raqib.cli.progress import PassProgress

    bar = PassProgress()
    try:
        (task,) = bar.bar.tasks
        assert task.description == "starting" and task.total is None  # before any claim
        bar.claimed(4)
        for outcome, number in (
            (Outcome.NEW_VERSION, 1),
            (Outcome.NEW_VERSION, 3),
            (Outcome.NOT_MODIFIED, None),
            (Outcome.ERROR, None),
        ):
            bar.recorded(None, SimpleNamespace(outcome=outcome, version_number=number))
        assert (task.completed, task.total) == (4, 4)
        assert task.fields["found"] == "1 first captures, 1 new versions, 1 unchanged, 1 errors"
    finally:
        bar.stop()


def test_a_strangers_header_reaches_the_terminal_without_control_characters(
    server, raqib: Raqib
) -> None:
    """A header is read as latin-1, so bytes 0x80-0x9f became C1 controls
    (CSI, OSC: escape sequences to a terminal) in "not an HTML page (…)",
    which `log`, `watch` and `preview` printed as they were."""
    hostile = "x/\x9b2J\x9b31mRED\x9d0;title\x07\x1b[2J"
    server.routes["/a"] = Route(b"%PDF", headers={"Content-Type": hostile})
    url = server.base + "/a"
    printed = [raqib("watch", url).out, raqib("preview", url).out, raqib("log", url).out]
    for out in printed:
        assert "not an html page" in out.lower(), out
        assert not any(c in out for c in "\x9b\x9d\x07\x1b"), ascii(out)
    stored = raqib("log", url, "--json").json()[-1]["detail"]
    assert not any(c in stored for c in "\x9b\x9d\x07\x1b"), ascii(stored)
