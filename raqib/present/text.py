"""The terminal forms of the records: what each command prints without --json.

Every function takes the same records `--json` prints (present.records), so
the two views cannot say different things.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Iterable, Iterator
from typing import Any

from raqib.present.when import local

Record = dict[str, Any]


def versions(url: str, records: list[Record]) -> Iterator[str]:
    yield url
    for d in records:
        yield (
            f"  v{d['version']}  first seen {local(d['first_seen'])}  last seen {local(d['last_seen'])}  {d['title']}"
        )


def changes(records: Iterable[Record]) -> Iterator[str]:
    """One line a change; records may be read as they are printed."""
    shown = False
    for d in records:
        if not shown:
            yield f"{'DETECTED':<26}  {'ID':>6}  {'VERSIONS':<8}  {'CHANGE':<32}  TITLE  URL"
            shown = True
        flags = [d["kind"]]
        if d["silent"]:
            flags.append("SILENT")
        if d["headline_changed"]:
            flags.append("headline")
        if d["facts"].get("numbers"):
            flags.append("figures")
        if d["facts"].get("quotes"):
            flags.append("quotes")
        if d["facts"].get("negations"):  # as the HTML's badge and --facts negation say
            flags.append("negation")
        versions = f"v{d['from_version']}→v{d['to_version']}"
        title = printable(d["title"] or "-")[:60]
        yield (
            f"{local(d['detected_at']):<26}  {d['watch_id']:>6}  {versions:<8}  "
            f"{', '.join(flags):<32}  {title}  {d['url']}"
        )
    if not shown:
        yield "no changes"


def fetch_log(url: str, records: list[Record]) -> Iterator[str]:
    yield url
    if not records:
        yield "  no fetch yet here (imported from an export, or not checked yet)"
    for d in records:
        extra = f"  v{d['version']}" if d["version"] else ""
        yield (
            f"  {local(d['fetched_at'])}  {d['status'] or '-':>3}  {d['outcome']:<12}{extra}  "
            f"{printable(d['detail'] or '')}"
        )


def watches(records: list[Record], *, filtered: bool = False) -> Iterator[str]:
    if not records:
        yield "no watches match" if filtered else "no watches (add some: raqib watch URL)"
        return
    yield f"{'ID':>6}  {'STATE':<9} {'VER':>4}  {'LAST OUTCOME':<13} {'OUTLET, STORIES, TAGS':<24} TITLE  URL"
    for d in records:
        outlet = [f"@{d['outlet']}"] if d.get("outlet") else []
        groups = ", ".join([*outlet, *d["stories"], *(f"#{t}" for t in d["tags"])]) or "-"
        title = printable(d["title"] or "(no title yet)")
        yield (
            f"{d['id']:>6}  {d['state']:<9} {'v' + str(d['versions']):>4}  "
            f"{d['last_outcome'] or 'never checked':<13} {groups[:24]:<24} {title[:70]}  {d['url']}"
        )


def printable(s: str) -> str:
    """A stranger's text for a terminal: control characters (escape sequences)
    and bidi controls (which reorder what follows) made spaces. Canonical text
    has none of the latter; a server's status line or a robots.txt may."""
    return _CONTROL.sub(" ", s)


_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def watched(records: list[Record]) -> Iterator[str]:
    for d in records:
        yield f"{'watching' if d['created'] else 'already watching'} {d['url']}"


def imported(d: Record) -> str:
    bad = len(d["invalid"])
    return f"watching {d['created']:,} new URLs, {d['existing']:,} already watched" + (
        f"; {bad:,} lines refused (see above)" if bad else ""
    )


def human(seconds: int) -> str:
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size:
            return f"{seconds / size:.1f}{unit}"
    return f"{seconds}s"


