"""One source of truth for a change: readers show the stored analysis; one an
older analyzer made is judged again, said to be, and re-stored by a pass."""

from __future__ import annotations

import csv
import logging
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select, update

from raqib.demo.pages import PATH, VERSIONS, render
from raqib.demo.server import Route
from raqib.diffs.classify import ANALYZER
from raqib.storage.models import Change
from tests.conftest import Raqib, realpage

pytestmark = pytest.mark.backends


def _store(raqib: Raqib):
    return raqib.open_storage()


def test_readers_show_the_stored_analysis_and_rejudge_only_older_ones(server, raqib: Raqib) -> None:
    url = server.base + PATH
    raqib("watch", "--no-fetch", url)
    for version in VERSIONS[:4]:  # churn, cosmetic, silent edit
        server.routes[PATH] = Route(render(version, server.base))
        raqib.proc("check", "--all")
    fresh = raqib("changes", "--json").json()
    assert fresh and all(c["analyzer"] == ANALYZER and "reanalyzed_from" not in c for c in fresh)
    last = fresh[-1]

    # What is stored is what is shown: change the stored judgement, and every reader says so.
    storage = _store(raqib)
    try:
        with storage.db.session() as s:
            row = s.scalars(select(Change).order_by(Change.id.desc())).first()
            data = dict(row.analysis, signals=["notice: stored, not recomputed"])
            s.execute(update(Change).where(Change.id == row.id).values(analysis=data))
    finally:
        storage.close()
    args = ("--from", str(last["from_version"]), "--to", str(last["to_version"]))
    shown = raqib("diff", url, *args, "--format", "json").json()
    assert shown["signals"] == ["notice: stored, not recomputed"]
    assert raqib("changes", "--json").json()[-1]["signals"] == ["notice: stored, not recomputed"]
    assert "stored, not recomputed" in raqib("diff", url, *args, "--no-color").out

    # An older analyzer's judgement (in its older form) is judged again when read…
    storage = _store(raqib)
    try:
        with storage.db.session() as s:
            for c in s.scalars(select(Change)):
                old_form = dict(
                    c.analysis,
                    alignment=[a for a in c.analysis["alignment"] if a["label"] != "unchanged"],
                    silent=not c.silent,
                )
                s.execute(
                    update(Change)
                    .where(Change.id == c.id)
                    .values(analysis=old_form, analyzer="raqib-diff 1", silent=not c.silent)
                )
    finally:
        storage.close()
    listed = raqib("changes", "--json").json()
    for before, after in zip(fresh, listed, strict=True):
        assert after["reanalyzed_from"] == "raqib-diff 1" and after["analyzer"] == ANALYZER
        assert after["silent"] == before["silent"] and after["alignment"] == before["alignment"]
    shown = raqib("diff", url, *args, "--format", "json").json()
    shared = (set(shown) & set(listed[-1])) - {"schema"}
    assert {k: shown[k] for k in shared} == {k: listed[-1][k] for k in shared}
    assert shown["reanalyzed_from"] == "raqib-diff 1"
    # …and the next pass stores the new judgement, recording what it replaced.
    raqib.proc("check", "--all")
    storage = _store(raqib)
    try:
        with storage.db.session() as s:
            stored = s.scalars(select(Change)).all()
            assert {c.analyzer for c in stored} == {ANALYZER}
            assert {c.analysis["reanalyzed_from"] for c in stored} == {"raqib-diff 1"}
            assert [c.silent for c in stored] == [c["silent"] for c in fresh]
    finally:
        storage.close()


