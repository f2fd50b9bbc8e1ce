"""What extraction makes of a page (an Article, or NotArticle with a reason),
and the name of the extractor that made it, recorded with each snapshot.

Apart from extraction itself (extract.article), so that the code that only
checks or records a page never imports trafilatura.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from importlib.metadata import version

import lxml

# Bumped whenever Raqib's own handling around trafilatura changes output.
# 10: deep markup flattened only where libxml2 gives up; 11: notices read better;
# 12: a short story's glued text split into its paragraphs (extract/blocks.py);
# 13: dates lose control characters, JSON-LD's lone surrogates are replaced;
# 14: a line all of one link's text (a teaser) is no notice; an article that is
# a removal notice ("تم حذف هذا الخبر") is removed; paragraphs are
# compared without their sentence punctuation (a headline repeated with a stop);
# 15: a notice written as a line of a paragraph of lines (<br>) is read; a
# keyword's date must follow it; more wordings (تم تحديث الخبر, جرى, تصويب,
# "تحديث 2:", an editor's note, اصلاحیه); a page's "آخر تحديث" stamp line; a
# bare label ("<strong>تحديث:</strong>") gives way to its line; 16: a notice
# after an icon (an empty <i> or <img>), and labelled "[تحديث]", "«تحديث»:",
# "تحديث |", "تحديث (19:10):", "تحديث، الساعة 19:10:" (a quoted label only
# with a time or a date; a three-part date ends in a 2- or 4-digit year); a
# link alone on a line under a "read also" line ("اقرأ أيضا:<br><a>...</a>")
# is a promo, as a block is; 17: "آخر تحديث" inside a line only as the page's
# stamp (not a sentence's); more wordings ("تعديل:", "آخر تعديل:", "التحديث
# الأول:" before a colon only, "تحديث (1):", an apology naming this article and
# an error); a sidebar's <time> and a related story's JSON-LD date the page no more;
# 18: Persian's labels (به‌روزرسانی:, ویرایش:, توضیح:, تصحیح:, اصلاحیه: before a
# colon only, with words after it; "این خبر به‌روزرسانی شد"), Persian counters (بازدید, نظر);
# a body's layout classes ("right-sidebar") and a page-wide form (ASP.NET's) no furniture;
# text loose after a block with no text (a photo's <div>) kept (aryanews's lede).
# 19: a stamp after a dash ("آخر تعديل - 14:00", to a bar only); a stamp line's notice
# is the stamp, not the rest of its line; an apology for a fault ("خطأ فني") no notice
# unless it names what it got wrong; the site header's and footer's <time> no page's
# date; a narrow grid column beside a wide one (col-md-4, col-md-8) a sidebar for both.
PROFILE = 19
# trafilatura's version read from its installed metadata, not its module:
# the same string (tests/test_extract.py checks) without the import.
EXTRACTOR = (
    f"trafilatura {version('trafilatura')}; lxml {lxml.__version__}; raqib-extract {PROFILE}"
)


# NotArticle's reason for a challenge page: the site's, for a while, not the page's.
BOT_CHECK = "bot check or challenge page"
# The start of NotArticle's reason for a page whose article is a removal notice
# ("تم حذف هذا الخبر"): the article is removed, as a 404 says (extract.judge).
REMOVED_NOTICE = "removed: the page says so"


@dataclass(frozen=True)
class Article:
    title: str
    byline: str | None
    published: str | None
    modified: str | None
    paragraphs: tuple[str, ...]
    notices: tuple[str, ...] = ()
    canonical_url: str | None = None
    amp_url: str | None = None
    language: str | None = None
    links: tuple[str, ...] = field(default=())
    lede: tuple[str, ...] = ()  # the lede and summary lines found in the header
    tables: int = 0  # data tables kept as text, a line per row
    kind: str | None = None  # what the page declares itself (og:type, JSON-LD): pagemeta.kind
    # A short story's text that trafilatura glued and Raqib split (extract/blocks.py):
    # both read the whole container, which no region digest covers.
    unglued: bool = False


@dataclass(frozen=True)
class NotArticle:
    reason: str
