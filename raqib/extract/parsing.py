"""Decoded HTML → the tree that extraction and the region check both read.

trafilatura's own parse (`trafilatura.utils.load_html`, 2.3.1), made cheaper,
without importing trafilatura: a refetch whose article region digests as
before never needs the extractor, and importing it cost a small pass a tenth
of a second. The few pieces of trafilatura.utils the parse uses are copied
below; tests/test_extract.py holds each to trafilatura's own.
"""

from __future__ import annotations

import re
import threading
from typing import Any

import lxml.html
from lxml import etree
from lxml.html import HtmlComment, HtmlElement, HtmlEntity, HtmlProcessingInstruction

from raqib.extract import markup

# trafilatura.utils (2.3.1): DOCTYPE_TAG, FAULTY_HTML, INVALID_XML_CHARS.
DOCTYPE_TAG = re.compile("^< ?! ?DOCTYPE[^>]*/[^<>]*>", re.I)
FAULTY_HTML = re.compile(r"(<html.*?)\s*/>", re.I)
INVALID_XML_CHARS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def is_dubious_html(beginning: str) -> bool:
    """trafilatura.utils.is_dubious_html (2.3.1): no sign of HTML in the first bytes."""
    return "html" not in beginning


# trafilatura's own parser options (trafilatura.utils.HTML_PARSER), but one
# element class for every element: lxml.html picks each element's class by
# calling Python (a form element gets its own) whenever an element is first
# touched, a tenth of extraction and of the region check. Neither trafilatura
# nor Raqib uses lxml's form API, so the tree reads the same.
def _new_parser() -> lxml.html.HTMLParser:
    parser = lxml.html.HTMLParser(
        collect_ids=False, default_doctype=False, encoding="utf-8", remove_comments=True,
        remove_pis=True,
    )  # fmt: skip
    parser.set_element_class_lookup(
        etree.ElementDefaultClassLookup(
            element=HtmlElement,
            comment=HtmlComment,
            pi=HtmlProcessingInstruction,
            entity=HtmlEntity,
        )
    )
    return parser


# One parser per thread: parse() reads the parser's error log after its parse,
# which a parse in another thread would replace.
_PARSERS = threading.local()


def _parser() -> lxml.html.HTMLParser:
    parser = getattr(_PARSERS, "parser", None)
    if parser is None:
        parser = _PARSERS.parser = _new_parser()
    return parser


# Elements a page may have: the saved real pages have 280 to 2,200. trafilatura's
# time grows faster than the tree (80,000 paragraphs 8 s, 160,000 27 s), and a
# stranger's 8 MB page can hold 600,000. A 5 MB inline script is one element.
MAX_TREE_SIZE = 50_000
# Tags a page may have in all, inline drawings included, counted before the
# parse: 2,000,000 empty SVG shapes in an 8 MB page parsed into 323 MB; 250,000
# take about 40 MB.
MAX_TAGS = 5 * MAX_TREE_SIZE


def refusal(html: str) -> str | None:
    """Why the page is not to be parsed at all: past a bound that its parse
    alone would blow. `html` is what libxml2 would be given (`read`, `document`)."""
    if len(html) > MAX_TAGS and (n := html.count("<")) > MAX_TAGS:
        return f"{n:,} tags (or '<'): more than any article page ({MAX_TAGS:,})"
    if n := markup.crowded_tag(html):
        return f"a tag of {n:,} attributes: more than any page's ({markup.MAX_ATTRIBUTES:,})"
    return None


def oversize(elements: int) -> str | None:
    """Why a tree of `elements` (counted by `fit`) is not read, if it is not."""
    if elements > MAX_TREE_SIZE:
        return f"{elements:,} elements: more than any article page ({MAX_TREE_SIZE:,})"
    return None


def parse(html: str) -> Any:
    """The page's tree, as extraction and the region check read it (None if
    unparseable, or refused: `read`)."""
    return read(html)[0]


def read(html: str) -> tuple[Any, str | None]:
    """The page's tree, or None and why: past a bound (`refusal`), or not
    HTML at all. The bounds are checked on the very text libxml2 is given:
    trafilatura's repairs can end a comment or open a script."""
    beginning = html[:50].lower()  # trafilatura's, of the page as it came
    page = clean(html)
    given = _repair(page, beginning)
    if why := refusal(given):
        return None, why
    tree = _load_html(given, beginning)
    if _gave_up(_parser()):
        # libxml2 stops building the tree past 256 levels of nesting and drops
        # the rest of the page. Checked after the parse: a scan of the tags
        # before it cost more than the parse itself, on every page. The page
        # it is then given is checked again: the scan that flattens it does
        # not read tags as libxml2 does.
        flat = markup.flatten(page)
        given = _repair(flat, flat[:50].lower())
        if why := refusal(given):
            return None, why
        tree = _load_html(given, flat[:50].lower())
    return tree, None if tree is not None else "unparseable HTML"


