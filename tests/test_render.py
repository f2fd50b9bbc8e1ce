"""Rendered fetches (issue 21): a page whose article a script builds, through
Debian's Chromium; a screenshot of each version; the address guard on every
request the page makes."""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest

from bench.scripted_pages import BODY, scripted_page
from raqib.demo.server import PageServer, Route
from raqib.extract.scripted import scripted
from raqib.guard import Guard
from tests import needs
from tests.conftest import ROOT, Raqib


def need_browser() -> None:
    pytest.importorskip("scrapy_playwright")
    if needs.chromium() is None:
        pytest.skip("Debian's chromium is missing (python3 tests/needs.py)")


def warc_records(home: Path) -> list[tuple[str, str, str]]:
    from warcio.archiveiterator import ArchiveIterator

    out = []
    for f in sorted((home / "warc").glob("*.warc.gz")):
        with f.open("rb") as fh:
            for r in ArchiveIterator(fh):
                out.append((r.rec_type, r.rec_headers.get_header("WARC-Target-URI") or "",
                            r.rec_headers.get_header("Content-Type") or ""))  # fmt: skip
    return out


@pytest.mark.backends
@pytest.mark.scenario
def test_rendered_watch_versions_edits_churn_and_screenshots(
    raqib: Raqib, server: PageServer
) -> None:
    need_browser()
    url = server.base + "/news/1"
    plain = server.base + "/plain/1"
    server.routes["/news/1"] = Route(scripted_page(0))
    server.routes["/plain/1"] = Route(scripted_page(0))

    # Fetched plainly, the page has no article text, and the log says what to do.
    (seen,) = raqib.proc("watch", plain, "--json").json()
    assert seen["outcome"] == "not_article"
    assert f"raqib watch --render {plain}" in seen["detail"]
    (tried,) = raqib.proc("preview", plain, "--render", "--json").json()  # and it would work
    assert tried["outcome"] == "new_version" and "250 مليون دولار" in tried["excerpt"]

    (first,) = raqib.proc("watch", url, "--render", "--json").json()
    assert first["outcome"] == "new_version", first
    assert first["title"].startswith("الحكومة تعلن")
    assert "250 مليون دولار" in first["excerpt"]

    server.routes["/news/1"] = Route(scripted_page(1))  # the furniture churns
    raqib.proc("check", "--all")
    edited = [BODY[0].replace("250 مليون", "180 مليون"), *BODY[1:]]
    server.routes["/news/1"] = Route(scripted_page(2, edited))  # the state is edited
    raqib.proc("check", "--all")
    server.routes["/news/1"] = Route(scripted_page(3, edited))  # churn again
    raqib.proc("check", "--all")

    outcomes = [f["outcome"] for f in raqib("log", url, "--json").json()]
    assert outcomes == ["new_version", "unchanged", "new_version", "unchanged"]
    (change,) = raqib("changes", "--json").json()
    assert change["kind"] == "substantive" and change["silent"] is True
    assert "180" in json.dumps(change, ensure_ascii=False)
    # The browser was served the archived document: one GET per pass, no second one.
    assert [p for p, _h in server.requests].count("/news/1") == 4
    assert [p for p, _h in server.requests].count("/plain/1") == 5  # watch, preview, 3 passes
    (w,) = [w for w in raqib("watches", "--json").json() if w["url"] == url]
    assert w["render"] is True

    storage = raqib.open_storage(readonly=True)
    try:
        shots = storage.history.shots(w["id"])
        versions = storage.history.versions(w["id"])
        assert set(shots) == {v.id for v in versions} and len(versions) == 2
        for v in versions:
            shot = storage.history.shot(v.id)
            assert shot is not None and shot.media_type == "image/webp"
            assert shot.data[:4] == b"RIFF" and shot.data[8:12] == b"WEBP" and shot.width == 1280
        # The stored page is the DOM the scripts built (what the report's capture view draws).
        dom = storage.history.raw_body(versions[-1].raw_hash or "")
        assert dom is not None and "180 مليون".encode() in dom
    finally:
        storage.close()
    records = warc_records(raqib.home)
    assert [r for r in records if r[0] == "response"].__len__() == 5  # every fetch, both watches
    assert [(t, ct) for t, u, ct in records if u == url and t == "conversion"] == [
        ("conversion", "text/html; charset=utf-8")
    ] * 2
    assert [ct for t, u, ct in records if t == "resource"] == ["image/webp"] * 2


