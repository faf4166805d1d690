"""A local Salesforce OAuth 2.0 server answering with the recorded token payloads.

Token endpoint responses are tests/fixtures/salesforce/oauth2_token_success.json (the web-server
flow's answer additionally carries ``refresh_token`` and ``scope``, as Salesforce documents for
apps granted the ``refresh_token`` scope) and oauth2_token_error_invalid_grant.json (HTTP 400).
PKCE is enforced: the code is bound to the S256 challenge of the authorize step.
"""
from __future__ import annotations

import base64
import hashlib
import json
import secrets
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "salesforce"
SUCCESS = json.loads((FIXTURES / "oauth2_token_success.json").read_text())
INVALID_GRANT = (FIXTURES / "oauth2_token_error_invalid_grant.json").read_bytes()
QUERY = (FIXTURES / "soql_query_success_restforce_fixture.json").read_bytes()


class SalesforceServer:
    """Run with ``with SalesforceServer("client-id") as sf: ...``; ``sf.url`` is the login URL."""

    def __init__(self, client_id: str) -> None:
        self.client_id = client_id
        self.codes: dict[str, tuple[str, str]] = {}  # code -> (challenge, redirect_uri)
        self.refresh_tokens: set[str] = set()
        self.revoked: list[str] = []
        self.requests: list[dict] = []
        self.access_expired = False
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *_args):
                return

            def _send(self, status: int, body: bytes, ctype: str = "application/json") -> None:
                self.send_response(status)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_GET(self) -> None:
                if self.path.startswith("/services/data/"):
                    if outer.access_expired or self.headers.get("Authorization") != f"Bearer {SUCCESS['access_token']}":
                        self._send(401, b'[{"message":"Session expired or invalid","errorCode":"INVALID_SESSION_ID"}]')
                    else:
                        self._send(200, QUERY)
                    return
                self._send(404, b"{}")

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                form = {k: v[0] for k, v in parse_qs(self.rfile.read(length).decode()).items()}
                outer.requests.append({"path": self.path, "form": form})
                if self.path == "/services/oauth2/token":
                    self._send(*outer.token(form))
                elif self.path == "/services/oauth2/revoke":
                    token = form.get("token", "")
                    if token in outer.refresh_tokens:
                        outer.refresh_tokens.discard(token)
                        outer.revoked.append(token)
                        self._send(200, b"")
                    else:
                        self._send(400, b'{"error":"unsupported_token_type","error_description":"this token type is not supported"}')
                else:
                    self._send(404, b"{}")

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def __enter__(self) -> SalesforceServer:
        self.thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    def issue_code(self, challenge: str, redirect_uri: str) -> str:
        """Do what the authorize page does after the user consents: return a code bound to the challenge."""
        code = "aPrx" + secrets.token_urlsafe(16)
        self.codes[code] = (challenge, redirect_uri)
        return code

    def token(self, form: dict[str, str]) -> tuple[int, bytes]:
        """Answer the token endpoint."""
        if form.get("client_id") != self.client_id:
            return 400, b'{"error":"invalid_client_id","error_description":"client identifier invalid"}'
        grant = form.get("grant_type")
        if grant == "authorization_code":
            bound = self.codes.pop(form.get("code", ""), None)
            verifier = form.get("code_verifier", "")
            digest = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
            if bound is None or bound[0] != digest or bound[1] != form.get("redirect_uri"):
                return 400, INVALID_GRANT
            refresh = "5Aep861" + secrets.token_urlsafe(24)
            self.refresh_tokens.add(refresh)
            return 200, json.dumps({**SUCCESS, "refresh_token": refresh, "scope": "api refresh_token"}).encode()
        if grant == "refresh_token":
            if form.get("refresh_token") not in self.refresh_tokens:
                return 400, INVALID_GRANT
            self.access_expired = False
            return 200, json.dumps(SUCCESS).encode()
        return 400, b'{"error":"unsupported_grant_type","error_description":"grant type not supported"}'
