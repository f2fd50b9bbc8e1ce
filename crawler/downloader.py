"""Scrapy's downloader, with its per-site concurrency limit kept.

Scrapy 2.19 on the asyncio reactor starts each download as an asyncio task
and marks the request as transferring only once that task runs, so
`_process_queue` sees every transfer slot still free and starts a whole
queue at once: CONCURRENT_REQUESTS_PER_DOMAIN = 4 let 10 and more requests
reach one site together (tests/test_shards.py counts them at the server).
Raqib is a guest on newsrooms' servers; this marks the request before the
task is created, which is all the fix needs (`_download` adds it again and
removes it when done).
"""

from __future__ import annotations

from time import monotonic
from typing import Any

from scrapy.core.downloader import Downloader
from scrapy.utils.asyncio import call_later
from scrapy.utils.defer import _schedule_coro


class PoliteDownloader(Downloader):
    def _process_queue(self, slot: Any) -> None:
        if slot.latercall:
            return  # a download delay is pending: its call resumes the queue
        now = monotonic()
        delay = slot.download_delay()
        if delay:
            penalty = delay - now + slot.lastseen
            if penalty > 0:
                slot.latercall = call_later(penalty, self._latercall, slot)
                return
        while slot.queue and slot.free_transfer_slots() > 0:
            slot.lastseen = now
            request, queue_dfd = slot.queue.popleft()
            slot.transferring.add(request)  # the line Scrapy is missing
            _schedule_coro(self._wait_for_download(slot, request, queue_dfd))
            if delay:  # one request per delay, as Scrapy does
                self._process_queue(slot)
                break
