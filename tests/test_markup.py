"""The bound on a tag's attributes holds where libxml2 reads tags, and
nowhere else: the tokens are libxml2's own, checked against it."""

from __future__ import annotations

import random

import lxml.html

from raqib.extract.markup import crowded_tag
from raqib.extract.parsing import _new_parser, document, read

ATTRS = " ".join(f"a{i}" for i in range(5_000))
MANY = " x" * 3_000


def test_crowded_tags_are_found_where_libxml2_reads_tags() -> None:
    """What libxml2 reads as text (a script's or a style's content, a
    comment, an attribute's value, end tags, a `<` before a space) is not
    counted, whatever its length, and a crowded tag after it is found, even
    behind what only looks like the start of a script."""
    quoted = " ".join(f'a{i}=">"' for i in range(5_000))  # a '>' in every value
    cases = {
        f"<body><div {ATTRS}>y</div>": 5_000,
        f"<body><div {quoted}>y</div>": 5_000,
        f"<body><div {ATTRS.replace(' ', chr(10))}>y</div>": 5_000,
        f"<body><script {ATTRS}>y</script>": 5_000,  # the script's own tag is a tag
        f"<body><script>if(a<b){{{MANY}}}</script><p>y</p>": 0,
        f"<body><script>if(a<b){{{MANY}}}</script><div {ATTRS}>y</div>": 5_000,
        f"<body><style>a<b{MANY}</style><p>y</p>": 0,
        f"<body><title>a<b{MANY}</title><p>y</p>": 0,
        f"<body><!-- <b{MANY} --><p>y</p>": 0,
        f"<body><p title='<b{MANY}'>y</p>": 0,
        f"<body><script>x</script {ATTRS}><p>y</p>": 0,  # an end tag's attributes: not parsed
        f"<body><p>a <{MANY}</p>": 0,
        "<body>" + "<script>" * 1_000 + f"<div {ATTRS}>y</div>": 0,  # script text to the end
        f"<body><script>x</ScRiPt><div {ATTRS}>y</div>": 5_000,  # the script did end
        f"<body><script-x>x</script-x><div {ATTRS}>y</div>": 5_000,  # not a script
        "<body><script>x</script" + " " * 20_000 + f"><div {ATTRS}>y</div>": 5_000,
        # What only looks like a script's start: in a comment, in a value,
        # closed in its own tag, or not spelt in ASCII.
        f"<body><!-- <script --><div {ATTRS}>y</div>": 5_000,
        f"<body><p title='<script>'>x</p><div {ATTRS}>y</div>": 5_000,
        f"<body><script/><div {ATTRS}>y</div>": 5_000,
        f"<body><\u017fcript><div {ATTRS}>y</div>": 5_000,
        # A script's escaped text runs past a `</script>` inside it.
        f"<body><script><!--<script></script><div {ATTRS}></script><p>y</p>": 0,
        f"<body><script><!--<script></script>--></script><div {ATTRS}>y</div>": 5_000,
    }
    assert {html: crowded_tag(html) for html in cases} == cases


def test_the_bound_is_checked_on_what_libxml2_is_given() -> None:
    """The characters XML forbids are dropped before the parse, so they are
    dropped before the count: `<\\x01div` is a tag to libxml2."""
    html = f"<html><body><p>x</p><\x01div {ATTRS}>y</div></body></html>"
    tree, why = read(html)
    assert tree is None
    assert why == "a tag of 5,000 attributes: more than any page's (1,000)"
    assert crowded_tag(html) == 0  # as given, it is no tag


def test_the_bound_is_checked_after_trafilaturas_repairs() -> None:
    """trafilatura's repairs of a page's first lines (a self-closing
    `<html/>`, a doctype with a '/') can end a comment or open a script: the
    bound is checked on the page as repaired, which is what libxml2 parses."""
    crowded = f"<div {ATTRS}>x</div>"
    pages = [
        f"<!-- <html --/>\n<html><body><p>t</p>{crowded}</body></html>",
        f"< !DOCTYPE <!-- / >\n<html><body><p>t</p>{crowded}</body></html>",
        f"<html><head><script x/>\n<plaintext></script><body>{crowded}</body></html>",
    ]
    for html in pages:
        assert crowded_tag(html) == 0  # as it came, the tag is text
        assert read(html) == (None, "a tag of 5,000 attributes: more than any page's (1,000)")


