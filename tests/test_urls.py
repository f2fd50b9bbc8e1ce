"""URL identity: one article, one watch."""

from __future__ import annotations

import pytest

from raqib.urls import BadURL, identity, normalize, redact


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("HTTP://Example.COM:80/a/b/", "http://example.com/a/b/"),
        ("https://example.com:443/a", "https://example.com/a"),
        ("https://example.com:8443/a", "https://example.com:8443/a"),
        ("https://example.com/a?utm_source=x&utm_medium=y&id=3", "https://example.com/a?id=3"),
        ("https://example.com/a?fbclid=abc&gclid=def&b=2&a=1", "https://example.com/a?a=1&b=2"),
        ("https://example.com/a#comments", "https://example.com/a"),
        ("https://example.com", "https://example.com/"),
        ("  https://example.com/a  ", "https://example.com/a"),
        ("https://خبر.com/مقال", "https://xn--ngblk.com/%D9%85%D9%82%D8%A7%D9%84"),
        ("http://[FD00::1]:8080/a", "http://[fd00::1]:8080/a"),
    ],
)
def test_normalize(raw: str, expected: str) -> None:
    assert normalize(raw) == expected
    assert normalize(expected) == expected  # idempotent


@pytest.mark.parametrize(
    "raw",
    [
        "",
        "example.com/a",
        "ftp://example.com/",
        "file:///etc/passwd",
        "/tmp/x.html",
        "http://",
        "https://a b.com/",
        "https://x.com/" + "a" * 3000,
        "http://127.0.0.1:0/x",
        "http://a.com/\x00",
    ],
)
def test_refused(raw: str) -> None:
    with pytest.raises(BadURL):
        normalize(raw)


def test_credentials_refused_or_stripped_never_echoed() -> None:
    with pytest.raises(BadURL) as exc:
        normalize("https://alice:s3cret@example.com/a")
    assert "s3cret" not in str(exc.value) and "alice" not in str(exc.value)
    assert (
        normalize("https://alice:s3cret@example.com/a", allow_credentials=True)
        == "https://example.com/a"
    )
    assert "s3cret" not in redact("https://alice:s3cret@example.com/a")


def test_one_identity_rule_for_every_page() -> None:
    """A page is known by its canonical link when that names an article on
    the same site, else by where it was served; redirects and AMP are aliases;
    a home page is never an identity."""
    a = "https://news.example/2024/01/story"
    assert identity(a) == (a, [])
    # Same-site canonical: trusted; the served URL becomes an alias.
    assert identity(a + "?utm_source=x", canonical="/2024/01/story-canon") == (
        "https://news.example/2024/01/story-canon",
        [a],
    )
    # Canonical to another site, or to the home page: ignored.
    assert identity(a, canonical="https://other.example/2024/01/story")[0] == a
    assert identity(a, canonical="/")[0] == a
    # Redirects end where the page was served; AMP is an alias; the home page never is.
    primary, aliases = identity(
        "https://news.example/old",
        final="https://news.example/2024/01/new",
        redirects=["https://news.example/old", "https://news.example/"],
        amp="https://news.example/amp/2024/01/new",
    )
    assert primary == "https://news.example/2024/01/new"
    assert aliases == ["https://news.example/old", "https://news.example/amp/2024/01/new"]
    # AMP on the publisher's own domain, by the public suffix list: an alias;
    # on another site, or another publisher under one suffix: not.
    for page, amp, kept in (
        ("https://www.news.co.uk/a/story", "https://amp.news.co.uk/a/story", True),
        ("https://www.news.co.uk/a/story", "https://www.other.co.uk/a/story", False),
        ("https://www.news.co.uk/a/story", "https://other.example/a/story", False),
        ("https://news.github.io/a/story", "https://other.github.io/a/story", False),
    ):
        assert (amp in identity(page, amp=amp)[1]) is kept, amp
    assert identity("http://127.0.0.1:8801/a", amp="http://localhost:8801/b")[1] == []


def test_an_articles_canonical_or_amp_link_to_a_section_is_not_its_identity() -> None:
    """A CMS whose every article names its section (`/news/`) as canonical made
    each discovered article a watch of the section, which rotates every hour,
    and every other article of the site "already watched" as it."""
    a, b = "https://news.example/2024/01/iraq-talks", "https://news.example/2024/01/hilal-wins"
    assert identity(a, canonical="/news/") == (a, [])
    assert identity(b, canonical="https://news.example/politics/iraq") == (b, [])
    assert identity(a, amp="/amp/") == (a, [])
    # An article's own canonical and AMP addresses are still its identity.
    assert identity(a + "?page=1", canonical=a, amp="/amp/2024/01/iraq-talks") == (
        a,
        [a + "?page=1", "https://news.example/amp/2024/01/iraq-talks"],
    )
    # A page served at a section-like address may name one (nothing to tell them apart).
    assert identity("https://news.example/world/story", canonical="/world/story2")[0] == (
        "https://news.example/world/story2"
    )
