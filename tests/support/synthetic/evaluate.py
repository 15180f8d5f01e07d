"""Score a run's findings against a synthetic commune's planted truth, per finding type."""

from __future__ import annotations

import pandas as pd

from reconcile.findings import FINDING_LABELS


def _keys(frame: pd.DataFrame) -> set[tuple]:
    keys = set()
    for row in frame.fillna("").astype(str).to_dict("records"):
        if row["type"] == "register_duplicate":  # the pair of register rows, however named
            rows = (row["source_row"], row["related_register_row"])
            keys.add((row["type"], frozenset(str(int(float(r))) for r in rows)))
        else:
            keys.add(
                (row["type"], row["source_file"], str(int(float(row["source_row"]))), row["field"])
            )
    return keys


def score_findings(found: pd.DataFrame, truth: pd.DataFrame) -> pd.DataFrame:
    """Precision and recall per finding type. A type absent from both has no row."""
    found_keys, true_keys = _keys(found), _keys(truth)
    rows = []
    for kind in FINDING_LABELS:
        f = {k for k in found_keys if k[0] == kind}
        t = {k for k in true_keys if k[0] == kind}
        if not f and not t:
            continue
        tp = len(f & t)
        rows.append(
            {
                "type": kind,
                "planted": len(t),
                "found": len(f),
                "true_positive": tp,
                "precision": tp / len(f) if f else 0.0,
                "recall": tp / len(t) if t else 1.0,
            }
        )
    return pd.DataFrame(rows)
