"""Page furniture: comments, menus, sidebars, footers and the site's header —
what churns on every fetch and is never article text. An article's own
<header> (inside <main> or <article>, or marked as the entry's) is not."""

from __future__ import annotations

import re
from typing import Any

from raqib.extract.classnames import searcher

SKIP_TAGS = {
    "script",
    "style",
    "noscript",
    "template",
    "svg",
    "head",
    "title",
    "option",
    "textarea",
}


# Lists of other stories: furniture here, and where a <time> is another story's (pagemeta).
STORY_LISTS = r"related|popular|most-?read|latest[-_]?(?:news|posts|articles|stories)"
_FURNITURE = re.compile(
    r"comment|reply|respond|disqus|sidebar|widget|menu|\bnav|footer|"
    + STORY_LISTS
    + r"|ticker|breaking|advert|\bpromos?\b|banner|newsletter|subscribe|social|(?:^|[\s_-])ads?(?:$|[\s_-])",
    re.I,
)
_FURNITURE_TAGS = {"nav", "aside", "footer", "header", "form"}
_furniture_mark = searcher(_FURNITURE)


def marks_furniture(el: Any) -> bool:
    """Whether this element itself is a comment block, menu, sidebar or footer.
    Never the page: a body's classes name its layout (WordPress's "right-sidebar",
    "menu-open"), and a form that is the body's child wraps the page (ASP.NET's)."""
    if el.tag in _PAGE_TAGS:
        return False
    marked = _furniture_mark(f"{el.get('class', '')} {el.get('id', '')}")
    if el.tag == "form":
        return marked or not wraps_the_page(el)
    return marked or el.tag in _FURNITURE_TAGS


def wraps_the_page(form: Any) -> bool:
    """Whether a form holds the page, not a search box: the body's own child, or
    ASP.NET's (its Web Forms put every page in one <form id="aspnetForm">)."""
    parent = form.getparent()
    names = {form.get("id", "").lower(), form.get("name", "").lower()}
    return (parent is not None and parent.tag == "body") or bool(
        _ASPNET_FORMS & names or ".aspx" in form.get("action", "").lower()
    )


_ASPNET_FORMS = frozenset({"aspnetform", "form1"})


_PAGE_TAGS = frozenset({"html", "body"})


_ARTICLE_MARK = re.compile(r"article|entry|post|story|content|news", re.IGNORECASE)


def article_header(el: Any, inside: bool | None = None) -> bool:
    """A <header> that heads the article, not the site (inside <main> or
    <article>, or marked as the entry's or story's header); `inside`: whether
    it is inside one, when the caller knows."""
    if _ARTICLE_MARK.search(f"{el.get('class', '')} {el.get('id', '')}"):
        return True
    if inside is not None:
        return inside
    return any(a.tag in ("main", "article") for a in el.iterancestors())


def heads_the_article(el: Any) -> bool:
    """Inside an article's <header>, and in no other furniture."""
    holders = [a for a in (el, *el.iterancestors()) if marks_furniture(a)]
    return bool(holders) and all(a.tag == "header" and article_header(a) for a in holders)


def is_furniture(el: Any) -> bool:
    """Whether an element sits in comments, menus, sidebars or footers (by its ancestry)."""
    return any(marks_furniture(node) for node in (el, *el.iterancestors()))


def furniture_elements(root: Any) -> set[Any]:
    """Elements inside comments, menus, sidebars and footers."""
    inside: set[Any] = set()
    stack = [(root, False)]
    while stack:
        el, within = stack.pop()
        if not isinstance(el.tag, str) or el.tag in SKIP_TAGS:
            continue
        within = within or marks_furniture(el)
        if within:
            inside.add(el)
        stack.extend((child, within) for child in el)
    return inside


# A line that is only a counter: views, reads, comments, shares (page furniture
# that changes on every fetch, and often sits inside <article>).
_FA_UNITS = r"بازدید|بازديد|نظر"
_UNIT = (
    r"مرة|مرات|مشاهدة|مشاهدات|قراءة|قراءات|تعليق(?:اً|ًا|ا)?|تعليقات|مشاركة|مشاركات|إعجاب(?:اً|ًا|ا)?"
    r"|" + _FA_UNITS + r"|views?|reads?|comments?|shares?|likes?"
)
# Persian's units also count a table's data ("۱۲۰۰ نظر": a poll's votes): not in a cell.
_DATA_UNIT = re.compile(_FA_UNITS)
COUNTER = re.compile(
    r"^\W*(?:(?:شوهد|قرئ|قُرئ)\s+)?[\d٠-٩۰-۹][\d٠-٩۰-۹,.٬٫\s]*\s*(?:" + _UNIT + r")\W*$"
    r"|^\W*(?:(?:عدد|تعداد)\s+)?(?:المشاهدات|القراءات|التعليقات|بازدید|بازديد|نظرات|views|comments)\s*[:：]?\s*[\d٠-٩۰-۹][\d٠-٩۰-۹,.٬٫]*\W*$",
    re.IGNORECASE,
)
_COUNTERISH = re.compile(r"view|count|hits|reads?\b|stat|share|comments", re.I)
_BARE_NUMBER = re.compile(r"^\W*[\d٠-٩۰-۹][\d٠-٩۰-۹,.٬٫\s]*[kKمأ]?\W*$")
_LETTER = re.compile(r"[^\W\d_]")
_DIGIT = re.compile(r"\d")


