"""Adapters that put a library's HTTP calls through the gateway (:class:`gateway.core.Gateway`).

* :func:`call_transport` — a ``(method, url, **httpx_kwargs) -> httpx.Response`` callable for
  code that takes an injected transport (``forecasting.remote``).
* :class:`GatewayAdapter` — a ``requests`` transport adapter for libraries built on requests
  (Authlib's ``OAuth2Session`` in ``security.oauth``): mount it on the session and every request
  it sends goes through the provider's rate limit, breaker, retries and call log.

A gateway failure (:class:`gateway.errors.ProviderError`) surfaces as the library's own
transport error (``requests.ConnectionError`` for the adapter), so the library's error handling
holds; the message is the gateway's (provider, endpoint, what went wrong; no secrets).
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

import httpx
import requests
from requests.adapters import BaseAdapter
from requests.structures import CaseInsensitiveDict

from gateway.errors import ProviderError

# hop-by-hop and length headers httpx sets itself
_DROPPED_HEADERS = {"content-length", "connection", "transfer-encoding", "host"}


def call_transport(gateway: Any, provider: str) -> Callable[..., httpx.Response]:
    """Return ``send(method, url, **httpx_kwargs)`` that calls ``provider`` through ``gateway`` (no cache fallback)."""

    def send(method: str, url: str, **kwargs: Any) -> httpx.Response:
        return gateway.request(provider, method, url, fallback=False, **kwargs)

    return send


class GatewayAdapter(BaseAdapter):
    """A requests adapter sending each request through ``gateway`` as a call to ``provider``.

    ``answers``: error statuses that are the protocol's answer (OAuth's 400/401 error bodies),
    handed back to the library as responses instead of being turned into failures.
    """

    def __init__(self, gateway: Any, provider: str, answers: frozenset[int] = frozenset()) -> None:
        super().__init__()
        self.gateway = gateway
        self.provider = provider
        self.answers = answers

    def send(self, request: requests.PreparedRequest, stream: bool = False, timeout: Any = None,
             verify: Any = True, cert: Any = None, proxies: Any = None) -> requests.Response:
        """Return the requests.Response of ``request`` sent through the gateway; raises requests.ConnectionError."""
        headers = {k: v for k, v in request.headers.items() if k.lower() not in _DROPPED_HEADERS}
        kwargs: dict[str, Any] = {"headers": headers, "content": request.body}
        if isinstance(timeout, (int, float)):
            kwargs["timeout"] = float(timeout)
        url = str(request.url)
        try:
            answer = self.gateway.request(self.provider, str(request.method), url, endpoint=urlsplit(url).path or "/",
                                          fallback=False, answers=self.answers, **kwargs)
        except ProviderError as exc:
            raise requests.ConnectionError(str(exc), request=request) from exc
        return _requests_response(request, answer)

    def close(self) -> None:
        """Nothing to close: the gateway owns its HTTP client."""


def _requests_response(request: requests.PreparedRequest, answer: httpx.Response) -> requests.Response:
    response = requests.Response()
    response.status_code = answer.status_code
    response.headers = CaseInsensitiveDict({k: v for k, v in answer.headers.items()
                                            if k.lower() not in ("content-encoding", "transfer-encoding")})
    response._content = answer.content
    response.encoding = answer.encoding
    response.reason = answer.reason_phrase
    response.url = str(answer.url)
    response.request = request
    return response
