"""Webhook signatures: the providers' own vectors, tampered bodies, stale timestamps, replays."""
from __future__ import annotations

import base64
import json
import time
from pathlib import Path
from urllib.parse import urlencode

import pytest

from security.signatures import (
    SignatureError,
    slack_signature,
    twilio_signature,
    verify_sendgrid,
    verify_slack,
    verify_twilio,
)

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
TWILIO = json.loads((FIXTURES / "twilio" / "webhook_signature_test_vectors.json").read_text())
SENDGRID = json.loads((FIXTURES / "sendgrid" / "event_webhook_signed_request_headers.json").read_text())
SENDGRID_BODY = (FIXTURES / "sendgrid" / "event_webhook_signed_request_body.json").read_bytes()
SLACK = json.loads((FIXTURES / "slack" / "signed_request_headers.json").read_text())
SLACK_BODY = (FIXTURES / "slack" / "signed_request_slash_command_body.txt").read_bytes()
FORM = "application/x-www-form-urlencoded"


# --- pure verifiers against the published vectors ---------------------------------------------


def test_twilio_form_vector():
    v = TWILIO["form_encoded_webhook"]
    body = urlencode(v["params"]).encode()
    verify_twilio([v["auth_token"]], v["url"], v["headers"]["X-Twilio-Signature"], body, FORM)
    assert twilio_signature(v["auth_token"], v["url"], v["params"]) == v["headers"]["X-Twilio-Signature"]


def test_twilio_json_vector_and_tampering():
    v = TWILIO["json_body_webhook"]
    verify_twilio([v["auth_token"]], v["url"], v["headers"]["X-Twilio-Signature"], v["body"].encode(), "application/json")
    with pytest.raises(SignatureError, match="tampered"):
        verify_twilio([v["auth_token"]], v["url"], v["headers"]["X-Twilio-Signature"],
                      v["body"].replace("true", "false").encode(), "application/json")
    f = TWILIO["form_encoded_webhook"]
    tampered = urlencode({**f["params"], "Digits": "9999"}).encode()
    with pytest.raises(SignatureError, match="does not match"):
        verify_twilio([f["auth_token"]], f["url"], f["headers"]["X-Twilio-Signature"], tampered, FORM)
    with pytest.raises(SignatureError, match="does not match"):
        verify_twilio(["wrong-token"], f["url"], f["headers"]["X-Twilio-Signature"], urlencode(f["params"]).encode(), FORM)


def test_twilio_accepts_old_and_new_token_during_rotation():
    f = TWILIO["form_encoded_webhook"]
    verify_twilio(["new-token-xyz", f["auth_token"]], f["url"], f["headers"]["X-Twilio-Signature"],
                  urlencode(f["params"]).encode(), FORM)


def test_sendgrid_vector_tampering_and_staleness():
    key = SENDGRID["verification_public_key"]
    sig = SENDGRID["headers"]["X-Twilio-Email-Event-Webhook-Signature"]
    ts = SENDGRID["headers"]["X-Twilio-Email-Event-Webhook-Timestamp"]
    now = int(ts) + 10
    verify_sendgrid([key], sig, ts, SENDGRID_BODY, now, 300)
    with pytest.raises(SignatureError, match="does not verify"):
        verify_sendgrid([key], sig, ts, SENDGRID_BODY.replace(b"dropped", b"delivrd"), now, 300)
    with pytest.raises(SignatureError, match="does not verify"):
        verify_sendgrid([key], sig, str(int(ts) + 1), SENDGRID_BODY, now, 300)
    with pytest.raises(SignatureError, match="stale"):
        verify_sendgrid([key], sig, ts, SENDGRID_BODY, int(ts) + 301, 300)
    with pytest.raises(SignatureError, match="base64"):
        verify_sendgrid([key], "%%%", ts, SENDGRID_BODY, now, 300)


def test_slack_vector_tampering_and_staleness():
    secret = SLACK["signing_secret"]
    sig = SLACK["headers"]["X-Slack-Signature"]
    ts = SLACK["headers"]["X-Slack-Request-Timestamp"]
    verify_slack([secret], sig, ts, SLACK_BODY, int(ts), 300)
    assert slack_signature(secret, ts, SLACK_BODY) == sig
    with pytest.raises(SignatureError, match="does not match"):
        verify_slack([secret], sig, ts, SLACK_BODY + b"&x=1", int(ts), 300)
    with pytest.raises(SignatureError, match="stale"):
        verify_slack([secret], sig, ts, SLACK_BODY, int(ts) + 301, 300)
    with pytest.raises(SignatureError, match="missing"):
        verify_slack([secret], None, ts, SLACK_BODY, int(ts), 300)


