"""Replay ../shared/corpus over HTTP on 127.0.0.1 through the CLI and meet
every `expect` of every step of both watches."""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import Raqib, corpus_route

pytestmark = pytest.mark.backends


def _expected_outcome(expect: dict[str, Any]) -> set[str]:
    if "event" in expect:
        return {expect["event"]}
    if expect["version"] == "new":
        return {"new_version"}
    return {"unchanged", "not_modified"}


@pytest.mark.scenario
def test_corpus_replay(server, raqib: Raqib, manifest) -> None:
    watches = manifest["watches"]
    urls = {w["id"]: server.base + w["path"] for w in watches}
    for w in watches:
        raqib("watch", "--no-fetch", urls[w["id"]], "--story", w["story"])
    versions = dict.fromkeys(urls, 0)
    steps = max(len(w["steps"]) for w in watches)
    failures: list[str] = []
    for k in range(steps):
        active = [w for w in watches if k < len(w["steps"])]
        for w in active:
            server.routes[w["path"]] = corpus_route(manifest, w["steps"][k], server.base)
        raqib.proc("check", "--all")
        state = {row["url"]: row for row in raqib("watches", "--json").json()}
        all_changes = raqib("changes", "--json").json()
        for w in active:
            step = w["steps"][k]
            expect = step["expect"]
            url = urls[w["id"]]
            row = state[url]
            where = f"{w['id']} step {step['id']}"
            if row["last_outcome"] not in _expected_outcome(expect):
                failures.append(
                    f"{where}: outcome {row['last_outcome']}, expected {_expected_outcome(expect)}"
                )
            want = versions[w["id"]] + (1 if expect["version"] == "new" else 0)
            if row["versions"] != want:
                failures.append(f"{where}: {row['versions']} versions, expected {want}")
            versions[w["id"]] = row["versions"]
            if expect.get("first"):
                assert row["versions"] == 1, where
            if any(key in expect for key in ("kind", "silent", "headline_changed")):
                mine = [
                    c for c in all_changes if c["url"] == url and c["to_version"] == row["versions"]
                ]
                if len(mine) != 1:
                    failures.append(
                        f"{where}: {len(mine)} change rows for version {row['versions']}"
                    )
                    continue
                change = mine[0]
                for key in ("kind", "silent", "headline_changed"):
                    if key in expect and change[key] != expect[key]:
                        failures.append(f"{where}: {key}={change[key]!r}, expected {expect[key]!r}")
    assert not failures, "\n".join(failures)

    # The whole history reads back through the other commands.
    seed = urls["seed"]
    log = raqib("log", seed, "--json").json()
    assert [e["outcome"] for e in log] == [
        "new_version",
        "unchanged",
        "new_version",
        "unchanged",
        "new_version",
        "new_version",
        "new_version",
        "unchanged",
        "not_article",
        "error",
        "removed",
        "restored",
    ]
    assert [e["status"] for e in log][-4:] == [200, 503, 404, 200]
    assert all(e["duration_ms"] is not None for e in log)
    seed_versions = raqib("versions", seed, "--json").json()
    assert [v["version"] for v in seed_versions] == [1, 2, 3, 4, 5]
    assert all(v["extractor"].startswith("trafilatura ") for v in seed_versions)
    # The bot check, the outage and the removal kept the last good version current.
    assert seed_versions[-1]["last_seen"] == log[-1]["fetched_at"]
    assert "وفي السنوات التي تلت ذلك" not in seed_versions[-1]["text"]
    assert "وفي السنوات التي تلت ذلك" in seed_versions[-2]["text"]

    # The classification carries its evidence: alignment labels and fact deltas.
    changes = {(c["url"], c["to_version"]): c for c in raqib("changes", "--json").json()}
    oil = urls["oil"]
    correction = changes[(oil, 2)]
    assert correction["facts"]["numbers"][0]["removed"] == ["3.5 مليون"]  # as written
    assert correction["facts"]["numbers"][0]["added"] == ["3.3 مليون"]
    assert any(s.startswith("notice: تصحيح") for s in correction["signals"])
    quote = changes[(oil, 3)]
    assert quote["facts"]["quotes"] and quote["facts"]["negations"][0]["added"] == ["لا"]
    assert [a["label"] for a in quote["alignment"]] == ["edit"]
    removed = changes[(seed, 5)]
    assert [a["label"] for a in removed["alignment"]] == ["delete"]
    text = raqib("diff", oil, "--from", "2", "--to", "3", "--no-color").out
    assert "[edited" in text and "quotation:" in text and "negation:" in text and "SILENT" in text
    (listed,) = [
        line for line in raqib("changes", "--url", oil).out.splitlines() if "v2→v3" in line
    ]
    assert "SILENT, quotes, negation" in listed  # the listing says what the badges say

    # One source of truth: every change reads the same through `changes` and `diff`.
    for c in raqib("changes", "--json").json():
        d = raqib(
            "diff", c["url"], "--from", str(c["from_version"]), "--to", str(c["to_version"]),
            "--format", "json",
        ).json()  # fmt: skip
        shared = set(c) & set(d) - {"schema"}
        assert {"kind", "silent", "facts", "alignment", "counts", "analyzer"} <= shared
        assert {k: c[k] for k in shared} == {k: d[k] for k in shared}, (c["url"], c["to_version"])
