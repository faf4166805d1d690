"""/api/v1/admin/...: users, API and wall tokens, secrets and the audit log (permission ``admin``).

Every change is audited by the functions it calls (security.users, security.tokens via
:func:`_audit_token`, security.vault). Token clear text is returned once, at creation.
"""
from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from flask import Blueprint, Response, jsonify, request
from pydantic import BaseModel, ConfigDict, Field

from api import spec
from api.errors import ApiError
from core.runtime import db
from data.admin_queries import list_tokens
from data.models import Role, utcnow
from security import audit
from security.access import PERMISSIONS, require

RoleName = Literal["viewer", "wall", "analyst", "operator", "manager", "admin"]
UserRoleName = Literal["viewer", "analyst", "operator", "manager", "admin"]
KNOWN_SCOPES = sorted(set(PERMISSIONS) | {"read", "*"})


class NewUser(BaseModel):
    """Body of POST /admin/users."""

    model_config = ConfigDict(extra="forbid")

    username: str = Field(min_length=2, max_length=100, pattern=r"^[A-Za-z0-9_.@-]+$")
    password: str = Field(min_length=12, max_length=1024)
    role: UserRoleName = "viewer"
    email: str = Field("", max_length=200)
    portfolio_scope: list[str] = Field(default_factory=list, max_length=100)


class UserChange(BaseModel):
    """Body of PATCH /admin/users/{user_id} (every field optional)."""

    model_config = ConfigDict(extra="forbid")

    role: UserRoleName | None = None
    is_active: bool | None = None
    portfolio_scope: list[str] | None = Field(None, max_length=100)
    unlock: bool = False
    password: str | None = Field(None, min_length=12, max_length=1024)


