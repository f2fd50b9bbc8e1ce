"""The peers' corpus of issue 19: one small Arabic news site (6–20 kB pages) and its RSS feed.

Every page is a pure function of (page id, edition, round). The text changes
only with the edition; the furniture changes every round, and some of it sits
inside the <article> element, where an extractor keeps it: the comment and
view counters in the article header. Around the article, the sidebar's "آخر
تحديث" clock, the most-read list and the breaking ticker churn too. Three
templates (WordPress's entry-content, a post-body theme, a portal whose
counters are icon + number in div.meta) so a result never hinges on one.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from html import escape

from bench.pages import NAV, WORDS, _rng, sentence

SITE = "صدى الأخبار"
MONTHS = ("يناير فبراير مارس أبريل مايو يونيو يوليو أغسطس سبتمبر أكتوبر نوفمبر ديسمبر").split()
TAGS = (
    "العراق",
    "بغداد",
    "واشنطن",
    "الانتخابات",
    "الاقتصاد",
    "النفط",
    "البرلمان",
    "الأمن",
    "الحكومة",
    "الخليج",
)
CITIES = ("بغداد", "عمان", "القاهرة", "بيروت", "الرياض")
NAMES = ("سلمى الكبيسي", "أحمد العلي", "ليلى حداد", "يوسف منصور", "نور الدين سالم")
FIRST_PUBLISHED = datetime(2024, 5, 1, 6, 0, tzinfo=UTC)


@dataclass(frozen=True)
class Story:
    title: str
    byline: str
    published: datetime
    paragraphs: tuple[str, ...]
    tags: tuple[str, ...]


def path(page: int) -> str:
    """A WordPress permalink: outlets' URL filters take it for an article."""
    day = story(page, 0).published.day
    return f"/2024/05/{day:02d}/article-{page}/"


@functools.lru_cache(maxsize=4096)
def story(page: int, edition: int) -> Story:
    """Edition 0 is the original; each later edition is a real edit: the
    story's figure changes, or a sentence is added."""
    r = _rng("small", page)
    title = " ".join(r.choice(WORDS) for _ in range(r.randint(6, 11)))
    byline = f"{r.choice(CITIES)} - {r.choice(NAMES)}"
    published = FIRST_PUBLISHED + timedelta(minutes=37 * page)
    paras = [" ".join(sentence(r) for _ in range(r.randint(2, 4))) for _ in range(r.randint(5, 10))]
    tags = tuple(r.sample(TAGS, 3))
    figure, fact_at = r.randint(12, 480), r.randrange(1, len(paras))
    for e in range(1, edition + 1):
        er = _rng("small-edit", page, e)
        if er.random() < 0.5:
            figure += er.randint(1, 40)
        else:
            i = er.randrange(len(paras))
            paras[i] = f"{paras[i]} {sentence(er)}"
    paras[fact_at] += f" وارتفع عدد الضحايا إلى {figure} بحسب مصادر رسمية."
    return Story(title, byline, published, tuple(paras), tags)


@dataclass(frozen=True)
class Furniture:
    comments: int
    views: int
    clock: str
    ticker: str
    most_read: tuple[int, ...]


def furniture(page: int, round_: int) -> Furniture:
    """What changes on every round without anyone editing the story."""
    base, per = _rng("counters", page), _rng("counters", page, round_)
    site = _rng("site", round_)  # the clock, ticker and most-read list are site-wide
    return Furniture(
        comments=base.randint(0, 40) + round_ * per.randint(1, 6),
        views=base.randint(200, 5000) + round_ * per.randint(150, 900),
        clock=f"{(8 + round_) % 24:02d}:{site.randint(0, 59):02d}",
        ticker=sentence(site),
        most_read=tuple(site.sample(range(300), 5)),
    )


def comments_label(n: int) -> str:
    """Arabic's number agreement, as WordPress's Arabic translation writes it."""
    if n == 0:
        return "لا توجد تعليقات"
    if n == 1:
        return "تعليق واحد"
    if n == 2:
        return "تعليقان"
    return f"{n} تعليقات" if n <= 10 else f"{n} تعليقاً"


