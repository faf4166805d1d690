"""Salesforce OAuth 2.0 web-server flow with PKCE (Authlib), token refresh and revocation.

Tokens (access, refresh, instance URL) live encrypted in the vault under ``oauth:salesforce``;
nothing else keeps them. Connectors call :func:`salesforce_session` for the current token and
:meth:`SalesforceOAuth.refresh` after a 401 (Salesforce access tokens carry no ``expires_in``).

Endpoints (``FLEETLIGHT_SALESFORCE_LOGIN_URL``, default https://login.salesforce.com; a
sandbox uses https://test.salesforce.com):
``/services/oauth2/authorize``, ``/services/oauth2/token``, ``/services/oauth2/revoke``.
https://help.salesforce.com/s/articleView?id=sf.remoteaccess_oauth_web_server_flow.htm

Every request to Salesforce goes through the integration gateway (provider ``salesforce``: rate
limit, breaker, call log, a row on /integrations): :class:`gateway.adapters.GatewayAdapter` is
mounted on Authlib's session. The token endpoint's 400/401 error bodies (``invalid_grant`` ...)
are the protocol's answers, handed to Authlib as they are.
"""
from __future__ import annotations

import json
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import requests
from authlib.common.errors import AuthlibBaseError
from authlib.integrations.requests_client import OAuth2Session

from core.settings import Settings
from security import audit
from security.vault import Vault

SECRET_NAME = "oauth:salesforce"
SCOPES = "api refresh_token"
TIMEOUT_S = 15
OAUTH_ANSWERS = frozenset({400, 401})  # RFC 6749 section 5.2: error responses of the token endpoint


class OAuthError(RuntimeError):
    """The OAuth exchange failed; the message names the step and the provider's error code."""


@dataclass(frozen=True)
class PendingAuthorization:
    """What the browser session keeps between the redirect and the callback."""

    url: str
    state: str
    code_verifier: str


@dataclass(frozen=True)
class SalesforceToken:
    """A usable Salesforce access token and the instance it is valid for."""

    access_token: str
    instance_url: str
    issued_at: float


