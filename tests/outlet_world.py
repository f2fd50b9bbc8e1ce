"""A simulated news world for outlet tests and the month benchmark.

Each outlet is a real HTTP server on its own 127.0.0.x address, publishing
articles on a known schedule and editing some of them (a figure changed, no
notice: a silent substantive edit) at known times. Its feed (RSS) or news
sitemap lists what is published by the simulated time `now`; pages that are
not articles (a video, a live page, a section page, tag links) are listed
too. `advance(now)` brings every server to that time; the truth of what was
published and edited is kept for the assertions.
"""

from __future__ import annotations

import hashlib
import json
import random
import threading
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from email.utils import format_datetime
from html import escape

from raqib.demo.server import PageServer, Route

WORDS = (
    "الحكومة أعلنت اليوم عن خطة جديدة لدعم المزارعين في المناطق الريفية وتحسين شبكات الري "
    "وقال وزير الزراعة إن الموسم الحالي شهد تراجعا في الإنتاج بسبب موجة الجفاف التي ضربت البلاد "
    "وأضاف أن الوزارة ستوزع البذور والأسمدة على الأسر المتضررة خلال الأسابيع المقبلة "
    "وأشار مسؤولون محليون إلى أن الأمطار المتأخرة قد تساعد في إنقاذ جزء من المحصول "
    "وطالب نواب في البرلمان بزيادة المخصصات المالية للقطاع في موازنة العام المقبل"
).split()

HTML = """<!DOCTYPE html><html lang="ar" dir="rtl"><head><meta charset="utf-8">
<title>{title}</title><meta property="og:type" content="{og}">
<script type="application/ld+json">{ld}</script></head>
<body><header><nav><a href="/">الرئيسية</a> <a href="/section/world/">العالم</a></nav></header>
<main><article><h1>{title}</h1>{body}</article></main>
<footer><p>جميع الحقوق محفوظة</p></footer></body></html>"""


@dataclass
class Planned:
    """One page an outlet publishes, and the edits it will make to it."""

    outlet: str
    path: str
    published: datetime
    kind: str = "article"  # article | video | live | section | tag
    edits: list[datetime] = field(default_factory=list)
    seed: int = 0

    def edits_by(self, now: datetime) -> int:
        return sum(1 for e in self.edits if e <= now)


def _paragraphs(seed: int, figure: int) -> list[str]:
    rng = random.Random(seed)
    out = []
    for i in range(5):
        words = [rng.choice(WORDS) for _ in range(22)]
        if i == 1:
            words[8:8] = ["وبلغ", "عدد", "المتضررين", str(figure), "شخصا"]
        out.append(" ".join(words) + ".")
    return out


def page(p: Planned, now: datetime) -> bytes:
    """The page as it reads at `now` (each edit raises the figure)."""
    n = p.edits_by(now)
    title = f"تقرير رقم {p.seed} عن موسم الزراعة والجفاف في المناطق الريفية"
    paras = _paragraphs(p.seed, 100 + 7 * n)
    og, ld_type = {
        "article": ("article", "NewsArticle"),
        "video": ("video.other", "VideoObject"),
        "live": ("article", "LiveBlogPosting"),
        "section": ("website", "CollectionPage"),
    }[p.kind]
    ld = json.dumps(
        {"@context": "https://schema.org", "@type": ld_type, "headline": title,
         "datePublished": p.published.isoformat()},
        ensure_ascii=False,
    ).replace("</", "<\\/")  # fmt: skip
    body = "".join(f"<p>{escape(x)}</p>" for x in paras)
    return HTML.format(title=escape(title), og=og, ld=ld, body=body).encode()


@dataclass
class SimOutlet:
    name: str
    source: str  # rss | sitemap
    server: PageServer
    planned: list[Planned] = field(default_factory=list)
    inflight: int = 0
    max_inflight: int = 0
    requests: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def source_url(self) -> str:
        return self.server.base + ("/rss.xml" if self.source == "rss" else "/news-sitemap.xml")

    def url(self, p: Planned) -> str:
        return self.server.base + p.path


