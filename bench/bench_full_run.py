"""The whole `reconcile run` at district size: .xlsx in, workbook out, stage by stage.

Run by hand: python bench/bench_full_run.py [RESIDENTS] [ROWS]   (default 300,000 / 200,000)
The two .xlsx files are written once (openpyxl write-only) and cached in bench/.cache.
"""

from __future__ import annotations

import resource
import sys
import time
from pathlib import Path

from openpyxl import Workbook

from reconcile.config import build_config
from reconcile.pipeline import run_reconciliation

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "support"))
from tree_memory import TreeMemory  # noqa: E402

from synthetic.district import district  # noqa: E402

CACHE = Path(__file__).resolve().parent / ".cache"
REGISTER_COLUMNS = {
    "resident_code": "Mã nhân khẩu",
    "full_name": "Họ và tên",
    "birth_date": "Ngày sinh",
    "sex": "Giới tính",
    "personal_id": "Số định danh cá nhân",
    "hamlet": "Thôn/xóm",
}
LIST_COLUMNS = {k: v for k, v in REGISTER_COLUMNS.items() if k != "resident_code"}


def write(frame, columns: dict[str, str], path: Path, title: str) -> None:
    wb = Workbook(write_only=True)
    ws = wb.create_sheet("Danh sách")
    ws.append([title])
    ws.append([])
    ws.append(["STT", *columns.values()])
    for number, row in enumerate(frame[list(columns)].itertuples(index=False), start=1):
        ws.append([number, *(None if v is None or v != v else v for v in row)])
    wb.save(path)


def main() -> None:
    residents = int(sys.argv[1]) if len(sys.argv) > 1 else 300_000
    rows = int(sys.argv[2]) if len(sys.argv) > 2 else 200_000
    CACHE.mkdir(exist_ok=True)
    register_path = CACHE / f"district_register_{residents}.xlsx"
    list_path = CACHE / f"district_list_{residents}_{rows}.xlsx"
    if not (register_path.exists() and list_path.exists()):
        started = time.perf_counter()
        register, listed = district(residents, rows)
        write(register, REGISTER_COLUMNS, register_path, "DỮ LIỆU DÂN CƯ")
        write(listed, LIST_COLUMNS, list_path, "DANH SÁCH HỘI VIÊN")
        print(f"wrote the .xlsx files in {time.perf_counter() - started:.0f} s")
    config = build_config(
        {"kind": "register", "path": register_path},
        [{"kind": "membership", "path": list_path}],
        CACHE / "out",
        matching={"incremental": False},  # a full run: nothing recalled from the last one
    )
    marks: list[tuple[float, str]] = []
    started = time.perf_counter()
    with TreeMemory() as memory:
        result, run_dir = run_reconciliation(
            config, progress=lambda m: marks.append((time.perf_counter() - started, m))
        )
    total = time.perf_counter() - started
    for at, message in marks:
        print(f"{at:6.1f} s  {message[:60]}")
    print(
        f"whole run {total:.1f} s; findings {len(result.findings):,}; "
        f"peak memory {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB, "
        f"worker process {resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024:.0f} MB; "
        f"all processes: {memory}"
    )


if __name__ == "__main__":
    main()
