"""URL identity: one article, one watch."""

from __future__ import annotations

import pytest

from raqib.urls import BadURL, normalize, redact


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
