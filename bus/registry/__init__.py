"""Schema registry of the bus: every topic's message schema, versioned, exported as JSON Schema.

Producers call :func:`validate` before publishing and consumers call it before handling, both
against the version the message names in its ``v`` field. Registering a new version of a topic
runs :func:`check_compatible` (BACKWARD compatibility, as in Confluent's registry: a consumer on
the new version must still accept every message valid under the previous one) and refuses a
breaking change with :class:`IncompatibleSchema`. Published versions are frozen as JSON files in
``bus/registry/snapshots`` (:func:`snapshot_drift` reports a model that no longer matches).
"""
from __future__ import annotations

import json
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

SNAPSHOT_DIR = Path(__file__).resolve().parent / "snapshots"


class SchemaError(ValueError):
    """A message does not match its topic's registered schema; the text names what is wrong."""


class IncompatibleSchema(ValueError):
    """A new schema version would break consumers of the previous version."""


@dataclass(frozen=True)
class TopicVersion:
    """One registered (topic, version) with its model and JSON Schema."""

    topic: str
    version: int
    model: type[BaseModel]
    merge_fields: tuple[str, ...]

    def json_schema(self) -> dict[str, Any]:
        """Return the version's JSON Schema (draft 2020-12, as produced by pydantic)."""
        schema = self.model.model_json_schema()
        schema["$id"] = f"fleetlight:{self.topic}:v{self.version}"
        return schema


def _inline(schema: Any, defs: dict[str, Any]) -> Any:
    """Return ``schema`` with local ``$ref``s to ``$defs`` replaced by their targets."""
    if isinstance(schema, dict):
        ref = schema.get("$ref")
        if isinstance(ref, str) and ref.startswith("#/$defs/"):
            return _inline(defs[ref.split("/")[-1]], defs)
        return {k: _inline(v, defs) for k, v in schema.items() if k != "$defs"}
    if isinstance(schema, list):
        return [_inline(v, defs) for v in schema]
    return schema


def _types(schema: dict[str, Any]) -> set[str] | None:
    if "anyOf" in schema:
        out: set[str] = set()
        for sub in schema["anyOf"]:
            t = _types(sub)
            if t is None:
                return None
            out |= t
        return out
    t = schema.get("type")
    if t is None:
        return None  # any value
    return set(t) if isinstance(t, list) else {t}


def _accepts_types(new: set[str] | None, old: set[str] | None) -> bool:
    if new is None:
        return True
    if old is None:
        return False
    widened = set(new) | ({"integer"} if "number" in new else set())
    return old <= widened


def _compare(old: dict[str, Any], new: dict[str, Any], path: str, problems: list[str]) -> None:
    where = path or "message"
    old_t, new_t = _types(old), _types(new)
    if not _accepts_types(new_t, old_t):
        problems.append(f"{where}: type {sorted(old_t or ['any'])} narrowed to {sorted(new_t or ['any'])}")
        return
    if "const" in new and old.get("const") != new["const"]:
        problems.append(f"{where}: constant changed from {old.get('const')!r} to {new['const']!r}")
    if "enum" in new:
        missing = [v for v in old.get("enum", [old["const"]] if "const" in old else []) if v not in new["enum"]]
        if missing or ("enum" not in old and "const" not in old):
            problems.append(f"{where}: enum no longer accepts {missing or 'every value'}")
    for key, tighter in (("maxLength", min), ("maxItems", min), ("maximum", min),
                         ("minLength", max), ("minItems", max), ("minimum", max)):
        if key in new and (key not in old or tighter(old[key], new[key]) != old[key]):
            problems.append(f"{where}: {key} tightened from {old.get(key)!r} to {new[key]!r}")
    if "properties" in new or "properties" in old:
        old_props, new_props = old.get("properties", {}), new.get("properties", {})
        for name in sorted(set(new.get("required", [])) - set(old.get("required", []))):
            problems.append(f"{where}.{name}: newly required (old messages do not carry it)")
        if new.get("additionalProperties") is False:
            for name in sorted(set(old_props) - set(new_props)):
                problems.append(f"{where}.{name}: removed while extra fields are forbidden")
        for name in sorted(set(old_props) & set(new_props)):
            _compare(old_props[name], new_props[name], f"{where}.{name}", problems)
    if "prefixItems" in new or "prefixItems" in old:
        old_items, new_items = old.get("prefixItems", []), new.get("prefixItems", [])
        if len(old_items) != len(new_items):
            problems.append(f"{where}: tuple length changed from {len(old_items)} to {len(new_items)}")
        for i, (o, n) in enumerate(zip(old_items, new_items, strict=False)):
            _compare(o, n, f"{where}[{i}]", problems)
    elif isinstance(new.get("items"), dict):
        _compare(old.get("items", {}), new["items"], f"{where}[]", problems)


def check_compatible(old_schema: dict[str, Any], new_schema: dict[str, Any]) -> list[str]:
    """Return the breaking changes from ``old_schema`` to ``new_schema`` (empty list: compatible).

    BACKWARD rule: every message valid under the old schema must stay valid under the new one
    (no new required field, no narrowed type, enum, bound or tuple, no removed field when extra
    fields are forbidden). ``$ref``s into ``$defs`` are resolved first.
    """
    old = _inline(old_schema, old_schema.get("$defs", {}))
    new = _inline(new_schema, new_schema.get("$defs", {}))
    problems: list[str] = []
    _compare(old, new, "", problems)
    return problems


