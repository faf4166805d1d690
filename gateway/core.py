"""The integration gateway: the one way Fleetlight talks to outside providers.

Per provider it applies, in this order: offline replay when no credentials are set; a token-bucket
rate limit; a circuit breaker (pybreaker: closed / open / half-open); retries with exponential
back-off and jitter that honour ``Retry-After`` (tenacity); the provider's timeout; and on failure
a fallback to the last good answer for the same request. Every logical call (retries included)
becomes one ``integration_calls`` row through the buffered :class:`~gateway.calllog.CallLog`.
"""
from __future__ import annotations

import datetime as dt
import email.utils
import json
import logging
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

import httpx
import pybreaker
import tenacity

from gateway.cache import LastGoodCache
from gateway.calllog import CallLog, CallRecord, default_db_provider
from gateway.errors import (
    BREAKER_EXCLUDED,
    RETRYABLE,
    AuthError,
    BadPayload,
    BreakerOpen,
    ConfigurationError,
    ProviderError,
    ProviderUnavailable,
    RateLimited,
    RequestRejected,
    Timeout,
    UnsupportedRequest,
)
from gateway.providers import ProviderSpec, build_specs
from gateway.replay import replay_handler

log = logging.getLogger("gateway")

T = TypeVar("T")
_UNSET: Any = object()
_SECRET_PARAMS = re.compile(r"(appid|token|securitytoken|key|password|apikey|api_key)=[^&]*", re.I)
EVENT_REPEAT_S = 600.0  # the same failure kind of a provider is written to events at most this often


@dataclass
class Fetched(Generic[T]):
    """What :meth:`Gateway.fetch` returns: the parsed value, the response and where it came from."""

    value: T
    response: httpx.Response
    source: str  # live | replay | cache
    error: ProviderError | None = None  # the failure a cache fallback stands in for

    @property
    def from_fallback(self) -> bool:
        """Return True when the value is the last good answer served because the provider failed."""
        return self.source == "cache"


