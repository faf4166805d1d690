"""Offline dependency audit: the pins of ``requirements.txt`` against a shipped advisory snapshot.

``pip-audit`` needs PyPI's per-version JSON API or OSV's web API, neither reachable from here or
from CI, and has no local-database mode; ``safety`` fetches its database at run time too. So the
project ships a compact snapshot of the PyPA Advisory Database (OSV format, CC-BY 4.0,
github.com/pypa/advisory-database) in ``security/advisories/pypa-osv.json.gz`` and matches the
pins against it here, with OSV's own range rules (``introduced``/``fixed``/``last_affected``
events over PEP 440 versions, plus explicit ``versions`` lists).

    python -m security.dependency_audit                       # exit 1 if a pin is affected
    python -m security.dependency_audit --build <checkout>    # refresh the snapshot from a checkout

An advisory that does not apply to how the project uses a package, or cannot be fixed yet, goes
into ``security/advisories/accepted.json`` with the reason; everything else fails the audit
(tests/security/test_dependency_audit.py runs it in CI).
"""
from __future__ import annotations

import argparse
import gzip
import json
import re
import sys
from dataclasses import dataclass
from pathlib import Path

from packaging.version import InvalidVersion, Version

HERE = Path(__file__).resolve().parent
SNAPSHOT = HERE / "advisories" / "pypa-osv.json.gz"
ACCEPTED = HERE / "advisories" / "accepted.json"
REQUIREMENTS = HERE.parent / "requirements.txt"
PIN = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)(?:\[[^\]]*\])?\s*==\s*([^\s;#]+)")


def normalise(name: str) -> str:
    """Return the PEP 503 normalised form of a distribution name."""
    return re.sub(r"[-_.]+", "-", name).lower()


def read_pins(path: Path = REQUIREMENTS) -> dict[str, str]:
    """Return {normalised name: pinned version} of every ``name==version`` line of ``path``."""
    pins: dict[str, str] = {}
    for line in path.read_text().splitlines():
        match = PIN.match(line)
        if match:
            pins[normalise(match.group(1))] = match.group(2)
    return pins


@dataclass(frozen=True)
class Finding:
    """A pinned version affected by an advisory."""

    package: str
    version: str
    advisory: str
    aliases: tuple[str, ...]
    fixed: tuple[str, ...]
    summary: str


def _parse(version: str) -> Version | None:
    try:
        return Version(version)
    except InvalidVersion:
        return None


def _in_range(version: Version, events: list[dict]) -> bool:
    """Return True if ``version`` falls in an OSV ECOSYSTEM range given by its ordered ``events``."""
    affected = False
    for event in events:
        if "introduced" in event:
            start = event["introduced"]
            bound = _parse(start)
            if start == "0" or (bound is not None and version >= bound):
                affected = True
        elif "fixed" in event:
            bound = _parse(event["fixed"])
            if affected and bound is not None and version >= bound:
                affected = False
        elif "last_affected" in event:
            bound = _parse(event["last_affected"])
            if affected and bound is not None and version > bound:
                affected = False
    return affected


def affects(entry: dict, version: str) -> bool:
    """Return True if the OSV ``affected`` entry covers ``version``."""
    if version in entry.get("versions", ()):
        return True
    parsed = _parse(version)
    if parsed is None:
        return False
    return any(r.get("type") == "ECOSYSTEM" and _in_range(parsed, r.get("events", [])) for r in entry.get("ranges", ()))


def load_snapshot(path: Path = SNAPSHOT) -> dict:
    """Return the snapshot: {"source", "commit", "date", "advisories": [compact OSV records]}."""
    with gzip.open(path, "rt", encoding="utf-8") as fh:
        return json.load(fh)


def load_accepted(path: Path = ACCEPTED) -> dict[str, str]:
    """Return {advisory id or alias: reason} of the advisories accepted on purpose."""
    if not path.exists():
        return {}
    return {item["id"]: item["reason"] for item in json.loads(path.read_text())["accepted"]}


def audit(pins: dict[str, str], advisories: list[dict]) -> list[Finding]:
    """Return every (pin, advisory) pair where the pinned version is affected, ordered by package."""
    findings = []
    for adv in advisories:
        for entry in adv.get("affected", []):
            name = normalise(entry.get("package", ""))
            version = pins.get(name)
            if version is None or not affects(entry, version):
                continue
            fixed = tuple(ev["fixed"] for r in entry.get("ranges", ()) if r.get("type") == "ECOSYSTEM"
                          for ev in r.get("events", ()) if "fixed" in ev)
            findings.append(Finding(name, version, adv["id"], tuple(adv.get("aliases", ())), fixed,
                                    adv.get("summary", "")))
    return sorted(set(findings), key=lambda f: (f.package, f.advisory))


def build_snapshot(checkout: Path, out: Path = SNAPSHOT, commit: str = "", date: str = "") -> int:
    """Write the compact snapshot of a pypa/advisory-database checkout (its ``vulns/``); return the count."""
    import yaml

    records = []
    for file in sorted((checkout / "vulns").rglob("*.yaml")):
        doc = yaml.safe_load(file.read_text(encoding="utf-8"))
        if not isinstance(doc, dict) or doc.get("withdrawn"):
            continue
        affected = []
        for entry in doc.get("affected", []):
            package = entry.get("package", {})
            if package.get("ecosystem") != "PyPI":
                continue
            affected.append({"package": package.get("name", ""),
                             "ranges": [{"type": r.get("type"), "events": [{k: str(v) for k, v in e.items()}
                                                                           for e in r.get("events", [])]}
                                        for r in entry.get("ranges", [])],
                             "versions": [str(v) for v in entry.get("versions", [])]})
        summary = (doc.get("summary") or doc.get("details") or "").strip().split("\n")[0][:200]
        records.append({"id": doc["id"], "aliases": list(doc.get("aliases") or []), "summary": summary,
                        "modified": str(doc.get("modified", "")), "affected": affected})
    out.parent.mkdir(parents=True, exist_ok=True)
    payload = {"source": "https://github.com/pypa/advisory-database (CC-BY 4.0)", "commit": commit, "date": date,
               "advisories": records}
    with gzip.open(out, "wt", encoding="utf-8", compresslevel=9) as fh:
        json.dump(payload, fh, separators=(",", ":"), sort_keys=True)
    return len(records)


def main(argv: list[str] | None = None) -> int:
    """Run the audit (or rebuild the snapshot); return the process exit code."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--requirements", type=Path, default=REQUIREMENTS)
    parser.add_argument("--build", type=Path, metavar="CHECKOUT", help="rebuild the snapshot from this checkout")
    parser.add_argument("--commit", default="", help="with --build: the checkout's commit, recorded in the snapshot")
    parser.add_argument("--date", default="", help="with --build: the checkout's commit date")
    args = parser.parse_args(argv)
    if args.build:
        print(f"wrote {build_snapshot(args.build, SNAPSHOT, args.commit, args.date)} advisories to {SNAPSHOT}")
        return 0
    snapshot = load_snapshot()
    accepted = load_accepted()
    pins = read_pins(args.requirements)
    findings = audit(pins, snapshot["advisories"])
    open_findings = [f for f in findings if not ({f.advisory, *f.aliases} & accepted.keys())]
    print(f"{len(pins)} pins checked against {len(snapshot['advisories'])} advisories "
          f"(PyPA advisory database {snapshot.get('commit', '')[:12]} of {snapshot.get('date', '?')})")
    for f in findings:
        state = "accepted" if f not in open_findings else "VULNERABLE"
        reason = next((accepted[i] for i in (f.advisory, *f.aliases) if i in accepted), "")
        print(f"  {state:10} {f.package}=={f.version} {f.advisory} ({', '.join(f.aliases)}) fixed in "
              f"{', '.join(f.fixed) or '?'}: {f.summary[:90]}" + (f" — accepted: {reason}" if reason else ""))
    return 1 if open_findings else 0


if __name__ == "__main__":
    sys.exit(main())