def arabic_digits(n: int) -> str:
    return str(n).translate(str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩"))


def _date(d: datetime) -> str:
    return f"{d.day} {MONTHS[d.month - 1]} {d.year}"


def _nav() -> str:
    return "".join(f'<li><a href="/category/{i}/">{escape(n)}</a></li>' for i, n in enumerate(NAV))


def _most_read(f: Furniture, base: str) -> str:
    return "".join(
        f'<li><a href="{base}{path(j)}">{escape(story(j, 0).title)}</a></li>' for j in f.most_read
    )


def _head(s: Story, url: str, base: str) -> str:
    title = escape(s.title)
    return f"""<!DOCTYPE html>
<html dir="rtl" lang="ar"><head><meta charset="UTF-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title} – {SITE}</title><link rel="canonical" href="{url}">
<link rel="alternate" type="application/rss+xml" title="{SITE} » الخلاصة" href="{base}/feed.xml">
<meta property="og:type" content="article"><meta property="og:title" content="{title}"><meta property="og:url" content="{url}">
<meta property="article:published_time" content="{s.published.isoformat()}">
<link rel="stylesheet" id="theme-css" href="/wp-content/themes/sada/style.css?ver=6.4.3" media="all">
<script>window._wpemojiSettings={{"baseUrl":"https:\\/\\/s.w.org\\/images\\/core\\/emoji\\/14.0.0\\/72x72\\/","ext":".png","source":{{"concatemoji":"\\/wp-includes\\/js\\/wp-emoji-release.min.js?ver=6.4.3"}}}};</script>
</head>"""


def render(page: int, edition: int, round_: int, base: str) -> bytes:
    s, f = story(page, edition), furniture(page, round_)
    url = f"{base}{path(page)}"
    title, byline, iso = escape(s.title), escape(s.byline), s.published.isoformat()
    paras = "".join(f"<p>{escape(p)}</p>" for p in s.paragraphs)
    tags = "، ".join(f'<a href="/tag/{i}/" rel="tag">{escape(t)}</a>' for i, t in enumerate(s.tags))
    share = (
        f'<a href="https://www.facebook.com/sharer.php?u={url}">فيسبوك</a> '
        f'<a href="https://twitter.com/intent/tweet?url={url}">تويتر</a> '
        f'<a href="https://wa.me/?text={url}">واتساب</a>'
    )
    sidebar = f"""<aside id="secondary" class="widget-area">
<section class="widget widget_text"><div class="textwidget"><p>آخر تحديث: {f.clock}</p></div></section>
<section class="widget widget_most_read"><h2 class="widget-title">الأكثر قراءة</h2><ol>{_most_read(f, base)}</ol></section></aside>"""
    top = f"""<div class="top-bar"><div class="breaking"><span>عاجل</span> {escape(f.ticker)}</div></div>
<header id="masthead" class="site-header"><div class="site-branding"><a href="/" rel="home">{SITE}</a></div>
<nav id="site-navigation" class="main-navigation"><ul class="menu">{_nav()}</ul></nav></header>"""
    footer = f'<footer id="colophon" class="site-footer"><div class="site-info">© 2024 {SITE}. جميع الحقوق محفوظة.</div></footer>'
    template = page % 3
    if template == 0:  # WordPress: div.entry-content, counters in div.entry-meta
        body = f"""<body class="post-template-default single single-post postid-{page}"><div id="page" class="site">{top}
<div id="content" class="site-content"><main id="main" class="site-main">
<article id="post-{page}" class="post-{page} post type-post status-publish format-standard hentry">
<header class="entry-header"><h1 class="entry-title">{title}</h1>
<div class="entry-meta"><span class="byline">بقلم <span class="author vcard">{byline}</span></span>
<span class="posted-on"><time class="entry-date published" datetime="{iso}">{_date(s.published)}</time></span>
<span class="meta-comments"><a href="#comments">{comments_label(f.comments)}</a></span>
<span class="post-views">{f.views} مشاهدة</span></div></header>
<div class="entry-content">{paras}</div>
<footer class="entry-footer"><span class="tags-links">الوسوم: {tags}</span><div class="share-bar">شارك: {share}</div></footer>
</article>
<div id="comments" class="comments-area"><div id="respond" class="comment-respond"><h3>اترك تعليقاً</h3>
<form action="/wp-comments-post.php" method="post"><textarea name="comment"></textarea><input type="submit" value="إرسال التعليق"></form></div></div>
</main>{sidebar}</div>{footer}</div></body></html>"""
    elif template == 1:  # a post-body theme: counters in div.post-info
        body = f"""<body class="single"><div class="outer-wrapper">{top}
<div class="main-wrapper"><div class="main"><article class="post hentry" itemscope itemtype="https://schema.org/NewsArticle">
<div class="post-header"><h1 class="post-title" itemprop="headline">{title}</h1>
<div class="post-info"><span class="post-author" itemprop="author">{byline}</span>
<time itemprop="datePublished" datetime="{iso}">{_date(s.published)}</time>
<span class="meta-comments"><a href="#comments">{comments_label(f.comments)}</a></span>
<span class="post-views">{f.views} مشاهدة</span></div></div>
<div class="post-body" itemprop="articleBody">{paras}</div>
<div class="post-tags">{tags}</div><div class="post-share">{share}</div>
</article><div id="comments"><h4>التعليقات</h4></div></div>{sidebar}</div>{footer}</div></body></html>"""
    else:  # a portal: icon + number in div.meta, Arabic-Indic digits for the views
        body = f"""<body class="news-single"><div class="container">{top}
<div class="row"><div class="col-md-8"><article class="news-item">
<h1 class="news-title">{title}</h1>
<div class="meta"><span class="author"><i class="fa fa-user"></i> {byline}</span>
<span class="date"><i class="fa fa-clock-o"></i> <time datetime="{iso}">{_date(s.published)}</time></span>
<span class="comments"><i class="fa fa-comments"></i> {f.comments}</span>
<span class="views"><i class="fa fa-eye"></i> {arabic_digits(f.views)}</span></div>
<div class="article-text">{paras}</div>
<ul class="tags">{"".join(f"<li>{t}</li>" for t in tags.split("، "))}</ul>
<div class="share"><span>شارك الخبر</span> {share}</div>
</article></div><div class="col-md-4">{sidebar}</div></div>{footer}</div></body></html>"""
    return (_head(s, url, base) + "\n" + body).encode("utf-8")


def feed(n: int, base: str) -> bytes:
    """RSS 2.0 listing every article, newest first."""
    items = "".join(
        f"<item><title>{escape(story(i, 0).title)}</title><link>{base}{path(i)}</link>"
        f'<guid isPermaLink="false">{base}/?p={i}</guid>'
        f"<pubDate>{format_datetime(story(i, 0).published)}</pubDate></item>\n"
        for i in reversed(range(n))
    )
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0"><channel><title>{SITE}</title><link>{base}/</link>
<description>آخر الأخبار</description><language>ar</language>
{items}</channel></rss>
""".encode()
