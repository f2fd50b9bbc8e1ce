"""The demo's own data: five versions of a short Arabic report on the US–Iraq
talks about ending the coalition's mission, written for this demo, inside
the furniture a news site wraps around an article."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from html import escape

PATH = "/sada/2024/01/25/us-iraq-coalition-talks/"

TITLE = "واشنطن وبغداد تتفقان على بدء محادثات بشأن مستقبل التحالف الدولي في العراق"
NEW_TITLE = "واشنطن وبغداد تبدآن محادثات لتحديد موعد انسحاب قوات التحالف"

P1 = "اتفقت الولايات المتحدة والعراق على بدء محادثات حول مستقبل التحالف العسكري الذي تقوده واشنطن، بهدف وضع جدول زمني لخفض عدد القوات تدريجيا."
P2 = "وقال وزير الدفاع الأمريكي لويد أوستن إن المحادثات ستجري في إطار اللجنة العسكرية العليا التي اتفق البلدان على تشكيلها في أغسطس 2023."
P3 = "وغادرت القوات الأمريكية المقاتلة العراق عام 2011، لكن آلاف الجنود عادوا في عام 2014 لمساعدة الحكومة على هزيمة تنظيم داعش."
P4 = "وتقول الحكومة العراقية إن مهمة التحالف انتهت، لكنها حريصة على إقامة علاقات ثنائية مع أعضائه تشمل التدريب والتسليح."
P5 = "ويقول مسؤولون من البلدين إن العملية قد تستغرق عدة أشهر إن لم يكن أطول، ولا يتوقعون انسحابا وشيكا للقوات."

P1_COSMETIC = "اتَّفقت الولايات المُتحدة والعـــراق على بدء محادثات حول مستقبل التحالف العسكري الذي تقوده واشنطن، بهدف وضع جدول زمني لخفض عدد القوات تدريجيًا."
P2_COSMETIC = "وقال وزيرُ الدفاع الأمريكي لويد أوستن إن المحادثات ستجري في إطار اللجنة العسكرية العليا التي اتفق البلدان على تشكيلها في اغسطس ٢٠٢٣."
P3_SILENT = "وغادرت القوات الأمريكية المقاتلة العراق عام 2011، لكن نحو 2500 جندي عادوا في عام 2014 لمساعدة الحكومة على هزيمة تنظيم داعش."
P5_SILENT = (
    "ويقول مسؤولون من البلدين إن العملية قد تستغرق عدة أسابيع، ولا يتوقعون انسحابا وشيكا للقوات."
)
P6_ADDED = "وأكد مسؤول عراقي رفيع أن الجولة الأولى من المحادثات ستعقد في بغداد الأسبوع المقبل."


@dataclass
class DemoVersion:
    note: str
    paragraphs: list[str]
    title: str = TITLE
    views: int = 1204
    most_read: list[str] = field(
        default_factory=lambda: [
            "الدولار يتراجع أمام الدينار",
            "موجة برد في الشمال",
            "منتخب العراق يودع البطولة",
        ]
    )
    modified: bool = False  # stamped with the time it is served, as a CMS does
    update_line: str | None = None


VERSIONS = [
    DemoVersion("the article as first published", [P1, P2, P3, P4, P5]),
    DemoVersion(
        "only the page furniture changed (view counter, most-read list): no new version",
        [P1, P2, P3, P4, P5],
        views=2117,
        most_read=["موجة برد في الشمال", "منتخب العراق يودع البطولة", "أسعار النفط ترتفع"],
    ),
    DemoVersion(
        "diacritics, tatweel, a dropped hamza and Arabic-Indic digits: a cosmetic version",
        [P1_COSMETIC, P2_COSMETIC, P3, P4, P5],
        views=3030,
    ),
    DemoVersion(
        "a figure and a duration changed and a paragraph added, with no notice: a SILENT edit",
        [P1_COSMETIC, P2_COSMETIC, P3_SILENT, P4, P5_SILENT, P6_ADDED],
        views=4856,
    ),
    DemoVersion(
        "new headline, a visible update line, a new modified time, a paragraph moved: an announced update",
        [P1_COSMETIC, P4, P2_COSMETIC, P3_SILENT, P5_SILENT, P6_ADDED],
        title=NEW_TITLE,
        views=6682,
        modified=True,
        update_line="آخر تحديث: 26 يناير 2024 - 10:30",
    ),
]


def render(v: DemoVersion, base: str) -> bytes:
    canonical = escape(base + PATH)
    paras = "\n".join(f"<p>{escape(p)}</p>" for p in v.paragraphs)
    most_read = "".join(
        f'<li><a href="/sada/{i}/">{escape(t)}</a></li>' for i, t in enumerate(v.most_read)
    )
    # A modified date counts as an announcement only when it could date the
    # edit (raqib.diffs.signals), so the demo's is the moment it is served.
    stamp = datetime.now(UTC).replace(microsecond=0).isoformat()
    modified = f'<meta property="article:modified_time" content="{stamp}">' if v.modified else ""
    update = f'<p class="updated">{escape(v.update_line)}</p>' if v.update_line else ""
    html = f"""<!DOCTYPE html>
<html dir="rtl" lang="ar">
<head>
<meta charset="utf-8">
<title>{escape(v.title)} &#8211; صدى الرافدين</title>
<link rel="canonical" href="{canonical}">
<meta property="og:title" content="{escape(v.title)}">
<meta property="article:published_time" content="2024-01-25T18:00:00+03:00">
{modified}
<script>var wpData = {{"nonce":"{v.views:x}"}};</script>
</head>
<body>
<header><a href="/">صدى الرافدين</a> <nav><a href="/politics">سياسة</a> <a href="/economy">اقتصاد</a></nav></header>
<main><article>
<span class="views">شوهد {v.views:,} مرة</span>
<h1 class="entry-title">{escape(v.title)}</h1>
<div class="post-author"><span class="author">فريق التحرير</span></div>
{update}
<div class="entry-content">
{paras}
</div>
</article>
<aside><h2>الأكثر قراءة</h2><ul>{most_read}</ul></aside>
</main>
<footer>جميع الحقوق محفوظة &copy; 2024 صدى الرافدين (نسخة توضيحية)</footer>
</body></html>
"""
    return html.encode("utf-8")
