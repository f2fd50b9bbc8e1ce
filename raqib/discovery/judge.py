"""Decide what to do with each candidate a discovery crawl brought back.

Pure: the crawl's findings, the story models and what is already known go
in; one decision per candidate comes out (added, rejected, known, blocked,
error), with the reason a newsroom reads in `raqib discover`.
"""

from __future__ import annotations

from typing import Any

from raqib import urls
from raqib.discovery.findings import CandidatePage
from raqib.discovery.relate import Judgement, StoryModel, document
from raqib.domain import Decision
from raqib.guard import network_of

KNOWN_BEFORE = "already watched"
JUDGED_BEFORE = "judged before"
UNJUDGED = "could not be judged"
JUDGED_ON_FEED = "judged on its feed title and summary"
GONE = "HTTP 410"  # said to be gone for good (a 404, a challenge, a stub: tried again)
NO_COVERAGE = "no coverage: "  # a page that is no article by what it is (a list of stories)


def decide(
    c: CandidatePage,
    *,
    slug: str | None,
    model: StoryModel | None,
    threshold: float,
    known: set[str],
    prefiltered: Judgement | None,
) -> dict[str, Any] | None:
    """The judgement of one candidate, or None when there is nothing new to say."""
    r = _judgement(c, slug)
    if c.skipped:
        if c.skipped.startswith(JUDGED_BEFORE) or c.skipped == KNOWN_BEFORE:
            return None  # nothing new to say (the story's own watch, every run: noise)
        decision = (
            Decision.BLOCKED
            if c.skipped.startswith("blocked")
            else Decision.ERROR
            if c.skipped.startswith(UNJUDGED)
            else Decision.REJECTED
        )
        j = prefiltered
        if j is not None and c.skipped.startswith(JUDGED_ON_FEED):
            decision = Decision.ADDED if j.score >= threshold else Decision.REJECTED
        if j is not None:
            r.update(score=j.score, terms=j.terms)
        r.update(decision=decision.value, reason=c.skipped)
        return r
    if c.error:
        # Gone, or a list of stories: an answer. Another failure is tried again an
        # hour on, after the new candidates (a challenge page, a stub, a CDN's 404).
        final = c.error == GONE or c.error.startswith(NO_COVERAGE)
        r.update(decision=(Decision.REJECTED if final else Decision.ERROR).value, reason=c.error)
        return r
    primary, aliases = urls.identity(
        c.url, final=c.final_url, canonical=c.canonical_url, amp=c.amp_url
    )
    if network_of(primary) != network_of(c.final_url or c.url):
        # A canonical link into another network ("www.wiki" naming the
        # intranet's "wiki"): watched there, its refetches would go there.
        primary, aliases = urls.identity(c.url, final=c.final_url, amp=c.amp_url)
    if primary in known or any(a in known for a in aliases):
        r.update(decision=Decision.KNOWN.value, reason=f"already watched as {primary}")
        return r
    assert model is not None, "a fetched candidate belongs to a story with seeds"
    j = model.judge(document(c.title, c.text or ""))
    related = j.score >= threshold
    try:
        served: str | None = urls.normalize(c.final_url or c.url, allow_credentials=True)
    except urls.BadURL:
        served = None
    r.update(
        # Rejected, it is remembered as its source listed it: that is the address
        # the next run looks up (under its canonical, it was fetched every run).
        url=primary if related else c.url,
        address=primary,  # what `discover --rejudge` watches it as
        aliases=aliases,
        # Its fetch is the watch's first check only if it is of the watch's own
        # address: an AMP page or a print view listed in its place is another page.
        kept=c.kept if served == primary else None,
        score=j.score,
        terms=j.terms,
        decision=(Decision.ADDED if related else Decision.REJECTED).value,
        reason=(
            f"score {j.score:.3f} {'≥' if related else '<'} threshold {threshold:g}"
            + (f"; closest to {j.against}" if j.against else "")
        ),
    )
    return r


def unjudged(c: CandidatePage, slug: str | None, exc: Exception) -> dict[str, Any]:
    """A candidate whose judgement raised, as an error: recorded, it is judged
    before and not fetched again on every run."""
    r = _judgement(c, slug)
    r.update(decision=Decision.ERROR.value, reason=f"{UNJUDGED}: {exc!r}"[:300])
    return r


def _judgement(c: CandidatePage, slug: str | None) -> dict[str, Any]:
    return {
        "story": slug,
        "story_id": c.story_id,
        "url": c.url,
        "found_via": c.found_via,
        "title": c.title or c.feed_title,
        "score": None,
        "terms": None,
        "text": c.text,
        "kept": c.kept,  # its fetch, in the run's spool (an article's)
    }