class Registry:
    """The registered topics and their versions."""

    def __init__(self) -> None:
        self._topics: dict[str, dict[int, TopicVersion]] = {}
        self._lock = threading.Lock()

    def register(self, topic: str, version: int, model: type[BaseModel], merge_fields: tuple[str, ...] = ()) -> TopicVersion:
        """Register ``model`` as ``version`` of ``topic``; raise IncompatibleSchema on a breaking change."""
        entry = TopicVersion(topic, version, model, tuple(merge_fields))
        with self._lock:
            versions = self._topics.setdefault(topic, {})
            if version in versions:
                if versions[version].model is model:
                    return versions[version]
                raise IncompatibleSchema(f"{topic} v{version} is already registered; add v{version + 1} instead")
            older = [v for v in versions if v < version]
            if older:
                previous = versions[max(older)]
                problems = check_compatible(previous.json_schema(), entry.json_schema())
                if problems:
                    raise IncompatibleSchema(
                        f"{topic} v{version} breaks v{previous.version}: " + "; ".join(problems)
                    )
            versions[version] = entry
        return entry

    def topics(self) -> list[str]:
        """Return the registered topic names, sorted."""
        return sorted(self._topics)

    def versions(self, topic: str) -> list[TopicVersion]:
        """Return the versions of ``topic``, oldest first; KeyError for an unknown topic."""
        if topic not in self._topics:
            raise KeyError(f"unknown topic {topic!r}; registered: {', '.join(self.topics())}")
        return [self._topics[topic][v] for v in sorted(self._topics[topic])]

    def current(self, topic: str) -> TopicVersion:
        """Return the newest version of ``topic``."""
        return self.versions(topic)[-1]

    def get(self, topic: str, version: int) -> TopicVersion:
        """Return ``version`` of ``topic``; KeyError naming what is registered otherwise."""
        for entry in self.versions(topic):
            if entry.version == version:
                return entry
        raise KeyError(f"{topic} has no version {version}")

    def validate(self, topic: str, message: Any) -> BaseModel:
        """Return ``message`` parsed by the schema version it names (``v``); raise SchemaError if invalid."""
        if topic not in self._topics:
            raise SchemaError(f"topic {topic!r} has no registered schema")
        if not isinstance(message, dict):
            raise SchemaError(f"{topic}: message must be a JSON object, got {type(message).__name__}")
        version = message.get("v")
        if not isinstance(version, int) or isinstance(version, bool) or version not in self._topics[topic]:
            known = ", ".join(str(v) for v in sorted(self._topics[topic]))
            raise SchemaError(f"{topic}: field 'v' must name a registered version ({known}), got {version!r}")
        try:
            return self._topics[topic][version].model.model_validate(message)
        except ValidationError as exc:
            errors = exc.errors()
            first = errors[0]
            loc = ".".join(str(p) for p in first.get("loc", ())) or "message"
            more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
            raise SchemaError(f"{topic} v{version}: {loc}: {first.get('msg')}{more}") from None

    def describe(self) -> list[dict[str, Any]]:
        """Return every topic with its versions and JSON Schemas (the API and admin view read this)."""
        return [
            {
                "topic": topic,
                "current_version": self.current(topic).version,
                "versions": [
                    {"version": e.version, "merge_fields": list(e.merge_fields), "schema": e.json_schema()}
                    for e in self.versions(topic)
                ],
            }
            for topic in self.topics()
        ]


def snapshot_path(topic: str, version: int) -> Path:
    """Return the committed snapshot file of ``topic`` ``version``."""
    return SNAPSHOT_DIR / f"{topic}.v{version}.schema.json"


def snapshot_drift(registry: Registry) -> list[str]:
    """Return a line per registered version whose model no longer matches its committed snapshot.

    A version without a snapshot is reported too (freeze it with ``python -m bus.registry freeze``).
    """
    problems = []
    for topic in registry.topics():
        for entry in registry.versions(topic):
            path = snapshot_path(topic, entry.version)
            if not path.exists():
                problems.append(f"{topic} v{entry.version}: no snapshot at {path.name}; run python -m bus.registry freeze")
                continue
            frozen = json.loads(path.read_text())
            if frozen != entry.json_schema():
                breaking = check_compatible(frozen, entry.json_schema())
                detail = "; ".join(breaking) if breaking else "compatible change"
                problems.append(f"{topic} v{entry.version}: changed after publication ({detail}); add a new version")
    return problems


def freeze(registry: Registry) -> list[Path]:
    """Write a snapshot for every version that has none; return the files written."""
    SNAPSHOT_DIR.mkdir(parents=True, exist_ok=True)
    written = []
    for topic in registry.topics():
        for entry in registry.versions(topic):
            path = snapshot_path(topic, entry.version)
            if not path.exists():
                path.write_text(json.dumps(entry.json_schema(), indent=2, sort_keys=True) + "\n")
                written.append(path)
    return written


def _default_registry() -> Registry:
    from bus.registry.topics import TOPICS

    registry = Registry()
    for topic, version, model, merge_fields in TOPICS:
        registry.register(topic, version, model, merge_fields)
    return registry


REGISTRY = _default_registry()


def validate(topic: str, message: Any) -> BaseModel:
    """Validate ``message`` against the process registry (see :meth:`Registry.validate`)."""
    return REGISTRY.validate(topic, message)


__all__ = [
    "REGISTRY", "IncompatibleSchema", "Registry", "SchemaError", "TopicVersion", "check_compatible",
    "freeze", "snapshot_drift", "validate",
]
