"""A thread-safe token bucket: ``rate`` tokens per second, at most ``burst`` saved up."""
from __future__ import annotations

import threading
import time
from collections.abc import Callable


class TokenBucket:
    """Token bucket; :meth:`acquire` blocks until a token is free or the wait would be too long."""

    def __init__(
        self,
        rate_per_s: float,
        burst: float,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if rate_per_s <= 0 or burst < 1:
            raise ValueError(f"token bucket needs rate > 0 and burst >= 1 (got {rate_per_s}, {burst})")
        self.rate = float(rate_per_s)
        self.burst = float(burst)
        self._tokens = float(burst)
        self._clock = clock
        self._sleep = sleep
        self._last = clock()
        self._lock = threading.Lock()

    def _reserve(self) -> float:
        """Take one token (possibly going negative) and return how long the caller must wait (s)."""
        with self._lock:
            now = self._clock()
            self._tokens = min(self.burst, self._tokens + (now - self._last) * self.rate)
            self._last = now
            self._tokens -= 1.0
            return 0.0 if self._tokens >= 0 else -self._tokens / self.rate

    def wait_time(self) -> float:
        """Return the seconds a call made now would wait for its token (0 when one is free)."""
        with self._lock:
            now = self._clock()
            tokens = min(self.burst, self._tokens + (now - self._last) * self.rate)
            return 0.0 if tokens >= 1 else (1 - tokens) / self.rate

    def acquire(self, max_wait_s: float) -> float | None:
        """Take a token, sleeping as needed; return the wait in seconds, or None if it exceeds max_wait_s.

        When the wait would exceed ``max_wait_s`` no token is taken and None is returned, so the
        caller can fail fast with RateLimited instead of blocking.
        """
        if self.wait_time() > max_wait_s:
            return None
        wait = self._reserve()
        if wait > 0:
            self._sleep(wait)
        return wait