def test_a_pair_the_analyzer_fails_on_is_judged_coarsely_and_the_rest_go_on(
    raqib: Raqib, monkeypatch, caplog
) -> None:
    """One stranger's text that trips a bug in the analyzer gets a coarse
    judgement, marked with the error: before, the exception stopped the
    batch, and the pair, first in line, stopped every pass's judging."""
    from raqib.analysis import analyze_pending
    from raqib.diffs import classify
    from tests.test_storage import T0, record

    real = classify.compare
    bug = "<script>alert(1)</script> on this text"

    def compare(old, new):  # the analyzer's bug, on one article's text only
        if "انتهت" in new.text:
            raise ValueError(bug)
        return real(old, new)

    monkeypatch.setattr(classify, "compare", compare)
    failing, fine = "https://a.example/failing", "https://a.example/fine"
    raqib("watch", "--no-fetch", failing, fine)
    store = _store(raqib)
    try:
        ids = {url: store.watches.find(url).id for url in (failing, fine)}
        same = "وأضاف أن الوفد سيعود غدا إلى العاصمة."
        for url, before, after in (
            (failing, "قال الوزير إن المفاوضات مستمرة.", "قال الوزير إن المفاوضات انتهت."),
            (fine, "قتل 30 شخصا في الهجوم.", "قتل 40 شخصا في الهجوم."),
        ):
            record(store, ids[url], "new_version", T0, f"{before}\n\n{same}")
            record(store, ids[url], "new_version", T0 + timedelta(hours=1), f"{after}\n\n{same}")
        logging.root.addHandler(caplog.handler)  # the CLI's console set the root's handlers
        try:
            judged = {c.watch_id: c for c, _new in analyze_pending(store)}
        finally:
            logging.root.removeHandler(caplog.handler)
        assert analyze_pending(store) == []  # nothing left first in line
    finally:
        store.close()
    assert set(judged) == set(ids.values())
    good = judged[ids[fine]]
    assert "analysis_error" not in good.analysis and good.analysis["facts"]["numbers"]
    bad = judged[ids[failing]]
    assert (bad.kind, bad.silent, bad.analyzer) == ("substantive", True, ANALYZER)
    assert bad.analysis["analysis_error"] == f"ValueError: {bug}"
    assert [a["label"] for a in bad.analysis["alignment"]] == ["delete", "add", "unchanged"]
    assert f"watch {ids[failing]}, version 1 → 2: the analyzer failed" in caplog.text

    listed = {c["watch_id"]: c for c in raqib("changes", "--json").json()}
    assert listed[ids[failing]]["analysis_error"] == f"ValueError: {bug}"
    assert "analysis_error" not in listed[ids[fine]]
    text = raqib("diff", failing, "--no-color").out
    assert f"analysis failed: ValueError: {bug}" in text and "SILENT" in text
    assert "analysis failed" not in raqib("diff", fine, "--no-color").out
    # The webhook event, the worded message and the spreadsheet say so too.
    from raqib.app import notifications
    from raqib.app.home import open_app
    from raqib.notify import messages

    for k, v in raqib.env.items():
        monkeypatch.setenv(k, v)
    app = open_app(raqib.home)
    try:
        [event] = notifications.change_events(app, [bad])
    finally:
        app.close()
    assert event["analysis_error"] == f"ValueError: {bug}"
    assert "تعذّر التحليل المفصّل" in messages.body(event)
    table = raqib.home / "changes.csv"
    raqib("export", "--format", "csv", "--out", str(table))
    rows = list(csv.DictReader(table.read_text(encoding="utf-8-sig").splitlines()))
    errors = {r["url"]: r["analysis_error"] for r in rows if r["record"] == "change"}
    assert errors == {failing: f"ValueError: {bug}", fine: ""}
    page = raqib("diff", failing, "--format", "html").out
    assert "the analyzer failed" in page and "<script>alert" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page


def test_changes_rejudge_stores_every_older_judgement_now(server, raqib: Raqib) -> None:
    """A newer analyzer leaves every stored change to be judged again by each
    reader until passes store them, 500 a pass: a list says so, and
    `changes --rejudge` stores them all at once."""
    url = server.base + PATH
    raqib("watch", "--no-fetch", url)
    for version in VERSIONS[:4]:
        server.routes[PATH] = Route(render(version, server.base))
        raqib.proc("check", "--all")
    fresh = raqib("changes", "--json").json()
    storage = _store(raqib)
    try:
        with storage.db.session() as s:
            s.execute(update(Change).values(analyzer="raqib-diff 1"))
    finally:
        storage.close()
    listed = raqib("changes", "--json")
    assert f"{len(fresh)} changes were judged by an older Raqib" in listed.err
    assert all(c["reanalyzed_from"] == "raqib-diff 1" for c in listed.json())
    said = raqib("changes", "--rejudge")
    assert said.out == "" and f"judged {len(fresh)} changes again" in said.err
    again = raqib("changes", "--json")
    assert "older Raqib" not in again.err
    assert [{**c, "reanalyzed_from": None} for c in again.json()] == [
        {**c, "reanalyzed_from": None} for c in fresh
    ]
    assert {c["reanalyzed_from"] for c in again.json()} == {"raqib-diff 1"}  # stored, as a pass
    assert "alone" in raqib("changes", "--rejudge", "--silent", expect=2).err  # not all: refused
    storage = _store(raqib)
    try:  # a newer Raqib's judgement is not an older one's: nothing to say
        with storage.db.session() as s:
            s.execute(update(Change).values(analyzer="raqib-diff 999"))
    finally:
        storage.close()
    assert "older Raqib" not in raqib("changes", "--json").err


