"""Notifications: a local webhook receiver (and apprise's json:// to it)
hears exactly one message per substantive change; when it is down, messages
wait and arrive later, and the pass never notices."""

from __future__ import annotations

import email
import email.policy
import json
import logging
import os
import re
import socket
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from raqib.clock import parse_instant
from raqib.notify import messages
from raqib.notify.rules import wants
from raqib.present import when
from raqib.present.events import excerpt
from tests.conftest import Raqib, replay_corpus

pytestmark = pytest.mark.backends


class Receiver(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Hook)
        self.got: dict[str, list[Any]] = {"/hook": [], "/apprise": []}
        self.up = True
        self.attempts = 0
        self.refuse: str | None = None  # a body holding this is answered refuse_status
        self.refuse_status = 400
        # Attempt number → the event it waits for, and the one it sets on arrival.
        self.holds: dict[int, tuple[threading.Event, threading.Event]] = {}
        threading.Thread(target=self.serve_forever, daemon=True).start()

    @property
    def base(self) -> str:
        return f"127.0.0.1:{self.server_address[1]}"


class _Hook(BaseHTTPRequestHandler):
    server: Receiver

    def log_message(self, *args: Any) -> None:
        pass

    def do_GET(self) -> None:  # only a redirect's target is asked for this way
        self.server.got.setdefault(self.path, []).append("GET")
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        self.server.attempts += 1
        if self.path.startswith("/moved/"):  # 302, 307: to where the path after it says
            code, _, to = self.path.removeprefix("/moved/").partition("/")
            self.send_response(int(code))
            self.send_header("Location", "/" + to)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        if (hold := self.server.holds.get(self.server.attempts)) is not None:
            hold[1].set()
            hold[0].wait(60)
        if not self.server.up:
            self.send_response(503)
            self.end_headers()
            return
        if self.server.refuse and self.server.refuse in body.decode("utf-8"):
            self.send_response(self.server.refuse_status)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        self.server.got.setdefault(self.path, []).append(json.loads(body))
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver()
    try:
        yield r
    finally:
        r.shutdown()
        r.server_close()


@pytest.mark.scenario
def test_one_message_per_substantive_change(
    server, raqib: Raqib, manifest, receiver: Receiver
) -> None:
    raqib.home.mkdir(parents=True)
    (raqib.home / "raqib.toml").write_text('[report]\nbase_url = "https://report.example/r/"\n')
    raqib("notify", "add", f"http://{receiver.base}/hook")
    raqib("notify", "add", f"json://{receiver.base}/apprise")
    replay_corpus(server, raqib, manifest)
    changes = raqib("changes", "--json").json()
    substantive = [c for c in changes if c["kind"] == "substantive"]
    hooks = receiver.got["/hook"]
    assert len(hooks) == len(substantive) == 5
    assert {(h["url"], h["to_version"]) for h in hooks} == {
        (c["url"], c["to_version"]) for c in substantive
    }
    for h in hooks:
        assert h["schema"] == "raqib.event/1" and h["event"] == "change"
        for field in (
            "story",
            "url",
            "headline",
            "from_version",
            "to_version",
            "kind",
            "silent",
            "facts",
            "excerpt",
            "link",
            "warc",
        ):
            assert field in h
        assert h["link"].startswith("https://report.example/r/change-") and h["warc"][
            "file"
        ].endswith(".warc.gz")
    silent_edit = next(h for h in hooks if h["facts"]["numbers"] and h["silent"])
    assert any(
        "[−آلاف القوات عادت]" in (e["before"] or "")
        and "[+نحو 2500 جندي عادوا]" in (e["after"] or "")
        for e in silent_edit["excerpt"]
    )
    # apprise's json:// delivered the worded form of the same events
    apprised = receiver.got["/apprise"]
    assert len(apprised) == 5
    assert sum("تعديل صامت" in a["title"] for a in apprised) == sum(
        1 for c in substantive if c["silent"]
    )
    assert all("message" in a and a["message"] for a in apprised)
    status = raqib("notify", "status", "--json").json()
    assert all(ch["sent"] == 5 and ch["pending"] == 0 for ch in status["channels"])


@pytest.mark.scenario
def test_a_channel_for_a_watchs_later_story_hears_its_edits(
    server, raqib: Raqib, manifest, receiver: Receiver
) -> None:
    """An article sits in several stories; a desk's channel for any of them is
    told, not only one for the story it was first watched under."""
    for w in manifest["watches"]:
        raqib("watch", "--no-fetch", server.base + w["path"], "--story", "first-desk")
    story = manifest["watches"][0]["story"]  # joined second, by replay_corpus
    raqib("notify", "add", f"http://{receiver.base}/hook", "--story", story)
    replay_corpus(server, raqib, manifest)
    changes = raqib("changes", "--json", "--story", story).json()
    substantive = {(c["url"], c["to_version"]) for c in changes if c["kind"] == "substantive"}
    hooks = receiver.got["/hook"]
    assert substantive and {(h["url"], h["to_version"]) for h in hooks} == substantive
    assert all(h["story"] == "first-desk" and h["stories"] == ["first-desk", story] for h in hooks)