def test_a_script_request_to_link_local_is_refused(tmp_path: Path) -> None:
    """In a loopback-only namespace where 169.254.169.254 really answers."""
    need_browser()
    if shutil.which("unshare") is None or shutil.which("ip") is None:
        pytest.skip("needs unshare and ip (util-linux, iproute2)")
    probe = subprocess.run(["unshare", "-n", "true"], capture_output=True)
    if probe.returncode != 0:
        pytest.skip(f"cannot make a network namespace: {probe.stderr.decode().strip()}")
    out = tmp_path / "probe.json"
    subprocess.run(
        ["unshare", "-n", sys.executable, str(ROOT / "tests" / "render_probe.py"),
         str(tmp_path / "home"), str(out)],
        check=True, timeout=300, cwd=ROOT,
    )  # fmt: skip
    got = json.loads(out.read_text())
    assert got["watch_code"] == 0, got["watch_err"]
    assert got["control"] == "secret-role"  # the canary answers whoever reaches it
    assert got["canary_requests_during_pass"] == []  # the page reached it by no path
    assert "/hop" in got["site_requests"]  # the redirect was followed to the guard, and stopped
    (fetch,) = json.loads(got["log"])
    assert fetch["outcome"] == "new_version"
    assert "refused 2 of the page's requests" in fetch["detail"]
    assert "http://169.254.169.254/latest/meta-data/" in fetch["detail"]
    assert "refused http://169.254.169.254/redirected" in got["watch_err"]
    assert "link-local" in got["watch_err"]


def test_a_public_page_rendered_beside_an_intranet_one_cannot_reach_the_intranet(
    tmp_path: Path,
) -> None:
    """The browser's proxy judged by the networks of the crawl's watches
    together: a public page rendered in one pass with an intranet watch
    reached the intranet through redirects (an image's, a frame's), which
    only the proxy sees. Now each page's context signs in as its own network:
    the public page's hops are refused, the intranet page still reaches its
    own network."""
    need_browser()
    if shutil.which("unshare") is None or shutil.which("ip") is None:
        pytest.skip("needs unshare and ip (util-linux, iproute2)")
    out = tmp_path / "mixed.json"
    subprocess.run(
        ["unshare", "-n", sys.executable, str(ROOT / "tests" / "render_probe.py"),
         str(tmp_path / "home"), str(out), "mixed"],
        check=True, timeout=400, cwd=ROOT,
    )  # fmt: skip
    got = json.loads(out.read_text())
    assert got["code"] == 0, got["err"]
    assert {"/r.png", "/frame"} <= set(got["public_requests"])  # both hops were asked for
    assert got["target_requests"] == ["/ok.png"], got["target_requests"]  # the intranet page's own
    (fetch,) = json.loads(got["logs"]["http://93.184.216.34/news/1"])
    assert fetch["outcome"] == "new_version"
    assert "refused http://10.0.0.1/" in got["err"] and "private" in got["err"]


def test_render_unavailable_is_said_in_the_fetch_log(raqib: Raqib, server: PageServer) -> None:
    raqib.home.mkdir(parents=True, exist_ok=True)
    (raqib.home / "raqib.toml").write_text('[render]\nchromium = "/nonexistent/chromium"\n')
    url = server.base + "/news/1"
    server.routes["/news/1"] = Route(scripted_page(0))
    (seen,) = raqib.proc("watch", url, "--render", "--json").json()
    assert seen["outcome"] == "error"
    assert (
        "Chromium at /nonexistent/chromium" in seen["detail"]
        or "scrapy-playwright" in seen["detail"]
    )


