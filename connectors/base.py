"""What every connector shares: identity, its gateway, and turning any parse failure into its own error."""
from __future__ import annotations

import functools
import json
import math
from collections.abc import Callable
from typing import Any, ClassVar, TypeVar

import httpx

from connectors.errors import FieldError
from gateway import Gateway, get_gateway
from gateway.errors import BadPayload, ProviderError, UnsupportedRequest

F = TypeVar("F", bound=Callable[..., Any])


def payload_guard(error_cls: type[BadPayload], what: str) -> Callable[[F], F]:
    """Decorate a parser so that anything it raises besides ``error_cls`` becomes ``error_cls``.

    The message names the provider (from ``error_cls.provider_name``), the payload (``what``)
    and the underlying problem, e.g. ``caiso: PRC_LMP zip: KeyError 'MW'``.
    """

    def deco(fn: F) -> F:
        @functools.wraps(fn)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            try:
                return fn(*args, **kwargs)
            except ProviderError:
                raise
            except RecursionError:
                raise error_cls(f"{what}: nested too deeply") from None
            except FieldError as exc:
                raise error_cls(f"{what}: {str(exc)[:300]}") from None
            except Exception as exc:
                raise error_cls(f"{what}: {type(exc).__name__}: {str(exc)[:200]}") from None

        return wrapper  # type: ignore[return-value]

    return deco


def make_payload_error(provider: str, name: str) -> type[BadPayload]:
    """Return a BadPayload subclass bound to ``provider`` (constructed with the problem only)."""

    def __init__(self, problem: str, *, endpoint: str | None = None, status_code: int | None = None) -> None:
        BadPayload.__init__(self, provider, problem, endpoint=endpoint, status_code=status_code)

    cls = type(name, (BadPayload,), {"__init__": __init__, "provider_name": provider,
                                      "__doc__": f"A {provider} payload that cannot be understood."})
    return cls  # type: ignore[return-value]


def load_json(body: bytes | str, error_cls: type[BadPayload], what: str) -> Any:
    """Return the decoded JSON of ``body``; raises ``error_cls`` for HTML pages, truncated or invalid JSON."""
    if isinstance(body, (bytes, bytearray)):
        head = bytes(body[:200]).lstrip().lower()
        try:
            text = bytes(body).decode("utf-8")
        except UnicodeDecodeError as exc:
            raise error_cls(f"{what}: body is not UTF-8 ({exc.reason})") from None
    else:
        text = body
        head = text[:200].lstrip().lower().encode("utf-8", "replace")
    if head.startswith((b"<!doctype html", b"<html")) or (head.startswith(b"<") and b"html" in head):
        raise error_cls(f"{what}: got an HTML page instead of JSON")
    if not text.strip():
        raise error_cls(f"{what}: empty body")
    try:
        return json.loads(text)
    except ValueError as exc:
        raise error_cls(f"{what}: invalid or truncated JSON ({exc})") from None


def require(mapping: Any, key: str, error_cls: type[BadPayload], what: str) -> Any:
    """Return ``mapping[key]``; raises ``error_cls`` naming the missing field (schema change)."""
    if not isinstance(mapping, dict):
        raise error_cls(f"{what}: expected an object, got {type(mapping).__name__}")
    if key not in mapping:
        raise error_cls(f"{what}: missing field {key!r} (schema changed?)")
    return mapping[key]


def as_float(value: Any, field: str = "value") -> float | None:
    """Return a JSON number as a finite float, None for null/missing; raises FieldError naming ``field``.

    Strict by rule: a number sent as a string (``"10"``), a boolean, an object or a non-finite
    number (``1e400`` decodes to inf, ``NaN``) is refused, never coerced.
    """
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        kind = "a string" if isinstance(value, str) else type(value).__name__
        raise FieldError(f"{field}: expected a JSON number, got {kind} {str(value)[:40]!r}")
    number = float(value)
    if not math.isfinite(number):
        raise FieldError(f"{field}: non-finite number {value!r}")
    return number


def text_number(text: str, field: str) -> float:
    """Return the finite number a text field (CSV cell, XML element) spells; raises FieldError naming ``field``.

    For text formats, where every value is a string: ``"inf"``, ``"NaN"`` and ``"1e400"`` parse
    as floats in Python but are refused here, as is anything that is not a number.
    """
    try:
        number = float(text)
    except ValueError:
        raise FieldError(f"{field}: {text[:40]!r} is not a number") from None
    if not math.isfinite(number):
        raise FieldError(f"{field}: {text[:40]!r} is not finite")
    return number


def as_int(value: Any, field: str) -> int:
    """Return a JSON integer (not a boolean, string or fractional number); raises FieldError naming ``field``."""
    if isinstance(value, bool) or not isinstance(value, int):
        kind = "a string" if isinstance(value, str) else type(value).__name__
        raise FieldError(f"{field}: expected a JSON integer, got {kind} {str(value)[:40]!r}")
    return value


def as_str(value: Any, field: str, *, required: bool = True) -> str:
    """Return a JSON string stripped; raises FieldError naming ``field`` for non-strings (or empty when required)."""
    if not isinstance(value, str):
        raise FieldError(f"{field}: expected a string, got {type(value).__name__} {str(value)[:40]!r}")
    text = value.strip()
    if required and not text:
        raise FieldError(f"{field}: empty string")
    return text


class Connector:
    """Base of every connector: ``name`` (gateway provider key) and ``label``; holds its gateway."""

    name: ClassVar[str] = ""
    label: ClassVar[str] = ""
    payload_error: ClassVar[type[BadPayload]] = BadPayload

    def __init__(self, gateway: Gateway | None = None) -> None:
        self.gateway = gateway or get_gateway()

    def unsupported(self, what: str) -> UnsupportedRequest:
        """Return the named error for a request this connector does not offer."""
        return UnsupportedRequest(self.name, f"{self.label} does not offer {what}")

    @property
    def base_url(self) -> str:
        """Return the provider's base URL (overridable through settings.provider_base_urls)."""
        return self.gateway.base_url(self.name)

    def body(self, response: httpx.Response) -> bytes:
        """Return the raw body of ``response``."""
        return response.content
