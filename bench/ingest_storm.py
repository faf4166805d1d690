"""Ingest storm: ~8,000 mixed requests against the served app, then the exactly-once and dead-letter checks.

    .venv/bin/python bench/ingest_storm.py [--requests 8000] [--workers 8] [--max-seconds 900] [--seed 12]

Starts the real app (``python app.py``) on a free loopback port with a fresh SQLite file (or
``--database-url``), the simulator off, creates an ingest token through the CLI, and sends from
``--workers`` threads a shuffled mix of: good JSON batches, good CSV batches, mixed good/bad JSON
and CSV batches (unknown asset, boolean value, numeric string, epoch and naive timestamps,
timestamps at the ends of the calendar, impossible dates, leap seconds, out-of-range values,
numbers beyond a double, rows with two wrong types, duplicates within the batch), re-sent good
batches, bodies over the size limit (chunked and with Content-Length), and malformed requests
(truncated JSON, JSON nested 1,000 deep, bad CSV header, wrong content type, empty batch, unknown
envelope field, non-UTF-8 CSV). Bounded in count and in time; loopback only.

Prints the requests by kind, the status codes (by kind), the 5xx count (must be 0), requests whose
status was not the expected one, the exactly-once check (the set of stored (asset, metric, ts)
equals the set of good rows sent; SELECT count equals its size) and dead letters == rejected rows.
Exits 1 if any check fails.
"""
from __future__ import annotations

import argparse
import collections
import datetime as dt
import http.client
import os
import random
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import orjson

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from ingest_throughput import free_port, make_fleet  # noqa: E402

LIMIT = 10 * 1024 * 1024  # the default ingest_max_body_bytes
TOO_LARGE = "<1e400>"  # stands for the JSON number 1e400 (orjson cannot write it) until the body is built


@dataclass
class Planned:
    """One request of the storm and what it must do."""

    kind: str
    content_type: str
    body: bytes
    expected: int
    good: list[tuple[str, str, str]] = field(default_factory=list)  # (asset, metric, ts as sent)
    bad_rows: int = 0
    chunked: bool = False