def document(html: str) -> Any:
    """A stranger's page as a whole document, for reading its links (an
    outlet's front page, an article's stored body): None if refused
    (`refusal`) or unparseable. lxml's own parser, without trafilatura's
    repairs: the bounds are checked on what it is given."""
    html = clean(html)
    if refusal(html):
        return None
    try:
        return lxml.html.document_fromstring(html)
    except ValueError:  # a Unicode string with an encoding declaration: read as UTF-8
        utf8 = lxml.html.HTMLParser(encoding="utf-8")
        try:
            return lxml.html.document_fromstring(html.encode("utf8", "surrogatepass"), parser=utf8)
        except (ValueError, etree.ParserError):
            return None
    except etree.ParserError:
        return None


def _gave_up(parser: lxml.html.HTMLParser) -> bool:
    """Whether the parser's last parse stopped at its nesting limit."""
    return any(
        e.type == etree.ErrorTypes.ERR_RESOURCE_LIMIT or "Excessive depth" in e.message
        for e in parser.error_log
    )


def _load_html(html: str, beginning: str) -> Any:
    """trafilatura.utils.load_html (2.3.1) for a decoded page already `clean`
    and repaired (`_repair`), on this thread's parser."""
    dubious = is_dubious_html(beginning)
    tree, from_bytes = None, False
    try:
        tree = lxml.html.fromstring(html, parser=_parser())
    except ValueError:  # a Unicode string with an encoding declaration
        tree, from_bytes = _from_bytes(html), True
    except Exception:
        tree = None
    if (tree is None or len(tree) < 1) and not from_bytes:
        tree = _from_bytes(html)
    if tree is not None and dubious and len(tree) < 2:
        return None  # not HTML at all
    return tree


# What INVALID_XML_CHARS matches (tests/test_extract.py holds the two together).
XML_INVALID = tuple(map(chr, (*range(0x09), 0x0B, 0x0C, *range(0x0E, 0x20), 0xFFFE, 0xFFFF)))


def clean(html: str) -> str:
    """The page without the characters XML forbids, as trafilatura's repair
    (`repair_faulty_html`, 2.3.1) drops them first, but cheaper: its regex
    pass over the whole page cost as much as parsing it, and pages rarely hold
    any, so a search per character (memchr-fast) looks first."""
    if any(c in html for c in XML_INVALID):
        html = INVALID_XML_CHARS.sub("", html)
    return html


def _repair(html: str, beginning: str) -> str:
    """The rest of trafilatura.utils.repair_faulty_html (2.3.1), for a page
    already `clean`."""
    if "doctype" in beginning:  # libxml2: https://bugs.launchpad.net/lxml/+bug/1955915
        firstline, _, rest = html.partition("\n")
        html = _without_doctype(firstline) + "\n" + rest
    for line in html[:4096].splitlines()[:4]:  # a self-closing <html/> in the first lines
        if "<html" in line and line.endswith("/>"):
            html = FAULTY_HTML.sub(r"\1>", html, count=1)
            break
    return html


_DOCTYPE_OPENS = re.compile(r"< ?! ?DOCTYPE", re.I)


def _without_doctype(line: str) -> str:
    """DOCTYPE_TAG.sub("", line, count=1), in linear time: the regex
    backtracks over every '/' of a first line with no '>' (40,000 of them
    took 7 s, a stranger's 8 MB line would take days). It matches to the
    first '>' after its start, when a '/' there has no '<' after it."""
    opened = _DOCTYPE_OPENS.match(line)
    if opened is None or (end := line.find(">", opened.end())) < 0:
        return line
    inside = line[opened.end() : end]
    return line[end + 1 :] if inside.rfind("/") > inside.rfind("<") else line


def _from_bytes(html: str) -> Any:
    try:
        return lxml.html.fromstring(html.encode("utf8", "surrogatepass"), parser=_parser())
    except Exception:
        return None


def fit(tree: Any) -> tuple[int, bool]:
    """The tree's element count, and whether inline SVG went to get there.
    A page past MAX_TREE_SIZE is measured without its drawings (a map, an
    icon sprite), which then leave the tree: every reader of the page would
    still walk them. Smaller pages are left as they are: a few readers take
    an icon's <title> as text (ledes, link paragraphs, table cells), and
    dropping drawings from every page would change every such page's text."""
    elements = int(tree.xpath("count(//*)"))
    if elements <= MAX_TREE_SIZE:
        return elements, False
    # Below the tree's own element (a page that is one drawing parses to it,
    # and is the drawing's size).
    drawings = tree.xpath(".//svg[not(ancestor::svg)]")
    for drawing in drawings:
        drawing.drop_tree()  # its tail text stays
    return (int(tree.xpath("count(//*)")), True) if drawings else (elements, False)
