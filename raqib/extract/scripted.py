"""Is this a page whose scripts build its body? (Then it wants `--render`.)

Read from the markup alone, cheaply, and only for a page where no article
text was found: an application state embedded as JSON, an empty mount point
for a script framework, or far more script than visible text.
"""

from __future__ import annotations

import re

_STATE = re.compile(
    r"__NEXT_DATA__|__NUXT__|__INITIAL_STATE__|__PRELOADED_STATE__|__APOLLO_STATE__"
    r"|<script[^>]+type=[\"']application/(?:ld\+)?json[\"'][^>]*id=",
    re.IGNORECASE,
)
_MOUNT = re.compile(
    r"<(?:div|main|section)[^>]+id=[\"'](?:root|app|__next|__nuxt|main-app)[\"'][^>]*>\s*"
    r"(?:<(?:noscript|p|span)[^>]*>[^<]{0,80}</(?:noscript|p|span)>\s*|[^<]{0,40})?</",
    re.IGNORECASE,
)
_SCRIPT = re.compile(r"<script\b[^>]*>(.*?)</script>", re.IGNORECASE | re.DOTALL)
_TAGS = re.compile(r"<[^>]+>")


def scripted(html: str) -> bool:
    head = html[:2_000_000]
    if _STATE.search(head) or _MOUNT.search(head):
        return True
    scripts = sum(len(m.group(1)) for m in _SCRIPT.finditer(head))
    visible = len(_TAGS.sub(" ", _SCRIPT.sub(" ", head)).split())
    return scripts > 2000 and visible < 150
