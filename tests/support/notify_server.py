"""A local HTTP server speaking Twilio's, SendGrid's, Slack's and Teams Workflows' wire formats.

Paths: ``/twilio/2010-04-01/Accounts/<sid>/Messages.json`` and ``.../Calls.json`` (form-encoded,
HTTP Basic with the account SID and auth token, 201 with the recorded resource JSON of
``tests/fixtures/twilio``), ``/sendgrid/v3/mail/send`` (Bearer key, JSON body checked for the
v3 shape, 202 with an empty body and ``X-Message-Id``), ``/slack/api/chat.postMessage`` (Bearer
bot token, 200 with the documented ``ok`` answer of ``tests/fixtures/slack``), ``/hooks/services/...``
(Slack incoming webhook: 200 ``ok`` or 400 ``invalid_payload``, the documented bodies) and
``/teams/workflows/...`` (202 Accepted with an empty body: CONSTRUCTED after Microsoft's docs,
no recorded Workflows answer exists, see tests/fixtures/SOURCES.md).

Identity fields of a recorded answer (``sid``, ``to``, ``body``, ``channel``, ``ts``) are replaced
by the request's so one recording serves many requests; everything else is the recording.

Faults, per provider (``twilio``, ``sendgrid``, ``slack``, ``hooks``, ``teams``):
``server.down(provider)`` answers 503 until ``server.up(provider)``; ``server.inject(provider,
status)`` answers the next request with that status (the provider's own error shape).
``server.requests`` lists every request as (provider, path, headers, body, monotonic time).
"""
from __future__ import annotations

import base64
import itertools
import json
import threading
import time
from collections import defaultdict, deque
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
TWILIO_SID = "ACaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
TWILIO_TOKEN = "test-twilio-auth-token"
SENDGRID_KEY = "SG.test-sendgrid-key"
SLACK_TOKEN = "xoxb-test-slack-token"
# Twilio's test-credentials magic number for "invalid phone number" (error 21211,
# https://www.twilio.com/docs/iam/test-credentials): the server refuses it the same way
INVALID_NUMBER = "+15005550001"


def _fixture(rel: str) -> Any:
    return json.loads((FIXTURES / rel).read_text())


# Twilio's documented REST error shape (https://www.twilio.com/docs/usage/twilios-response#response-formats-exceptions)
def _twilio_error(status: int, code: int, message: str) -> bytes:
    return json.dumps({"code": code, "message": message, "more_info": f"https://www.twilio.com/docs/errors/{code}",
                       "status": status}).encode()


