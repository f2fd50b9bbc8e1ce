"""Synthetic Arabic news pages for the benchmark: realistic size and furniture.

Four templates (a WordPress theme, a JSON-LD news site, an old table-layout
portal, a React site with a large inline state), 60–150 kB each: menus,
inline scripts, most-read lists, reader comments, share bars, JSON-LD. Every
page is a pure function of (page id, edition, churn), so the server renders it
on demand and the benchmark can tell exactly what changed.
"""

from __future__ import annotations

import functools
import hashlib
import json
import random
from dataclasses import dataclass
from html import escape

TEMPLATES = 4  # page i is drawn in template i % TEMPLATES

WORDS = (
    "الولايات المتحدة العراق محادثات التحالف الدولي انسحاب القوات الأمريكية بغداد واشنطن وزير الدفاع "
    "الحكومة العراقية بيان الخارجية اللجنة العسكرية العليا مستقبل الوجود العسكري جدول زمني تدريجي "
    "الأمن الاستقرار المنطقة هجمات الفصائل المسلحة إيران سوريا الأردن الخليج النفط الصادرات الاقتصاد "
    "البرلمان الانتخابات المحكمة القضاء الشرطة الجيش الحدود المياه الكهرباء الموازنة الإيرادات الديون "
    "قال أكد أعلن أوضح أشار أضاف كشف نفى رحب طالب دعا حذر توقع أفاد ذكر نقل أعرب "
    "مسؤول رفيع مصدر مطلع متحدث باسم رئيس الوزراء نائب عضو مجلس النواب خبير محلل مراقبون "
    "في من إلى على عن مع بعد قبل خلال منذ حتى بين حول ضد لدى أمام وراء عند "
    "الذي التي الذين هذا هذه ذلك تلك كان كانت يكون قد لم لن لا ليس غير كل بعض أي "
    "اليوم أمس الأسبوع الشهر العام المقبل الماضي الجاري صباح مساء الأحد الاثنين الثلاثاء الأربعاء الخميس "
    "الأولى الثانية الثالثة جديد جديدة كبير كبيرة واسع واسعة مهم مهمة رسمي رسمية دولي دولية محلي محلية "
    "اتفاق مفاوضات جولة اجتماع قمة زيارة لقاء مؤتمر صحفي تصريحات تقرير دراسة استطلاع أرقام نسبة مليون مليار "
    "دولار دينار برميل يوميا سنويا شهريا المئة نحو قرابة أكثر أقل حوالي فقط أيضا كذلك لكن إلا أن إذ حيث"
).split()

NAV = [
    "الرئيسية",
    "سياسة",
    "اقتصاد",
    "رياضة",
    "ثقافة",
    "تكنولوجيا",
    "صحة",
    "منوعات",
    "آراء",
    "فيديو",
    "صور",
    "اتصل بنا",
]


def _rng(*parts: object) -> random.Random:
    seed = hashlib.sha256("|".join(map(str, parts)).encode()).digest()
    return random.Random(int.from_bytes(seed[:8], "big"))


def sentence(r: random.Random) -> str:
    n = r.randint(12, 28)
    words = [r.choice(WORDS) for _ in range(n)]
    if r.random() < 0.4:
        words.insert(r.randint(1, n - 1), str(r.randint(2, 9999)))
    return " ".join(words) + "."


@dataclass(frozen=True)
class Article:
    title: str
    byline: str
    paragraphs: tuple[str, ...]


@functools.lru_cache(maxsize=65536)
def article(page: int, edition: int) -> Article:
    """The article text: edition 0 is the original; each later edition edits it."""
    r = _rng("article", page)
    title = " ".join(r.choice(WORDS) for _ in range(r.randint(7, 13)))
    byline = f"{r.choice(['بغداد', 'عمان', 'القاهرة', 'بيروت', 'الرياض'])} - {r.choice(['سلمى', 'أحمد', 'ليلى', 'يوسف'])} {r.choice(['الكبيسي', 'العلي', 'حداد', 'منصور'])}"
    paras = [" ".join(sentence(r) for _ in range(r.randint(2, 4))) for _ in range(r.randint(7, 14))]
    for e in range(1, edition + 1):  # each edition: a figure changes or a sentence is added
        er = _rng("edit", page, e)
        i = er.randrange(len(paras))
        if er.random() < 0.5:
            paras[i] = paras[i] + " " + sentence(er)
        else:
            paras[i] = f"{paras[i][:-1]} بنسبة {er.randint(10, 99)} في المئة."
    return Article(title, byline, tuple(paras))