@pytest.mark.scenario
def test_receiver_down_messages_wait_and_arrive_later(
    server, raqib: Raqib, manifest, receiver: Receiver
) -> None:
    raqib.home.mkdir(parents=True)
    (raqib.home / "raqib.toml").write_text('[notify]\nretry_base = "1s"\n', encoding="utf-8")
    raqib("notify", "add", f"http://{receiver.base}/hook", "--when", "silent")
    receiver.up = False
    replay_corpus(server, raqib, manifest, steps=5)  # two silent edits: seed step 05, oil step 04
    # The passes did their work regardless.
    assert (
        len(raqib("versions", server.base + manifest["watches"][0]["path"], "--json").json()) == 3
    )
    assert receiver.attempts >= 1 and receiver.got["/hook"] == []
    status = raqib("notify", "status", "--json").json()
    assert status["channels"][0]["pending"] == 2 and status["problems"][0]["error"] == "HTTP 503"
    receiver.up = True
    # Just before their retry is due (on the pass's clock, not the test's: a busy
    # machine may take longer than the 1 s back-off between the pass and here).
    due = min(parse_instant(p["next_attempt_at"]) for p in status["problems"])
    raqib.env["RAQIB_NOW"] = (due - timedelta(milliseconds=100)).isoformat()
    r = raqib("notify", "flush")
    del raqib.env["RAQIB_NOW"]
    assert r.out.startswith("0 sent")  # their retry is not due yet
    r = raqib("notify", "flush", "--now")
    assert r.out.startswith("2 sent")
    assert len(receiver.got["/hook"]) == 2 and all(
        h["silent"] is True for h in receiver.got["/hook"]
    )
    assert raqib("notify", "status", "--json").json()["channels"][0]["sent"] == 2
    raqib("notify", "flush")
    assert len(receiver.got["/hook"]) == 2  # sent once, never again


@pytest.mark.scenario
def test_digest_and_rules_in_config(server, raqib: Raqib, manifest, receiver: Receiver) -> None:
    raqib.home.mkdir(parents=True)
    (raqib.home / "raqib.toml").write_text(
        f'[[notify.channels]]\nurl = "http://{receiver.base}/hook"\nwhen = ["figures", "removed"]\ndigest = true\n',
        encoding="utf-8",
    )
    replay_corpus(server, raqib, manifest)
    digests = receiver.got["/hook"]
    assert digests and all(d["schema"] == "raqib.digest/1" for d in digests)
    events = [e for d in digests for e in d["events"]]
    kinds = sorted(e["event"] for e in events)
    assert kinds.count("removed") == 1  # the seed's 404, told once
    assert all(e["facts"]["numbers"] for e in events if e["event"] == "change")
    listed = raqib("notify", "list", "--json").json()
    assert (
        listed[0]["origin"] == "config" and "hook" not in listed[0]["url"]
    )  # redacted: paths may hold tokens


def test_a_channel_in_one_workers_config_is_not_stopped_by_another(
    raqib: Raqib, tmp_path: Path
) -> None:
    """Two workers' homes on one database: a channel in one's raqib.toml was
    switched off each time the other (without it) passed, and missed the
    changes of that pass. A home stops only the channels its own file made."""
    from raqib.storage import sqlite

    shared = {"RAQIB_DATABASE_URL": sqlite.url_for(tmp_path / "shared.db"), **raqib.env}
    one, other = Raqib(tmp_path / "one", shared), Raqib(tmp_path / "two", shared)
    one.home.mkdir()
    config = '[[notify.channels]]\nurl = "http://127.0.0.1:9/hook"\nwhen = ["all"]\n'
    (one.home / "raqib.toml").write_text(config, encoding="utf-8")

    def enabled(worker: Raqib) -> list[bool]:
        return [c["enabled"] for c in worker("notify", "list", "--json").json()]

    assert enabled(one) == [True]
    assert enabled(other) == [True]  # it was [False]
    assert enabled(one) == [True]
    (one.home / "raqib.toml").write_text("", encoding="utf-8")  # taken out of its file
    assert enabled(one) == [False]
    assert enabled(other) == [False]