def why_scheduled(d: Record) -> str:
    """Why a watch is checked when it is: first fetch, backoff, or the age of its text."""
    if d["error_count"]:
        e = d["last_error"] or {}
        what = " ".join(str(x) for x in (e.get("outcome"), e.get("status")) if x) or "failed"
        detail = f": {printable(e['detail'])[:120]}" if e.get("detail") else ""
        n = d["error_count"]
        return f"backing off after {n} failed fetch{'es' if n != 1 else ''} ({what}{detail})"
    if d["last_checked_at"] is None:
        return "first fetch"
    if d["state"] == "removed" and (n := int(d.get("removed_count") or 0)):
        return (
            f"gone (404 or 410) at the last {n} check{'s' if n != 1 else ''}: "
            "looked at again, less often each time, until it returns or is retired"
        )
    age = human(d["unchanged_seconds"])
    if d["last_change_at"] is None:
        return f"unchanged since watched {age} ago"
    if d.get("versions") == 1:  # its first capture is no change
        return f"unchanged since first captured {age} ago"
    return f"last changed {age} ago"


def schedule(records: list[Record], resting: dict[str, int]) -> Iterator[str]:
    if not records:
        yield "nothing scheduled"
    else:
        yield f"{'NEXT CHECK':<26}  {'WHEN':<12} {'ID':>6}  {'STATE':<8} WHY  URL"
    for d in records:
        when = "due now" if d["due"] else f"in {human(d['in_seconds'])}"
        yield (
            f"{local(d['next_check_at']):<26}  {when:<12} {d['id']:>6}  {d['state']:<8} "
            f"{why_scheduled(d)}  {d['url']}"
        )
    if resting:
        states = ", ".join(f"{n} {state}" for state, n in sorted(resting.items()))
        yield f"(not scheduled, not shown: {states})"


def pass_summary(d: Record) -> str:
    c = d["outcomes"]
    n = d["claimed"]

    def count(key: str) -> int:
        return int(c.get(key, 0))

    o = d.get("outlets") or {}
    failed = o.get("failed") or []
    # A feed that moved or died brings no new article: said on every pass.
    why = "; ".join(f"{f['outlet']} {f['url']}: {f['status']}" for f in failed[:3])
    read = (
        f"read {o['sources']} outlet sources"
        + (f" ({len(failed)} failed: {why}{' …' if len(failed) > 3 else ''})" if failed else "")
        + f": {o['watched']} new articles watched, {o['rejected']} pages rejected"
        + (f", {o['old']} listed as older than the window" if o.get("old") else "")
        + "; "
        if o.get("sources")
        else ""
    )
    done, left = sum(int(v) for v in c.values()), int(d.get("left") or 0)
    lost = int(d.get("leases_lost") or 0)
    watches = f"watch{'es' if n != 1 else ''}"
    taken = f"{lost} taken over by another worker or purged" if lost else ""
    if d.get("stopped"):
        why = "; ".join(x for x in (f"{left} due again", taken) if x)
        checked = f"stopped by a signal: checked {done} of {n} {watches} ({why})"
    elif left or lost:
        why = "; ".join(x for x in (f"{left} not recorded, due again" if left else "", taken) if x)
        checked = f"checked {done} of {n} {watches} ({why})"
    else:
        checked = f"checked {n} {watches}"
    return read + (
        f"{checked}: "
        f"{d['first_captures']} first captures, "
        f"{count('new_version') - d['first_captures']} new versions "
        f"({d['substantive']} substantive, {d['cosmetic']} cosmetic), "
        f"{count('unchanged') + count('not_modified')} unchanged, {count('removed')} removed, "
        f"{count('restored')} restored, {count('error')} errors, {count('not_article')} not articles "
        f"in {d['seconds']:.1f}s"
        + (f" ({d['processes']} crawler processes)" if d["processes"] > 1 else "")
        + (f" ({_workers(d['workers'], d.get('worker_deaths', 0))})" if d.get("workers") else "")
        + (f"; {d['notified']} notifications sent" if d["notified"] else "")
        + (f", {d['notify_pending']} waiting to be sent" if d["notify_pending"] else "")
    )


def _workers(n: int, deaths: int) -> str:
    died = f"; {deaths} worker death{'s' if deaths != 1 else ''}" if deaths else ""
    return f"{n} extraction worker{'s' if n != 1 else ''}{died}"