def test_links_are_read_from_a_page_only_within_the_bound() -> None:
    """An outlet's front page and an article's stored body are parsed for
    their links by lxml's own parser: the bound holds there too, on the page
    as that parser is given it, without the characters XML forbids
    (`<!-\x01-` then opens a comment, as it did for the article's reading)."""
    from raqib.discovery.links import article_links
    from raqib.discovery.outlets import front_links

    link = '<article><p>نص <a href="/b">ب</a></p></article>'
    html = f"<html><body>{link}<div {ATTRS}>x</div></body></html>"
    assert document(html) is None
    assert front_links(html, "https://s.example/") == []
    assert article_links(html, "https://s.example/a", "نص ب") == []
    hidden = html.replace("<div", "<!-\x01- x><div")
    tree = document(hidden)
    assert (
        tree is not None and max(len(e.attrib) for e in tree.iter() if isinstance(e.tag, str)) < 2
    )
    assert front_links(hidden, "https://s.example/") == [("https://s.example/b", "ب")]
    declared = f'<?xml version="1.0" encoding="utf-8"?><html><body>{link}</body></html>'
    assert front_links(declared, "https://s.example/") == [("https://s.example/b", "ب")]


def test_a_crowded_tag_hidden_below_the_nesting_limit_is_refused() -> None:
    """A page nested past libxml2's 256 levels is flattened and parsed
    again. The flattening drops the deep `<xmp>`, whose text held the
    crowded tag: that tag is then one, and is found."""
    xmp = "<div>" * 300 + "<xmp>" + "</div>" * 300 + f"<div {ATTRS}>y</div></xmp>"
    assert crowded_tag(xmp) == 0
    assert read(f"<html><body>{xmp}</body></html>") == (
        None,
        "a tag of 5,000 attributes: more than any page's (1,000)",
    )


# The pieces a page is made of where libxml2's tokenizer changes state.
PIECES = [
    "<div", "<p", "<b x", "<script>", "</script>", "</script", "<script", "<!--", "-->", "--!>",
    "->", "-", "--", "<style>", "</style>", "<title>", "</title>", "<textarea>", "</textarea>",
    "<xmp>", "</xmp>", "<plaintext>", "<iframe>", "</iframe>", "<noembed>", "<noscript>",
    "</noscript>", '"', "'", "=", ">", "<", "/", " ", "\n", "\t", "<!", "<?", "</", "</ scr",
    "ipt>", "a", "b", "x=", "<!DOCTYPE html>", "<svg>", "<![CDATA[", "]]>", "/>", "<SCRIPT>",
    "</SCRIPT >", "<scriptx>", "</scriptx>", "<!-->", "<!--->", "\xa0", "\r", "<script/>",
    "<script x/>", "<style/>", "<title x=1/>", "<textarea/ >", "<xmp/>", "<iframe/>",
    "<plaintext/>", "<noembed />", "<noframes>", "</noframes>", "<script x=/>", "<script x='/'/>",
]  # fmt: skip
VALUES = ["", '=">"', "='<x{i}'", "=v{i}", '="a{i} b{i}"', "=''", "=/"]


def _crowded(r: random.Random, limit: int) -> str:
    sep = r.choice([" ", "/", "\n", " / "])
    names = (f"a{i}" + r.choice(VALUES).format(i=i) for i in range(r.randint(limit + 1, limit + 3)))
    return "<p " + sep.join(names) + r.choice([">", "/>", " >", ""])


def test_every_tag_libxml2_builds_with_too_many_attributes_is_found() -> None:
    """Random pages of the pieces above, most with one tag of a few
    attributes too many (the bound set to 3): wherever libxml2 builds an
    element with more than 3 attributes, crowded_tag finds a tag of more
    than 3. It may find one that libxml2 drops (a tag cut off by the end of
    the page), never miss one."""
    parser, limit, r = _new_parser(), 3, random.Random(20261207)
    found = 0
    for _ in range(6_000):
        pieces = [r.choice(PIECES) for _ in range(r.randint(1, 12))]
        if r.random() < 0.7:
            pieces.insert(r.randint(0, len(pieces)), _crowded(r, limit))
        html = "<html><body>" + "".join(pieces) + "</body></html>"
        tree = lxml.html.fromstring(html, parser=parser)
        built = any(len(e.attrib) > limit for e in tree.iter() if isinstance(e.tag, str))
        assert crowded_tag(html, limit) > limit if built else True, html
        found += built
    assert found > 2_000  # the pages did hold such tags