def test_cli_validation_and_test_message(raqib: Raqib, receiver: Receiver) -> None:
    assert raqib("notify", "add", "notaservice://x", expect=2).err.startswith("raqib:")
    r = raqib("notify", "add", f"http://{receiver.base}/hook", "--keyword", " ", expect=2)
    assert "--keyword needs a word" in r.err and raqib("notify", "list", "--json").json() == []
    raqib(
        "notify",
        "add",
        f"http://{receiver.base}/hook?token=s3cret",
        "--when",
        "silent",
        "--keyword",
        "الانسحاب",
    )
    raqib("notify", "add", f"json://{receiver.base}/apprise", "--digest", "--story", "iraq")
    listed = raqib("notify", "list").out.splitlines()
    assert listed[0].split() == ["ID", "KIND", "URL", "RULES"]
    assert "s3cret" not in "".join(listed)
    assert "when silent; story any; keywords الانسحاب; one message per event" in listed[1]
    assert "when substantive; story iraq; any words; digest per pass" in listed[2]
    # Two webhooks on one server are told apart; a token where the host would be stays hidden.
    bot = "tgram://123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw/987654321"
    raqib("notify", "add", f"http://{receiver.base}/hook?token=other")
    raqib("notify", "add", bot)
    channels = raqib("notify", "list", "--json").json()
    shown = [c["url"] for c in channels]
    assert shown[0] == shown[2] == f"http://{receiver.base}/…"  # the same server …
    assert len({c["fingerprint"] for c in channels}) == 4  # … told apart
    assert shown[3] == "tgram://…" and "AAHdq" not in raqib("notify", "list").out
    assert f"#{channels[2]['fingerprint']}" in raqib("notify", "list").out
    assert "test message sent" in raqib("notify", "test", "1").out
    assert "no channel 99 (see `raqib notify list`)" in raqib("notify", "test", "99", expect=4).err
    again = raqib(
        "notify", "add", f"json://{receiver.base}/apprise", "--story", "iraq", "--keyword", "وزير"
    ).out
    assert again.startswith("replaced the rules of channel 2:")  # its digest gone: said
    assert again.rstrip().endswith("story iraq; keywords وزير; one message per event")
    assert receiver.got["/hook?token=s3cret"][0]["headline"] == "رسالة تجريبية من رقيب"
    receiver.up = False
    assert raqib("notify", "test", "1", expect=1).err.startswith("raqib: test message")


def test_a_webhook_that_redirects_is_not_followed(raqib: Raqib, receiver: Receiver) -> None:
    """A receiver that turned hostile (or an open redirect on it) answered a
    POST with a redirect, and Raqib followed it: to a cloud's metadata address
    as a GET, or with the message re-posted (307). A webhook answers at its own
    address; a redirect is a failed delivery that says where it pointed."""
    for code in ("302", "307"):
        raqib("notify", "add", f"http://{receiver.base}/moved/{code}/latest/meta-data")
    for channel in ("1", "2"):
        said = raqib("notify", "test", channel, expect=1).err
        assert "redirected to" in said and "/latest/meta-data" in said, said
    assert receiver.attempts == 2 and "/latest/meta-data" not in receiver.got  # never asked


def _event(**kw: Any) -> dict[str, Any]:
    base = {
        "event": "change", "story": "s", "kind": "substantive", "silent": False, "headline_changed": False,
        "facts": {"numbers": [], "quotes": []}, "excerpt": [{"before": "قال الوزير", "after": "قال الوزير إن الانسحاب قريب"}],
        "headline": "عنوان", "old_headline": "عنوان", "url": "https://a.example/x", "from_version": 1, "to_version": 2,
        "detected_at": "2026-01-01T00:00:00+00:00", "signals": [], "link": "http://127.0.0.1:8765/change-1.html",
    }  # fmt: skip
    return {**base, **kw}


def test_rules() -> None:
    assert wants(["substantive"], [], None, _event())
    assert not wants(["substantive"], [], None, _event(kind="cosmetic"))
    assert wants(["all"], [], None, _event(kind="cosmetic"))
    assert not wants(["silent"], [], None, _event())
    assert wants(["silent"], [], None, _event(silent=True))
    assert not wants(["substantive"], [], "other-story", _event())
    assert wants(["substantive"], [], "b", _event(story="a", stories=["a", "b"]))
    assert not wants(["substantive"], [], "c", _event(story="a", stories=["a", "b"]))
    assert wants(
        ["substantive"], ["الإنسحاب"], None, _event()
    )  # spelling variant of a keyword matches
    assert not wants(["substantive"], ["غزة"], None, _event())
    # A number only whole: خمسة (5) is not in 3.25 million, nor in خمسين (50).
    figure = [{"before": "بلغت 3.5 مليون برميل", "after": "بلغت 3.25 مليون برميل"}]
    assert not wants(["substantive"], ["خمسة"], None, _event(excerpt=figure))
    fifty = [{"before": "شاركت خمسين دولة", "after": "شاركت ستين دولة"}]
    assert not wants(["substantive"], ["خمسة"], None, _event(excerpt=fifty))
    assert wants(["substantive"], ["خمسين"], None, _event(excerpt=fifty))
    assert wants(["substantive"], ["3.25 مليون"], None, _event(excerpt=figure))
    assert wants(
        ["figures"], [], None, _event(facts={"numbers": [{"removed": ["1"], "added": ["2"]}]})
    )
    assert wants(["removed"], [], None, {"event": "removed", "story": "s"}) and not wants(
        ["substantive"], [], None, {"event": "removed", "story": "s"}
    )


def test_message_wording_marks_the_change() -> None:
    items = [
        {"label": "edit", "old": "أ ب", "new": "أ ج", "words": [[0, "أ "], [-1, "ب"], [1, "ج"]]}
    ]
    ex = excerpt(items)
    assert ex == [{"label": "edit", "before": "أ [−ب]", "after": "أ [+ج]"}]
    e = _event(
        silent=True,
        excerpt=ex,
        facts={"numbers": [{"removed": ["3.5"], "added": ["3.3"]}], "quotes": []},
    )
    assert messages.title(e).startswith("رقيب · تعديل صامت")
    when.use("Asia/Baghdad")
    try:
        text = messages.body(e)
    finally:
        when.use("")
    assert (
        "أرقام: 3.5 ← 3.3" in text and "[−ب]" in text and "[+ج]" in text and "change-1.html" in text
    )
    assert "2026-01-01 03:00:00 +03:00" in text  # the display zone, to the second
    assert "change-" not in messages.body(_event(link=None))  # no report address: no link