def test_render_settings_are_checked(raqib: Raqib) -> None:
    raqib.home.mkdir(parents=True, exist_ok=True)
    (raqib.home / "raqib.toml").write_text('[render]\nscreenshot_format = "gif"\n')
    r = raqib("watches", expect=None)
    assert r.code != 0 and "render.screenshot_format must be webp or png" in r.out + r.err


def test_scripted_pages_are_told_apart() -> None:
    assert scripted(scripted_page(0).decode())
    article = "<html><body><article><h1>عنوان</h1>" + "<p>" + " ".join(BODY) + "</p>" * 3
    assert not scripted(article + "<script>var a = 1;</script></article></body></html>")


# --- the proxy every rendered page goes through ------------------------------------------


def _ask(port: int, head: str) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        s.sendall(head.encode())
        chunks = []
        while data := s.recv(65536):
            chunks.append(data)
    return b"".join(chunks)


def test_guard_proxy_refuses_what_the_origins_may_not_reach(server: PageServer) -> None:
    """Each page's connections are judged by its own watch's network, whose
    port its browser context is given: a crawl rendering a public page and an
    intranet one gave both pages the intranet (a redirect hop, which only the
    proxy sees, took a public page's image there). The browser's own port
    passes nothing."""
    from raqib.crawler.guardproxy import GuardProxy
    from raqib.guard import network_of

    server.routes["/ok"] = Route(b"through", 200, {"Content-Type": "text/plain"})
    port_of = server.server_address[1]
    local_page, public_page = server.base + "/news/1", "https://news.example/a"
    both = GuardProxy(Guard(), [local_page, public_page], timeout=10)
    try:
        browsers = both.start()
        local, public = (both.ports[network_of(u)] for u in (local_page, public_page))
        assert both.servers_by_network() == {
            "loopback": f"http://127.0.0.1:{local}",
            "public": f"http://127.0.0.1:{public}",
        }
        to_local = f"GET http://127.0.0.1:{port_of}/ok HTTP/1.1\r\nHost: x\r\n\r\n"
        ok = _ask(local, to_local)
        assert ok.startswith(b"HTTP/1.") and ok.endswith(b"through")
        for head in (
            "GET http://169.254.169.254/latest/meta-data/ HTTP/1.1\r\nHost: x\r\n\r\n",
            "CONNECT 10.1.2.3:443 HTTP/1.1\r\nHost: 10.1.2.3:443\r\n\r\n",
        ):
            assert _ask(local, head).startswith(b"HTTP/1.1 403")
        # A public watch's page may not reach loopback, beside a loopback one or not.
        assert _ask(public, to_local).startswith(b"HTTP/1.1 403")
        assert _ask(browsers, to_local).startswith(b"HTTP/1.1 403")
        assert [p for p, _h in server.requests] == ["/ok"]
        assert both.refused == [
            "http://169.254.169.254/latest/meta-data/",
            "https://10.1.2.3:443/",
            f"http://127.0.0.1:{port_of}/ok",
        ]
    finally:
        both.stop()
    for port in (browsers, local, public):
        with pytest.raises(OSError):
            urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=5)


@pytest.mark.browser
@pytest.mark.slow
def test_browser_report_shows_each_versions_screenshot(
    raqib: Raqib, server: PageServer, browser, tmp_path: Path
) -> None:
    from selenium.webdriver.common.by import By

    need_browser()
    url = server.base + "/news/1"
    server.routes["/news/1"] = Route(scripted_page(0))
    raqib.proc("watch", url, "--render")
    edited = [*BODY[:2], *BODY[3:]]  # a paragraph dropped
    server.routes["/news/1"] = Route(scripted_page(1, edited))
    raqib.proc("check", "--all")
    storage = raqib.open_storage(readonly=True)
    try:
        (row,) = storage.changes.all()
        change = {"id": row.change.id, "watch_id": row.change.watch_id}
    finally:
        storage.close()
    site = tmp_path / "site"
    raqib("report", "--out", str(site))

    def images() -> list[dict[str, int | str]]:
        return browser.execute_script(
            "return [...document.querySelectorAll('figure.shot img')].map(i => "
            "({w: i.naturalWidth, h: i.naturalHeight, alt: i.alt, complete: i.complete}))"
        )

    browser.get((site / f"change-{change['id']}.html").as_uri())
    browser.execute_script("document.querySelectorAll('img').forEach(i => i.loading = 'eager')")
    shots = images()
    # Both versions' screenshots, decoded by the browser under the report's CSP.
    assert [s["alt"] for s in shots] == ["screenshot of version 1", "screenshot of version 2"]
    assert all(s["w"] == 1280 and s["h"] >= 200 for s in shots), shots
    heading = browser.find_element(By.XPATH, "//h2[contains(., 'Screenshots')]")
    assert heading.is_displayed()
    browser.get((site / f"article-{change['watch_id']}.html").as_uri())
    browser.execute_script("document.querySelectorAll('img').forEach(i => i.loading = 'eager')")
    assert [s["alt"] for s in images()] == ["screenshot of version 2"]