class NotifyServer:
    """Threaded local server; a context manager."""

    def __init__(self) -> None:
        self.requests: list[tuple[str, str, dict[str, str], bytes, float]] = []
        self._down: set[str] = set()
        self._inject: dict[str, deque[int]] = defaultdict(deque)
        self._ids = itertools.count(1)
        self._lock = threading.Lock()
        self.on_request: Any = None  # called with (provider outcome, path, body, monotonic time) as requests arrive
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                status, ctype, payload, headers = server._answer(self.path, dict(self.headers), body)
                self.send_response(status)
                if ctype:
                    self.send_header("Content-Type", ctype)
                for key, value in headers.items():
                    self.send_header(key, value)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(target=self._httpd.serve_forever, name="notify-server", daemon=True)

    # --- control ---------------------------------------------------------------------------

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._httpd.server_address[1]}"

    def base_urls(self) -> dict[str, str]:
        """Return the ``provider_base_urls`` setting pointing the notification providers here."""
        return {"twilio": f"{self.url}/twilio", "sendgrid": f"{self.url}/sendgrid", "slack": f"{self.url}/slack/api",
                "slack_webhook": f"{self.url}/hooks", "msteams": f"{self.url}/teams"}

    def down(self, provider: str) -> None:
        with self._lock:
            self._down.add(provider)

    def up(self, provider: str) -> None:
        with self._lock:
            self._down.discard(provider)

    def inject(self, provider: str, *statuses: int) -> None:
        with self._lock:
            self._inject[provider].extend(statuses)

    def sent(self, provider: str) -> list[tuple[str, str, dict[str, str], bytes, float]]:
        """Return the requests of ``provider`` that were answered with success."""
        return [r for r in self.requests if r[0] == provider + ":ok"]

    def __enter__(self) -> NotifyServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()

    # --- answers ---------------------------------------------------------------------------

    def _answer(self, path: str, headers: dict[str, str], body: bytes) -> tuple[int, str, bytes, dict[str, str]]:
        provider = path.strip("/").split("/", 1)[0]
        now = time.monotonic()
        with self._lock:
            fault = 503 if provider in self._down else (self._inject[provider].popleft()
                                                        if self._inject[provider] else None)
        if fault is not None:
            self.requests.append((f"{provider}:fault", path, headers, body, now))
            return self._fault(provider, fault)
        answer = getattr(self, f"_{provider}", None)
        if answer is None:
            return 404, "text/plain", b"not found", {}
        result = answer(path, headers, body)
        outcome = "ok" if result[0] < 400 else "refused"
        self.requests.append((f"{provider}:{outcome}", path, headers, body, now))
        if self.on_request is not None:
            self.on_request(f"{provider}:{outcome}", path, body, now)
        return result

    def _fault(self, provider: str, status: int) -> tuple[int, str, bytes, dict[str, str]]:
        if provider == "twilio":
            return status, "application/json", _twilio_error(status, 20500 if status >= 500 else 21211,
                                                             "Internal Server Error" if status >= 500 else
                                                             "The 'To' number is not a valid phone number."), {}
        if provider == "sendgrid":
            return status, "application/json", json.dumps(
                {"errors": [{"message": "Service Unavailable" if status >= 500 else "Bad Request", "field": None,
                             "help": None}]}).encode(), {}
        if provider == "slack":
            return status, "application/json", json.dumps({"ok": False, "error": "fatal_error"}).encode(), {}
        if provider == "hooks":
            body = (FIXTURES / "slack/incoming_webhook_response_body_400_invalid_payload_docs.txt").read_bytes()
            return status, "text/html", (body if status < 500 else b"rollup_error"), {}
        return status, "application/json", b'{"error":{"code":"ServiceUnavailable"}}', {}

    def _basic_ok(self, headers: dict[str, str]) -> bool:
        expected = base64.b64encode(f"{TWILIO_SID}:{TWILIO_TOKEN}".encode()).decode()
        return headers.get("Authorization") == f"Basic {expected}"

    def _twilio(self, path: str, headers: dict[str, str], body: bytes) -> tuple[int, str, bytes, dict[str, str]]:
        if not self._basic_ok(headers):
            return 401, "application/json", _twilio_error(401, 20003, "Authenticate"), {}
        form = dict(parse_qsl(body.decode()))
        to = form.get("To", "")
        if not to.startswith("+") or to == INVALID_NUMBER:
            return 400, "application/json", _twilio_error(400, 21211, f"The 'To' number {to} is not a valid phone number."), {}
        n = next(self._ids)
        if path.endswith("/Messages.json"):
            record = _fixture("twilio/messages_create_201_queued_oai_example.json")
            record.update(sid=f"SM{n:032x}", to=to, body=form.get("Body", ""), **{"from": form.get("From")})
        elif path.endswith("/Calls.json"):
            if "Twiml" not in form and "Url" not in form:
                return 400, "application/json", _twilio_error(400, 21205, "Url parameter is required."), {}
            record = _fixture("twilio/calls_create_201_oai_example.json")
            record.update(sid=f"CA{n:032x}", to=to, status="queued", direction="outbound-api")
        else:
            return 404, "application/json", _twilio_error(404, 20404, "The requested resource was not found"), {}
        return 201, "application/json", json.dumps(record).encode(), {}

    def _sendgrid(self, path: str, headers: dict[str, str], body: bytes) -> tuple[int, str, bytes, dict[str, str]]:
        if headers.get("Authorization") != f"Bearer {SENDGRID_KEY}":
            return 401, "application/json", json.dumps({"errors": [{
                "field": None, "message": "The provided authorization grant is invalid, expired, or revoked"}]}).encode(), {}
        mail = json.loads(body)
        if not mail.get("personalizations") or not mail.get("from") or not mail.get("content"):
            return 400, "application/json", json.dumps({"errors": [{
                "message": "The personalizations field is required.", "field": "personalizations"}]}).encode(), {}
        return 202, "", b"", {"X-Message-Id": f"fl{next(self._ids):020d}"}

    def _slack(self, path: str, headers: dict[str, str], body: bytes) -> tuple[int, str, bytes, dict[str, str]]:
        if headers.get("Authorization") != f"Bearer {SLACK_TOKEN}":
            return 200, "application/json", json.dumps({"ok": False, "error": "invalid_auth"}).encode(), {}
        args = json.loads(body) if body.startswith(b"{") else dict(parse_qsl(body.decode()))
        channel = str(args.get("channel", ""))
        if not channel.startswith(("C", "D", "G", "U", "W")):
            return 200, "application/json", json.dumps({"ok": False, "error": "channel_not_found"}).encode(), {}
        record = _fixture("slack/chat_postMessage_200_ok_docs_example.json")
        ts = f"{1503435956 + next(self._ids)}.000247"
        record.update(channel=channel, ts=ts)
        record["message"].update(text=args.get("text", ""), ts=ts)
        return 200, "application/json", json.dumps(record).encode(), {}

    def _hooks(self, path: str, headers: dict[str, str], body: bytes) -> tuple[int, str, bytes, dict[str, str]]:
        try:
            payload = json.loads(body)
        except ValueError:
            payload = None
        if not isinstance(payload, dict) or not (payload.get("text") or payload.get("blocks")):
            return self._fault("hooks", 400)
        return 200, "text/html", (FIXTURES / "slack/incoming_webhook_response_body_ok_docs.txt").read_bytes(), {}

    def _teams(self, path: str, headers: dict[str, str], body: bytes) -> tuple[int, str, bytes, dict[str, str]]:
        payload = json.loads(body)
        attachments = payload.get("attachments") if isinstance(payload, dict) else None
        if payload.get("type") != "message" or not attachments or \
                attachments[0].get("contentType") != "application/vnd.microsoft.card.adaptive":
            return 400, "application/json", b'{"error":{"code":"InvalidRequestContent"}}', {}
        return 202, "", b"", {"x-ms-workflow-run-id": f"0858{next(self._ids):016d}"}