class NewToken(BaseModel):
    """Body of POST /admin/tokens."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=100)
    role: RoleName = "viewer"
    scopes: list[Literal[tuple(KNOWN_SCOPES)]] = Field(default_factory=lambda: ["read"], max_length=20)  # type: ignore[valid-type]
    expires_days: int | None = Field(None, ge=1, le=3650)


class AuditQueryArgs(BaseModel):
    """Query of GET /admin/audit and /admin/audit.csv."""

    model_config = ConfigDict(extra="forbid")

    kind: str | None = Field(None, max_length=64, description="event kind prefix, e.g. 'user.'")
    actor: str | None = Field(None, max_length=100)
    start: dt.datetime | None = Field(None, description="ISO 8601 with zone; events at or after")
    end: dt.datetime | None = Field(None, description="ISO 8601 with zone; events before")
    limit: int = Field(1000, ge=1, le=100_000)


class SecretValue(BaseModel):
    """Body of PUT /admin/secrets/{name}."""

    model_config = ConfigDict(extra="forbid")

    value: str = Field(min_length=1, max_length=10_000)
    mode: Literal["replace", "add_version"] = "add_version"


def _user_json(u: Any) -> dict[str, Any]:
    return {"id": u.id, "username": u.username, "email": u.email, "role": u.role.value, "is_active": u.is_active,
            "created_at": u.created_at.isoformat() if u.created_at else None, "failed_logins": u.failed_logins,
            "locked_until": u.locked_until.isoformat() if u.locked_until else None,
            "portfolio_scope": list(u.portfolio_scope)}


def _token_json(t: dict[str, Any]) -> dict[str, Any]:
    return {k: (v.isoformat() if isinstance(v, dt.datetime) else v) for k, v in t.items()}


def _aware(value: dt.datetime | None, name: str) -> dt.datetime | None:
    if value is None:
        return None
    if value.tzinfo is None:
        raise ApiError(400, f"{name} must carry a time zone, e.g. 2026-01-01T00:00:00Z")
    try:
        return value.astimezone(dt.UTC)
    except OverflowError:
        raise ApiError(400, f"{name} is out of range") from None


def _audit_query() -> audit.AuditQuery:
    args = AuditQueryArgs.model_validate(request.args.to_dict())
    return audit.AuditQuery(args.kind, args.actor, _aware(args.start, "start"), _aware(args.end, "end"), args.limit)


MAX_ID = 2_147_483_647  # ids are 32-bit integers in the database


def _int_id(raw: str, what: str) -> int:
    if not raw.isdigit() or len(raw) > 10 or int(raw) > MAX_ID:
        raise ApiError(404, f"no {what} with id {raw!r}")
    return int(raw)


def _json_body(model: type[BaseModel]) -> Any:
    data = request.get_json(silent=True)
    if not isinstance(data, dict):
        raise ApiError(400, "expected a JSON object body")
    return model.model_validate(data)


def create_admin_token(name: str, role: Role, scopes: list[str], expires_days: int | None, actor: str) -> tuple[str, int]:
    """Create a token, audit it, and return (clear text shown once, token id)."""
    from sqlalchemy import select

    from data.models import ApiToken
    from security.tokens import create_token, hash_token

    expires_at = utcnow() + dt.timedelta(days=expires_days) if expires_days else None
    token = create_token(db(), name, scopes, role, None, expires_at)
    with db().session() as s:
        token_id = s.execute(select(ApiToken.id).where(ApiToken.token_hash == hash_token(token))).scalar_one()
    audit.record(db(), actor, "token.created", "token", str(token_id),
                 {"name": name, "role": role.value, "scopes": scopes, "prefix": token[:10],
                  "expires_at": expires_at.isoformat() if expires_at else None})
    return token, token_id


def revoke_admin_token(token_id: int, actor: str) -> bool:
    """Revoke the token ``token_id`` and audit it; return False if it was unknown or already revoked."""
    from security.tokens import revoke_token

    done = revoke_token(db(), token_id)
    if done:
        audit.record(db(), actor, "token.revoked", "token", str(token_id), {})
    return done


def register(bp: Blueprint) -> None:
    """Add the admin routes to ``bp``."""
    from security.passwords import WeakPassword
    from security.users import UserError, create_user, list_users, update_user
    from security.vault import VaultError, get_vault

    @bp.get("/admin/users")
    @require("admin")
    def admin_users():
        return jsonify({"users": [_user_json(u) for u in list_users(db())]})

    @bp.post("/admin/users")
    @require("admin")
    def admin_create_user():
        body = _json_body(NewUser)
        try:
            user = create_user(db(), body.username, body.password, Role(body.role), body.email, body.portfolio_scope,
                               actor=audit.actor_name())
        except (UserError, WeakPassword) as exc:
            raise ApiError(400, str(exc)) from None
        return jsonify(_user_json(user)), 201

    @bp.patch("/admin/users/<user_id>")
    @require("admin")
    def admin_update_user(user_id: str):
        uid = _int_id(user_id, "user")
        body = _json_body(UserChange)
        try:
            user = update_user(db(), uid, audit.actor_name(), role=Role(body.role) if body.role else None,
                               is_active=body.is_active, portfolio_scope=body.portfolio_scope, unlock=body.unlock,
                               password=body.password)
        except WeakPassword as exc:
            raise ApiError(400, str(exc)) from None
        except UserError as exc:
            raise ApiError(404 if "no user" in str(exc) else 409, str(exc)) from None
        return jsonify(_user_json(user))

    @bp.get("/admin/tokens")
    @require("admin")
    def admin_tokens():
        return jsonify({"tokens": [_token_json(t) for t in list_tokens(db())]})

    @bp.post("/admin/tokens")
    @require("admin")
    def admin_create_token():
        body = _json_body(NewToken)
        scopes = list(dict.fromkeys(body.scopes))
        token, token_id = create_admin_token(body.name, Role(body.role), scopes, body.expires_days, audit.actor_name())
        out: dict[str, Any] = {"id": token_id, "token": token, "name": body.name, "role": body.role, "scopes": scopes}
        if body.role == "wall":
            out["activation_url"] = request.host_url.rstrip("/") + "/wall/activate?token=" + token
        return jsonify(out), 201

    @bp.delete("/admin/tokens/<token_id>")
    @require("admin")
    def admin_revoke_token(token_id: str):
        if not revoke_admin_token(_int_id(token_id, "token"), audit.actor_name()):
            raise ApiError(404, f"no active token with id {token_id}")
        return Response(status=204)

    @bp.get("/admin/audit")
    @require("admin")
    def admin_audit():
        rows = audit.list_events(db(), _audit_query())
        return jsonify({"count": len(rows), "events": [{**r, "ts": r["ts"].isoformat()} for r in rows]})

    @bp.get("/admin/audit.csv")
    @require("admin")
    def admin_audit_csv():
        rows = audit.list_events(db(), _audit_query())
        stamp = utcnow().strftime("%Y%m%dT%H%M%SZ")
        return Response(audit.to_csv(rows), mimetype="text/csv",
                        headers={"Content-Disposition": f'attachment; filename="fleetlight-audit-{stamp}.csv"'})

    @bp.get("/admin/secrets")
    @require("admin")
    def admin_secrets():
        infos = get_vault().list()
        return jsonify({"secrets": [{"name": i.name, "versions": i.versions, "fingerprints": list(i.fingerprints),
                                     "updated_at": i.updated_at.isoformat() if i.updated_at else None} for i in infos]})

    @bp.put("/admin/secrets/<path:name>")
    @require("admin")
    def admin_put_secret(name: str):
        body = _json_body(SecretValue)
        try:
            if body.mode == "replace":
                get_vault().put(name, body.value, actor=audit.actor_name())
            else:
                get_vault().add_version(name, body.value, actor=audit.actor_name())
        except VaultError as exc:
            raise ApiError(400, str(exc)) from None
        return Response(status=204)

    @bp.delete("/admin/secrets/<path:name>/versions/<fingerprint>")
    @require("admin")
    def admin_retire_secret(name: str, fingerprint: str):
        try:
            found = get_vault().retire_version(name, fingerprint, actor=audit.actor_name())
        except VaultError as exc:
            raise ApiError(400, str(exc)) from None
        if not found:
            raise ApiError(404, f"secret {name!r} has no version {fingerprint!r}")
        return Response(status=204)

    _describe()


def _describe() -> None:
    json_body = lambda model: {"required": True, "content": {"application/json": {"schema": spec.schema_ref(model)}}}  # noqa: E731
    user_id = [{"name": "user_id", "in": "path", "required": True, "schema": {"type": "integer"}}]
    token_id = [{"name": "token_id", "in": "path", "required": True, "schema": {"type": "integer"}}]
    secret_name = [{"name": "name", "in": "path", "required": True, "schema": {"type": "string", "maxLength": 100}}]
    spec.add_path("/admin/users", "get", {"summary": "Users (admin)", "responses": {"200": {"description": "users"}}})
    spec.add_path("/admin/users", "post", {"summary": "Create a user (admin)", "requestBody": json_body(NewUser),
                                           "responses": {"201": {"description": "created"}}})
    spec.add_path("/admin/users/{user_id}", "patch", {
        "summary": "Change a user's role, status, scope, lock or password (admin)", "parameters": user_id,
        "requestBody": json_body(UserChange), "responses": {"200": {"description": "changed"}}})
    spec.add_path("/admin/tokens", "get", {"summary": "API and wall tokens (admin)",
                                            "responses": {"200": {"description": "tokens"}}})
    spec.add_path("/admin/tokens", "post", {"summary": "Create a token; its clear text is returned once (admin)",
                                            "requestBody": json_body(NewToken),
                                            "responses": {"201": {"description": "created"}}})
    spec.add_path("/admin/tokens/{token_id}", "delete", {"summary": "Revoke a token (admin)", "parameters": token_id,
                                                          "responses": {"204": {"description": "revoked"}}})
    for path, kind in (("/admin/audit", "JSON"), ("/admin/audit.csv", "CSV")):
        spec.add_path(path, "get", {"summary": f"Audit log as {kind}, newest first (admin)",
                                    "parameters": spec.query_parameters(AuditQueryArgs),
                                    "responses": {"200": {"description": "events"}}})
    spec.add_path("/admin/secrets", "get", {"summary": "Stored secrets: names and fingerprints only (admin)",
                                             "responses": {"200": {"description": "secrets"}}})
    spec.add_path("/admin/secrets/{name}", "put", {
        "summary": "Store a secret, or add a new version of it (rotation: add new, deploy, retire old) (admin)",
        "parameters": secret_name, "requestBody": json_body(SecretValue), "responses": {"204": {"description": "stored"}}})
    spec.add_path("/admin/secrets/{name}/versions/{fingerprint}", "delete", {
        "summary": "Retire one version of a secret (admin)",
        "parameters": secret_name + [{"name": "fingerprint", "in": "path", "required": True, "schema": {"type": "string"}}],
        "responses": {"204": {"description": "retired"}}})