@pytest.mark.parametrize(
    ("alerts", "silent", "title"),
    [
        (1, 1, "رقيب · تنبيه واحد: تعديل صامت"),
        (1, 0, "رقيب · تنبيه واحد"),
        (2, 2, "رقيب · تنبيهان، منها تعديلان صامتان"),
        (3, 1, "رقيب · 3 تنبيهات، منها تعديل صامت"),
        (10, 3, "رقيب · 10 تنبيهات، منها 3 تعديلات صامتة"),
        (11, 11, "رقيب · 11 تنبيهًا، منها 11 تعديلًا صامتًا"),
        (100, 2, "رقيب · 100 تنبيه، منها تعديلان صامتان"),
        (103, 25, "رقيب · 103 تنبيهات، منها 25 تعديلًا صامتًا"),
    ],
)
def test_digest_titles_agree_in_number(alerts: int, silent: int, title: str) -> None:
    events = [_event(silent=i < silent) for i in range(alerts)]
    assert messages.digest(events)[0] == title


@pytest.mark.scenario
def test_a_slow_or_dead_channel_holds_up_no_other(server, raqib: Raqib) -> None:
    """A receiver slower than the delivery timeout, a dead one and a healthy one,
    configured together: the healthy one hears every event during the pass; the
    slow one hears each event under one id, however often it is sent."""
    import socket
    import time

    from raqib.demo.pages import PATH, VERSIONS, render
    from raqib.demo.server import Route

    heard: dict[str, list[tuple[str, str]]] = {"/fast": [], "/slow": []}

    class Hook(BaseHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:
            pass

        def do_POST(self) -> None:
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            heard[self.path].append((body["id"], self.headers["Idempotency-Key"]))
            if self.path == "/slow":
                time.sleep(3)  # a slow receiver, not synchronisation
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()

    hooks = ThreadingHTTPServer(("127.0.0.1", 0), Hook)
    hooks.daemon_threads = True
    threading.Thread(target=hooks.serve_forever, daemon=True).start()
    dead = socket.socket()
    dead.bind(("127.0.0.1", 0))  # bound, never listening: connection refused
    base = f"http://127.0.0.1:{hooks.server_address[1]}"
    try:
        raqib.home.mkdir(parents=True, exist_ok=True)
        (raqib.home / "raqib.toml").write_text(
            '[notify]\ntimeout = "1s"\nflush_timeout = "10s"\nretry_base = "1s"\n',
            encoding="utf-8",
        )
        raqib("notify", "add", f"http://127.0.0.1:{dead.getsockname()[1]}/dead")
        raqib("notify", "add", base + "/slow")
        raqib("notify", "add", base + "/fast")
        url = server.base + PATH
        raqib("watch", "--no-fetch", url)
        events = 0
        for version in VERSIONS[:5]:
            server.routes[PATH] = Route(render(version, server.base))
            summary = raqib.proc("check", "--all", "--json").json()
            events += summary["substantive"]
            # The healthy channel heard everything before the pass ended.
            assert len(heard["/fast"]) == events
            assert summary["seconds"] < 10
        assert events == 2
        ids = {i for i, _key in heard["/fast"]}
        assert len(ids) == 2 and all(i == key for i, key in heard["/fast"])
        raqib("notify", "flush", "--timeout", "5")
        # The slow one: only those ids, each body's id also its Idempotency-Key.
        assert heard["/slow"] and {i for i, _k in heard["/slow"]} <= ids
        assert all(i == key for i, key in heard["/slow"])
        status = raqib("notify", "status", "--json").json()
        (dead_row,) = [c for c in status["channels"] if str(dead.getsockname()[1]) in c["url"]]
        assert dead_row["sent"] == 0 and dead_row["pending"] == 2
    finally:
        hooks.shutdown()
        hooks.server_close()
        dead.close()


def test_failing_rule_warns_once_after_n_failures_in_a_row(
    server, raqib: Raqib, receiver: Receiver
) -> None:
    from raqib.demo.pages import VERSIONS, render
    from raqib.demo.server import Route

    raqib.home.mkdir(parents=True)
    (raqib.home / "raqib.toml").write_text("[notify]\nfailing_after = 2\n", encoding="utf-8")
    raqib("notify", "add", f"http://{receiver.base}/hook", "--when", "failing")
    server.routes["/a"] = Route(render(VERSIONS[0], server.base))
    url = server.base + "/a"
    raqib("watch", "--no-fetch", url)
    raqib.proc("check", "--all")
    server.routes["/a"] = Route(b"busy", 503)
    raqib.proc("check", "--all")  # one failure: not yet
    assert receiver.got["/hook"] == []
    raqib.proc("check", "--all")  # two in a row: warned
    raqib.proc("check", "--all")  # three: already warned
    got = receiver.got["/hook"]
    assert [(e["event"], e["url"], e["failures"]) for e in got] == [("failing", url, 2)]
    assert (got[0]["status"], got[0]["last_outcome"]) == (503, "error")  # what went wrong
    assert "503" in got[0]["detail"]
    assert raqib("watches", "--failing", "--json").json()[0]["url"] == url


class SMTPSink(threading.Thread):
    """Just enough SMTP on 127.0.0.1 to take one message, for apprise's mailto://."""

    def __init__(self) -> None:
        super().__init__(daemon=True)
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.mail: list[bytes] = []
        self.got = threading.Event()

    def run(self) -> None:
        conn, _ = self.sock.accept()
        with conn, conn.makefile("rb") as f:
            conn.sendall(b"220 sink\r\n")
            for raw in f:
                line = raw.strip().upper()
                if line.startswith((b"EHLO", b"HELO")):
                    conn.sendall(b"250 sink\r\n")
                elif line == b"DATA":
                    conn.sendall(b"354 go\r\n")
                    data = b"".join(iter(f.readline, b".\r\n"))
                    self.mail.append(data)
                    conn.sendall(b"250 stored\r\n")
                    self.got.set()
                elif line == b"QUIT":
                    conn.sendall(b"221 bye\r\n")
                    return
                else:
                    conn.sendall(b"250 OK\r\n")


def test_a_pages_markup_reaches_an_email_as_text_not_html() -> None:
    """A headline or excerpt holding markup (a tracking pixel, a link) is the
    page author's, not Raqib's: an e-mail shows it as text, never as HTML."""
    from raqib.notify import deliver

    sink = SMTPSink()
    sink.start()
    hostile = '<img src="http://evil.example/t.png"><a href="http://evil.example/p">انقر</a>'
    event = _event(
        headline=f"عنوان {hostile}",
        excerpt=[{"label": "edit", "before": "قال الوزير", "after": f"قال الوزير {hostile}"}],
    )
    url = f"mailto://127.0.0.1:{sink.port}?mode=insecure&from=raqib@example.com&to=desk@example.com"
    deliver.send("apprise", url, {"schema": "raqib.event/1", **event}, timeout=30)
    assert sink.got.wait(30)
    message = email.message_from_bytes(sink.mail[0], policy=email.policy.default)
    html = message.get_body(("html",))  # none, or one that escapes the markup
    assert html is None or not re.search(r"<(img|a)\b", html.get_content())
    plain = message.get_body(("plain",))
    assert plain is not None and hostile in plain.get_content()  # shown, as text
    sink.sock.close()


def test_an_imported_history_is_never_told_nor_takes_a_pass_s_edits(
    server, raqib: Raqib, receiver: Receiver, tmp_path
) -> None:
    """An import that stopped before judging its versions leaves them to the
    next pass, which judges them but tells no channel: they are history, not
    news. And an import judges only what it imported, never a pass's new
    versions, whose changes the pass tells."""
    from raqib import analysis
    from raqib.app import imports
    from raqib.demo.pages import VERSIONS, render
    from raqib.demo.server import Route
    from raqib.domain import WatchState

    a, b = server.base + "/a", server.base + "/b"
    for path, v in (("/a", 2), ("/b", 2)):
        server.routes[path] = Route(render(VERSIONS[v], server.base))
    raqib("watch", "--no-fetch", a, b)
    raqib.proc("check", "--all")
    server.routes["/a"] = Route(render(VERSIONS[3], server.base))  # a silent edit
    raqib.proc("check", "--all")
    dump = tmp_path / "a.jsonl"
    raqib("export", "--format", "jsonl", "--watch", a, "--out", str(dump))
    records = [json.loads(x) for x in dump.read_text(encoding="utf-8").splitlines()]
    versions = [r for r in records if r["record"] == "version"]
    assert len(versions) == 2

    raqib("notify", "add", f"http://{receiver.base}/hook", "--when", "all")
    server.routes["/b"] = Route(render(VERSIONS[3], server.base))
    store = raqib.open_storage()
    try:  # as an import interrupted before its judging: a watch of its own, paused
        ((w, _),) = store.watches.add(
            ["https://archive.example/a"], now=parse_instant(versions[0]["first_seen"]),
            state=WatchState.PAUSED,
        )  # fmt: skip
        for r in versions:
            store.history.import_version(w.id, imports._version(w.id, r))
        assert analysis.judge_imported(store) == 1  # and only it
        assert len(store.changes.unanalyzed()) == 0
        for r in versions:  # once more, unjudged, under another watch
            ((w2, _),) = store.watches.add(
                ["https://archive.example/b"], now=parse_instant(r["first_seen"]),
                state=WatchState.PAUSED,
            )  # fmt: skip
            store.history.import_version(w2.id, imports._version(w2.id, r))
    finally:
        store.close()
    out = raqib.proc("check", "--all").out
    assert "1 new versions (1 substantive" in out  # /b's edit: the pass's own
    told = [e for e in receiver.got["/hook"] if e.get("event") == "change"]
    assert [e["url"] for e in told] == [b]  # never the archive's history
    assert raqib("changes", "--url", "https://archive.example/b", "--json").json()  # judged


def test_an_article_purged_and_watched_again_has_its_edits_told(
    server, raqib: Raqib, receiver: Receiver
) -> None:
    """Its versions are numbered from 1 again: its first change must not pass
    for the one told before the purge (a message key, a receiver's id)."""
    from raqib.demo.pages import VERSIONS, render
    from raqib.demo.server import Route

    url = server.base + "/again"
    raqib("notify", "add", f"http://{receiver.base}/hook")
    for _round in range(2):
        server.routes["/again"] = Route(render(VERSIONS[2], server.base))
        raqib("watch", "--no-fetch", url)
        raqib.proc("check", "--all")
        server.routes["/again"] = Route(render(VERSIONS[3], server.base))  # a silent edit
        raqib.proc("check", "--all")
        raqib("unwatch", url, "--purge")
    told = [e for e in receiver.got["/hook"] if e.get("event") == "change"]
    assert [(e["url"], e["from_version"], e["to_version"]) for e in told] == [(url, 1, 2)] * 2
    assert len({e["id"] for e in told}) == 2


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("https://hooks.example.com/services/T0/B0/SECRET", "https://hooks.example.com/…"),
        ("https://hooks.example.com?token=SECRET", "https://hooks.example.com/…"),
        ("https://hooks.example.com#SECRET", "https://hooks.example.com/…"),
        ("https://hooks.example.com\\SECRET", "https://…"),
        ("json://hooks.example.com?+X-Api-Key=SECRET", "json://hooks.example.com/…"),
        ("json://hooks.example.com:8443/x", "json://hooks.example.com:8443/…"),
        ("http://[::1]:8081/hook", "http://[::1]:8081/…"),
        ("https://newsroom.example", "https://newsroom.example"),
        ("mailtos://smtp.example.com?user=desk&pass=SECRET", "mailtos://smtp.example.com/…"),
        ("mailto://user:SECRET@gmail.com", "mailto://gmail.com/…"),
        ("mailto://user:SE/CRET@gmail.com", "mailto://…"),
        ("tgram://123456789:SECRET/987654321", "tgram://…"),
        ("discord://4174216298/SECRET", "discord://…"),
        ("SECRET", "***"),
    ],
)
def test_a_channel_is_shown_without_its_secrets(url: str, shown: str) -> None:
    from raqib.present.records import fingerprint, redact_secret

    assert redact_secret(url) == shown and "SECRET" not in redact_secret(url)
    assert re.fullmatch(r"[0-9a-f]{6}", fingerprint(url))


