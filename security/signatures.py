"""Webhook signature verification for Twilio, SendGrid and Slack (pure functions, no I/O).

* Twilio (``X-Twilio-Signature``): base64(HMAC-SHA1(auth token, URL + sorted form name+value));
  for JSON bodies the URL carries ``bodySHA256`` and the body must hash to it. Twilio sends no
  timestamp, so replays are caught by the signature cache alone.
  https://www.twilio.com/docs/usage/webhooks/webhooks-security
* SendGrid Event Webhook (``X-Twilio-Email-Event-Webhook-Signature``/``-Timestamp``): ECDSA
  P-256/SHA-256 over timestamp + raw body, base64 DER; the key is base64 DER SubjectPublicKeyInfo.
  https://www.twilio.com/docs/sendgrid/for-developers/tracking-events/getting-started-event-webhook-security-features
* Slack (``X-Slack-Signature``/``X-Slack-Request-Timestamp``): ``v0=`` + hex HMAC-SHA256(signing
  secret, ``v0:{ts}:{body}``). https://docs.slack.dev/authentication/verifying-requests-from-slack/

Every comparison is constant-time (:func:`hmac.compare_digest`); every verifier accepts a list of
secrets so a secret is rotated by adding the new one before removing the old.
"""
from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import threading
import time
from collections.abc import Iterable, Mapping
from urllib.parse import parse_qsl, urlsplit, urlunsplit

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import load_der_public_key


class SignatureError(ValueError):
    """The request's signature is missing, malformed, wrong or too old; the message says which."""


def _check_timestamp(raw: str | None, now: float, max_age_s: int, header: str) -> int:
    if not raw:
        raise SignatureError(f"missing {header} header")
    try:
        ts = int(raw)
    except ValueError:
        raise SignatureError(f"{header} is not a Unix timestamp") from None
    if abs(now - ts) > max_age_s:
        raise SignatureError(f"{header} is more than {max_age_s} s from now (stale or replayed request)")
    return ts


# --- Twilio -------------------------------------------------------------------------------------


def twilio_signature(auth_token: str, url: str, params: Mapping[str, str] | Iterable[tuple[str, str]] | None) -> str:
    """Return the X-Twilio-Signature Twilio computes for ``url`` and form ``params``."""
    items = params.items() if isinstance(params, Mapping) else (params or [])
    data = url + "".join(k + v for k, v in sorted(items))
    return base64.b64encode(hmac.new(auth_token.encode(), data.encode("utf-8"), hashlib.sha1).digest()).decode()


def _url_variants(url: str) -> list[str]:
    """Return ``url`` with and without its default port (Twilio signs whichever it called)."""
    parts = urlsplit(url)
    variants = [url]
    default = {"https": 443, "http": 80}.get(parts.scheme)
    if parts.port is None and default:
        variants.append(urlunsplit(parts._replace(netloc=f"{parts.hostname}:{default}")))
    elif parts.port == default:
        variants.append(urlunsplit(parts._replace(netloc=parts.hostname or "")))
    return variants


def verify_twilio(auth_tokens: list[str], url: str, signature: str | None, body: bytes, content_type: str) -> None:
    """Raise SignatureError unless ``signature`` is Twilio's for this request under one of ``auth_tokens``."""
    if not signature:
        raise SignatureError("missing X-Twilio-Signature header")
    if not auth_tokens:
        raise SignatureError("no Twilio auth token configured")
    query = dict(parse_qsl(urlsplit(url).query, keep_blank_values=True))
    if "bodySHA256" in query:
        expected_hash = hashlib.sha256(body).hexdigest()
        if not hmac.compare_digest(expected_hash, query["bodySHA256"]):
            raise SignatureError("body does not match bodySHA256 (tampered body)")
        params: list[tuple[str, str]] = []
    elif content_type.startswith("application/x-www-form-urlencoded"):
        params = parse_qsl(body.decode("utf-8", errors="strict"), keep_blank_values=True)
    else:
        params = []
    for token in auth_tokens:
        for candidate in _url_variants(url):
            if hmac.compare_digest(twilio_signature(token, candidate, params), signature):
                return
    raise SignatureError("X-Twilio-Signature does not match")


