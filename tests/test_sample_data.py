import pandas as pd
from python_calamine import CalamineWorkbook

from conftest import SAMPLE_DIR
from synthetic.commune import DEFAULT_SEED, DEFAULT_SIZE, generate_commune


def _cells(path):
    workbook = CalamineWorkbook.from_path(str(path))
    return {name: workbook.get_sheet_by_name(name).to_python() for name in workbook.sheet_names}


def test_regenerating_the_sample_commune_gives_the_committed_content(tmp_path):
    generate_commune(tmp_path, seed=DEFAULT_SEED, size=DEFAULT_SIZE)
    committed = sorted(p.relative_to(SAMPLE_DIR) for p in SAMPLE_DIR.rglob("*") if p.is_file())
    regenerated = sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*") if p.is_file())
    assert committed == regenerated
    for relative in committed:
        if relative.suffix == ".xlsx":
            assert _cells(SAMPLE_DIR / relative) == _cells(tmp_path / relative), relative
        else:
            assert (SAMPLE_DIR / relative).read_bytes() == (tmp_path / relative).read_bytes()


def test_the_sample_plants_every_finding_type_and_a_resident_register():
    truth = pd.read_csv(SAMPLE_DIR / "truth" / "findings.csv", dtype=str)
    from reconcile.findings import FINDING_LABELS

    assert set(truth["type"]) == set(FINDING_LABELS)
    register = _cells(SAMPLE_DIR / "dan_cu.xlsx")["Dân cư"]
    assert 2000 <= sum(1 for row in register if isinstance(row[0], float)) <= 2100