@functools.cache
def _state_blob_of(page: int) -> str:
    r = _rng("state", page)
    return _state_blob(r, r.randint(45_000, 110_000))


def _state_blob(r: random.Random, size: int) -> str:
    """An inline script the size real sites carry (ad config, analytics, state)."""
    items = []
    total = 0
    while total < size:
        item = {
            "id": r.randint(1, 10**9),
            "slot": f"div-gpt-ad-{r.randint(1000, 9999)}",
            "targeting": {"k": r.choice(WORDS), "v": [r.randint(1, 99) for _ in range(6)]},
        }
        s = json.dumps(item, ensure_ascii=False)
        items.append(s)
        total += len(s)
    return "[" + ",".join(items) + "]"


def _furniture(page: int, churn: int) -> dict[str, str]:
    """Everything around the article that changes on every fetch."""
    r = _rng("furniture", page, churn)
    most = [" ".join(r.choice(WORDS) for _ in range(r.randint(5, 9))) for _ in range(10)]
    r.shuffle(most)
    comments = [
        f'<li class="comment"><div class="comment-author">{escape(r.choice(NAV))}{r.randint(1, 99)}</div>'
        f'<div class="comment-content"><p>{escape(sentence(r))}</p></div></li>'
        for _ in range(r.randint(6, 16))
    ]
    return {
        "clock": f"{r.randint(0, 23):02d}:{r.randint(0, 59):02d}",
        "views": f"{r.randint(1000, 99999):,}",
        "nonce": hashlib.md5(f"{page}-{churn}".encode()).hexdigest()[:10],
        "ad": escape(" ".join(r.choice(WORDS) for _ in range(6))),
        "most_read": "".join(
            f'<li><a href="/news/{r.randint(1, 10**6)}">{escape(t)}</a></li>' for t in most
        ),
        "comments": "".join(comments),
        "ncomments": str(len(comments)),
        "ticker": escape(sentence(r)),
        "state": _state_blob_of(page),
    }


def _nav() -> str:
    return "".join(
        f'<li><a href="/section/{i}">{escape(n)}</a></li>' for i, n in enumerate(NAV * 3)
    )