class World:
    """Outlets on 127.0.0.2, .3, …; `advance(now)` serves them as of `now`."""

    def __init__(
        self,
        start: datetime,
        days: float,
        *,
        outlets: list[tuple[str, str]],  # (name, "rss" | "sitemap")
        per_day: int,
        edit_share: float,
        edit_gaps: list[timedelta],  # when each edit comes after publication
        extras: dict[str, list[str]] | None = None,  # outlet → non-article kinds it lists
        feed_size: int = 60,
        seed: int = 1,
    ) -> None:
        self.start = start
        self.feed_size = feed_size
        self.outlets: dict[str, SimOutlet] = {}
        rng = random.Random(seed)
        counter = 0
        for i, (name, source) in enumerate(outlets):
            server = PageServer(host=f"127.0.0.{i + 2}").start()
            o = SimOutlet(name, source, server)
            server.around = _Counting(o)
            self.outlets[name] = o
            total = int(days * per_day)
            for k in range(total):
                counter += 1
                at = start + timedelta(days=days) * (k + 0.5) / total
                edits = [at + g for g in edit_gaps] if rng.random() < edit_share else []
                o.planned.append(
                    Planned(name, f"/news/{counter}-report", at, edits=edits, seed=counter)
                )
            for j, kind in enumerate((extras or {}).get(name, [])):
                at = start + timedelta(hours=1 + j)
                path = {
                    "video": f"/media/clip-{j}", "live": f"/live/updates-{j}",
                    "section": "/section/world/", "tag": f"/tag/topic-{j}",
                    "category": f"/category/politics-{j}/",
                }[kind]  # fmt: skip
                o.planned.append(Planned(name, path, at, kind=kind, seed=10_000 + j))
            o.planned.sort(key=lambda p: p.published)
        self.now = start
        self._served: dict[str, int] = {}

    def stop(self) -> None:
        for o in self.outlets.values():
            o.server.stop()

    def articles(self, name: str, by: datetime | None = None) -> list[Planned]:
        when = by or self.now
        return [
            p for p in self.outlets[name].planned if p.kind == "article" and p.published <= when
        ]

    def advance(self, now: datetime) -> None:
        """Publish what is due by `now`, apply the edits, rebuild the sources."""
        self.now = now
        for o in self.outlets.values():
            live = [p for p in o.planned if p.published <= now]
            for p in live:
                state = p.edits_by(now) if p.kind not in ("tag", "category") else 0
                key = o.name + p.path
                if self._served.get(key) != state:
                    if p.kind in ("tag", "category"):
                        o.server.routes[p.path] = Route(b"<html><body>tag</body></html>")
                    else:
                        o.server.routes[p.path] = Route(page(p, now))
                    self._served[key] = state
            recent = sorted(live, key=lambda p: p.published, reverse=True)[: self.feed_size]
            body = _rss(o, recent) if o.source == "rss" else _news_sitemap(o, recent)
            tag = '"' + hashlib.sha256(body).hexdigest()[:16] + '"'
            ctype = "application/rss+xml" if o.source == "rss" else "application/xml"
            path = "/rss.xml" if o.source == "rss" else "/news-sitemap.xml"
            o.server.routes[path] = Route(body, 200, {"Content-Type": ctype}, etag=tag)


class _Counting:
    """A reusable context manager for PageServer.around (one per outlet)."""

    def __init__(self, outlet: SimOutlet) -> None:
        self.outlet = outlet

    def __enter__(self) -> None:
        o = self.outlet
        with o.lock:
            o.inflight += 1
            o.requests += 1
            o.max_inflight = max(o.max_inflight, o.inflight)

    def __exit__(self, *exc: object) -> None:
        with self.outlet.lock:
            self.outlet.inflight -= 1


def _rss(o: SimOutlet, items: list[Planned]) -> bytes:
    entries = "".join(
        f"<item><title>{escape(p.path)}</title><link>{escape(o.url(p))}</link>"
        f"<pubDate>{format_datetime(p.published)}</pubDate></item>"
        for p in items
    )
    return (
        f'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel>'
        f"<title>{o.name}</title><link>{o.server.base}/</link>{entries}</channel></rss>"
    ).encode()


def _news_sitemap(o: SimOutlet, items: list[Planned]) -> bytes:
    entries = "".join(
        f"<url><loc>{escape(o.url(p))}</loc><news:news><news:publication><news:name>{o.name}"
        f"</news:name><news:language>ar</news:language></news:publication>"
        f"<news:publication_date>{p.published.isoformat()}</news:publication_date>"
        f"<news:title>{escape(p.path)}</news:title></news:news></url>"
        for p in items
    )
    return (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9" '
        'xmlns:news="http://www.google.com/schemas/sitemap-news/0.9">'
        f"{entries}</urlset>"
    ).encode()