# --- the endpoint -------------------------------------------------------------------------------


@pytest.fixture()
def hooks(services):
    from security.vault import get_vault

    vault = get_vault()
    vault.put("webhook:twilio", TWILIO["form_encoded_webhook"]["auth_token"])
    vault.put("webhook:sendgrid", SENDGRID["verification_public_key"])
    vault.put("webhook:slack", SLACK["signing_secret"])
    received: list[dict] = []
    for provider in ("twilio", "sendgrid", "slack"):
        services.bus.subscribe(f"webhooks.{provider}", received.append, group="test")
    return received


def test_slack_endpoint_vector_then_replay(client, services, hooks):
    ts = SLACK["headers"]["X-Slack-Request-Timestamp"]
    services.clock = lambda: float(ts) + 5  # the vector dates from 2018
    headers = {**SLACK["headers"], "Content-Type": FORM}
    first = client.post("/api/v1/webhooks/slack", data=SLACK_BODY, headers=headers)
    assert first.status_code == 200, first.json
    assert hooks[0]["provider"] == "slack" and hooks[0]["data"]["command"] == "/webhook-collect"
    assert "token" not in hooks[0]["data"]  # Slack's verification token is never forwarded
    replay = client.post("/api/v1/webhooks/slack", data=SLACK_BODY, headers=headers)
    assert replay.status_code == 409
    services.clock = lambda: float(ts) + 3600
    stale = client.post("/api/v1/webhooks/slack", data=SLACK_BODY, headers=headers)
    assert stale.status_code == 401 and "stale" in stale.json["error"]["message"]


def test_sendgrid_endpoint_vector_tampered_and_replayed(client, services, hooks):
    ts = SENDGRID["headers"]["X-Twilio-Email-Event-Webhook-Timestamp"]
    services.clock = lambda: float(ts) + 5
    headers = {**SENDGRID["headers"], "Content-Type": "application/json"}
    tampered = client.post("/api/v1/webhooks/sendgrid", data=SENDGRID_BODY.replace(b"dropped", b"delivrd"),
                           headers=headers)
    assert tampered.status_code == 401
    ok = client.post("/api/v1/webhooks/sendgrid", data=SENDGRID_BODY, headers=headers)
    assert ok.status_code == 200
    assert hooks[-1]["data"][0]["event"] == "dropped"
    assert client.post("/api/v1/webhooks/sendgrid", data=SENDGRID_BODY, headers=headers).status_code == 409


def test_twilio_endpoint_signs_the_public_url(client, services, hooks):
    token = TWILIO["form_encoded_webhook"]["auth_token"]
    params = {"MessageSid": "SM123", "MessageStatus": "delivered", "AccountSid": "AC-not-forwarded"}
    url = "http://localhost/api/v1/webhooks/twilio"
    sig = twilio_signature(token, url, params)
    response = client.post("/api/v1/webhooks/twilio", data=params, headers={"X-Twilio-Signature": sig})
    assert response.status_code == 200 and response.mimetype == "text/xml"
    assert hooks[-1]["data"] == {"MessageSid": "SM123", "MessageStatus": "delivered"}
    assert client.post("/api/v1/webhooks/twilio", data=params, headers={"X-Twilio-Signature": sig}).status_code == 409
    forged = client.post("/api/v1/webhooks/twilio", data={**params, "MessageStatus": "failed"},
                         headers={"X-Twilio-Signature": sig})
    assert forged.status_code == 401
    bad_b64 = client.post("/api/v1/webhooks/twilio", data=params,
                          headers={"X-Twilio-Signature": base64.b64encode(b"x" * 20).decode()})
    assert bad_b64.status_code == 401


def test_unconfigured_and_unknown_providers(client, services):
    now = int(time.time())
    body = b"a=1"
    sig = slack_signature("whatever-secret", str(now), body)
    response = client.post("/api/v1/webhooks/slack", data=body,
                           headers={"X-Slack-Signature": sig, "X-Slack-Request-Timestamp": str(now), "Content-Type": FORM})
    assert response.status_code == 401 and "no Slack signing secret" in response.json["error"]["message"]
    assert client.post("/api/v1/webhooks/pagerduty", data=b"{}").status_code == 404


# --- replays (issue 11, item 7) -------------------------------------------------------------------

P256_ORDER = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551


def _malleated(signature: str) -> str:
    """Return the other valid ECDSA signature (r, n-s) of the same message, base64 DER."""
    from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature, encode_dss_signature

    r, s = decode_dss_signature(base64.b64decode(signature))
    return base64.b64encode(encode_dss_signature(r, P256_ORDER - s)).decode()