def _utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def parse_retry_after(value: str | None, now: float | None = None) -> float | None:
    """Return the seconds a ``Retry-After`` header asks to wait (delta-seconds or HTTP-date), or None."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when is None:
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    return max(0.0, when.timestamp() - (now if now is not None else time.time()))


def _snippet(response: httpx.Response) -> str:
    """Return a short, log-safe description of an error body."""
    ctype = response.headers.get("content-type", "")
    body = response.content[:2000]
    if "html" in ctype or body.lstrip()[:1] == b"<" and b"<html" in body[:500].lower():
        m = re.search(rb"<title>(.*?)</title>", body, re.I | re.S)
        title = m.group(1).decode("utf-8", "replace").strip() if m else ""
        return f"HTML error page{(': ' + title) if title else ''}"
    text = body.decode("utf-8", "replace")
    try:
        data = json.loads(text)
        if isinstance(data, dict):
            for key in ("message", "error_description", "error", "detail", "title"):
                if isinstance(data.get(key), str):
                    text = data[key]
                    break
    except ValueError:
        pass
    text = _SECRET_PARAMS.sub(r"\1=***", " ".join(text.split()))
    return text[:200] or "empty body"


def raise_for_status(provider: str, endpoint: str, response: httpx.Response) -> None:
    """Raise the ProviderError matching an HTTP error status; return quietly for 1xx-3xx."""
    code = response.status_code
    if code < 400:
        return
    detail = _snippet(response)
    if code in (401, 403):
        raise AuthError(provider, f"credentials refused: {detail}", status_code=code, endpoint=endpoint)
    if code == 429:
        retry_after = parse_retry_after(response.headers.get("retry-after"))
        hint = f"; Retry-After {retry_after:.0f}s" if retry_after is not None else "; no Retry-After"
        raise RateLimited(provider, f"throttled: {detail}{hint}", status_code=code, endpoint=endpoint,
                          retry_after=retry_after)
    if code in (408, 504):
        raise Timeout(provider, f"provider timed out: {detail}", status_code=code, endpoint=endpoint)
    if code >= 500:
        raise ProviderUnavailable(provider, f"server error: {detail}", status_code=code, endpoint=endpoint)
    raise RequestRejected(provider, f"request rejected: {detail}", status_code=code, endpoint=endpoint)


class _RetryWait(tenacity.wait.wait_base):
    """Wait what ``Retry-After`` asks for, else exponential back-off with jitter."""

    def __init__(self, spec: ProviderSpec) -> None:
        self._exp = tenacity.wait_exponential_jitter(
            multiplier=spec.backoff_initial_s, max=spec.backoff_max_s, jitter=spec.backoff_initial_s
        )
        self._cap = spec.max_retry_after_s

    def __call__(self, retry_state: tenacity.RetryCallState) -> float:
        exc = retry_state.outcome.exception() if retry_state.outcome else None
        if isinstance(exc, RateLimited) and exc.retry_after is not None:
            return min(exc.retry_after, self._cap)
        return self._exp(retry_state)


def _retryable(spec: ProviderSpec) -> Callable[[BaseException], bool]:
    def check(exc: BaseException) -> bool:
        if not isinstance(exc, RETRYABLE) or isinstance(exc, BreakerOpen):
            return False
        if isinstance(exc, RateLimited):
            if getattr(exc, "local", False):
                return False
            if exc.retry_after is not None and exc.retry_after > spec.max_retry_after_s:
                return False
        return True

    return check


class _BreakerListener(pybreaker.CircuitBreakerListener):
    def __init__(self, gateway: Gateway, provider: str) -> None:
        self.gateway = gateway
        self.provider = provider

    def state_change(self, cb, old_state, new_state) -> None:
        old = old_state.name if old_state else None
        new = new_state.name
        self.gateway._on_breaker_change(self.provider, old, new)


class Gateway:
    """Rate-limited, retried, circuit-broken and logged access to every provider.

    ``settings``: a :class:`core.settings.Settings` (default: the process settings).
    ``db``: a Database, a callable returning one, or None to skip database logging
    (default: ``core.runtime.db()`` when services are installed).
    ``transport``: an httpx transport (tests may inject one; default: real network).
    ``sleep``: used for back-off and rate-limit waits (benches/tests may inject one).
    """

    def __init__(
        self,
        settings: Any = None,
        *,
        db: Any = _UNSET,
        transport: httpx.BaseTransport | None = None,
        sleep: Callable[[float], None] = time.sleep,
        flush_interval_s: float = 1.0,
        specs: dict[str, ProviderSpec] | None = None,
    ) -> None:
        if settings is None:
            from core.settings import get_settings

            settings = get_settings()
        self.settings = settings
        self.specs = specs or build_specs(
            getattr(settings, "provider_limits", {}),
            getattr(settings, "provider_prices", {}),
            getattr(settings, "provider_base_urls", {}),
        )
        if db is _UNSET:
            db_provider: Callable[[], Any] | None = default_db_provider
        elif db is None:
            db_provider = None
        elif callable(db) and not hasattr(db, "session"):
            db_provider = db
        else:
            db_provider = lambda: db  # noqa: E731
        self.call_log = CallLog(db_provider, flush_interval_s=flush_interval_s)
        self.cache = LastGoodCache()
        self._sleep = sleep
        self._client = httpx.Client(transport=transport, follow_redirects=True)
        self._lock = threading.Lock()
        self._buckets: dict[str, Any] = {}
        self._breakers: dict[str, pybreaker.CircuitBreaker] = {}
        self._retrying: dict[str, tenacity.Retrying] = {}
        self._last_error: dict[str, ProviderError] = {}
        self._last_event: dict[tuple[str, str], float] = {}
        self.breaker_history: dict[str, list[tuple[float, str]]] = {}
        for name, spec in self.specs.items():
            self._setup(name, spec)

    def _setup(self, name: str, spec: ProviderSpec) -> None:
        from gateway.ratelimit import TokenBucket

        self._buckets[name] = TokenBucket(spec.rate_per_s, spec.burst, sleep=self._sleep)
        self._breakers[name] = pybreaker.CircuitBreaker(
            fail_max=spec.fail_max,
            reset_timeout=spec.reset_timeout_s,
            exclude=list(BREAKER_EXCLUDED),
            listeners=[_BreakerListener(self, name)],
            name=name,
            throw_new_error_on_trip=False,
        )
        self._retrying[name] = tenacity.Retrying(
            stop=tenacity.stop_after_attempt(spec.max_attempts),
            wait=_RetryWait(spec),
            retry=tenacity.retry_if_exception(_retryable(spec)),
            sleep=self._sleep,
            reraise=True,
        )

    # --- identity and configuration --------------------------------------------------------

    def spec(self, provider: str) -> ProviderSpec:
        """Return the provider's spec; raises ConfigurationError for an unknown provider."""
        try:
            return self.specs[provider]
        except KeyError:
            raise ConfigurationError(provider, f"unknown provider (known: {', '.join(sorted(self.specs))})") from None

    def base_url(self, provider: str) -> str:
        """Return the provider's base URL (settings.provider_base_urls overrides the default)."""
        return self.spec(provider).base_url

    def url_for(self, key: str, default: str) -> str:
        """Return ``settings.provider_base_urls[key]`` or ``default`` (for secondary hosts, e.g. ercot_auth)."""
        return str(getattr(self.settings, "provider_base_urls", {}).get(key, default)).rstrip("/")

    def secret(self, field_name: str) -> str | None:
        """Return the plain value of a credential setting, or None when unset/empty."""
        value = getattr(self.settings, field_name, None)
        if value is None:
            return None
        if hasattr(value, "get_secret_value"):
            value = value.get_secret_value()
        return str(value) or None

    def missing_credentials(self, provider: str) -> list[str]:
        """Return the FLEETLIGHT_* variables that must be set for ``provider`` to go live."""
        spec = self.spec(provider)
        missing = [f"FLEETLIGHT_{f.upper()}" for f in spec.credentials if not self.secret(f)]
        if spec.enable_flag and not getattr(self.settings, spec.enable_flag, False):
            missing.append(f"FLEETLIGHT_{spec.enable_flag.upper()}=true")
        return missing

    def mode(self, provider: str) -> str:
        """Return "live", "offline replay" (no credentials, recordings served) or "not configured"."""
        if not self.missing_credentials(provider):
            return "live"
        return "offline replay" if replay_handler(provider) is not None else "not configured"

    def breaker_state(self, provider: str) -> str:
        """Return the breaker state: "closed", "open" or "half-open" (open turns half-open when due)."""
        cb = self._breakers[self.spec(provider).name]
        state = cb.current_state
        if state == "open":
            opened = cb._state_storage.opened_at
            if opened and (_utcnow() - opened).total_seconds() >= cb.reset_timeout:
                return "half-open"
        return state

    def state(self, provider: str) -> str:
        """Return the state shown to users: live, offline replay, degraded, breaker open, not configured."""
        mode = self.mode(provider)
        if mode != "live":
            return mode
        breaker = self.breaker_state(provider)
        if breaker == "open":
            return "breaker open"
        if breaker == "half-open":
            return "degraded"
        st = self.call_log.stats.get(provider)
        if st is not None and sum(list(st.recent_failures)[-5:]) > 0:
            return "degraded"
        return "live"

    def last_error(self, provider: str) -> ProviderError | None:
        """Return the last error of ``provider`` seen by this process."""
        return self._last_error.get(provider)

    # --- calls ------------------------------------------------------------------------------

    def request(
        self,
        provider: str,
        method: str,
        url: str,
        *,
        endpoint: str | None = None,
        fallback: bool = True,
        answers: frozenset[int] = frozenset(),
        **httpx_kwargs: Any,
    ) -> httpx.Response:
        """Send one request through the provider's limits and return the response.

        ``url`` is absolute or relative to the provider's base URL; ``endpoint`` names the call in
        the log (default: the URL path). On failure the last good response for the same request
        is returned when ``fallback`` is true (``response.extensions["fleetlight_source"] ==
        "cache"``); otherwise the ProviderError is raised. ``answers`` are error statuses that are
        the protocol's answer rather than a failure (an OAuth token endpoint's 400 ``invalid_grant``):
        they are returned as they are, logged with their status, and count as calls that worked.
        """
        httpx_kwargs["_answers"] = answers
        return self._call(provider, method, url, endpoint, fallback, None, httpx_kwargs).response

    def fetch(
        self,
        provider: str,
        method: str,
        url: str,
        *,
        parse: Callable[[httpx.Response], T],
        endpoint: str | None = None,
        fallback: bool = True,
        **httpx_kwargs: Any,
    ) -> Fetched[T]:
        """Like :meth:`request` but parse the body with ``parse`` inside the gateway.

        ``parse`` runs inside each attempt: a retryable error it raises (e.g. :class:`ProviderBusy`,
        the provider answering "try later" in a 200 body) is retried with back-off like a 5xx. A
        BadPayload from ``parse`` counts as a failed call (logged, event, fallback), is not retried,
        and such a body is never kept as "last good". Returns a :class:`Fetched` with the parsed value.
        """
        return self._call(provider, method, url, endpoint, fallback, parse, httpx_kwargs)

    def _resolve(self, spec: ProviderSpec, url: str) -> str:
        if url.startswith(("http://", "https://")):
            return url
        return spec.base_url + ("" if url.startswith("/") or not url else "/") + url

    def _cache_key(self, method: str, url: str, kwargs: dict[str, Any]) -> str:
        params = kwargs.get("params")
        if params:
            items = params.items() if isinstance(params, dict) else params
            url = str(httpx.URL(url, params=sorted((str(k), str(v)) for k, v in items)))
        body = kwargs.get("json") or kwargs.get("data") or kwargs.get("content") or ""
        return f"{method.upper()} {url} {body!r}"

    def _call(
        self,
        provider: str,
        method: str,
        url: str,
        endpoint: str | None,
        fallback: bool,
        parse: Callable[[httpx.Response], Any] | None,
        kwargs: dict[str, Any],
    ) -> Fetched[Any]:
        spec = self.spec(provider)
        answers: frozenset[int] = kwargs.pop("_answers", frozenset())
        full_url = self._resolve(spec, url)
        endpoint = endpoint or httpx.URL(full_url).path or "/"
        started = _utcnow()
        t0 = time.perf_counter()
        mode = self.mode(provider)
        if mode != "live":
            return self._replay(spec, method, full_url, endpoint, parse, kwargs, started, t0, mode)

        kwargs.setdefault("timeout", spec.timeout_s)
        attempts = 0
        last_status: int | None = None
        bucket = self._buckets[provider]
        client = self._client

        def attempt() -> httpx.Response:
            nonlocal attempts, last_status
            attempts += 1
            if bucket.acquire(spec.max_wait_s) is None:
                err = RateLimited(provider, f"local rate limit ({spec.rate_per_s:g}/s) would wait over "
                                  f"{spec.max_wait_s:g}s", endpoint=endpoint)
                err.local = True  # type: ignore[attr-defined]
                raise err
            try:
                response = client.request(method, full_url, **kwargs)
            except httpx.TimeoutException as exc:
                raise Timeout(provider, f"no answer within {spec.timeout_s:g}s ({type(exc).__name__})",
                              endpoint=endpoint) from None
            except httpx.TransportError as exc:
                raise ProviderUnavailable(provider, f"connection failed: {type(exc).__name__}: {exc}",
                                          endpoint=endpoint) from None
            last_status = response.status_code
            if response.status_code not in answers:
                raise_for_status(provider, endpoint, response)
            if parse is not None:  # inside the attempt: a retryable error from the parser (ProviderBusy) is retried
                parsed.clear()
                parsed.append(parse(response))
            return response

        parsed: list[Any] = []
        retrying = self._retrying[provider]
        cache_key = self._cache_key(method, full_url, kwargs)
        error: ProviderError
        try:
            response = self._breakers[provider].call(retrying, attempt)
        except pybreaker.CircuitBreakerError:
            cb = self._breakers[provider]
            opened = cb._state_storage.opened_at
            left = cb.reset_timeout - ((_utcnow() - opened).total_seconds() if opened else 0)
            last = self._last_error.get(provider)
            error = BreakerOpen(provider, f"circuit breaker open, call not attempted (retry in {max(left, 0):.0f}s;"
                                f" last error: {last.problem if last else 'unknown'})", endpoint=endpoint)
        except ProviderError as exc:
            error = exc
            if isinstance(exc, BadPayload) and exc.endpoint is None:
                exc.endpoint = endpoint
        else:
            value = parsed[0] if parse is not None else None
            if response.status_code == 200 and method.upper() == "GET":
                self.cache.put(cache_key, response.status_code, list(response.headers.multi_items()),
                               response.content, str(response.url))
            response.extensions["fleetlight_source"] = "live"
            self._record(spec, endpoint, started, t0, response.status_code, "ok", len(response.content),
                         attempts - 1, None)
            return Fetched(value, response, "live")
        return self._fail(spec, method, endpoint, started, t0, last_status, attempts, error, fallback, parse,
                          cache_key)

    def _fail(
        self,
        spec: ProviderSpec,
        method: str,
        endpoint: str,
        started: dt.datetime,
        t0: float,
        status: int | None,
        attempts: int,
        error: ProviderError,
        fallback: bool,
        parse: Callable[[httpx.Response], Any] | None,
        cache_key: str,
    ) -> Fetched[Any]:
        provider = spec.name
        if isinstance(error, BreakerOpen):
            log.info("%s", error)  # one line per rejected call would flood the log; the opening was logged
        else:
            self._last_error[provider] = error
            log.warning("%s", error)
            self._maybe_event(provider, error)
        retries = max(attempts - 1, 0)
        outcome = "rejected" if isinstance(error, BreakerOpen) else "error"
        cached = self.cache.get(cache_key) if fallback and method.upper() == "GET" else None
        if cached is not None:
            response = httpx.Response(
                cached.status_code,
                headers=list(cached.headers),
                content=cached.content,
                request=httpx.Request(method, cached.url),
                extensions={"fleetlight_source": "cache", "fleetlight_error": str(error),
                            "fleetlight_cached_at": cached.stored_at},
            )
            value = parse(response) if parse is not None else None
            self._record(spec, endpoint, started, t0, status, "fallback", 0, retries, str(error))
            log.info("%s: serving last good answer from %s for %s", provider,
                     time.strftime("%Y-%m-%d %H:%M:%SZ", time.gmtime(cached.stored_at)), endpoint)
            return Fetched(value, response, "cache", error)
        self._record(spec, endpoint, started, t0, status, outcome, 0, retries, str(error))
        raise error

    def _replay(
        self,
        spec: ProviderSpec,
        method: str,
        full_url: str,
        endpoint: str,
        parse: Callable[[httpx.Response], Any] | None,
        kwargs: dict[str, Any],
        started: dt.datetime,
        t0: float,
        mode: str,
    ) -> Fetched[Any]:
        provider = spec.name
        handler = replay_handler(provider)
        if handler is None:
            raise ConfigurationError(provider, "not configured: set " + ", ".join(self.missing_credentials(provider))
                                     + " (no recorded payload exists to replay offline)", endpoint=endpoint)
        build_kwargs = {k: v for k, v in kwargs.items() if k not in ("auth", "follow_redirects")}
        request = self._client.build_request(method, full_url, **build_kwargs)
        try:
            response = handler(request)
            if response is None:
                error = UnsupportedRequest(provider, f"offline replay has no recording for {endpoint}; set "
                                           + ", ".join(self.missing_credentials(provider)) + " to call it live",
                                           endpoint=endpoint)
                log.info("%s", error)
                self._record(spec, endpoint, started, t0, None, "rejected", 0, 0, str(error), cost=0.0)
                raise error
            raise_for_status(provider, endpoint, response)
            value = parse(response) if parse is not None else None
        except ProviderError as error:
            self._last_error[provider] = error
            log.warning("%s (offline replay)", error)
            self._record(spec, endpoint, started, t0, None, "error", 0, 0, str(error))
            raise
        response.extensions["fleetlight_source"] = "replay"
        self._record(spec, endpoint, started, t0, response.status_code, "replay", len(response.content), 0, None,
                     cost=0.0)
        return Fetched(value, response, "replay")

    def _record(
        self,
        spec: ProviderSpec,
        endpoint: str,
        started: dt.datetime,
        t0: float,
        status: int | None,
        outcome: str,
        nbytes: int,
        retries: int,
        error: str | None,
        cost: float | None = None,
    ) -> None:
        self.call_log.record(
            CallRecord(
                provider=spec.name,
                endpoint=endpoint[:200],
                started_at=started,
                latency_ms=(time.perf_counter() - t0) * 1000.0,
                status_code=status,
                outcome=outcome,
                bytes_received=nbytes,
                retries=retries,
                breaker_state=self._breakers[spec.name].current_state,
                cost_estimate=spec.price(endpoint) if cost is None and outcome in ("ok", "fallback", "error")
                and status is not None else (cost or 0.0),
                error=error[:2000] if error else None,
            )
        )

    # --- events ----------------------------------------------------------------------------

    def _maybe_event(self, provider: str, error: ProviderError) -> None:
        key = (provider, error.kind)
        now = time.monotonic()
        with self._lock:
            last = self._last_event.get(key)
            if last is not None and now - last < EVENT_REPEAT_S:
                return
            self._last_event[key] = now
        self.call_log.event("integration.failed", provider, {
            "error": error.kind, "message": str(error), "status_code": error.status_code,
            "endpoint": error.endpoint, "state": self.state(provider),
        })

    def _on_breaker_change(self, provider: str, old: str | None, new: str) -> None:
        self.breaker_history.setdefault(provider, []).append((time.monotonic(), new))
        last = self._last_error.get(provider)
        if new == "open":
            log.error("%s: circuit breaker opened (was %s); last error: %s", provider, old, last)
            self.call_log.event("integration.failed", provider, {
                "error": "breaker_open", "message": f"{provider}: circuit breaker opened",
                "last_error": str(last) if last else None, "state": "breaker open",
            })
        elif new == "half-open":
            log.info("%s: circuit breaker half-open, trying one call", provider)
        elif new == "closed" and old is not None:
            log.info("%s: circuit breaker closed again, provider recovered", provider)
            self.call_log.event("integration.recovered", provider, {"message": f"{provider}: recovered",
                                                                     "state": "live"})

    # --- status / lifecycle ----------------------------------------------------------------

    def status(self) -> list[dict[str, Any]]:
        """Return per provider: name, label, family, state, mode, breaker, plan and in-process stats."""
        stats = self.call_log.snapshot()
        out = []
        for name, spec in self.specs.items():
            last = self._last_error.get(name)
            out.append({
                "provider": name,
                "label": spec.label,
                "family": spec.family,
                "state": self.state(name),
                "mode": self.mode(name),
                "breaker": self.breaker_state(name),
                "plan": spec.plan,
                "daily_quota": spec.daily_quota,
                "monthly_quota": spec.monthly_quota,
                "missing_settings": self.missing_credentials(name),
                "last_error": str(last) if last else None,
                **{f"process_{k}": v for k, v in stats.get(name, {}).items()},
            })
        return out

    def close(self) -> None:
        """Flush the call log and close the HTTP client."""
        self.call_log.close()
        self._client.close()


_gateway: Gateway | None = None
_gateway_lock = threading.Lock()


def get_gateway() -> Gateway:
    """Return the process-wide Gateway, built from the process settings on first use."""
    global _gateway
    if _gateway is None:
        with _gateway_lock:
            if _gateway is None:
                _gateway = Gateway()
    return _gateway


def install_gateway(gateway: Gateway | None) -> Gateway | None:
    """Make ``gateway`` the process-wide Gateway (None resets); return the previous one."""
    global _gateway
    with _gateway_lock:
        previous, _gateway = _gateway, gateway
    return previous