def pass_cpu(c: dict[str, float]) -> str:
    """Where the pass's CPU went (`raqib check --cpu`, or -v): every key of
    raqib.app.passes.cpu_stages."""
    crawlers = (
        f", {c['crawler_processes']:.2f}s in crawler processes" if c["crawler_processes"] else ""
    ) + (
        f", {c['extraction_workers']:.2f}s in extraction workers"
        if c.get("extraction_workers")
        else ""
    )
    return (
        f"CPU: {c['this_process']:.2f}s in this process{crawlers}; analysis {c['analysis']:.2f}s, "
        f"storage {c['storage']:.2f}s, WARC {c['archive']:.2f}s, fetching {c['fetching']:.2f}s"
    )


def sources(records: list[Record]) -> Iterator[str]:
    if not records:
        yield "no sources: raqib source add URL --story SLUG"
    for d in records:
        yield f"{d['story']:<24} {d['kind']:<8} {d['url']}  [{d['last_status'] or 'never read'}]"


def robots(records: list[Record], ttl: str) -> Iterator[str]:
    if not records:
        yield "no robots.txt answers kept: the next pass asks each host"
    for d in records:
        if d["used_until"] is None:
            state = f"not used: robots_ttl is {ttl}"
        elif d["fresh"]:
            state = f"used until {local(d['used_until'])}"
        else:
            state = "expired: the next pass asks again"
        yield f"{d['origin']:<40} fetched {local(d['fetched_at'])}, {d['bytes']} bytes; {state}"


def robots_body(body: bytes) -> Iterator[str]:
    """A kept robots.txt, line by line, printable."""
    for line in body.decode("utf-8", errors="replace").splitlines():
        yield printable(line)


_ORDER = {"added": 0, "rejected": 1, "known": 2, "blocked": 3, "error": 4}


def discovery(d: Record, *, quiet: bool) -> Iterator[str]:
    n = len(d["sources"])
    added = [c for c in d["candidates"] if c["decision"] == "added"]
    yield (
        f"read {n} source document{'s' if n != 1 else ''}, "
        f"judged {len(d['candidates'])} candidates, added {len(added)}"
    )
    if quiet:
        return
    for src in d["sources"]:
        what = printable(src["error"] or f"{src['kind']}, {src['entries']} entries")
        yield f"  source {src['url']}: {what}"
    for c in sorted(
        d["candidates"], key=lambda c: (_ORDER.get(c["decision"], 9), -(c["score"] or 0))
    ):
        score = f"{c['score']:.3f}" if c["score"] is not None else "  -  "
        terms = (
            f" [{', '.join(c['terms'][:5])}]" if c.get("terms") and c["decision"] == "added" else ""
        )
        yield f"  {c['decision']:<8} {score}  {c['url']}{terms}"
        kept = "; its page as fetched here is version 1" if c.get("first_version") else ""
        yield f"           {printable(c['reason'] or '')}{kept}"


def channels(records: list[Record]) -> Iterator[str]:
    if not records:
        yield "no channels: raqib notify add URL"
        return
    yield f"{'ID':>3}  {'KIND':<8} {'URL':<40} RULES"
    for d in records:
        shown = f"{d['url']} #{d['fingerprint']}"
        yield f"{d['id']:>3}  {d['kind']:<8} {shown:<40} {channel_rules(d)}"


def channel_rules(d: Record) -> str:
    rules = [
        f"when {', '.join(d['when'])}",
        f"story {d['story'] or 'any'}",
        f"keywords {', '.join(d['keywords'])}" if d["keywords"] else "any words",
        "digest per pass" if d["digest"] else "one message per event",
    ]
    if d["origin"] != "cli":
        rules.append(f"from {d['origin']}")
    if not d["enabled"]:
        rules.append("DISABLED")
    return "; ".join(rules)


def delivery_status(d: Record) -> Iterator[str]:
    for ch in d["channels"]:
        yield (
            f"channel {ch['id']} {ch['url']} #{ch['fingerprint']}: {ch['sent']} sent, {ch['pending']} pending, "
            f"{ch['failed']} failed"
        )
    for p in d["problems"]:
        when = f", next try {local(p['next_attempt_at'])}" if p["next_attempt_at"] else ""
        yield f"  {p['status']:<8} after {p['attempts']} attempts{when}: {printable(p['error'] or '')}  [{p['event']}]"