def test_one_change_that_cannot_be_told_or_indexed_holds_up_no_other(
    raqib: Raqib, receiver: Receiver, monkeypatch, caplog
) -> None:
    """A bug on one stranger's text, in the event it makes, a channel's rule
    or its search key: the other changes are still told and indexed (before,
    the pass's every message was dropped, and every pass's indexing stopped)."""
    import logging

    from raqib.analysis import analyze_pending
    from raqib.app import notifications, search
    from raqib.app.home import open_app
    from tests.test_storage import T0, record

    failing, fine = "https://a.example/failing", "https://a.example/fine"
    raqib("watch", "--no-fetch", failing, fine)
    raqib("notify", "add", f"http://{receiver.base}/hook")
    raqib("notify", "add", f"http://{receiver.base}/keyword", "--keyword", "الهجوم")
    for k, v in raqib.env.items():  # the backend the commands use
        monkeypatch.setenv(k, v)
    app = open_app(raqib.home)
    try:
        for url, before, after in (
            (failing, "قال الوزير إن المفاوضات مستمرة.", "قال الوزير إن المفاوضات انتهت."),
            (fine, "قتل 30 شخصا في الهجوم.", "قتل 40 شخصا في الهجوم."),
        ):
            watch = app.storage.watches.find(url)
            record(app.storage, watch.id, "new_version", T0, before)
            record(app.storage, watch.id, "new_version", T0 + timedelta(hours=1), after)
        changes = [c for c, _new in analyze_pending(app.storage)]

        def bug(real):
            def patched(*args, **kw):
                if "انتهت" in json.dumps([str(a) for a in args], ensure_ascii=False):
                    raise ValueError("a bug on this text")
                return real(*args, **kw)

            return patched

        monkeypatch.setattr(notifications, "change_event", bug(notifications.change_event))
        real_wants = notifications.wants

        def wants(when, keywords, story, event):  # the keyword rule's bug, on the fine one
            if keywords and event.get("url") == fine:
                raise ValueError("a bug in the rule")
            return real_wants(when, keywords, story, event)

        monkeypatch.setattr(notifications, "wants", wants)
        monkeypatch.setattr(search, "search_key", bug(search.search_key))
        logging.root.addHandler(caplog.handler)  # the CLI's console set the root's handlers
        try:
            assert search.index(app) == 4  # every version, the failing one's keyed empty
            # A watch purged while the pass ran: its "removed" event goes with it.
            gone = [(987654, 404, T0)]
            sent, waiting = notifications.notify_pass(app, changes=changes, removed=gone)
        finally:
            logging.root.removeHandler(caplog.handler)
    finally:
        app.close()
    assert (sent, waiting) == (2, 0)
    assert [e["url"] for e in receiver.got["/hook"]] == [fine]
    assert [e["url"] for e in receiver.got["/keyword"]] == [fine]
    assert "could not be told: ValueError: a bug on this text" in caplog.text
    assert "rules failed on an event (a bug in the rule): sent" in caplog.text
    assert "search will not find it" in caplog.text
    monkeypatch.undo()
    assert [h["url"] for h in raqib("search", "الهجوم", "--json").json()] == [fine]


