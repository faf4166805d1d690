"""Salesforce web-server flow with PKCE through the app's routes, refresh, retry on 401, revocation."""
from __future__ import annotations

import json
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from sqlalchemy import select

from data.models import Event, SecretRecord
from tests.security.conftest import csrf_header
from tests.security.salesforce_server import SUCCESS, SalesforceServer


@pytest.fixture()
def salesforce(services):
    from gateway.core import Gateway

    with SalesforceServer("3MVG9-test-client") as server:
        services.settings = services.settings.model_copy(update={
            "salesforce_client_id": "3MVG9-test-client",
            "provider_base_urls": {**services.settings.provider_base_urls, "salesforce_login": server.url}})
        services.gateway = Gateway(services.settings, db=services.db)  # as bootstrap wires a web process
        try:
            yield server
        finally:
            services.gateway.close()
            services.gateway = None


def _connect(client, server):
    start = client.get("/integrations/salesforce/connect")
    assert start.status_code == 302
    location = urlsplit(start.headers["Location"])
    assert f"{location.scheme}://{location.netloc}" == server.url and location.path == "/services/oauth2/authorize"
    query = {k: v[0] for k, v in parse_qs(location.query).items()}
    assert query["code_challenge_method"] == "S256" and query["response_type"] == "code"
    assert query["client_id"] == "3MVG9-test-client" and "refresh_token" in query["scope"]
    code = server.issue_code(query["code_challenge"], query["redirect_uri"])
    return client.get("/integrations/salesforce/callback", query_string={"code": code, "state": query["state"]}), query


def test_connect_refresh_call_and_revoke(signed_in, services, salesforce):
    admin = signed_in("admin")
    done, _query = _connect(admin, salesforce)
    assert done.status_code == 302 and done.headers["Location"] == "/admin?connected=salesforce"
    with services.db.session() as s:
        stored = s.get(SecretRecord, "oauth:salesforce").ciphertext
    assert SUCCESS["access_token"].encode() not in stored  # encrypted at rest
    from security.oauth import salesforce_session

    sf = salesforce_session()
    record = sf.stored()
    assert record["instance_url"] == "https://na1.salesforce.com" and record["refresh_token"].startswith("5Aep861")
    exchange = salesforce.requests[0]["form"]
    assert exchange["grant_type"] == "authorization_code" and len(exchange["code_verifier"]) >= 43

    # an API call that meets an expired session refreshes once and retries
    salesforce.access_expired = True
    calls = []

    def send(token):
        calls.append(token.access_token)
        return httpx.get(f"{salesforce.url}/services/data/v59.0/query", params={"q": "SELECT Id FROM Case"},
                         headers={"Authorization": f"Bearer {token.access_token}"}, timeout=5)

    response = sf.call(send)
    assert response.status_code == 200 and response.json()["totalSize"] == 1
    assert len(calls) == 2
    assert sf.stored()["refresh_token"] == record["refresh_token"]  # kept: refresh answers omit it

    assert admin.post("/integrations/salesforce/revoke", headers=csrf_header(admin)).status_code == 302
    assert salesforce.revoked == [record["refresh_token"]]
    assert sf.stored() is None
    with services.db.session() as s:
        kinds = [e.kind for e in s.execute(select(Event).where(Event.kind.startswith("oauth."))).scalars()]
    assert kinds == ["oauth.connected", "oauth.refreshed", "oauth.revoked"]
    # token exchange, refresh and revocation went through the gateway (issue 11, item 10)
    stats = services.gateway.call_log.snapshot()["salesforce"]
    assert stats["calls"] == 3 and stats["ok"] == 3, stats
    assert {r["provider"]: r["family"] for r in services.gateway.status()}["salesforce"] == "crm"


def test_forged_state_and_wrong_verifier_are_refused(signed_in, services, salesforce):
    admin = signed_in("admin")
    start = admin.get("/integrations/salesforce/connect")
    query = {k: v[0] for k, v in parse_qs(urlsplit(start.headers["Location"]).query).items()}
    code = salesforce.issue_code(query["code_challenge"], query["redirect_uri"])
    forged = admin.get("/integrations/salesforce/callback", query_string={"code": code, "state": "attacker-state"})
    assert forged.status_code == 400 and "state" in forged.get_data(as_text=True)
    # a code bound to another challenge (an intercepted code used without its verifier) fails
    admin.get("/integrations/salesforce/connect")
    with admin.session_transaction() as sess:
        state = sess["fl_sf_state"]
    stolen = salesforce.issue_code("another-challenge", query["redirect_uri"])
    refused = admin.get("/integrations/salesforce/callback", query_string={"code": stolen, "state": state})
    assert refused.status_code == 400 and "invalid_grant" in refused.get_data(as_text=True)


def test_refresh_with_a_revoked_token_fails_cleanly(signed_in, services, salesforce):
    from security.oauth import OAuthError, salesforce_session

    admin = signed_in("admin")
    _connect(admin, salesforce)
    salesforce.refresh_tokens.clear()  # revoked at Salesforce by someone else
    with pytest.raises(OAuthError, match="invalid_grant"):
        salesforce_session().refresh()


def test_only_admins_connect(signed_in, salesforce):
    assert signed_in("manager").get("/integrations/salesforce/connect").status_code == 403


def test_unconfigured_salesforce_is_explained(signed_in, services):
    services.settings = services.settings.model_copy(update={"salesforce_client_id": None})
    response = signed_in("admin").get("/integrations/salesforce/connect")
    assert response.status_code == 400 and "FLEETLIGHT_SALESFORCE_CLIENT_ID" in response.get_data(as_text=True)
    assert json