def text_of(el: Any) -> str:
    """el.text_content(), without lxml's XPath call for an element with no
    children (most links and leaves): its text is all it holds."""
    return (el.text or "") if len(el) == 0 else el.text_content()  # type: ignore[no-any-return]


def _past_60(text: str) -> bool:
    """Longer than 60 characters once its spaces are collapsed, as far as a
    prefix shows: more than 60 non-space characters in the first 256 settle
    it before a whole article is split (False: not settled here)."""
    return len(text) > 60 and len("".join(text[:256].split())) > 60


def is_counter(el: Any) -> bool:
    """A view, read or comment counter standing on its own: its text is only a
    count ("12 تعليقاً"; a bare number when the element is marked as a
    counter), and no words sit right before or after it in its parent.

    The extractor removes these before extracting and the region check leaves
    them out of its digest, by this one rule: the two must agree. A figure
    inside a sentence is never one (words sit around it)."""
    if not isinstance(el.tag, str) or el.tag in SKIP_TAGS or len(el) > 2:
        return False
    # A count has a digit in the element's own text or a child's: a cheap test
    # first, as this runs on every element of every page.
    near = [el.text or "", *((c.text or "") + (c.tail or "") for c in el)]
    if not any(_DIGIT.search(t) for t in near if t):
        return False
    # Those pieces are part of its text: too long already, they rule a count
    # out before the whole text (a paragraph's) is read.
    if _past_60("".join(near)):
        return False
    raw = text_of(el)
    if _past_60(raw):
        return False
    text = " ".join(raw.split())
    if not text or len(text) > 60:
        return False
    if not COUNTER.match(text):
        marks = f"{el.get('class', '')} {el.get('id', '')}"
        if not (_BARE_NUMBER.match(text) and _COUNTERISH.search(marks)):
            return False
    elif el.tag in ("td", "th") and _DATA_UNIT.search(text):
        return False
    parent = el.getparent()
    if parent is None:
        return True
    prev = el.getprevious()
    before = (prev.tail if prev is not None else parent.text) or ""
    return not (_LETTER.search(before) or _LETTER.search(el.tail or ""))


def counters(root: Any) -> list[Any]:
    """The outermost counter elements under root (not inside a skipped
    element), in document order.

    Only an element with a digit in its own text or in a child's text or tail
    can be one (is_counter's first test), so those are found from the page's
    text nodes, selected in C, instead of by testing every element in Python.
    """
    found = [el for el in _with_digits_near(root) if _reached(el, root) and is_counter(el)]
    if len(found) < 2:
        return found
    mine = set(found)
    outer = [el for el in found if not any(a in mine for a in _between(el, root))]
    order = {el: i for i, el in enumerate(root.iter())}
    return sorted(outer, key=order.__getitem__)


def _with_digits_near(root: Any) -> set[Any]:
    """Every element whose text, or a child's text or tail, holds a digit
    (a superset: root's parent may be among them)."""
    out: set[Any] = set()
    for t in root.xpath(".//text()"):
        if not _DIGIT.search(t):
            continue
        owner = t.getparent()
        if owner is None:
            continue
        if t.is_text:
            out.add(owner)
        parent = owner.getparent()  # a child's text or tail is its parent's too
        if parent is not None:
            out.add(parent)
    # A comment's or instruction's content counts for its parent, as its text does.
    for node in root.xpath(".//comment() | .//processing-instruction()"):
        if node.text and _DIGIT.search(node.text):
            out.add(node.getparent())
    return out


def _between(el: Any, root: Any) -> list[Any]:
    """el's ancestors below root (root is one of them)."""
    out = []
    for a in el.iterancestors():
        if a is root:
            break
        out.append(a)
    return out


def _reached(el: Any, root: Any) -> bool:
    """Whether a walk from root's children, which skips what SKIP_TAGS hold, reaches el."""
    if el is root:
        return False
    for a in el.iterancestors():
        if a is root:
            return True
        if not isinstance(a.tag, str) or a.tag in SKIP_TAGS:
            return False
    return False  # not under root


def beside_the_article(el: Any) -> bool:
    """In a sidebar, menu, footer or comment block that does not also hold the
    headline: a "last updated" clock there is the site's, not the article's
    (read as a notice, it would mark a silent edit as announced)."""
    for node in (el, *el.iterancestors()):
        if node.tag in ("body", "html"):
            return False
        if (
            marks_furniture(node)
            and not (node.tag == "header" and article_header(node))
            and node.find(".//h1") is None
        ) or side_column(node):
            return True
    return False


# A grid's narrow column (Bootstrap's col-md-4) beside a wide one (col-md-8): a
# sidebar that no class names, when the headline is not in it.
_NARROW = re.compile(r"(?<![\w-])col-(?:(?:xs|sm|md|lg|xl|xxl)-)?[1-4](?![\w-])")
_WIDE = re.compile(r"(?<![\w-])col-(?:(?:xs|sm|md|lg|xl|xxl)-)?(?:[6-9]|1[0-2])(?![\w-])")


def side_column(node: Any) -> bool:
    """A narrow grid column without the headline, beside a wide one."""
    parent = node.getparent()
    if parent is None or not _NARROW.search(node.get("class", "")[:300]):
        return False
    wide = any(_WIDE.search(c.get("class", "")[:300]) for c in parent if isinstance(c.tag, str))
    return wide and node.find(".//h1") is None
