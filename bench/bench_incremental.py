"""A night with 1% of rows changed, incremental against full: the whole `reconcile run`, stage by
stage, on the district set (.xlsx in, workbook out).

Run by hand: python bench/bench_incremental.py [RESIDENTS] [ROWS] [CHANGED]
(default 300,000 / 200,000 / 0.01). Night 1 is the district set of bench_full_run; night 2 has
CHANGED of the register's rows and of the list's rows retyped (a given name or a birth date).
Night 2 runs from copies of night 1's output folder: incremental (the default), incremental
with night 1's register file (the common night: no new export from the police), full with the
kept model (every pair compared again: must give the same findings and links),
and full (compared again, model learnt again: the findings that differ are counted).
"""

from __future__ import annotations

import random
import shutil
import sys
import time
from pathlib import Path

import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "support"))
from bench_full_run import CACHE, LIST_COLUMNS, REGISTER_COLUMNS, write  # noqa: E402

from reconcile.config import build_config  # noqa: E402
from reconcile.pipeline import run_reconciliation  # noqa: E402

from synthetic.district import district  # noqa: E402


def retype(frame: pd.DataFrame, share: float, seed: int) -> pd.DataFrame:
    """`share` of the rows with a given name taken from another row or a birth date moved."""
    rng = random.Random(seed)
    out = frame.copy()
    names = out["full_name"].tolist()
    for i in rng.sample(range(len(out)), int(len(out) * share)):
        if rng.random() < 0.5:
            words = str(out.iat[i, out.columns.get_loc("full_name")]).split()
            words[-1] = str(rng.choice(names)).split()[-1]
            out.iat[i, out.columns.get_loc("full_name")] = " ".join(words)
        else:
            out.iat[i, out.columns.get_loc("birth_date")] = (
                f"{rng.randint(1, 28):02d}/{rng.randint(1, 12):02d}/{rng.randint(1940, 2005)}"
            )
    return out


def timed_run(config, now=None):
    marks = []
    started = time.perf_counter()
    result, _ = run_reconciliation(
        config, progress=lambda m: marks.append((time.perf_counter() - started, m)), now=now
    )
    total = time.perf_counter() - started
    stages = [m for m in marks if m[1].startswith("[")]
    spans = {
        m[1][:5]: round(nxt[0] - m[0], 1)
        for m, nxt in zip(stages, [*stages[1:], (total, "")], strict=True)
    }
    return result, total, spans


def main() -> None:
    residents = int(sys.argv[1]) if len(sys.argv) > 1 else 300_000
    rows = int(sys.argv[2]) if len(sys.argv) > 2 else 200_000
    changed = float(sys.argv[3]) if len(sys.argv) > 3 else 0.01
    work = CACHE / f"incremental_{residents}_{rows}_{changed}"
    shutil.rmtree(work, ignore_errors=True)
    (work / "night1").mkdir(parents=True)
    (work / "night2").mkdir()
    register, listed = district(residents, rows)
    files = {}
    for night, (reg, lst) in {
        "night1": (register, listed),
        "night2": (retype(register, changed, 1), retype(listed, changed, 2)),
    }.items():
        files[night] = (work / night / "register.xlsx", work / night / "list.xlsx")
        write(reg, REGISTER_COLUMNS, files[night][0], "DỮ LIỆU DÂN CƯ")
        write(lst, LIST_COLUMNS, files[night][1], "DANH SÁCH HỘI VIÊN")

    # the common night: the police did not export a new register, a list came in retyped
    files["night2_same_register"] = (files["night1"][0], files["night2"][1])

    def config(night, out, **matching):
        built = build_config(
            {"kind": "register", "path": files[night][0]},
            [{"kind": "membership", "path": files[night][1]}],
            out,
        )
        return built.model_copy(update={"matching": built.matching.model_copy(update=matching)})

    _, first, spans = timed_run(config("night1", work / "out1"))
    print(f"night 1 (full, nothing remembered): {first:.1f} s {spans}")
    results = {}
    for name, night, matching in (
        ("incremental", "night2", {}),
        ("incremental, register unchanged", "night2_same_register", {}),
        ("full, kept model", "night2", {"incremental": False, "retrain": "never"}),
        ("full", "night2", {"incremental": False}),
    ):
        out = work / name.replace(", ", "_").replace(" ", "_")
        shutil.copytree(work / "out1", out)
        result, total, spans = timed_run(config(night, out, **matching))
        results[name] = result
        stats = result.matching
        rows = sum(len(item.people) for item in result.lists if item.people is not None)
        print(
            f"night 2 {name}: {total:.1f} s {spans}; pairs {stats.pairs:,}, recalled "
            f"{stats.recalled:,}, retrained {stats.retrained}; list rows whose candidates "
            f"were recalled {stats.candidates_recalled:,} of {rows:,}"
        )
    inc, kept, full = (results[k] for k in ("incremental", "full, kept model", "full"))

    def ids(result):
        return set(result.findings["finding_id"])

    same = ids(inc) == ids(kept) and inc.links.equals(kept.links)
    print(f"incremental == full with the kept model: {same}")
    print(
        f"incremental vs full with the model learnt again: {len(ids(inc) ^ ids(full))} of "
        f"{len(ids(full)):,} findings differ; links differ on "
        f"{int((inc.links['person_id'] != full.links['person_id']).sum())} rows"
    )


if __name__ == "__main__":
    main()
