"""One source of truth for a change: readers show the stored analysis; one an
older analyzer made is judged again, said to be, and re-stored by a pass."""

from __future__ import annotations

import pytest
from sqlalchemy import select, update

from raqib.demo.pages import PATH, VERSIONS, render
from raqib.demo.server import Route
from raqib.diffs.classify import ANALYZER
from raqib.storage.models import Change
from tests.conftest import Raqib

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
