"""Pages built for the detection cases of issue 16: data tables in three
layouts, ledes in three markups (and summary bullets), an in-body headline,
JSON-LD that breaks, number words, deep nesting. Each builder takes what
changes between fetches and keeps everything else the same."""

from __future__ import annotations

import json

TITLE = "نتائج الجولة الأخيرة من الدوري وأسعار الخضار في الأسواق"
BODY = [
    "أسدل الستار مساء أمس على الجولة الأخيرة من منافسات الدوري المحلي وسط حضور جماهيري كبير في الملاعب.",
    "وشهدت المباريات الختامية تنافسا شديدا على المراكز الأولى بين الفرق المتصدرة حتى الدقائق الأخيرة.",
    "وقال رئيس الاتحاد في مؤتمر صحفي إن الموسم كان ناجحا على المستويين الفني والتنظيمي رغم الصعوبات.",
    "وأضاف أن الاتحاد سيعلن خلال الأيام المقبلة عن مواعيد انطلاق الموسم الجديد وتفاصيل نظام المسابقة.",
    "وفي سياق آخر، شهدت أسواق الخضار في العاصمة تراجعا ملحوظا في الأسعار مع وفرة المعروض من الإنتاج المحلي.",
]
STANDINGS = [
    ["الهلال", "30", "21", "62"],
    ["النصر", "30", "19", "60"],
    ["الاتحاد", "30", "17", "55"],
]


def standings_table(layout: str, points: str = "62", rows: list[list[str]] | None = None) -> str:
    """The league table in one of three markups (thead/th, bare numeric, caption + th column)."""
    data = [list(r) for r in (rows or STANDINGS)]
    data[0][3] = points
    if layout == "thead":
        head = "<thead><tr><th>الفريق</th><th>لعب</th><th>فاز</th><th>النقاط</th></tr></thead>"
        body = "".join("<tr>" + "".join(f"<td>{c}</td>" for c in r) + "</tr>" for r in data)
        return f'<table class="standings">{head}<tbody>{body}</tbody></table>'
    if layout == "bare":  # no header cells: numeric columns say it is data
        return (
            "<table>"
            + "".join("<tr>" + "".join(f"<td>{c}</td>" for c in r) + "</tr>" for r in data)
            + "</table>"
        )
    if layout == "row-headers":  # a caption, and a header cell opening each row
        return (
            "<table><caption>ترتيب الفرق</caption>"
            + "".join(
                f"<tr><th scope='row'>{r[0]}</th>"
                + "".join(f"<td>{c}</td>" for c in r[1:])
                + "</tr>"
                for r in data
            )
            + "</table>"
        )
    raise ValueError(layout)


def lede_markup(kind: str, lede: str) -> str:
    if kind == "div-lead":  # outside the body, as Sputnik does
        return f'<div class="b-article__lead">{lede}</div>'
    if kind == "standfirst":
        return f'<p class="standfirst">{lede}</p>'
    if kind == "description":
        return f'<h2 itemprop="description" class="article-subtitle">{lede}</h2>'
    if kind == "bullets":
        items = "".join(f"<li>{x}</li>" for x in lede.split("؛ "))
        return f'<div class="key-points"><h3>أبرز النقاط</h3><ul>{items}</ul></div>'
    raise ValueError(kind)


def article_page(
    *,
    title: str = TITLE,
    body: list[str] | None = None,
    header: str = "",
    in_body: str = "",
    h1_in_body: str | None = None,
    jsonld: dict[str, object] | str | None = None,
    byline_meta: str | None = None,
    modified: str | None = None,
    views: int = 100,
    caption: str = "",
) -> str:
    paras = "".join(f"<p>{p}</p>" for p in (body or BODY))
    ld = ""
    if isinstance(jsonld, dict):
        ld = f'<script type="application/ld+json">{json.dumps(jsonld, ensure_ascii=False)}</script>'
    elif isinstance(jsonld, str):
        ld = f'<script type="application/ld+json">{jsonld}</script>'
    metas = f'<meta property="og:title" content="{title}">'
    if byline_meta:
        metas += f'<meta name="author" content="{byline_meta}">'
    if modified:
        metas += f'<meta property="article:modified_time" content="{modified}">'
    repeat = f"<h1>{h1_in_body}</h1>" if h1_in_body is not None else ""
    figure = (
        f"<figure><img src='/p.jpg'><figcaption>{caption}</figcaption></figure>" if caption else ""
    )
    return f"""<!doctype html><html lang="ar" dir="rtl"><head><meta charset="utf-8">
<title>{title} | الموقع</title>{metas}{ld}</head><body>
<nav class="menu"><a href="/">الرئيسية</a> <a href="/sport">رياضة</a></nav>
<main><header class="article-header"><h1 class="headline">{title}</h1>{figure}{header}
<span class="views">شوهد {views} مرة</span></header>
<article class="article-body">{repeat}{paras}{in_body}</article></main>
<aside class="sidebar"><h3>الأكثر قراءة</h3><ul><li><a href="/n/1">خبر آخر من الموقع</a></li></ul></aside>
<footer>جميع الحقوق محفوظة</footer></body></html>"""


def deep_page(depth: int = 10_000) -> str:
    """An article inside `depth` nested divs."""
    paras = "".join(f"<p>{p}</p>" for p in BODY * 2)
    return (
        f'<!doctype html><html lang="ar"><head><meta charset="utf-8"><title>{TITLE}</title></head>'
        f"<body>{'<div>' * depth}<article><h1>{TITLE}</h1>{paras}</article>{'</div>' * depth}"
        "</body></html>"
    )