# --- SendGrid -----------------------------------------------------------------------------------


def verify_sendgrid(public_keys: list[str], signature: str | None, timestamp: str | None, body: bytes,
                    now: float, max_age_s: int) -> None:
    """Raise SignatureError unless the ECDSA ``signature`` over timestamp+body verifies under a key."""
    if not signature:
        raise SignatureError("missing X-Twilio-Email-Event-Webhook-Signature header")
    _check_timestamp(timestamp, now, max_age_s, "X-Twilio-Email-Event-Webhook-Timestamp")
    if not public_keys:
        raise SignatureError("no SendGrid verification key configured")
    try:
        der_signature = base64.b64decode(signature, validate=True)
    except (binascii.Error, ValueError):
        raise SignatureError("signature is not base64") from None
    payload = (timestamp or "").encode() + body
    for encoded in public_keys:
        key = load_der_public_key(base64.b64decode(encoded))
        if not isinstance(key, ec.EllipticCurvePublicKey):
            raise SignatureError("SendGrid verification key is not an EC public key")
        try:
            key.verify(der_signature, payload, ec.ECDSA(hashes.SHA256()))
            return
        except InvalidSignature:
            continue
    raise SignatureError("X-Twilio-Email-Event-Webhook-Signature does not verify")


# --- Slack --------------------------------------------------------------------------------------


def slack_signature(signing_secret: str, timestamp: str, body: bytes) -> str:
    """Return the X-Slack-Signature Slack computes for ``body`` sent at ``timestamp``."""
    base = b"v0:" + timestamp.encode() + b":" + body
    return "v0=" + hmac.new(signing_secret.encode(), base, hashlib.sha256).hexdigest()


def verify_slack(signing_secrets: list[str], signature: str | None, timestamp: str | None, body: bytes,
                 now: float, max_age_s: int) -> None:
    """Raise SignatureError unless ``signature`` is Slack's for ``body`` at a fresh ``timestamp``."""
    if not signature:
        raise SignatureError("missing X-Slack-Signature header")
    _check_timestamp(timestamp, now, max_age_s, "X-Slack-Request-Timestamp")
    if not signing_secrets:
        raise SignatureError("no Slack signing secret configured")
    for secret in signing_secrets:
        if hmac.compare_digest(slack_signature(secret, timestamp or "", body), signature):
            return
    raise SignatureError("X-Slack-Signature does not match")


# --- replay cache -------------------------------------------------------------------------------


class ReplayCache:
    """Remembers signatures for ``ttl_s`` seconds; :meth:`seen_before` is True for a repeat.

    In-process by default; with a Redis URL, shared by every server process (SET NX EX).
    """

    def __init__(self, ttl_s: int, redis_url: str = "") -> None:
        self.ttl_s = ttl_s
        self._seen: dict[str, float] = {}
        self._lock = threading.Lock()
        self._redis = None
        if redis_url:
            import redis

            self._redis = redis.Redis.from_url(redis_url)

    def seen_before(self, provider: str, signature: str, now: float | None = None) -> bool:
        """Record ``signature`` for ``provider``; return True if it was already recorded and unexpired."""
        key = f"fleetlight:webhook:{provider}:{hashlib.sha256(signature.encode()).hexdigest()}"
        if self._redis is not None:
            return not self._redis.set(key, b"1", nx=True, ex=self.ttl_s)
        now = time.time() if now is None else now
        with self._lock:
            if len(self._seen) > 10_000:
                self._seen = {k: exp for k, exp in self._seen.items() if exp > now}
            expiry = self._seen.get(key)
            if expiry is not None and expiry > now:
                return True
            self._seen[key] = now + self.ttl_s
            return False