def test_a_message_its_receiver_refuses_holds_up_no_other(
    raqib: Raqib, receiver: Receiver, monkeypatch, caplog
) -> None:
    """A 400 is that message's problem: the messages queued after it on the
    channel went out only once it had failed for good, some 5 hours later."""
    from raqib.app import notifications
    from raqib.app.home import open_app

    raqib("notify", "add", f"http://{receiver.base}/hook")
    receiver.refuse = "REFUSED"
    events = [_event(url=f"https://a.example/{n}", headline=n) for n in ("REFUSED", "b", "c")]
    for k, v in raqib.env.items():  # the backend the commands use
        monkeypatch.setenv(k, v)
    app = open_app(raqib.home)
    try:
        notifications.queue_events(app, events, batch="one")
        result = notifications.flush_notifications(app, timeout=20)
        # A revoked token or a deleted hook (401, 403, 404, 410) is the channel's:
        # it backs off whole, and its messages keep their attempts for later.
        receiver.refuse_status = 401
        later = [_event(url=f"https://a.example/{n}", headline=n) for n in ("REFUSED-2", "d")]
        notifications.queue_events(app, later, batch="two")
        held = notifications.flush_notifications(app, timeout=20)
    finally:
        app.close()
    assert (result.sent, result.retrying) == (2, 1)
    assert [e["headline"] for e in receiver.got["/hook"]] == ["b", "c"]
    assert (held.sent, held.retrying) == (0, 2)
    [ch] = raqib("notify", "status", "--json").json()["channels"]
    assert (ch["sent"], ch["pending"]) == (2, 3)
    # Refused again and again: the same bytes would be for hours. After
    # REFUSED_ATTEMPTS it is marked failed, and the others go out.
    receiver.refuse_status = 422
    app = open_app(raqib.home)
    logging.root.addHandler(caplog.handler)  # the CLI's console set the root's handlers
    try:
        again = notifications.flush_notifications(app, timeout=20, now=True)
        last = notifications.flush_notifications(app, timeout=20, now=True)
    finally:
        logging.root.removeHandler(caplog.handler)
        app.close()
    assert (again.sent, again.failed, again.retrying) == (1, 0, 2)
    assert (last.sent, last.failed, last.retrying) == (0, 2, 0)
    assert [e["headline"] for e in receiver.got["/hook"]] == ["b", "c", "d"]
    [ch] = raqib("notify", "status", "--json").json()["channels"]
    assert (ch["sent"], ch["pending"], ch["failed"]) == (3, 0, 2)
    # Each given up is said (the daemon's flushes are quiet: its log held nothing), and
    # once the receiver takes them, --retry-failed sends them: none is lost for good.
    assert caplog.text.count("was given up after") == 2 and "--retry-failed" in caplog.text
    receiver.refuse = None
    said = raqib("notify", "flush", "--retry-failed").out
    assert said.startswith("2 sent, 0 to retry later, 0 given up"), said
    assert [e["headline"] for e in receiver.got["/hook"]][-2:] == ["REFUSED", "REFUSED-2"]
    [ch] = raqib("notify", "status", "--json").json()["channels"]
    assert (ch["sent"], ch["pending"], ch["failed"]) == (5, 0, 0)


