"""Model registry on the ``model_versions`` table: versions, training windows, features, metrics.

Registering a version makes it the active one for its (site, model name) and deactivates the
previous ones (kept for audit and comparison). The artifact is the pickled fitted model; it is
only ever produced and read by this application (never load artifacts from elsewhere).
"""
from __future__ import annotations

import datetime as dt
import hashlib
import pickle
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from data.models import ModelVersion, utcnow
from forecasting.models import Forecaster


def dump_model(model: Forecaster) -> bytes:
    """Return the fitted model as bytes."""
    return pickle.dumps(model, protocol=pickle.HIGHEST_PROTOCOL)


def load_model(artifact: bytes) -> Forecaster:
    """Return the model stored by :func:`dump_model` (trusted, app-produced bytes only)."""
    return pickle.loads(artifact)


def register_version(
    session: Session,
    *,
    site_id: str | None,
    model: Forecaster,
    train_start: dt.datetime,
    train_end: dt.datetime,
    features: list[str],
    metrics: dict[str, Any],
    serving: str = "local",
    trained_at: dt.datetime | None = None,
) -> ModelVersion:
    """Store a fitted model as the new active version for (site, model name) and return the row."""
    artifact = dump_model(model)
    trained_at = trained_at or utcnow()
    digest = hashlib.sha256(artifact).hexdigest()[:8]
    version = f"{train_end:%Y%m%dT%H%M}-{trained_at:%Y%m%dT%H%M%S}-{digest}"
    session.execute(
        update(ModelVersion)
        .where(ModelVersion.site_id == site_id, ModelVersion.model_name == model.name, ModelVersion.is_active.is_(True))
        .values(is_active=False)
    )
    row = ModelVersion(
        site_id=site_id, model_name=model.name, version=version, trained_at=trained_at,
        train_start=train_start, train_end=train_end, features=list(features), metrics=_jsonable(metrics),
        artifact=artifact, serving=serving, is_active=True,
    )
    session.add(row)
    session.flush()
    return row


def active_version(session: Session, site_id: str | None, model_name: str) -> ModelVersion | None:
    """Return the active version for (site, model name), or None."""
    return session.scalars(
        select(ModelVersion)
        .where(ModelVersion.site_id == site_id, ModelVersion.model_name == model_name, ModelVersion.is_active.is_(True))
        .order_by(ModelVersion.trained_at.desc())
        .limit(1)
    ).first()


def list_versions(session: Session, site_id: str | None = None, limit: int = 100) -> list[dict[str, Any]]:
    """Return recent versions (newest first) as dicts without the artifact."""
    query = select(
        ModelVersion.id, ModelVersion.site_id, ModelVersion.model_name, ModelVersion.version,
        ModelVersion.trained_at, ModelVersion.train_start, ModelVersion.train_end, ModelVersion.features,
        ModelVersion.metrics, ModelVersion.serving, ModelVersion.is_active,
    ).order_by(ModelVersion.trained_at.desc(), ModelVersion.id.desc()).limit(limit)
    if site_id is not None:
        query = query.where(ModelVersion.site_id == site_id)
    return [dict(r._mapping) for r in session.execute(query)]


def _jsonable(value: Any) -> Any:
    import math

    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if hasattr(value, "item"):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value
