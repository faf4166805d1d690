"""Offline replay: providers without credentials answer from recorded payloads.

Connectors register a handler per provider with :func:`register_replay`; the gateway calls it
with the :class:`httpx.Request` it would have sent and returns the handler's response. A handler
returns None when it has no recording for that request (the gateway then raises
ProviderUnavailable naming the request).
"""
from __future__ import annotations

from collections.abc import Callable

import httpx

ReplayHandler = Callable[[httpx.Request], "httpx.Response | None"]

_HANDLERS: dict[str, ReplayHandler] = {}


def register_replay(provider: str, handler: ReplayHandler) -> None:
    """Install ``handler`` as the offline replay of ``provider`` (replaces an earlier one)."""
    _HANDLERS[provider] = handler


def replay_handler(provider: str) -> ReplayHandler | None:
    """Return the replay handler of ``provider``, or None when none is registered.

    The handlers are registered by the composition root (``connectors.recorded.register_recordings``).
    """
    return _HANDLERS.get(provider)
