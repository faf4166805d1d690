"""Webhook signature verification for Twilio, SendGrid and Slack (pure functions, no I/O).

* Twilio (``X-Twilio-Signature``): base64(HMAC-SHA1(auth token, URL + sorted form name+value));
  for any body that is not form-encoded (JSON) the URL must carry ``bodySHA256`` and the body must
  hash to it (otherwise the signature covers the URL alone). Twilio sends no timestamp, so replays
  are caught by the persisted receipt cache alone (:mod:`security.replay`).
  https://www.twilio.com/docs/usage/webhooks/webhooks-security
* SendGrid Event Webhook (``X-Twilio-Email-Event-Webhook-Signature``/``-Timestamp``): ECDSA
  P-256/SHA-256 over timestamp + raw body, base64 DER; the key is base64 DER SubjectPublicKeyInfo.
  https://www.twilio.com/docs/sendgrid/for-developers/tracking-events/getting-started-event-webhook-security-features
* Slack (``X-Slack-Signature``/``X-Slack-Request-Timestamp``): ``v0=`` + hex HMAC-SHA256(signing
  secret, ``v0:{ts}:{body}``). https://docs.slack.dev/authentication/verifying-requests-from-slack/

Every comparison is constant-time (:func:`hmac.compare_digest`); every verifier accepts a list of
secrets so a secret is rotated by adding the new one before removing the old. Every verifier
returns the SHA-256 of the content its signature covers (canonical: default ports dropped, form
fields sorted as Twilio signs them): the replay cache is keyed on that, never on the signature's
spelling, so a malleated ECDSA signature ``(r, n-s)`` or another base64 spelling of the same
bytes is still a replay.
"""
from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
from collections.abc import Iterable, Mapping
from urllib.parse import parse_qsl, urlsplit, urlunsplit

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature, encode_dss_signature
from cryptography.hazmat.primitives.serialization import load_der_public_key

# group orders of the curves SendGrid may use (SEC 2): needed to fold s into the lower half
CURVE_ORDERS = {
    "secp256r1": 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551,
    "secp384r1": int("FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFC7634D81F4372DDF581A0DB248B0A77AECEC196ACCC52973", 16),
}


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


def _canonical_url(url: str) -> str:
    parts = urlsplit(url)
    default = {"https": 443, "http": 80}.get(parts.scheme)
    if parts.port == default and parts.hostname:
        return urlunsplit(parts._replace(netloc=parts.hostname))
    return url


def _digest(*parts: bytes) -> str:
    return hashlib.sha256(b"\x00".join(parts)).hexdigest()


def verify_twilio(auth_tokens: list[str], url: str, signature: str | None, body: bytes, content_type: str) -> str:
    """Return the digest of the signed content if ``signature`` is Twilio's under one of ``auth_tokens``.

    Raises SignatureError otherwise, and for a non-form body whose URL carries no ``bodySHA256``.
    """
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
        try:
            params = parse_qsl(body.decode("utf-8", errors="strict"), keep_blank_values=True)
        except UnicodeDecodeError:
            raise SignatureError("form body is not UTF-8") from None
    elif body.strip():
        raise SignatureError("a JSON (non-form) body needs bodySHA256 in the URL: the signature would not cover it")
    else:
        params = []
    for token in auth_tokens:
        for candidate in _url_variants(url):
            if hmac.compare_digest(twilio_signature(token, candidate, params), signature):
                signed = _canonical_url(url) + "".join(k + v for k, v in sorted(params))
                return _digest(b"twilio", signed.encode("utf-8"))
    raise SignatureError("X-Twilio-Signature does not match")


# --- SendGrid -----------------------------------------------------------------------------------


def normalise_ecdsa(der_signature: bytes, curve: ec.EllipticCurve) -> bytes:
    """Return ``der_signature`` re-encoded as DER with the low ``s`` of the pair ``(r, s)``/``(r, n-s)``.

    Raises SignatureError if it is not a DER ECDSA signature.
    """
    try:
        r, s = decode_dss_signature(der_signature)
    except ValueError:
        raise SignatureError("signature is not a DER-encoded ECDSA signature") from None
    order = CURVE_ORDERS.get(curve.name)
    if order is None or not (0 < r < order and 0 < s < order):
        raise SignatureError("ECDSA signature values out of range")
    return encode_dss_signature(r, min(s, order - s))


def verify_sendgrid(public_keys: list[str], signature: str | None, timestamp: str | None, body: bytes,
                    now: float, max_age_s: int) -> str:
    """Return the digest of timestamp+body if the ECDSA ``signature`` over them verifies under a key.

    The signature is normalised first (strict base64, canonical DER, low ``s``); SignatureError otherwise.
    """
    if not signature:
        raise SignatureError("missing X-Twilio-Email-Event-Webhook-Signature header")
    _check_timestamp(timestamp, now, max_age_s, "X-Twilio-Email-Event-Webhook-Timestamp")
    if not public_keys:
        raise SignatureError("no SendGrid verification key configured")
    try:
        der_signature = base64.b64decode(signature.strip(), validate=True)
    except (binascii.Error, ValueError):
        raise SignatureError("signature is not base64") from None
    payload = (timestamp or "").encode() + body
    for encoded in public_keys:
        key = load_der_public_key(base64.b64decode(encoded))
        if not isinstance(key, ec.EllipticCurvePublicKey):
            raise SignatureError("SendGrid verification key is not an EC public key")
        try:
            key.verify(normalise_ecdsa(der_signature, key.curve), payload, ec.ECDSA(hashes.SHA256()))
            return _digest(b"sendgrid", (timestamp or "").encode(), hashlib.sha256(body).digest())
        except InvalidSignature:
            continue
    raise SignatureError("X-Twilio-Email-Event-Webhook-Signature does not verify")


# --- Slack --------------------------------------------------------------------------------------


def slack_signature(signing_secret: str, timestamp: str, body: bytes) -> str:
    """Return the X-Slack-Signature Slack computes for ``body`` sent at ``timestamp``."""
    base = b"v0:" + timestamp.encode() + b":" + body
    return "v0=" + hmac.new(signing_secret.encode(), base, hashlib.sha256).hexdigest()


def verify_slack(signing_secrets: list[str], signature: str | None, timestamp: str | None, body: bytes,
                 now: float, max_age_s: int) -> str:
    """Return the digest of timestamp+body if ``signature`` is Slack's for them; raise SignatureError otherwise."""
    if not signature:
        raise SignatureError("missing X-Slack-Signature header")
    _check_timestamp(timestamp, now, max_age_s, "X-Slack-Request-Timestamp")
    if not signing_secrets:
        raise SignatureError("no Slack signing secret configured")
    for secret in signing_secrets:
        if hmac.compare_digest(slack_signature(secret, timestamp or "", body), signature):
            return _digest(b"slack", (timestamp or "").encode(), hashlib.sha256(body).digest())
    raise SignatureError("X-Slack-Signature does not match")
