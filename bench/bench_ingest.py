"""Reading a district-size register: reconcile's ingest against pandas.read_excel(openpyxl).

Run by hand: python bench/bench_ingest.py [ROWS]   (default 300,000; the file is cached)
Each measurement runs in its own process so peak memory is its own. Reports medians and ratios.
"""

from __future__ import annotations

import json
import random
import statistics
import subprocess
import sys
import time
from pathlib import Path

CACHE = Path(__file__).resolve().parent / ".cache"
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "support"))
from synthetic.commune import REGISTER_HEADERS as HEADERS  # noqa: E402


def make_register(rows: int) -> Path:
    """A register of `rows` synthetic residents under a title block (openpyxl write-only)."""
    from openpyxl import Workbook

    from synthetic.people import FAMILIES, GIVEN, HAMLETS, MIDDLE

    path = CACHE / f"register_{rows}.xlsx"
    if path.exists():
        return path
    CACHE.mkdir(exist_ok=True)
    rng = random.Random(300)
    families = [f for f, _ in FAMILIES]
    weights = [w for _, w in FAMILIES]
    wb = Workbook(write_only=True)
    ws = wb.create_sheet("Dân cư")
    ws.append(["CÔNG AN XÃ AN BÌNH"])
    ws.append(["DỮ LIỆU DÂN CƯ"])
    ws.append([])
    ws.append(HEADERS)
    for i in range(1, rows + 1):
        sex = rng.choice("MF")
        year = rng.randint(1930, 2025)
        name = (
            f"{rng.choices(families, weights)[0]} {rng.choice(MIDDLE[sex])[0]} "
            f"{rng.choice(GIVEN[sex])}"
        )
        digit = (0 if year < 2000 else 2) + (sex == "F")
        ws.append(
            [
                i,
                f"NK{i:07d}",
                f"HO{i // 4:06d}",
                name,
                f"{rng.randint(1, 28):02d}/{rng.randint(1, 12):02d}/{year}",
                "Nam" if sex == "M" else "Nữ",
                f"034{digit}{year % 100:02d}{i:06d}",
                f"HT334{34}{rng.randint(0, 99_999_999):08d}",
                rng.choice(HAMLETS),
                "Con",
                "Đang cư trú",
            ]
        )
    wb.save(path)
    return path


def _measure(code: str) -> dict:
    """Run code in a fresh interpreter; return its wall time and peak memory."""
    wrapper = (
        "import resource, time, json\n"
        "t = time.perf_counter()\n"
        f"{code}\n"
        "print(json.dumps({'seconds': time.perf_counter() - t, "
        "'peak_mb': resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", wrapper], capture_output=True, text=True, check=True
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    rows = int(sys.argv[1]) if len(sys.argv) > 1 else 300_000
    started = time.perf_counter()
    path = make_register(rows)
    print(
        f"register: {rows:,} rows, {path.stat().st_size / 1e6:.1f} MB "
        f"(made or found in {time.perf_counter() - started:.0f} s)"
    )
    ours_code = (
        "from pathlib import Path\n"
        "from reconcile.ingest import ingest_list\n"
        "from reconcile.kinds import ListKind\n"
        f"frame = ingest_list(Path({str(path)!r}), ListKind.REGISTER).frame\n"
        f"assert len(frame) == {rows}, len(frame)\n"
    )
    pandas_code = (
        "import pandas as pd\n"
        f"frame = pd.read_excel({str(path)!r}, engine='openpyxl', header=3)\n"
        f"assert len(frame) == {rows}, len(frame)\n"
    )
    ours = [_measure(ours_code) for _ in range(3)]
    theirs = [_measure(pandas_code) for _ in range(int(sys.argv[2]) if len(sys.argv) > 2 else 1)]
    ours_s = statistics.median(m["seconds"] for m in ours)
    theirs_s = statistics.median(m["seconds"] for m in theirs)
    print(
        f"reconcile ingest:         median {ours_s:6.1f} s over {len(ours)} runs, "
        f"peak {max(m['peak_mb'] for m in ours):.0f} MB"
    )
    print(
        f"pandas.read_excel openpyxl: median {theirs_s:6.1f} s over {len(theirs)} runs, "
        f"peak {max(m['peak_mb'] for m in theirs):.0f} MB"
    )
    print(f"ratio ours / openpyxl: {ours_s / theirs_s:.3f} (target <= 0.333)")


if __name__ == "__main__":
    main()