def render(page: int, edition: int, churn: int, base: str) -> bytes:
    a = article(page, edition)
    f = _furniture(page, churn)
    template = page % TEMPLATES
    url = f"{base}/news/{page}"
    paras = "".join(f"<p>{escape(p)}</p>" for p in a.paragraphs)
    title = escape(a.title)
    if template == 0:  # WordPress theme
        html = f"""<!DOCTYPE html><html dir="rtl" lang="ar"><head><meta charset="utf-8"><title>{title} – صدى</title>
<link rel="canonical" href="{url}"><meta property="og:title" content="{title}"><meta property="article:published_time" content="2024-01-25T18:00:00+03:00">
<script>var wpData={{"nonce":"{f["nonce"]}","ads":{f["state"]}}};</script></head><body class="single">
<div class="top-bar"><span class="date-now">{f["clock"]}</span><div class="breaking-news">{f["ticker"]}</div></div>
<header><nav class="main-menu"><ul>{_nav()}</ul></nav></header><main><article class="post">
<span class="views">شوهد {f["views"]} مرة</span><h1 class="entry-title">{title}</h1>
<div class="post-author"><span class="author vcard">{escape(a.byline)}</span></div>
<div class="entry-content">{paras}</div>
<div class="post-share"><a href="https://www.facebook.com/sharer.php?u={url}">فيسبوك</a> <a href="https://twitter.com/intent/tweet?url={url}">تويتر</a></div>
</article><div id="comments" class="comments-area"><h3>التعليقات ({f["ncomments"]})</h3><ol class="comment-list">{f["comments"]}</ol>
<form><input type="hidden" name="_wpnonce" value="{f["nonce"]}"><textarea name="comment"></textarea></form></div></main>
<aside class="widget-area"><section class="widget popular-posts"><h2>الأكثر قراءة</h2><ul>{f["most_read"]}</ul></section>
<section class="widget ad-widget"><div class="ad-slot">{f["ad"]}</div></section></aside>
<footer><p>جميع الحقوق محفوظة</p></footer></body></html>"""
    elif template == 1:  # JSON-LD news site
        ld = json.dumps(
            {
                "@context": "https://schema.org",
                "@type": "NewsArticle",
                "headline": a.title,
                "datePublished": "2024-01-25T09:15:00+03:00",
                "author": {"@type": "Person", "name": a.byline},
            },
            ensure_ascii=False,
        )
        body = "".join(
            f'<p data-paragraph="{i}">{escape(p)}</p>' for i, p in enumerate(a.paragraphs, 1)
        )
        html = f"""<!doctype html><html lang="ar" dir="rtl"><head><meta charset="utf-8"><title>{title} | المرصد</title>
<script type="application/ld+json">{ld}</script><script>window.__STATE__={{"session":"{f["nonce"]}","ts":"{f["clock"]}","cfg":{f["state"]}}}</script></head>
<body><div class="site-header"><ul class="nav">{_nav()}</ul><div class="ticker">{f["ticker"]} · {f["clock"]}</div></div>
<div class="page"><div class="col-main"><header class="article-header"><h1 class="article-title">{title}</h1>
<div class="article-meta"><span class="article-author">{escape(a.byline)}</span> · <span class="read-count">{f["views"]} قراءة</span></div></header>
<div class="article-body" data-component="article-body">{body}</div></div>
<div class="col-side"><div class="box most-read"><h2>الأكثر قراءة</h2><ol>{f["most_read"]}</ol></div><div class="box promo">{f["ad"]}</div></div></div>
<div class="comments-widget" data-count="{f["ncomments"]}"><ul>{f["comments"]}</ul></div><footer class="site-footer">© المرصد</footer></body></html>"""
    elif template == 2:  # old table-layout portal
        body = "".join(
            f'<font face="Arial" size="3">{escape(p)}</font><br><br>' for p in a.paragraphs
        )
        html = f"""<html><head><meta http-equiv="Content-Type" content="text/html; charset=utf-8"><title>بوابة الأخبار - {title}</title>
<script>var cfg={f["state"]};</script></head><body><table width="100%" border="0"><tr><td colspan="3">{f["clock"]} <a href="/">الرئيسية</a> | {f["ticker"]}</td></tr>
<tr><td width="150" valign="top"><table><tr><td><ul>{f["most_read"]}</ul></td></tr><tr><td>{f["ad"]}</td></tr></table></td>
<td valign="top"><table width="100%"><tr><td><b>{title}</b></td></tr><tr><td>{escape(a.byline)} · قراءات: {f["views"]}</td></tr><tr><td>{body}</td></tr></table></td>
<td width="150" valign="top"><table><tr><td><ol>{f["comments"]}</ol></td></tr></table></td></tr><tr><td colspan="3">جميع الحقوق محفوظة</td></tr></table></body></html>"""
    else:  # React site with a large inline state
        state = json.dumps(
            {"props": {"views": f["views"], "nonce": f["nonce"], "ads": json.loads(f["state"])}},
            ensure_ascii=False,
        )
        html = f"""<!DOCTYPE html><html lang="ar" dir="rtl"><head><meta charset="utf-8"><title>{title}</title><meta name="author" content="{escape(a.byline)}">
<meta property="og:title" content="{title}"></head><body><div id="__next"><header><nav>{_nav()}</nav></header>
<main><div class="ticker">{f["ticker"]}</div><article><h1>{title}</h1><div class="byline">{escape(a.byline)}</div><section class="story-body">{paras}</section>
<div class="share">{f["views"]} مشاهدة</div></article><aside><h3>الأكثر قراءة</h3><ol>{f["most_read"]}</ol><div class="ad">{f["ad"]}</div></aside>
<section class="comments"><ul>{f["comments"]}</ul></section></main></div><script id="__NEXT_DATA__" type="application/json">{state}</script></body></html>"""
    return html.encode("utf-8")