@pytest.mark.scenario
def test_a_site_headers_clock_does_not_announce_an_edit(server, raqib: Raqib) -> None:
    """A site header's clock in a `<time class="updated">` (a WordPress theme's)
    dated the page: it moved on every fetch, and a silent edit beneath it read
    as announced (a copy desk's)."""
    html, figure = realpage("ar_almadenahnews_jo.html"), "أرواح 49"
    assert html.count(figure) == 1 and html.count("<body>") == 1
    raqib("watch", "--no-fetch", server.base + "/a")
    for page in (html, html.replace(figure, "أرواح 51")):
        now = datetime.now(UTC).isoformat()  # after the last fetch, before the next
        clock = f'<header class="site-header"><time class="updated" datetime="{now}">{now}</time>'
        server.routes["/a"] = Route(page.replace("<body>", f"<body>{clock}</header>").encode())
        raqib.proc("check", "--all")
    (change,) = raqib("changes", "--json").json()
    assert (change["kind"], change["silent"]) == ("substantive", True)


def test_a_stamp_that_moved_before_an_edit_does_not_announce_it(
    server, raqib: Raqib, tmp_path
) -> None:
    """CNN Arabic's "آخر تحديث 14:00" moved to 16:30 with no edit, and a later
    silent edit stood under the moved stamp: judged against the old version's
    own notices, the stamp was new there and announced the edit. The fetches
    that saw the old text again note what they saw (versions.seen_notices),
    and the stamps among them are the old side's: silent. A correction seen
    before its text was fixed still announces the fix; an export carries what
    was seen, and an import judges the same, also into a home that held the
    old version already (from an earlier export)."""
    html = realpage("ar_cnnarabic.html")
    stamp, figure = "آخر تحديث 14:00", "سيطروا على ثلاثة"
    note = '<div class="cnn_strytmstmp">تصحيح: ورد في نسخة سابقة أن المستودعات ثلاثة.</div>'
    assert (
        html.count(stamp) == 1 and html.count(figure) == 1 and html.count("(GMT+0400)</div>") == 1
    )
    moved = html.replace(stamp, "آخر تحديث 16:30")
    noted = html.replace("(GMT+0400)</div>", "(GMT+0400)</div>" + note)
    pages = {
        "/stamp": (html, moved, moved.replace(figure, "سيطروا على أربعة")),
        "/note": (html, noted, noted.replace(figure, "سيطروا على أربعة")),
    }
    for path in pages:
        raqib("watch", "--no-fetch", server.base + path)
    elsewhere = Raqib(tmp_path / "elsewhere")
    for step in range(3):
        for path, versions in pages.items():
            server.routes[path] = Route(versions[step].encode())
        raqib.proc("check", "--all")
        if step == 0:  # the first versions, imported before the stamp moved
            raqib("export", "--format", "jsonl", "--out", str(tmp_path / "first.jsonl"))
            elsewhere("import", "--allow-private", str(tmp_path / "first.jsonl"))
    verdicts = {c["url"]: (c["kind"], c["silent"]) for c in raqib("changes", "--json").json()}
    assert verdicts == {
        server.base + "/stamp": ("substantive", True),
        server.base + "/note": ("substantive", False),
    }
    first = raqib("versions", server.base + "/stamp", "--json").json()[0]
    assert first["seen_notices"] == ["الأربعاء، 28 آب/اغسطس 2013، آخر تحديث 16:30 (GMT+0400)"]
    out = tmp_path / "export.jsonl"
    raqib("export", "--format", "jsonl", "--out", str(out))
    for home in (elsewhere, Raqib(tmp_path / "fresh")):
        home("import", "--allow-private", str(out))
        again = {c["url"]: (c["kind"], c["silent"]) for c in home("changes", "--json").json()}
        assert again == verdicts
        # What it held gains what the export saw of it: its notices, when it was last seen.
        held = home("versions", server.base + "/stamp", "--json").json()[0]
        assert (held["seen_notices"], held["last_seen"]) == (
            first["seen_notices"],
            first["last_seen"],
        )