class Plan:
    """Generates the storm's requests with globally distinct good points."""

    def __init__(self, ids: list[str], rng: random.Random) -> None:
        self.ids = ids
        self.rng = rng
        self.k = 0
        self.start = dt.datetime.now(dt.UTC).replace(microsecond=0) - dt.timedelta(days=40)
        self.sent_good: list[Planned] = []

    def _point(self) -> dict:
        k = self.k
        self.k += 1
        ts = self.start + dt.timedelta(seconds=10 * (k // len(self.ids)))
        if k % 3 == 0:  # some stamps with an offset, some with Z, some with a fraction
            text = ts.astimezone(dt.timezone(dt.timedelta(hours=2))).isoformat()
        elif k % 3 == 1:
            text = ts.strftime("%Y-%m-%dT%H:%M:%SZ")
        else:
            text = ts.isoformat(timespec="milliseconds")
        return {"asset_id": self.ids[k % len(self.ids)], "metric": "power_kw", "ts": text,
                "value": round(self.rng.uniform(0, 1900), 3) if k % 5 else int(self.rng.uniform(0, 1900))}

    def _bad(self, good_rows: list[dict]) -> dict:
        base = self._point()
        choice = self.rng.randrange(15)
        if choice == 0:
            return {**base, "asset_id": "ghost-" + base["asset_id"]}
        if choice == 1:
            return {**base, "value": True}
        if choice == 2:
            return {**base, "value": str(base["value"])}
        if choice == 3:
            return {**base, "ts": int(time.time())}
        if choice == 4:
            return {**base, "ts": "0001-01-01T00:30:00+01:00"}
        if choice == 5:
            return {**base, "ts": "9999-12-31T23:30:00-01:00"}
        if choice == 6:
            return {**base, "ts": base["ts"][:19]}  # naive
        if choice == 7:
            return {**base, "ts": "2026-02-30T10:00:00Z"}
        if choice == 8:
            return {**base, "value": 1e9}
        if choice == 9:
            return {**base, "metric": "power"}
        if choice == 10 and good_rows:
            return dict(self.rng.choice(good_rows))  # repeats a good row of this batch
        if choice == 11:
            return {**base, "ts": "2026-06-30T23:59:60Z"}  # a leap second
        if choice == 12:
            return {**base, "asset_id": 17, "ts": int(time.time())}  # two wrong types in one row
        if choice == 13:
            return {**base, "value": TOO_LARGE}  # written as 1e400, beyond a double
        return {**base, "extra": 1}

    @staticmethod
    def _keys(rows: list[dict]) -> list[tuple[str, str, str]]:
        return [(r["asset_id"], r["metric"], r["ts"]) for r in rows]

    @staticmethod
    def _csv(rows: list[dict]) -> bytes:
        lines = ["asset_id,metric,ts,value"]
        for r in rows:
            value = r["value"]
            text = "true" if value is True else repr(value) if isinstance(value, float) else str(value)
            text = "1e400" if value == TOO_LARGE else text
            lines.append(f"{r['asset_id']},{r['metric']},{r['ts']},{text}")
        return ("\n".join(lines) + "\n").encode()

    def good(self, as_csv: bool) -> Planned:
        rows = [self._point() for _ in range(self.rng.randint(10, 40))]
        body = self._csv(rows) if as_csv else orjson.dumps({"points": rows})
        planned = Planned("good_csv" if as_csv else "good_json", "text/csv" if as_csv else "application/json", body,
                          200, self._keys(rows))
        self.sent_good.append(planned)
        return planned

    def mixed(self, as_csv: bool) -> Planned:
        good_rows = [self._point() for _ in range(self.rng.randint(5, 25))]
        bad_rows = []
        for _ in range(self.rng.randint(1, 5)):
            bad = self._bad(good_rows)
            if as_csv and "extra" in bad:  # a CSV line has no extra field: use an unknown asset instead
                bad = {**self._point(), "asset_id": "ghost"}
            if as_csv and isinstance(bad["ts"], int):
                bad = {**bad, "ts": str(bad["ts"])}
            if as_csv and isinstance(bad["value"], str) and bad["value"] != TOO_LARGE:  # numeric text is good CSV
                bad = {**bad, "value": "n/a"}
            bad_rows.append(bad)
        rows = good_rows + bad_rows
        self.rng.shuffle(rows)  # of a repeated good row, whichever comes second is the one rejected
        body = self._csv(rows) if as_csv else orjson.dumps(rows).replace(orjson.dumps(TOO_LARGE), b"1e400")
        return Planned("mixed_csv" if as_csv else "mixed_json", "text/csv" if as_csv else "application/json", body,
                       422, self._keys(good_rows), bad_rows=len(bad_rows))

    def duplicate(self) -> Planned | None:
        if not self.sent_good:
            return None
        original = self.rng.choice(self.sent_good)
        return Planned("duplicate", original.content_type, original.body, 200)

    def malformed(self) -> Planned:
        point = orjson.dumps(self._point())
        choice = self.rng.randrange(8)
        if choice == 0:
            return Planned("malformed", "application/json", b'{"points": [' + point, 400)
        if choice == 1:  # nested 1,000 deep (below orjson's limit): the row is refused, named "row"
            deep = b"[" * 1000 + b"1" + b"]" * 1000
            return Planned("malformed", "application/json", b'{"points": [' + deep + b"]}", 422, bad_rows=1)
        if choice == 2:
            return Planned("malformed", "text/csv", b"asset,metric,time,value\na,b,c,1\n", 400)
        if choice == 3:
            return Planned("malformed", "application/xml", b"<points/>", 415)
        if choice == 4:
            return Planned("malformed", "application/json", b'{"points": []}', 400)
        if choice == 5:
            return Planned("malformed", "application/json", b'{"points": [' + point + b'], "extra": 1}', 400)
        if choice == 6:
            return Planned("malformed", "text/csv", b"asset_id,metric,ts,value\n\xff\xfe,power_kw,x,1\n", 400)
        return Planned("malformed", "application/json", b'{"points": "' + b"x" * 100 + b'"}', 400)


def oversize_bodies(ids: list[str]) -> tuple[bytes, bytes]:
    """Return a CSV and a JSON body just over the limit, made of rows that look good (none may be stored)."""
    start = dt.datetime.now(dt.UTC).replace(microsecond=0) - dt.timedelta(days=80)
    note = "n" * 200
    lines = [b"asset_id,metric,ts,value,note"]
    i = 0
    while sum(map(len, lines)) < LIMIT + 4096:
        lines.append(f"{ids[i % len(ids)]},power_kw,{(start + dt.timedelta(seconds=i)).isoformat()},55.5,{note}".encode())
        i += 1
    csv_body = b"\n".join(lines) + b"\n"
    points = [{"asset_id": ids[j % len(ids)], "metric": "power_kw", "ts": (start + dt.timedelta(seconds=j)).isoformat(),
               "value": 55.5} for j in range(40_000)]
    json_body = orjson.dumps({"points": points})
    json_body = json_body[:-1] + b" " * (LIMIT - len(json_body) + 4096) + b"}"
    return csv_body, json_body


def build_plan(ids: list[str], n: int, rng: random.Random) -> list[Planned]:
    """Return ``n`` planned requests in a shuffled order (re-sends always after their original)."""
    plan = Plan(ids, rng)
    csv_big, json_big = oversize_bodies(ids)
    n_oversize = max(4, n // 400)
    oversize = []
    for j in range(n_oversize):
        big, ctype = (csv_big, "text/csv") if j % 2 == 0 else (json_big, "application/json")
        oversize.append(Planned("oversize", ctype, big, 413, chunked=j % 4 != 3))
    weights = {"good_json": 0.38, "good_csv": 0.19, "mixed_json": 0.17, "mixed_csv": 0.08, "duplicate": 0.10,
               "malformed": 0.08}
    kinds = rng.choices(list(weights), list(weights.values()), k=n - n_oversize)
    out: list[Planned] = []
    for kind in kinds:
        if kind == "good_json":
            out.append(plan.good(False))
        elif kind == "good_csv":
            out.append(plan.good(True))
        elif kind == "mixed_json":
            out.append(plan.mixed(False))
        elif kind == "mixed_csv":
            out.append(plan.mixed(True))
        elif kind == "duplicate":
            out.append(plan.duplicate() or plan.good(False))
        else:
            out.append(plan.malformed())
    for big in oversize:  # spread through the storm
        out.insert(rng.randrange(len(out) + 1), big)
    return out


def send_chunked(port: int, token: str, planned: Planned) -> tuple[int, dict]:
    """POST ``planned`` with Transfer-Encoding: chunked; return (status, JSON body)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    try:
        chunks = (planned.body[i : i + 65536] for i in range(0, len(planned.body), 65536))
        conn.request("POST", "/api/v1/telemetry", body=chunks, encode_chunked=True,
                     headers={"Authorization": f"Bearer {token}", "Content-Type": planned.content_type})
        response = conn.getresponse()
        return response.status, orjson.loads(response.read() or b"{}")
    finally:
        conn.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=8000)
    parser.add_argument("--workers", type=int, default=8)
    parser.add_argument("--assets", type=int, default=200)
    parser.add_argument("--max-seconds", type=float, default=900.0)
    parser.add_argument("--seed", type=int, default=12)
    parser.add_argument("--database-url", default="", help="default: a fresh SQLite file")
    args = parser.parse_args()
    if not 1 <= args.requests <= 20_000:
        parser.error("--requests must be between 1 and 20,000")

    work = Path(tempfile.mkdtemp(prefix="fl-storm-"))
    url = args.database_url or f"sqlite:///{work / 'storm.db'}"
    ids = make_fleet(url, args.assets)
    rng = random.Random(args.seed)
    plan = build_plan(ids, args.requests, rng)
    port = free_port()
    env = {**os.environ, "FLEETLIGHT_DATABASE_URL": url, "FLEETLIGHT_PORT": str(port), "FLEETLIGHT_HOST": "127.0.0.1",
           "FLEETLIGHT_INSTANCE_DIR": str(work), "FLEETLIGHT_SIMULATOR_ENABLED": "false",
           "FLEETLIGHT_SEED_ON_START": "false", "FLEETLIGHT_LOG_LEVEL": "ERROR",
           # the storm is one client token: lift the per-client API rate limit (1,200/minute by default)
           "FLEETLIGHT_API_RATE_LIMIT": "1000000/minute"}
    py = sys.executable
    token = subprocess.run([py, "-m", "flask", "--app", "app", "create-token", "--name", "storm"], cwd=ROOT, env=env,
                           check=True, capture_output=True, text=True).stdout.strip().splitlines()[-1]
    server = subprocess.Popen([py, "app.py"], cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
                              stderr=open(work / "server.log", "wb"))
    base = f"http://127.0.0.1:{port}"
    results: list[tuple[Planned, int, dict]] = []
    lock = threading.Lock()
    local = threading.local()
    deadline = time.monotonic() + args.max_seconds
    try:
        up = time.monotonic() + 90
        while time.monotonic() < up:
            try:
                if httpx.get(base + "/api/v1/health", timeout=1).status_code in (200, 503):
                    break
            except httpx.HTTPError:
                time.sleep(0.3)

        def run(planned: Planned) -> None:
            if time.monotonic() > deadline:
                return
            if planned.chunked:
                status, body = send_chunked(port, token, planned)
            else:
                client = getattr(local, "client", None)
                if client is None:
                    client = local.client = httpx.Client(base_url=base, timeout=120,
                                                         headers={"Authorization": f"Bearer {token}"})
                try:
                    r = client.post("/api/v1/telemetry", content=planned.body,
                                    headers={"Content-Type": planned.content_type})
                except httpx.HTTPError as exc:
                    status, body = -1, {"error": repr(exc)}
                else:
                    status = r.status_code
                    try:
                        body = r.json()
                    except ValueError:
                        body = {"raw": r.text[:200]}
            with lock:
                results.append((planned, status, body))

        t0 = time.perf_counter()
        with ThreadPoolExecutor(args.workers) as pool:
            list(pool.map(run, plan))
        elapsed = time.perf_counter() - t0
    finally:
        server.terminate()
        server.wait(15)
    return report(url, plan, results, elapsed)


def report(url: str, plan: list[Planned], results: list[tuple[Planned, int, dict]], elapsed: float) -> int:
    """Print the figures and the checks; return the exit code (0: all checks passed)."""
    from sqlalchemy import func, select

    from data.db import Database
    from data.models import DeadLetter, TelemetryPoint

    by_kind = collections.Counter(p.kind for p, _s, _b in results)
    statuses = collections.Counter(s for _p, s, _b in results)
    by_kind_status: dict[str, collections.Counter] = collections.defaultdict(collections.Counter)
    for p, s, _b in results:
        by_kind_status[p.kind][s] += 1
    unexpected = [(p.kind, p.expected, s, str(b)[:160]) for p, s, b in results if s != p.expected]
    five_xx = sum(n for s, n in statuses.items() if s >= 500 or s < 0)
    good_keys: set[tuple[str, str, dt.datetime]] = set()
    for p, s, _b in results:
        if p.kind != "duplicate" and s in (200, 422):
            for asset, metric, ts in p.good:
                good_keys.add((asset, metric, dt.datetime.fromisoformat(ts).astimezone(dt.UTC)))
    rejected_reported = sum(int(b.get("rejected", 0)) for _p, s, b in results if s == 422)
    rejected_planned = sum(p.bad_rows for p, s, _b in results if s == 422)
    # a re-send may overtake its original (several workers): count duplicates over every answer
    duplicates_reported = sum(int(b.get("duplicates") or 0) for _p, s, b in results if s in (200, 422))
    duplicates_sent = sum(len(p.body) and p.body.count(b"power_kw") for p, _s, _b in results if p.kind == "duplicate")
    db = Database(url)
    with db.session() as s:
        stored_count = s.execute(select(func.count()).select_from(TelemetryPoint)).scalar_one()
        stored = {(a, m, ts if ts.tzinfo else ts.replace(tzinfo=dt.UTC))
                  for a, m, ts in s.execute(select(TelemetryPoint.asset_id, TelemetryPoint.metric, TelemetryPoint.ts))}
        dead_letters = s.execute(select(func.count()).select_from(DeadLetter)).scalar_one()
    db.dispose()

    print(f"ingest storm: {len(results):,} of {len(plan):,} requests in {elapsed:.1f} s "
          f"({len(results) / elapsed:,.0f} requests/s), served app on loopback, {url.split(':')[0]}")
    print("requests by kind:")
    for kind in sorted(by_kind):
        codes = ", ".join(f"{code}: {n:,}" for code, n in sorted(by_kind_status[kind].items()))
        print(f"  {kind:<11} {by_kind[kind]:6,}   ({codes})")
    print("status codes: " + ", ".join(f"{code}: {n:,}" for code, n in sorted(statuses.items())))
    print(f"5xx (or no answer): {five_xx}")
    print(f"requests with an unexpected status: {len(unexpected)}")
    for item in unexpected[:10]:
        print(f"  {item}")
    exactly_once = stored == good_keys and stored_count == len(good_keys)
    print(f"exactly-once: good rows sent {len(good_keys):,}, SELECT count(*) {stored_count:,}, "
          f"stored set == sent set: {stored == good_keys} -> {'OK' if exactly_once else 'FAILED'}")
    if stored != good_keys:
        print(f"  missing {len(good_keys - stored):,}, unexpected {len(stored - good_keys):,}")
    print(f"duplicates: re-sent rows {duplicates_sent:,}, reported as duplicates {duplicates_reported:,}")
    letters_ok = dead_letters == rejected_reported == rejected_planned
    print(f"dead letters: {dead_letters:,}; rejected rows reported {rejected_reported:,}, planned {rejected_planned:,} "
          f"-> {'OK' if letters_ok else 'FAILED'}")
    ok = five_xx == 0 and not unexpected and exactly_once and letters_ok and duplicates_sent == duplicates_reported
    print("storm checks:", "PASSED" if ok else "FAILED")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