def test_a_long_flush_keeps_its_messages_from_other_flushes(
    raqib: Raqib, receiver: Receiver, monkeypatch
) -> None:
    """A flush claimed its messages for 5 minutes, never renewed: one that ran
    longer on a slow channel (`--timeout 900`) had the rest taken, and sent
    again, by the next flush. The claims on a channel's messages yet to be
    sent are now renewed as it goes, and a flush that dies frees them within
    minutes."""
    from datetime import UTC, datetime, timedelta

    from raqib.app import notifications
    from raqib.app.home import open_app
    from raqib.notify import deliver

    raqib("notify", "add", f"http://{receiver.base}/hook")
    (raqib.home / "raqib.toml").write_text('[notify]\ntimeout = "60s"\n', encoding="utf-8")
    for k, v in raqib.env.items():  # the backend the commands use
        monkeypatch.setenv(k, v)
    holds = {n: (threading.Event(), threading.Event()) for n in (1, 2)}
    receiver.holds = holds  # the first two sends wait for the test
    minutes = [0]  # how far the long flush's clock has moved on
    app = open_app(raqib.home, clock=lambda: datetime.now(UTC) + timedelta(minutes=minutes[0]))
    results: list[Any] = []

    def other_flush() -> Any:  # another worker's, 7 minutes after the long one began
        later = open_app(raqib.home, clock=lambda: datetime.now(UTC) + timedelta(minutes=7))
        try:
            return deliver.flush(
                later.storage.outbox, owner="other", deadline=time.monotonic() + 5,
                clock=later.clock, retry_base=timedelta(seconds=30),
                retry_max=timedelta(hours=1), max_attempts=12,
            )  # fmt: skip
        finally:
            later.close()

    try:
        events = [_event(url=f"https://a.example/{n}", headline=n) for n in ("a", "b", "c")]
        notifications.queue_events(app, events, batch="one")
        long = threading.Thread(
            target=lambda: results.append(notifications.flush_notifications(app, timeout=900))
        )
        long.start()
        assert holds[1][1].wait(30)  # "a" is being sent, slowly
        minutes[0] = 6  # six minutes on, it goes out; "b" and "c" are claimed again first
        holds[1][0].set()
        assert holds[2][1].wait(30)  # "b" is being sent
        other = other_flush()
        holds[2][0].set()
        long.join(60)
    finally:
        for wait, _arrived in holds.values():
            wait.set()
        app.close()
    assert (other.sent, other.retrying, other.failed) == (0, 0, 0)
    assert results and results[0].sent == 3
    assert sorted(e["headline"] for e in receiver.got["/hook"]) == ["a", "b", "c"]


