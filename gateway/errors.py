"""Errors raised by the integration gateway and the connectors.

Every error names the provider and what was wrong, so a log line or a page banner can be read
without the traceback. The hierarchy::

    ProviderError                 any failure talking to, or understanding, a provider
    ├── ConfigurationError        the provider is unknown or a required setting is missing
    ├── AuthError                 401/403, or a token request refused: the key is wrong or expired
    ├── RateLimited               429 from the provider, or the local token bucket would wait too long;
    │                             ``retry_after`` (seconds) when the provider said so
    ├── RequestRejected           another 4xx: the request itself is wrong (bad parameter, out of range)
    ├── Timeout                   no answer within the provider's timeout
    ├── ProviderUnavailable       5xx, connection refused/reset, DNS: the provider is down
    │   ├── ProviderBusy          the provider answered "try later" in the body (CAISO OASIS 1015)
    │   └── BreakerOpen           the circuit breaker is open, the call was not attempted
    ├── BadPayload                the answer arrived but cannot be understood: HTML instead of JSON,
    │   │                         truncated body, changed schema, wrong zip member ...
    │   └── EmptyPayload          the answer is well formed but holds no data for the request
    └── UnsupportedRequest        the connector does not offer this request (e.g. RT prices for EEX)

Retries: ``RateLimited``, ``Timeout`` and ``ProviderUnavailable`` are retried with back-off;
the others are not. The breaker counts ``Timeout``, ``ProviderUnavailable`` and ``RateLimited``
that survive the retries; ``AuthError``/``RequestRejected`` do not trip it (the provider is up).
"""
from __future__ import annotations


class ProviderError(Exception):
    """Base of every gateway/connector error; ``str(err)`` reads ``"<provider>: <problem>"``."""

    def __init__(
        self,
        provider: str,
        problem: str,
        *,
        status_code: int | None = None,
        endpoint: str | None = None,
        retry_after: float | None = None,
    ) -> None:
        self.provider = provider
        self.problem = problem
        self.status_code = status_code
        self.endpoint = endpoint
        self.retry_after = retry_after
        where = f" [{endpoint}]" if endpoint else ""
        code = f" (HTTP {status_code})" if status_code else ""
        super().__init__(f"{provider}{where}: {problem}{code}")

    @property
    def kind(self) -> str:
        """Return a short machine-readable name of the error class, e.g. ``"auth_error"``."""
        name = type(self).__name__
        out = [name[0].lower()]
        for ch in name[1:]:
            out.append("_" + ch.lower() if ch.isupper() else ch)
        return "".join(out)


class ConfigurationError(ProviderError):
    """The provider is unknown or a required setting (key, user name) is missing."""


class AuthError(ProviderError):
    """The provider refused the credentials (401/403 or a refused token request)."""


class RateLimited(ProviderError):
    """The provider throttled us (429) or the local rate limit would wait too long."""


class RequestRejected(ProviderError):
    """The provider rejected the request itself (4xx other than 401/403/429)."""


class Timeout(ProviderError):
    """The provider did not answer within its timeout."""


class ProviderUnavailable(ProviderError):
    """The provider is down: 5xx, connection refused or reset, name resolution failed."""


class ProviderBusy(ProviderUnavailable):
    """The provider answered, but says it cannot serve the request now and to try later (retried)."""


class BreakerOpen(ProviderUnavailable):
    """The circuit breaker for the provider is open; no call was made."""


class BadPayload(ProviderError):
    """The answer could not be understood (HTML page, truncated JSON, changed schema, wrong member)."""


class EmptyPayload(BadPayload):
    """The answer is well formed but contains no data for what was asked."""


class UnsupportedRequest(ProviderError):
    """The connector does not offer this request."""


RETRYABLE: tuple[type[ProviderError], ...] = (RateLimited, Timeout, ProviderUnavailable)
BREAKER_EXCLUDED: tuple[type[ProviderError], ...] = (
    AuthError,
    RequestRejected,
    ConfigurationError,
    BadPayload,
    UnsupportedRequest,
)
