"""Integration gateway: rate limits, retries, circuit breakers, fallbacks and the call log.

Use :func:`get_gateway` and :meth:`Gateway.request` (or :meth:`Gateway.fetch` to parse inside the
gateway) for every outbound call to a provider. Errors are in :mod:`gateway.errors`.
"""
from gateway.core import Fetched, Gateway, get_gateway, install_gateway, parse_retry_after, raise_for_status
from gateway.errors import (
    AuthError,
    BadPayload,
    BreakerOpen,
    ConfigurationError,
    EmptyPayload,
    ProviderBusy,
    ProviderError,
    ProviderUnavailable,
    RateLimited,
    RequestRejected,
    Timeout,
    UnsupportedRequest,
)

__all__ = [
    "AuthError", "BadPayload", "BreakerOpen", "ConfigurationError", "EmptyPayload", "Fetched", "Gateway",
    "ProviderBusy", "ProviderError", "ProviderUnavailable", "RateLimited", "RequestRejected", "Timeout", "UnsupportedRequest",
    "get_gateway", "install_gateway", "parse_retry_after", "raise_for_status",
]