def test_render_and_screenshot_flags_on_lists_csv_and_again(raqib: Raqib, tmp_path: Path) -> None:
    a, b, c = (f"https://news.example/2026/12/0{i}/story-{i}" for i in (1, 2, 3))
    raqib("watch", "-", "--render", "--allow-private", input=f"{a}\n{b}\n")
    csv = tmp_path / "w.csv"
    csv.write_text(f"url,tags\n{c},x\n", encoding="utf-8")
    raqib("watch", "--from-csv", str(csv), "--screenshots", "--allow-private")

    def modes() -> dict[str, tuple[bool, bool]]:
        return {
            w["url"]: (w["render"], w["screenshots"]) for w in raqib("watches", "--json").json()
        }

    assert modes() == {a: (True, False), b: (True, False), c: (False, True)}
    raqib("watch", a, "--no-render", "--no-fetch")  # watching again changes only the mode
    raqib("watch", "-", "--screenshots", "--allow-private", input=f"{b}\n")
    assert modes() == {a: (False, False), b: (True, True), c: (False, True)}


@pytest.mark.slow
def test_an_outlet_with_render_gets_its_script_built_articles(
    raqib: Raqib, server: PageServer
) -> None:
    need_browser()
    path = "/2026/12/02/farmers-support-plan"
    server.routes[path] = Route(scripted_page(0))
    items = f"<item><title>خطة</title><link>{server.base}{path}</link></item>"
    server.routes["/feed.xml"] = Route(
        f'<?xml version="1.0"?><rss version="2.0"><channel><title>s</title>{items}</channel></rss>'.encode(),
        200, {"Content-Type": "application/rss+xml"},
    )  # fmt: skip
    raqib.home.mkdir(parents=True, exist_ok=True)
    (raqib.home / "raqib.toml").write_text("[outlets.sada]\nrender = true\n")
    raqib("outlet", "add", "sada", "--feed", server.base + "/feed.xml")
    raqib.proc("check")
    (w,) = raqib("watches", "--json").json()
    assert w["origin"] == "outlet" and w["render"] is False  # the outlet's setting, not the watch's
    (v,) = raqib("versions", w["url"], "--json").json()
    assert "250 مليون دولار" in v["text"]


@pytest.mark.slow
def test_a_page_that_never_finishes_is_an_error_within_the_timeout(
    raqib: Raqib, server: PageServer
) -> None:
    need_browser()
    raqib.home.mkdir(parents=True, exist_ok=True)
    (raqib.home / "raqib.toml").write_text('[render]\ntimeout = "2s"\n')
    url, fine = server.base + "/busy", server.base + "/news/1"
    server.routes["/busy"] = Route(scripted_page(0, extra_script="for (;;) {}"))
    server.routes["/news/1"] = Route(scripted_page(0))
    raqib("watch", url, fine, "--render", "--no-fetch")
    raqib.proc("check", timeout=120)
    (busy,) = raqib("log", url, "--json").json()
    assert busy["outcome"] == "error" and busy["detail"].startswith("rendering failed:")
    assert "Timeout" in busy["detail"]
    # The other page of the pass, rendered beside it, is not held up by it.
    assert [f["outcome"] for f in raqib("log", fine, "--json").json()] == ["new_version"]
