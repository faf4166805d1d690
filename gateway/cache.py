"""Last good response per (provider, request), served when the provider fails."""
from __future__ import annotations

import threading
import time
from collections import OrderedDict
from dataclasses import dataclass


@dataclass(frozen=True)
class CachedResponse:
    """A successful response kept for fallback: status, headers, body and when it was received."""

    status_code: int
    headers: tuple[tuple[str, str], ...]
    content: bytes
    url: str
    stored_at: float  # time.time()


class LastGoodCache:
    """Bounded LRU (by entries and bytes) of the last successful response per request key."""

    def __init__(self, max_entries: int = 512, max_bytes: int = 128 * 1024 * 1024) -> None:
        self.max_entries = max_entries
        self.max_bytes = max_bytes
        self._items: OrderedDict[str, CachedResponse] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()

    def put(self, key: str, status_code: int, headers: list[tuple[str, str]], content: bytes, url: str) -> None:
        """Remember ``content`` as the last good answer for ``key`` (bodies larger than max_bytes are skipped)."""
        if len(content) > self.max_bytes:
            return
        item = CachedResponse(status_code, tuple(headers), content, url, time.time())
        with self._lock:
            old = self._items.pop(key, None)
            if old is not None:
                self._bytes -= len(old.content)
            self._items[key] = item
            self._bytes += len(content)
            while self._items and (len(self._items) > self.max_entries or self._bytes > self.max_bytes):
                _, dropped = self._items.popitem(last=False)
                self._bytes -= len(dropped.content)

    def get(self, key: str) -> CachedResponse | None:
        """Return the last good answer for ``key`` or None."""
        with self._lock:
            item = self._items.get(key)
            if item is not None:
                self._items.move_to_end(key)
            return item

    def __len__(self) -> int:
        return len(self._items)