def _respelled(signature: str) -> str | None:
    """Return another base64 spelling of the same bytes (non-zero padding bits), if the length allows one."""
    raw = base64.b64decode(signature)
    if len(raw) % 3 == 0:
        return None
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
    body = signature.rstrip("=")
    last = alphabet.index(body[-1])
    other = body[:-1] + alphabet[last ^ 1] + signature[len(body):]
    assert base64.b64decode(other) == raw and other != signature
    return other


def test_sendgrid_malleated_and_respelled_signatures_are_replays(client, services, hooks):
    ts = SENDGRID["headers"]["X-Twilio-Email-Event-Webhook-Timestamp"]
    services.clock = lambda: float(ts) + 5
    sig = SENDGRID["headers"]["X-Twilio-Email-Event-Webhook-Signature"]
    headers = {**SENDGRID["headers"], "Content-Type": "application/json"}
    # the malleated signature verifies on its own (ECDSA accepts both): only the content key stops it
    verify_sendgrid([SENDGRID["verification_public_key"]], _malleated(sig), ts, SENDGRID_BODY, int(ts) + 5, 300)
    assert client.post("/api/v1/webhooks/sendgrid", data=SENDGRID_BODY, headers=headers).status_code == 200
    variants = [_malleated(sig), " " + sig + " "]
    respelled = _respelled(sig) or _respelled(_malleated(sig))
    variants += [respelled] if respelled else []
    for variant in variants:
        again = client.post("/api/v1/webhooks/sendgrid", data=SENDGRID_BODY,
                            headers={**headers, "X-Twilio-Email-Event-Webhook-Signature": variant})
        assert again.status_code == 409, (variant, again.status_code, again.get_data(as_text=True)[:200])
    assert len(hooks) == 1


def test_twilio_replay_is_refused_after_a_restart(client, services, hooks):
    token = TWILIO["form_encoded_webhook"]["auth_token"]
    params = {"MessageSid": "SM-restart", "MessageStatus": "delivered"}
    url = "http://localhost/api/v1/webhooks/twilio"
    headers = {"X-Twilio-Signature": twilio_signature(token, url, params)}
    assert client.post("/api/v1/webhooks/twilio", data=params, headers=headers).status_code == 200
    services.webhook_receipts = None  # a new process: nothing in memory, the table remains
    assert client.post("/api/v1/webhooks/twilio", data=params, headers=headers).status_code == 409
    # the same fields in another order, or the URL with its default port, are the same signed content
    reordered = "MessageStatus=delivered&MessageSid=SM-restart"
    assert client.post("/api/v1/webhooks/twilio", data=reordered, headers={
        **headers, "Content-Type": FORM}).status_code == 409
    assert client.post("/api/v1/webhooks/twilio", data=params, headers={
        **headers, "Host": "localhost:80"}).status_code == 409
    from data.models import WebhookReceipt

    with services.db.session() as s:
        assert s.query(WebhookReceipt).filter(WebhookReceipt.provider == "twilio").count() == 1


def test_twilio_json_body_needs_body_sha256(client, services, hooks):
    token = TWILIO["form_encoded_webhook"]["auth_token"]
    url = "http://localhost/api/v1/webhooks/twilio"
    url_only = twilio_signature(token, url, {})  # a signature over the URL alone, captured once
    forged = client.post("/api/v1/webhooks/twilio", data=b'{"MessageStatus": "failed", "injected": true}',
                         headers={"X-Twilio-Signature": url_only, "Content-Type": "application/json"})
    assert forged.status_code == 401 and "bodySHA256" in forged.json["error"]["message"]
    body = b'{"MessageStatus": "delivered"}'
    import hashlib

    signed_url = url + "?bodySHA256=" + hashlib.sha256(body).hexdigest()
    ok = client.post("/api/v1/webhooks/twilio?bodySHA256=" + hashlib.sha256(body).hexdigest(), data=body,
                     headers={"X-Twilio-Signature": twilio_signature(token, signed_url, {}),
                              "Content-Type": "application/json"})
    assert ok.status_code == 200, ok.get_data(as_text=True)[:200]
    with pytest.raises(SignatureError, match="bodySHA256"):
        verify_twilio([token], url, url_only, b'{"a": 1}', "application/json")


def test_sendgrid_rejects_a_signature_that_is_not_der(client, services, hooks):
    ts = SENDGRID["headers"]["X-Twilio-Email-Event-Webhook-Timestamp"]
    with pytest.raises(SignatureError, match="DER"):
        verify_sendgrid([SENDGRID["verification_public_key"]], base64.b64encode(b"\x30\x02junk").decode(), ts,
                        SENDGRID_BODY, int(ts) + 5, 300)