def preview(d: Record) -> Iterator[str]:
    """What Raqib reads in a page: enough to see a missing lede or body at once."""
    yield d["url"]
    if d["title"] is None:
        yield f"  {_verdict(d)}"
        return
    yield f"  headline:   {printable(d['title'])}"
    for line in d["lede"] or ["(none found)"]:
        yield f"  lede:       {line}"
    yield f"  text:       {d['excerpt']}"
    tables = f", {d['tables']} table{'s' if d['tables'] != 1 else ''}" if d["tables"] else ""
    yield f"  {d['paragraphs']} paragraphs{tables}, {d['words']} words · {_verdict(d)}"


def _verdict(d: Record) -> str:
    outcome, detail = d["outcome"], printable(d["detail"] or "")
    if outcome in ("new_version", "unchanged", "not_modified", "restored"):
        return "an article: watched as shown"
    if outcome == "not_article":
        return f"not an article ({detail}): no version until the page holds one"
    if outcome is None:
        return "not fetched yet (the next raqib check fetches it)"
    if d.get("created") and outcome in ("removed", "error"):  # a new watch's first fetch
        what = "not found" if outcome == "removed" else "failed"
        return (
            f"{what} ({detail}): watched all the same, and tried again on its schedule "
            f"(`raqib unwatch {shlex.quote(d['url'])}` if the address is mistyped)"
        )
    return f"{outcome} ({detail}): tried again on its schedule"


def outlets(records: list[Record]) -> Iterator[str]:
    if not records:
        yield "no outlets: raqib outlet add NAME --feed URL"
    for d in records:
        yield (
            f"{d['name']}: {d['watched']:,} articles watched, {d['rejected']:,} pages rejected, "
            f"kept {d['retain_days']} days"
        )
        for s in d["sources"]:
            yield (
                f"  {s['kind']:<8} {s['url']}  last read {local(s['last_read_at'], 'never')}: "
                f"{printable(s['last_status'] or '-')}"
            )


def _span(seconds: float | None) -> str:
    return human(int(seconds)) if seconds is not None else "-"


def outlet_stats(d: Record) -> list[str]:
    m = d["median_to_first_edit_seconds"]
    return [
        f"{d['outlet']}: {d['articles']:,} articles watched",
        f"  edited (substantive):  {d['edited']:,} ({d['share_edited']:.1%})",
        f"  edited silently:       {d['edited_silently']:,} ({d['share_edited_silently']:.1%})",
        f"  edits per article:     {d['edits_per_article']:.2f} ({d['edits']:,} edit{'s' if d['edits'] != 1 else ''})",
        "  first sight to first edit (median): between "
        f"{_span(m['last_seen_unedited'])} and {_span(m['first_seen_edited'])}",
    ]


def outlet_read(d: Record, *, quiet: bool = False) -> Iterator[str]:
    if not quiet:
        for s in d["sources_read"]:
            yield f"{'FAILED ' if s['failed'] else ''}{s['kind']} {s['url']}: {printable(s['status'])}"
        for r in d["rejected_pages"]:
            yield f"rejected {r['url']}: {printable(r['reason'])}"
    old = (
        f", {d['old']} listed as older than the retention window (not watched)" if d["old"] else ""
    )
    yield (
        f"read {d['sources']} sources: {d['watched']} new articles watched, "
        f"{d['rejected']} pages rejected, {d['retired']} watches retired{old}"
    )


def search(records: list[Record]) -> Iterator[str]:
    if not records:
        yield "no stored version holds these words"
    for d in records:
        where = ", ".join(f"v{n}" for n in sorted(d["versions"]))
        state = "still there" if d["in_latest"] else f"GONE (latest is v{d['latest_version']})"
        if d["state"] == "removed":  # the latest version is its last: the page answers no more
            state = (
                "in its last version" if d["in_latest"] else state
            ) + "; the article was REMOVED"

        yield f"{d['watch_id']:>6}  {where}  {state}  {d['url']}"
        yield f"        {printable(d['snippet'])}"