class SalesforceOAuth:
    """The Salesforce connected-app client of this deployment."""

    def __init__(self, settings: Settings, vault: Vault, gateway: Any) -> None:
        if not settings.salesforce_client_id:
            raise OAuthError("Salesforce is not configured: set FLEETLIGHT_SALESFORCE_CLIENT_ID")
        self.client_id = settings.salesforce_client_id
        self.client_secret = settings.salesforce_client_secret.get_secret_value() if settings.salesforce_client_secret else None
        base = settings.provider_base_urls.get("salesforce_login") or settings.salesforce_login_url
        self.base_url = base.rstrip("/")
        self.vault = vault
        self.gateway = gateway

    def _session(self, redirect_uri: str | None = None) -> OAuth2Session:
        from gateway.adapters import GatewayAdapter

        session = OAuth2Session(self.client_id, self.client_secret, scope=SCOPES, redirect_uri=redirect_uri,
                                code_challenge_method="S256", token_endpoint_auth_method="client_secret_post"
                                if self.client_secret else "none", default_timeout=TIMEOUT_S)
        adapter = GatewayAdapter(self.gateway, "salesforce", answers=OAUTH_ANSWERS)
        session.mount("https://", adapter)
        session.mount("http://", adapter)
        return session

    def authorization(self, redirect_uri: str) -> PendingAuthorization:
        """Return the authorize URL (with state and an S256 code challenge) and what to remember."""
        verifier = secrets.token_urlsafe(64)
        url, state = self._session(redirect_uri).create_authorization_url(
            f"{self.base_url}/services/oauth2/authorize", code_verifier=verifier)
        return PendingAuthorization(url, state, verifier)

    def complete(self, pending_state: str, code_verifier: str, redirect_uri: str, state: str | None, code: str | None,
                 error: str | None = None, actor: str = "system") -> SalesforceToken:
        """Exchange the callback's ``code`` for tokens, store them encrypted, return the access token."""
        if error:
            raise OAuthError(f"Salesforce refused the authorization: {error}")
        if not state or not secrets.compare_digest(state, pending_state):
            raise OAuthError("OAuth state does not match this browser session (stale or forged callback)")
        if not code:
            raise OAuthError("OAuth callback carries no code")
        try:
            token = self._session(redirect_uri).fetch_token(
                f"{self.base_url}/services/oauth2/token", grant_type="authorization_code", code=code,
                code_verifier=code_verifier)
        except AuthlibBaseError as exc:
            raise OAuthError(f"token exchange failed: {exc.error}") from None
        except requests.RequestException as exc:
            raise OAuthError(f"token exchange failed: Salesforce unreachable ({type(exc).__name__})") from None
        stored = self._store(dict(token), previous=None)
        audit.record(self.vault.db, actor, "oauth.connected", "integration", "salesforce",
                     {"instance_url": stored["instance_url"], "id": stored.get("id", "")})
        return _usable(stored)

    def _store(self, token: dict[str, Any], previous: dict[str, Any] | None) -> dict[str, Any]:
        if "access_token" not in token or "instance_url" not in token:
            raise OAuthError("token response lacks access_token or instance_url")
        record = {k: token[k] for k in ("access_token", "refresh_token", "instance_url", "id", "scope", "token_type",
                                        "issued_at") if k in token}
        if "refresh_token" not in record and previous and previous.get("refresh_token"):
            record["refresh_token"] = previous["refresh_token"]  # refresh responses omit it
        record["stored_at"] = time.time()
        self.vault.put(SECRET_NAME, json.dumps(record), actor="system")
        return record

    def stored(self) -> dict[str, Any] | None:
        """Return the stored token record (access, refresh, instance_url...), or None."""
        raw = self.vault.get(SECRET_NAME)
        return None if raw is None else json.loads(raw)

    def refresh(self, actor: str = "system") -> SalesforceToken:
        """Use the refresh token for a new access token, store it and return it."""
        record = self.stored()
        if not record or not record.get("refresh_token"):
            raise OAuthError("Salesforce is not connected (no refresh token stored)")
        try:
            token = self._session().refresh_token(f"{self.base_url}/services/oauth2/token",
                                                  refresh_token=record["refresh_token"])
        except AuthlibBaseError as exc:
            audit.record(self.vault.db, actor, "oauth.refresh_failed", "integration", "salesforce", {"error": exc.error})
            raise OAuthError(f"token refresh failed: {exc.error}") from None
        except requests.RequestException as exc:
            raise OAuthError(f"token refresh failed: Salesforce unreachable ({type(exc).__name__})") from None
        stored = self._store(dict(token), previous=record)
        audit.record(self.vault.db, actor, "oauth.refreshed", "integration", "salesforce", {})
        return _usable(stored)

    def revoke(self, actor: str = "system") -> bool:
        """Revoke the refresh token at Salesforce (which ends its access tokens) and forget the tokens.

        Returns True if Salesforce confirmed; the local copy is deleted either way.
        """
        record = self.stored()
        if record is None:
            return False
        token = record.get("refresh_token") or record.get("access_token")
        confirmed = False
        try:
            response = self._session().revoke_token(f"{self.base_url}/services/oauth2/revoke", token=token)
            confirmed = response.status_code == 200
        except Exception:
            confirmed = False
        self.vault.delete(SECRET_NAME, actor=actor)
        audit.record(self.vault.db, actor, "oauth.revoked", "integration", "salesforce", {"confirmed": confirmed})
        return confirmed

    def call(self, send: Callable[[SalesforceToken], Any]) -> Any:
        """Call ``send(token)``; when it returns a response with status 401, refresh once and retry."""
        record = self.stored()
        if record is None:
            raise OAuthError("Salesforce is not connected")
        response = send(_usable(record))
        if getattr(response, "status_code", None) == 401:
            response = send(self.refresh())
        return response


def _usable(record: dict[str, Any]) -> SalesforceToken:
    issued = record.get("issued_at")
    issued_s = float(issued) / 1000.0 if issued else float(record.get("stored_at", time.time()))
    return SalesforceToken(record["access_token"], record["instance_url"], issued_s)


def salesforce_session() -> SalesforceOAuth:
    """Return the Salesforce OAuth client for the running app (raises OAuthError when unconfigured)."""
    from core.runtime import services
    from gateway import get_gateway
    from security.vault import get_vault

    svc = services()
    return SalesforceOAuth(svc.settings, get_vault(), svc.gateway or get_gateway())
