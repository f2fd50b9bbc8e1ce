"""Every JSON document Raqib prints names its schema (`"schema":
"raqib.NAME/VERSION"`), and the schemas are JSON Schema files shipped in
raqib/schemas/. Here every command's --json output over a real history
(fetches of every outcome, discovery, an outlet, notifications, a search) is
checked against the schema it names."""

from __future__ import annotations

import json
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from raqib.demo.server import PageServer, Route
from tests.conftest import Raqib, corpus_body, replay_corpus
from tests.test_notify import Receiver

SCHEMAS = Path(__file__).resolve().parent.parent / "raqib" / "schemas"


def _schema_file(name: str) -> Path:
    """raqib.change/1 → raqib/schemas/change-1.json"""
    assert name.startswith("raqib.") and "/" in name, name
    kind, version = name[len("raqib.") :].split("/")
    return SCHEMAS / f"{kind}-{version}.json"


@pytest.fixture(scope="module")
def documents(manifest) -> Iterator[dict[str, Any]]:
    """command → its parsed --json output, over one history with everything in it."""
    tmp = Path(tempfile.mkdtemp(prefix="raqib-schemas-"))
    server = PageServer().start()
    receiver = Receiver()
    raqib = Raqib(tmp / "home")
    docs: dict[str, Any] = {}
    try:
        raqib.home.mkdir(parents=True)
        (raqib.home / "raqib.toml").write_text(
            '[report]\nbase_url = "https://report.example/"\n\n'
            f'[[notify.channels]]\nurl = "http://{receiver.base}/digest"\nwhen = ["all"]\ndigest = true\n'
        )
        raqib("notify", "add", f"http://{receiver.base}/hook", "--when", "all")
        urls = replay_corpus(server, raqib, manifest)  # every outcome: bot check, 503, 404, restore
        seed, oil = urls["seed"], urls["oil"]
        cov = manifest["coverage"]
        for s in cov["sources"]:
            server.routes[s["path"]] = Route(
                corpus_body(manifest, s["body"], server.base), headers=s["headers"]
            )
            raqib("source", "add", server.base + s["path"], "--story", cov["story"])
        for path, page in cov["pages"].items():
            server.routes[path] = Route(corpus_body(manifest, page["body"], server.base))
        docs["discover"] = raqib.proc("discover", "--json").json()
        article = server.base + next(iter(cov["pages"]))
        items = "".join(
            f"<item><title>t</title><link>{u}</link></item>"
            for u in (article, server.base + "/tag/iraq")  # the tag page is rejected
        )
        server.routes["/outlet.xml"] = Route(
            f'<?xml version="1.0"?><rss version="2.0"><channel><title>m</title>{items}</channel></rss>'.encode(),
            headers={"Content-Type": "application/rss+xml"},
        )
        feed = server.base + "/outlet.xml"
        docs["outlet add"] = raqib("outlet", "add", "marsad", "--feed", feed, "--json").json()
        docs["discover --outlet"] = raqib.proc("discover", "--outlet", "marsad", "--json").json()
        docs["check"] = raqib.proc("check", "--all", "--json").json()
        fresh = server.base + "/fresh"
        server.routes["/fresh"] = Route(
            corpus_body(manifest, manifest["watches"][1]["steps"][0]["body"], server.base)
        )
        docs["watch"] = raqib.proc("watch", fresh, "--json").json()
        docs["watch --no-fetch"] = raqib(
            "watch", "--no-fetch", server.base + "/later", "--json"
        ).json()
        docs["preview"] = raqib.proc("preview", oil, "--json").json()
        docs["watch - (import)"] = raqib(
            "watch",
            "--no-fetch",
            "-",
            "--json",
            "--allow-private",
            input=f"{server.base}/x1\nnot a url\n",
        ).json()
        docs["watches"] = raqib("watches", "--json").json()
        docs["tag"] = raqib("tag", oil, "--add", "oil", "--json").json()
        docs["pause"] = raqib("pause", server.base + "/later", "--json").json()
        docs["resume"] = raqib("resume", server.base + "/later", "--json").json()
        docs["unwatch"] = raqib("unwatch", server.base + "/x1", "--json").json()
        docs["versions"] = raqib("versions", seed, "--json").json()
        docs["changes"] = raqib("changes", "--json").json()
        docs["log"] = raqib("log", seed, "--json").json()
        docs["diff"] = raqib("diff", seed, "--format", "json").json()
        docs["schedule"] = raqib("schedule", "--json").json()
        docs["search"] = raqib("search", "القوات", "--json").json()
        exported = raqib("export", "--format", "jsonl", "--out", "-").out.splitlines()
        docs["export jsonl"] = [json.loads(line) for line in exported]  # its end record too
        docs["source list"] = raqib("source", "list", "--json").json()
        docs["outlet list"] = raqib("outlet", "list", "--json").json()
        docs["outlet stats"] = raqib("outlet", "stats", "marsad", "--json").json()
        docs["outlet rejected"] = raqib("outlet", "rejected", "marsad", "--json").json()
        docs["robots list"] = raqib("robots", "list", "--json").json()
        docs["notify list"] = raqib("notify", "list", "--json").json()
        docs["notify status"] = raqib("notify", "status", "--json").json()
        docs["webhook event"] = receiver.got["/hook"]
        docs["webhook digest"] = receiver.got["/digest"]
        yield docs
    finally:
        receiver.shutdown()
        receiver.server_close()
        server.stop()
        shutil.rmtree(tmp, ignore_errors=True)


def _named(doc: Any) -> Iterator[dict[str, Any]]:
    """The documents a command printed: the object, or each item of its list."""
    items = doc if isinstance(doc, list) else [doc]
    for item in items:
        assert isinstance(item, dict), item
        yield item


def test_every_json_document_matches_the_schema_it_names(documents) -> None:
    seen: set[str] = set()
    for command, doc in documents.items():
        items = list(_named(doc))
        assert items, f"{command}: printed nothing to check"
        for item in items:
            name = item.get("schema")
            assert isinstance(name, str), f"{command}: a document without a schema: {item}"
            path = _schema_file(name)
            assert path.exists(), f"{command}: {name} has no schema file {path.name}"
            schema = json.loads(path.read_text(encoding="utf-8"))
            jsonschema.Draft202012Validator.check_schema(schema)
            errors = sorted(
                jsonschema.Draft202012Validator(schema).iter_errors(item), key=lambda e: e.path
            )
            assert not errors, f"{command}: {name}: " + "; ".join(
                f"{'/'.join(map(str, e.path))}: {e.message}" for e in errors[:5]
            )
            seen.add(path.name)
    shipped = {p.name for p in SCHEMAS.glob("*.json")}
    assert shipped == seen, f"schemas no command printed: {shipped - seen}"


def test_a_schema_rejects_what_breaks_its_contract(documents) -> None:
    change = documents["changes"][0]
    schema = json.loads(_schema_file(change["schema"]).read_text(encoding="utf-8"))
    broken = {k: v for k, v in change.items() if k != "kind"}
    assert list(jsonschema.Draft202012Validator(schema).iter_errors(broken))
    wrong = {**change, "silent": "yes"}
    assert list(jsonschema.Draft202012Validator(schema).iter_errors(wrong))