def test_a_pass_killed_before_telling_its_changes_leaves_them_to_the_next(
    server, raqib: Raqib, receiver: Receiver
) -> None:
    """A pass stores its changes, then queues their messages: one killed in
    between (seconds on a loaded machine) left them stored and untold, and no
    later pass told them. The next pass tells them, once; a change made while
    no channel listened is not sent to a channel added later."""
    import subprocess
    import sys

    from raqib.demo.pages import VERSIONS, render
    from raqib.demo.server import Route

    a, b = server.base + "/a", server.base + "/b"
    for path in ("/a", "/b"):
        server.routes[path] = Route(render(VERSIONS[2], server.base))
    raqib("watch", "--no-fetch", a, b)
    raqib.proc("check", "--all")
    server.routes["/b"] = Route(render(VERSIONS[3], server.base))  # no channel yet
    raqib.proc("check", "--all")
    raqib("notify", "add", f"http://{receiver.base}/hook", "--when", "all")
    server.routes["/a"] = Route(render(VERSIONS[3], server.base))
    H = timedelta(hours=1)
    killed = (
        "import os, sys\n"
        "from raqib.app import notifications, passes\n"
        "def notify_pass(*args, **kwargs):\n"
        "    os._exit(9)  # killed: no finally, no atexit\n"
        "passes.notify_pass = notify_pass\n"
        "from raqib.cli import run\n"
        f"sys.argv = ['raqib', '--home', {str(raqib.home)!r}, 'check', '--all']\n"
        "run()\n"
    )
    p = subprocess.run(
        [sys.executable, "-c", killed], capture_output=True, text=True, timeout=120,
        env={**os.environ, **raqib.env},
    )  # fmt: skip
    assert p.returncode == 9, p.stderr
    assert [c["url"] for c in raqib("changes", "--json").json()] == [b, a]  # stored
    assert receiver.got["/hook"] == []
    from datetime import UTC, datetime

    soon = (datetime.now(UTC) + timedelta(minutes=5)).isoformat()
    Raqib(raqib.home, {**raqib.env, "RAQIB_NOW": soon}).proc("check", "--all")
    assert receiver.got["/hook"] == []  # a pass still running, maybe: not raced
    later = Raqib(raqib.home, {**raqib.env, "RAQIB_NOW": (datetime.now(UTC) + H).isoformat()})
    later.proc("check", "--all")  # nothing new: it tells what the killed one left
    told = [e["url"] for e in receiver.got["/hook"] if e.get("event") == "change"]
    assert told == [a]  # never /b's, made before the channel was added
    later.proc("check", "--all")
    assert [e["url"] for e in receiver.got["/hook"] if e.get("event") == "change"] == [a]


def test_gc_removes_notifications_delivered_a_month_ago(
    raqib: Raqib, receiver: Receiver, monkeypatch
) -> None:
    """Every delivered payload stayed for good: after 35 minutes of a daemon
    the outbox was the largest table. gc removes those delivered over 30 days
    ago, and none is sent again."""
    from raqib.app import notifications
    from raqib.app.home import open_app

    raqib("notify", "add", f"http://{receiver.base}/hook")
    for k, v in raqib.env.items():
        monkeypatch.setenv(k, v)
    app = open_app(raqib.home)
    try:
        events = [_event(url=f"https://a.example/{n}", headline=n) for n in "ab"]
        notifications.queue_events(app, events, batch="one")
        assert notifications.flush_notifications(app, timeout=20).sent == 2
    finally:
        app.close()
    assert "notifications delivered" not in raqib("gc").out  # not a month old yet
    later = (datetime.now(UTC) + timedelta(days=31)).isoformat()
    monkeypatch.setenv("RAQIB_NOW", later)
    assert "2 notifications delivered over 30 days ago would go" in raqib("gc", "--dry-run").out
    assert "2 notifications delivered over 30 days ago removed" in raqib("gc").out
    [ch] = raqib("notify", "status", "--json").json()["channels"]
    assert (ch["sent"], ch["pending"]) == (0, 0)
    assert raqib("notify", "flush").out.startswith("0 sent") and len(receiver.got["/hook"]) == 2
