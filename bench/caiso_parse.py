"""Parse throughput of the CAISO OASIS all-nodes day file (PRC_LMP DAM, 1,700 APNodes, zipped CSV).

Run: .venv/bin/python bench/caiso_parse.py [repeats]
Prints seconds per parse, input rows/s, output records/s and MB/s of uncompressed CSV.
"""
from __future__ import annotations

import statistics
import sys
import time
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from connectors.markets.caiso import parse_oasis_zip  # noqa: E402

FILE = ROOT / "tests/fixtures/caiso_oasis/SingleZip_PRC_LMP_DAM_ALL_APNODES_20200101.zip"


def main(repeats: int = 5) -> None:
    body = FILE.read_bytes()
    with zipfile.ZipFile(FILE) as zf:
        info = zf.infolist()[0]
        csv_bytes = info.file_size
        rows = zf.read(info).count(b"\n") - 1
    times, records = [], 0
    for _ in range(repeats):
        t = time.perf_counter()
        records = len(parse_oasis_zip(body, "DA"))
        times.append(time.perf_counter() - t)
    best, med = min(times), statistics.median(times)
    print(f"CAISO PRC_LMP DAM all APNodes: zip {len(body) / 1e6:.2f} MB, CSV {csv_bytes / 1e6:.1f} MB, "
          f"{rows:,} rows -> {records:,} LMP records")
    print(f"  parse (unzip + CSV + UTC + records), {repeats} runs: median {med:.3f} s, best {best:.3f} s")
    print(f"  throughput (median): {rows / med:,.0f} rows/s, {records / med:,.0f} records/s, "
          f"{csv_bytes / 1e6 / med:.1f} MB/s uncompressed")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 5)
