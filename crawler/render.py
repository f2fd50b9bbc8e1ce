"""Rendered fetches: scrapy-playwright driving Debian's Chromium.

A watch with `render` is first fetched as any other (a conditional GET,
robots.txt, the address guard, size and time bounds, a WARC record of the
server's document). Only a 200 goes on to the browser, and the browser does
not fetch the document again: the page's own route serves it the bytes just
archived, so the DOM, the text and the screenshot come from exactly what the
WARC holds. The page's scripts then run, their requests are judged by the
address guard (here, per page, by the watch's network; and again in the
local proxy crawler.guardproxy, which also sees redirects and WebSockets),
and the DOM and a screenshot are read.

One browser per crawler process, launched on the first rendered fetch and
reused; each fetch gets a context of its own (no cookies carried between
pages), closed when the fetch is recorded. `[render] pages` bounds the pages
open at once.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from typing import Any

from raqib.config import RenderConfig, parse_duration
from raqib.domain import Shot
from raqib.guard import Guard, network_of, origin_of

log = logging.getLogger("raqib.render")

HANDLER = "scrapy_playwright.handler.ScrapyPlaywrightDownloadHandler"
# Chromium's own background calls (sign-in, GCM) go nowhere.
_NO_BACKGROUND = (
    "--host-resolver-rules=MAP accounts.google.com ~NOTFOUND, MAP android.clients.google.com "
    "~NOTFOUND, MAP mtalk.google.com ~NOTFOUND, MAP clients2.google.com ~NOTFOUND"
)
QUIET = 0.1  # seconds without a request in flight: the page has settled
_HEIGHT = "() => Math.max(document.documentElement.scrollHeight, document.body ? document.body.scrollHeight : 0)"


class RenderUnavailable(RuntimeError):
    """Rendering was asked for and cannot run here (the message says what to install)."""


def available(cfg: RenderConfig) -> str | None:
    """Why rendered fetches cannot run here, or None."""
    import importlib.util
    import os

    if importlib.util.find_spec("scrapy_playwright") is None:
        return "rendered fetches need scrapy-playwright: pip install 'raqib[render]'"
    if not os.access(cfg.chromium, os.X_OK):
        return (
            f"rendered fetches need Chromium at {cfg.chromium} "
            "(apt-get install chromium, or set [render] chromium)"
        )
    return None


def crawl_settings(
    cfg: RenderConfig, schemes: set[str], proxy_port: int, proxies: dict[str, str]
) -> dict[str, Any]:
    """Scrapy settings for a crawl with rendered watches (only the schemes they use:
    each scheme's handler would start a browser of its own)."""
    timeout_ms = int(parse_duration(cfg.timeout).total_seconds() * 1000)
    return {
        "DOWNLOAD_HANDLERS": dict.fromkeys(sorted(schemes), HANDLER),
        "PLAYWRIGHT_BROWSER_TYPE": "chromium",
        "PLAYWRIGHT_LAUNCH_OPTIONS": {
            "executable_path": cfg.chromium,
            "headless": True,
            "args": [_NO_BACKGROUND, "--force-webrtc-ip-handling-policy=disable_non_proxied_udp"],
            # No bypass list: Playwright adds <-loopback>, so even loopback and
            # link-local addresses go through the guard.
            "proxy": {"server": f"http://127.0.0.1:{proxy_port}"},
        },
        "PLAYWRIGHT_MAX_CONTEXTS": cfg.pages,
        "PLAYWRIGHT_MAX_PAGES_PER_CONTEXT": 1,
        "PLAYWRIGHT_DEFAULT_NAVIGATION_TIMEOUT": timeout_ms,
        "PLAYWRIGHT_DOWNLOAD_TIMEOUT": timeout_ms,
        # Fail closed: a page whose own guard was not installed sends nothing.
        "PLAYWRIGHT_ABORT_REQUEST": unguarded,
        "RAQIB_RENDER": {
            # The guard's proxy for a page of each network (crawler.guardproxy);
            # `proxy_port` above, the browser's own, refuses everything.
            "proxies": proxies,
            "refusing_proxy": f"http://127.0.0.1:{proxy_port}",
            "width": cfg.width,
            "settle": parse_duration(cfg.settle).total_seconds(),
            "timeout": timeout_ms / 1000,
            "max_requests": cfg.max_requests,
            "format": cfg.screenshot_format,
            "quality": cfg.screenshot_quality,
            "max_height": cfg.screenshot_max_height,
            "max_bytes": int(cfg.screenshot_max_mb * 1024 * 1024),
        },
    }


def unguarded(request: Any) -> bool:
    try:
        return getattr(request.frame.page, "_raqib_guard", None) is None
    except Exception:
        return True  # a worker's request, or a page already gone


@dataclass
class PageGuard:
    """The route every request of one rendered page takes first."""

    guard: Guard
    origin: str
    url: str  # the document's URL
    document: bytes  # what the plain fetch archived
    content_type: str
    max_requests: int
    refused: list[str]
    served: bool = False
    seen: int = 0
    pending: int = 0  # the page's requests still in flight

    def watch(self, page: Any) -> None:
        def started(_r: Any) -> None:
            self.pending += 1

        def ended(_r: Any) -> None:
            self.pending = max(0, self.pending - 1)

        page.on("request", started)
        page.on("requestfinished", ended)
        page.on("requestfailed", ended)

    async def settle(self, seconds: float) -> None:
        """Until no request has been in flight for QUIET seconds, `seconds` at most
        (Playwright's "networkidle" always waits half a second: half of a page's cost)."""
        loop = asyncio.get_running_loop()
        deadline, quiet_since = loop.time() + seconds, None
        while loop.time() < deadline:
            if self.pending:
                quiet_since = None
            elif quiet_since is None:
                quiet_since = loop.time()
            elif loop.time() - quiet_since >= QUIET:
                return
            await asyncio.sleep(QUIET / 4)

    async def route(self, route: Any, request: Any) -> None:
        self.seen += 1
        if (
            not self.served
            and request.is_navigation_request()
            and request.frame.parent_frame is None
        ):
            # The page's first document: the bytes the plain fetch archived.
            self.served = True
            await route.fulfill(status=200, headers={"content-type": self.content_type},
                                body=self.document)  # fmt: skip
            return
        reason = await self._refuse(request.url)
        if reason is not None:
            self.refused.append(request.url[:300])
            log.info("rendered page %s: refused %s (%s)", self.url, request.url[:300], reason)
            await route.abort("blockedbyclient")
            return
        await route.fallback()

    async def _refuse(self, url: str) -> str | None:
        if self.seen > self.max_requests:
            return f"more than {self.max_requests} requests from one page"
        if url.startswith(("data:", "blob:")):
            return None
        from urllib.parse import urlsplit

        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            return f"not a web address ({parts.scheme})"
        from raqib.crawler.guardproxy import resolve

        port = parts.port or (443 if parts.scheme == "https" else 80)
        return self.guard.refuse(url, await resolve(parts.hostname, port), origin=self.origin)


def init_page(guard: Guard) -> Any:
    """scrapy-playwright's page init callback: the page's own guard, first in line."""

    async def init(page: Any, request: Any) -> None:
        meta = request.meta
        pg = PageGuard(
            guard=guard, origin=meta["raqib_origin"], url=request.url,
            document=meta.pop("raqib_document"), content_type=meta["raqib_content_type"],
            max_requests=meta["raqib_render"]["max_requests"], refused=meta["raqib_refused"],
        )  # fmt: skip
        pg.watch(page)
        await page.route("**", pg.route)
        page._raqib_guard = pg  # finish() and the abort predicate find it here

    return init


async def finish(page: Any, opts: dict[str, Any], shoot: bool) -> Shot | None:
    """After the load event: let the network settle, then photograph the page
    (full width, cut at max_height; too big an image is not kept)."""
    guard: PageGuard | None = getattr(page, "_raqib_guard", None)
    if guard is not None and opts["settle"] > 0:
        await guard.settle(opts["settle"])  # a page that keeps polling is read as it stands
    if not shoot:
        return None
    height = max(1, min(int(await page.evaluate(_HEIGHT) or 1), opts["max_height"]))
    kind = opts["format"]
    extra = {"quality": opts["quality"]} if kind == "webp" else {}
    data = await page.screenshot(
        full_page=True, type=kind, scale="css", animations="disabled",
        clip={"x": 0, "y": 0, "width": opts["width"], "height": height},
        timeout=opts["timeout"] * 1000, **extra,
    )  # fmt: skip
    if len(data) > opts["max_bytes"]:
        log.warning("screenshot of %s not kept: %d bytes", page.url, len(data))
        return None
    return Shot(data=data, media_type=f"image/{kind}", width=opts["width"], height=height)


def request_for(response: Any, fetched: Any, task: Any, guard: Guard, opts: dict[str, Any],
                callback: Any, errback: Any) -> Any:  # fmt: skip
    """The browser's request for a page the plain fetch got (a 200 HTML answer)."""
    import scrapy
    from scrapy_playwright.page import PageMethod

    meta = response.meta
    origin = meta.get("raqib_origin", origin_of(task))
    return scrapy.Request(
        response.url,
        callback=callback,
        errback=errback,
        dont_filter=True,
        meta={
            "watch_id": task.watch_id,
            "started": meta.get("started"),
            "raqib_origin": origin,
            "raqib_plain": fetched,
            "raqib_document": response.body,
            "raqib_content_type": fetched.content_type or "text/html",
            "raqib_render": opts,
            "raqib_refused": [],
            "playwright": True,
            # A context per fetch: nothing (cookies, storage) carries over.
            "playwright_context": f"raqib-{task.watch_id}-{id(fetched):x}",
            "playwright_context_kwargs": {
                "accept_downloads": False,
                "service_workers": "block",
                "viewport": {"width": opts["width"], "height": 900},
                "locale": "ar",
                # The guard's proxy judges this page's connections by its network
                # (crawler.guardproxy), redirects and WebSockets included.
                "proxy": {
                    "server": opts["proxies"].get(network_of(origin), opts["refusing_proxy"])
                },
            },
            "playwright_include_page": True,  # its context is closed with the fetch
            "playwright_page_init_callback": init_page(guard),
            "playwright_page_methods": [PageMethod(finish, opts, True)],
            "download_timeout": opts["timeout"] * 2,
        },
    )


async def close_page(meta: dict[str, Any]) -> None:
    page = meta.pop("playwright_page", None)
    if page is not None:
        try:
            await page.context.close()
        except Exception as exc:  # already gone with the browser
            log.debug("closing a rendered page: %s", exc)
