"""The fault matrix: a misbehaving server on 127.0.0.1, every case recorded,
no version made from a bad page, the next good fetch fine."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator

import pytest

from tests.conftest import ROOT, Raqib
from tests.faultserver import FaultServer

CONFIG = """
[fetch]
timeout = 3
dns_timeout = 3
concurrency = 64
per_domain = 64
autothrottle = false
max_size_mb = 8
dns_resolver = "tests.faultserver.LocalOnlyResolver"
"""

# mode → the outcome the fault must record
CASES = {
    "never": "error",
    "stall": "error",
    "reset": "error",
    "short": "error",
    "500": "error",
    "502": "error",
    "503": "error",
    "429": "error",
    "redirect_loop": "error",
    "redirect_file": "error",
    "redirect_ftp": "error",
    "huge": "error",
    "huge_unannounced": "error",
    "gzip_bomb": "error",
    "brotli_bomb": "error",
    "header_flood": "error",
    "header_line": "error",
    "pdf": "not_article",
    "image": "not_article",
    "invalid_utf8": "not_article",
    "cp1256_as_utf8": "not_article",
    "utf8_as_cp1256": "not_article",
    "mojibake": "not_article",
    "empty": "not_article",
    "botcheck": "not_article",
    "soft404": "not_article",
    "bloated": "new_version",  # a valid article under 5 MB of inline script: it gets its version
}
PASS_BOUND = 45.0  # seconds: timeouts are 3 s and every case runs at once


@pytest.fixture
def faults() -> Iterator[FaultServer]:
    srv = FaultServer().start()
    try:
        yield srv
    finally:
        srv.close()


def _closed_port() -> int:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def test_fault_matrix(faults: FaultServer, raqib: Raqib) -> None:
    raqib.env["PYTHONPATH"] = str(ROOT)  # for the test resolver
    raqib.home.mkdir(parents=True)
    (raqib.home / "raqib.toml").write_text(CONFIG, encoding="utf-8")
    urls = {mode: f"{faults.base}/case/{mode}" for mode in CASES}
    urls["robots"] = f"{faults.base}/private/robots-case"
    refused_port = _closed_port()
    urls["refused"] = f"http://127.0.0.1:{refused_port}/article"
    urls["dns"] = "http://no-such-host.invalid/article"
    raqib("watch", "--no-fetch", *urls.values())

    # 1. Everything good (but the two unreachable ones): a first version each.
    raqib.proc("check", "--all")
    state = {w["url"]: w for w in raqib("watches", "--json").json()}
    for mode, url in urls.items():
        if mode in ("refused", "dns", "robots"):
            assert state[url]["last_outcome"] == "error", mode
        else:
            assert state[url]["versions"] == 1, (mode, state[url])

    # 2. Every fault at once.
    for mode in CASES:
        faults.modes[f"/case/{mode}"] = mode
    started = time.monotonic()
    raqib.proc("check", "--all", timeout=120)
    elapsed = time.monotonic() - started
    assert elapsed < PASS_BOUND, f"the faulty pass took {elapsed:.1f}s"
    state = {w["url"]: w for w in raqib("watches", "--json").json()}
    problems = []
    for mode, expected in [
        *CASES.items(),
        ("robots", "error"),
        ("refused", "error"),
        ("dns", "error"),
    ]:
        url = urls[mode]
        log = raqib("log", url, "--json").json()
        last = log[-1]
        if last["outcome"] != expected:
            problems.append(f"{mode}: {last['outcome']} ({last['detail']}), expected {expected}")
        want_versions = (
            2 if mode == "bloated" else (0 if mode in ("robots", "refused", "dns") else 1)
        )
        if state[url]["versions"] != want_versions:
            problems.append(f"{mode}: {state[url]['versions']} versions, expected {want_versions}")
        if expected != "new_version" and not last["detail"]:
            problems.append(f"{mode}: no detail recorded")
    assert not problems, "\n".join(problems)

    details = {
        m: raqib("log", urls[m], "--json").json()[-1]["detail"]
        for m in (*CASES, "robots", "dns", "refused")
    }
    assert "robots.txt" in details["robots"]
    assert "DNS" in details["dns"] or "no such host" in details["dns"]
    assert "HTTP 429" in details["429"]
    assert "larger than download max size" in details["huge"]  # announced: Scrapy's words
    assert "passed the size limit" in details["huge_unannounced"], details["huge_unannounced"]
    assert "response headers past 500 lines" in details["header_flood"]
    assert "a response header line past 16384 bytes" in details["header_line"], details
    assert "not an HTML page" in details["pdf"] and "not an HTML page" in details["image"]
    # 429's Retry-After pushed the next check an hour out.
    sched = {r["url"]: r for r in raqib("schedule", "--json", "--limit", "0").json()}
    assert sched[urls["429"]]["in_seconds"] >= 3000  # an hour, less the time since (a loaded CI)
    # The redirect to file:// read nothing from this machine.
    versions = raqib("versions", urls["redirect_file"], "--json").json()
    assert all("root:" not in v["text"] for v in versions)

    # 3. Good again: the next fetch works everywhere the server answers.
    faults.modes.clear()
    raqib.proc("check", "--all")
    for mode in (*CASES, "robots"):
        last = raqib("log", urls[mode], "--json").json()[-1]
        expected = {"robots": "error", "bloated": "new_version"}.get(mode, "unchanged")
        assert last["outcome"] == expected, (mode, last)
