"""The nightly run compares only what changed (matching.memory), and gives the findings and
links a full run with the same model gives.

Night 1 runs on a synthetic commune. Night 2's files are night 1's with about 4% of the data rows
of the register and of every list edited by hand-style changes: a name retyped, a birth date
changed, a row emptied, a row overwritten by somebody new. Night 2 then runs twice from copies
of night 1's output folder (its decisions store and memory): incrementally, and with every pair
compared again under the kept model. The two must agree row for row."""

import datetime as dt
import random
import shutil
from dataclasses import replace

import numpy as np
import pandas as pd
import pytest
import sqlalchemy as sa
from openpyxl import load_workbook

from reconcile.config import load_config
from reconcile.matching import memory as memory_module
from reconcile.pipeline import run_reconciliation
from reconcile.review import store as store_module
from reconcile.review.store import PIECES, store_for

from listfiles import REGISTER_TOP
from synthetic.commune import generate_commune

NIGHT_1 = dt.datetime(2026, 11, 30, 22, 0, tzinfo=dt.timezone(dt.timedelta(hours=7)))
NIGHT_2 = NIGHT_1 + dt.timedelta(days=1)
NAME_HEADERS = ("họ và tên", "họ tên", "ho va ten", "họ, tên")


def _header(ws):
    """(header row number, column of the name, column of the birth date) of a sheet."""
    for row in ws.iter_rows(min_row=1, max_row=12):
        texts = [str(c.value or "").strip().lower() for c in row]
        name = next((i for i, t in enumerate(texts) if t.startswith(NAME_HEADERS)), None)
        if name is not None:
            birth = next((i for i, t in enumerate(texts) if "sinh" in t), None)
            return row[0].row, name, birth
    return None


def _edit_night(folder, seed: int, share: float = 0.04, keep: str | None = None) -> int:
    """Edit about `share` of every workbook's person rows in place (but the file named
    `keep`); return how many."""
    rng = random.Random(seed)
    edited = 0
    for path in sorted(folder.glob("*.xlsx")):
        if path.name == keep:
            continue
        wb = load_workbook(path)
        for ws in wb.worksheets:
            found = _header(ws)
            if not found:
                continue
            top, name_col, birth_col = found
            rows = [
                row
                for row in ws.iter_rows(min_row=top + 1)
                if isinstance(row[name_col].value, str) and len(row[name_col].value.split()) >= 2
            ]
            names = [row[name_col].value for row in rows]
            for row in rows:
                if rng.random() >= share:
                    continue
                edited += 1
                change = rng.choice(("name", "birth", "empty", "somebody_else"))
                if change == "name":
                    words = row[name_col].value.split()
                    words[-1] = rng.choice(names).split()[-1]
                    row[name_col].value = " ".join(words)
                elif change == "birth" and birth_col is not None:
                    row[
                        birth_col
                    ].value = f"0{rng.randint(1, 9)}/0{rng.randint(1, 9)}/19{rng.randint(40, 99)}"
                elif change == "empty":
                    for cell in row:
                        cell.value = None
                else:
                    donor = rows[rng.randrange(len(rows))]
                    for cell, other in zip(row, donor, strict=True):
                        cell.value = other.value
                    row[name_col].value = rng.choice(names)
        wb.save(path)
    return edited


@pytest.fixture(scope="module")
def nights(tmp_path_factory):
    with pytest.MonkeyPatch.context() as patch:
        # what the nights keep, in pieces as a province's are: each value in several
        patch.setattr(store_module, "PIECE_BYTES", 4096)
        yield _nights(tmp_path_factory.mktemp("incremental"))


def _nights(folder):
    config = load_config(generate_commune(folder / "commune", seed=23, size=900))
    first = config.model_copy(update={"out_dir": folder / "night1"})
    run_reconciliation(first, now=NIGHT_1)
    edited = _edit_night(folder / "commune", seed=5)
    runs = {}
    for name, matching in {
        "incremental": {},
        "full_kept_model": {"incremental": False, "retrain": "never"},
        "full": {"incremental": False},
    }.items():
        out = folder / name
        shutil.copytree(folder / "night1", out)
        night = config.model_copy(
            update={
                "out_dir": out,
                "matching": config.matching.model_copy(update=matching),
            }
        )
        runs[name] = run_reconciliation(night, now=NIGHT_2)[0]
        if name == "incremental":  # and the night after, nothing changed
            runs["unchanged"] = run_reconciliation(night, now=NIGHT_2 + dt.timedelta(days=1))[0]
    return runs, edited


@pytest.fixture(scope="module")
def list_nights(tmp_path_factory):
    """The common night: no new register from the police, every list edited. Night 2 runs
    incrementally and with every pair blocked and compared again under the kept model."""
    folder = tmp_path_factory.mktemp("list_nights")
    config = load_config(generate_commune(folder / "commune", seed=29, size=700))
    run_reconciliation(config.model_copy(update={"out_dir": folder / "night1"}), now=NIGHT_1)
    edited = _edit_night(folder / "commune", 7, 0.15, keep=config.population_register.path.name)
    runs = {}
    for name, matching in {
        "incremental": {},
        "full_kept_model": {"incremental": False, "retrain": "never"},
    }.items():
        shutil.copytree(folder / "night1", folder / name)
        kept = config.matching.model_copy(update=matching)
        night = config.model_copy(update={"out_dir": folder / name, "matching": kept})
        runs[name] = run_reconciliation(night, now=NIGHT_2)[0]
    return runs, edited


def test_with_the_register_unchanged_only_edited_rows_are_blocked_again(list_nights):
    runs, edited = list_nights
    incremental, full = runs["incremental"], runs["full_kept_model"]
    assert incremental.register.remembered and edited > 20
    rows = sum(len(item.people) for item in incremental.lists)
    # the rows no edit touched take their candidates from night 1; the edited are blocked again
    assert rows - 2 * edited < incremental.matching.candidates_recalled < rows
    assert full.matching.candidates_recalled == 0
    assert incremental.matching.pairs == full.matching.pairs
    pd.testing.assert_frame_equal(_comparable(incremental.findings), _comparable(full.findings))
    pd.testing.assert_frame_equal(incremental.links, full.links)


def _comparable(findings: pd.DataFrame) -> pd.DataFrame:
    return findings.sort_values("finding_id").reset_index(drop=True)


def test_an_incremental_night_gives_the_full_runs_findings_and_links(nights):
    runs, edited = nights
    assert edited > 40  # the night did change things
    incremental, full = runs["incremental"], runs["full_kept_model"]
    pd.testing.assert_frame_equal(_comparable(incremental.findings), _comparable(full.findings))
    pd.testing.assert_frame_equal(incremental.links, full.links)
    assert len(incremental.findings) > 50


def test_an_incremental_night_compares_only_what_changed(nights):
    runs, _ = nights
    incremental, full = runs["incremental"].matching, runs["full_kept_model"].matching
    assert incremental.pairs == full.pairs
    assert not incremental.retrained and not full.retrained
    assert full.recalled == 0
    # most pairs are of rows no edit touched: only the rest are compared again
    assert 0.8 < incremental.recalled / incremental.pairs < 1.0
    assert runs["full"].matching.retrained and runs["full"].matching.recalled == 0


def test_the_memory_is_kept_in_the_store_and_names_nobody(nights, tmp_path):
    runs, _ = nights
    config = load_config_for(runs["incremental"])
    memory = store_for(config).pair_memory()
    assert memory is not None and memory.params is not None
    assert len(memory.pairs) == runs["incremental"].matching.pairs
    with store_for(config).engine.connect() as connection:
        kept = connection.execute(
            sa.select(PIECES.c.holder, sa.func.count()).group_by(PIECES.c.holder)
        ).all()
    assert dict(kept)["match_memory/pairs"] > 3  # recalled from several pieces
    assert list(memory.pairs.select_dtypes("object").columns) == []  # codes and hashes only


def load_config_for(result):
    from reconcile.config import build_config

    return build_config(
        {"kind": "register", "path": result.register.spec.path},
        [],
        result.register.spec.path.parent.parent / "incremental",
    )


def test_a_memory_of_other_comparison_code_is_not_recalled(nights, monkeypatch):
    runs, _ = nights
    config = load_config_for(runs["incremental"])
    monkeypatch.setattr(memory_module, "logic_version", lambda: "changed")
    assert store_for(config).pair_memory() is None


def test_a_much_changed_night_learns_the_model_again():
    assert (
        memory_module.reuse_model(
            replace(memory_module.PairMemory.empty(), params=object(), model_name="commune"),
            "commune",
            new_share=0.5,
            retrain=None,
        )
        is False
    )
    kept = replace(memory_module.PairMemory.empty(), params=object(), model_name="commune")
    assert memory_module.reuse_model(kept, "commune", 0.02, None) is True
    assert memory_module.reuse_model(kept, "commune", 0.02, True) is False
    assert memory_module.reuse_model(kept, "other", 0.02, None) is False


def test_files_unchanged_since_the_last_run_are_not_read_again(nights):
    runs, _ = nights
    edited, unchanged = runs["incremental"], runs["unchanged"]
    # every workbook was edited on night 2: each was read again
    assert not any(item.remembered for item in (edited.register, *edited.lists))
    # the night after, nothing changed: nothing is read, nothing compared
    assert all(item.remembered for item in (unchanged.register, *unchanged.lists))
    assert unchanged.matching.recalled == unchanged.matching.pairs > 0
    # and no row is blocked again; night 2 changed the register and every list, so it blocked
    # the edited rows and those sharing a key with an edited resident, and recalled the others
    listed = sum(len(item.people) for item in unchanged.lists)
    assert unchanged.matching.candidates_recalled == listed
    assert 0 < edited.matching.candidates_recalled < listed
    pd.testing.assert_frame_equal(unchanged.links, edited.links)
    pd.testing.assert_frame_equal(unchanged.rejected, edited.rejected)
    assert set(unchanged.findings["finding_id"]) == set(edited.findings["finding_id"])
    for before, after in zip(
        (edited.register, *edited.lists), (unchanged.register, *unchanged.lists), strict=True
    ):
        assert before.counts == after.counts
        pd.testing.assert_frame_equal(before.people, after.people)


def test_an_unchanged_register_keeps_its_duplicates_and_an_edited_one_is_searched_again(nights):
    runs, _ = nights
    # night 2 edited the register: its duplicates were searched again, as the full runs' were
    searched_again = ("incremental", "full", "full_kept_model")
    assert not any(runs[name].matching.duplicates_recalled for name in searched_again)
    unchanged = runs["unchanged"]
    assert unchanged.matching.duplicates_recalled  # the night after: nothing to search again
    pairs = unchanged.findings[unchanged.findings["type"] == "register_duplicate"]
    assert len(pairs) >= 3
    edited = runs["incremental"].findings
    assert set(pairs["finding_id"]) == set(
        edited.loc[edited["type"] == "register_duplicate", "finding_id"]
    )


def test_the_kept_duplicates_are_those_a_new_search_finds(nights):
    from reconcile.matching.duplicates import find_register_duplicates

    runs, _ = nights
    memory = store_for(load_config_for(runs["unchanged"])).pair_memory()
    assert memory.duplicates is not None and len(memory.duplicates) >= 3
    searched = find_register_duplicates(runs["unchanged"].register.people, memory.params)
    pd.testing.assert_frame_equal(memory.duplicates, searched)  # through the store, dtypes too


def test_the_duplicates_key_names_every_resident_row_its_label_and_the_model(nights):
    runs, _ = nights
    memory = store_for(load_config_for(runs["unchanged"])).pair_memory()
    people = runs["unchanged"].register.people
    keys = memory_module.row_keys(people)
    key = memory_module.duplicates_key(people.index, keys, memory.params)
    assert key == memory_module.duplicates_key(people.index, keys.copy(), memory.params)
    one_row_changed = keys.copy()
    one_row_changed[len(keys) // 2] += 1
    relabelled = people.index[::-1]
    other_model = replace(memory.params, prior=memory.params.prior / 2)
    for changed in (
        memory_module.duplicates_key(people.index, one_row_changed, memory.params),
        memory_module.duplicates_key(relabelled, keys, memory.params),
        memory_module.duplicates_key(people.index, keys, other_model),
        memory_module.duplicates_key(people.index, keys, None),
    ):
        assert changed != key
        assert memory_module.recall_duplicates(memory, changed) is None
    assert memory_module.recall_duplicates(memory, memory.duplicates_key) is memory.duplicates


def test_a_file_with_a_date_rejected_as_future_is_read_again(tmp_path):
    """Tomorrow a date of today is no longer in the future: such a file is never taken as the
    last run left it; the other files are."""
    from conftest import SAMPLE_DIR

    folder = tmp_path / "commune"
    shutil.copytree(SAMPLE_DIR, folder)
    path = folder / "khai_tu.xlsx"
    wb = load_workbook(path)
    ws = wb.worksheets[0]
    top, name_col, birth_col = _header(ws)
    row = next(r for r in ws.iter_rows(min_row=top + 1) if isinstance(r[name_col].value, str))
    row[birth_col].value = "01/01/2099"
    wb.save(path)
    config = load_config(folder / "reconcile.toml", out_dir=tmp_path / "out")
    first = run_reconciliation(config, now=NIGHT_1)[0]
    second = run_reconciliation(config, now=NIGHT_2)[0]
    death = next(i for i in second.lists if i.spec.path.name == "khai_tu.xlsx")
    assert "in the future" in " ".join(first.rejected["reason"])
    assert not death.remembered
    assert second.register.remembered
    assert all(i.remembered for i in second.lists if i is not death)


def test_a_kept_reading_that_cannot_be_decoded_is_read_again(tmp_path):
    """A store damaged on disk (or edited by hand) holds a reading its bytes no longer decode
    to: the night reads that file again and finds what the first night found."""
    from conftest import SAMPLE_DIR

    folder = tmp_path / "commune"
    shutil.copytree(SAMPLE_DIR, folder)
    config = load_config(folder / "reconcile.toml", out_dir=tmp_path / "out")
    first = run_reconciliation(config, now=NIGHT_1)[0]
    with store_for(config).engine.begin() as connection:
        damaged = connection.execute(
            sa.update(PIECES)
            .where(PIECES.c.holder == "input_memory/register/people")
            .values(data=b"PAR1 not a table")
        ).rowcount
    second = run_reconciliation(config, now=NIGHT_2)[0]
    assert damaged >= 1  # in several pieces, where the module's nights keep small ones
    assert not second.register.remembered
    assert all(item.remembered for item in second.lists)
    columns = ["finding_id", "type", "source_value", "register_value"]
    pd.testing.assert_frame_equal(
        second.findings[columns].sort_values("finding_id").reset_index(drop=True),
        first.findings[columns].sort_values("finding_id").reset_index(drop=True),
    )


def test_the_matching_memory_is_kept_and_the_scored_pairs_let_go_before_the_review(tmp_path):
    """Tonight's memory (1.5 GB of frames at a 3M province) is in the store before the review
    starts, duplicates and all; nothing of the run holds its frames any longer, nor the scored
    pairs the estimates were the last to read (37.3M pairs there). test_cli checks the same
    through the Prefect flow."""
    from held import HeldAtReview

    from reconcile.pipeline import call_directly

    from conftest import SAMPLE_DIR

    folder = tmp_path / "commune"
    shutil.copytree(SAMPLE_DIR, folder)
    config = load_config(folder / "reconcile.toml", out_dir=tmp_path / "out")
    call = HeldAtReview(call_directly, lambda: store_for(config).pair_memory())
    result = run_reconciliation(config, call=call, now=NIGHT_1)[0]
    assert call.held == {"memory": [False, False], "scored": [False] * len(result.lists)}
    stored, (pairs, duplicates) = call.seen, call.kept
    assert stored is not None and len(stored.pairs) == pairs == result.matching.pairs
    assert len(duplicates) == result.duplicates > 0
    pd.testing.assert_frame_equal(
        stored.duplicates.reset_index(drop=True), duplicates.reset_index(drop=True)
    )
    assert len(result.trust.weights) and set(result.trust.estimates) == {
        item.spec.label for item in result.lists
    }


def test_only_the_edited_rows_of_an_edited_file_are_normalised_again(nights):
    """Night 2's files all changed, but most of their rows did not: those are taken as night 1
    normalised them, and every table equals the one read afresh."""
    runs, _ = nights
    incremental, full = runs["incremental"], runs["full_kept_model"]
    pairs = zip(
        (incremental.register, *incremental.lists), (full.register, *full.lists), strict=True
    )
    for remembered, fresh in pairs:
        assert remembered.reused_rows > 0.8 * remembered.counts.rows_read
        assert fresh.reused_rows == 0
        pd.testing.assert_frame_equal(remembered.people, fresh.people)
        pd.testing.assert_frame_equal(
            remembered.rejected.reset_index(drop=True), fresh.rejected.reset_index(drop=True)
        )
        assert remembered.counts == fresh.counts
    pd.testing.assert_frame_equal(incremental.rejected, full.rejected)


LIST_NIGHT_1 = [
    {"full_name": "Nguyen Thi Hoa", "birth_date": "12/03/1951", "sex": "Nữ", "hamlet": "Thôn Đông"},
    {"full_name": "TRẦN VĂN LÂM", "birth_date": "1990", "sex": "Nam", "hamlet": "Thôn Đoài"},
    {"full_name": "Lê Văn Tú", "birth_date": "05/05/1960", "sex": "Nam", "hamlet": "Thôn Trung"},
    {"full_name": "Phạm Thị Gấm", "birth_date": "1938", "sex": "Nữ", "hamlet": "Thôn Hạ"},
    {"full_name": "Đỗ Văn Mới", "birth_date": "01/01/2000", "sex": "Nam", "hamlet": "Thôn Hạ"},
]


def _night_2_list():
    """LIST_NIGHT_1 reordered, with one date corrected and one person added."""
    from reconcile.kinds import ListKind

    from conftest import people

    night_2 = [LIST_NIGHT_1[3], dict(LIST_NIGHT_1[2], birth_date="20/11/1960"), *LIST_NIGHT_1[:2]]
    night_2 += [LIST_NIGHT_1[4], {"full_name": "Vũ Thị Lan", "birth_date": "1975", "sex": "Nữ"}]
    return people(ListKind.MEMBERSHIP, night_2)


def _again_and_full(second_list, register, memory):
    """Night 2 run from `memory`, and with every pair blocked and compared again, both under
    the kept model."""
    from reconcile.matching.engine import run_remembering
    from reconcile.matching.weights import COMMUNE_MODEL

    runs = [
        run_remembering(
            COMMUNE_MODEL, [second_list], register, kept, retrain=False, secret=b"k" * 16
        )
        for kept in (memory, memory.forget_pairs())
    ]
    return tuple(runs)


def test_a_hand_written_night_recalls_what_did_not_change(register):
    """Rows written by hand, not by our generator: the list comes back reordered with one date
    corrected and one person added, and one resident's hamlet changed in the register. The
    pairs of untouched rows are recalled; the scores equal those of comparing every pair again
    under the same model."""
    from reconcile.kinds import ListKind
    from reconcile.matching.decision import Thresholds, link
    from reconcile.matching.engine import run_remembering
    from reconcile.matching.weights import COMMUNE_MODEL

    from conftest import people

    first_list = people(ListKind.MEMBERSHIP, LIST_NIGHT_1)
    second_list = _night_2_list()
    second_register = register.copy()
    second_register.loc[second_register["resident_code"] == "NK2", "hamlet_key"] = "thon moi"

    first = run_remembering(COMMUNE_MODEL, [first_list], register, None, secret=b"k" * 16)
    again, full = _again_and_full(second_list, second_register, first.memory)
    assert 0 < again.recalled < again.pairs == full.pairs and full.recalled == 0
    pd.testing.assert_frame_equal(again.scored[0], full.scored[0])
    pd.testing.assert_frame_equal(
        link(second_list, second_register, Thresholds(), again.scored[0])[0],
        link(second_list, second_register, Thresholds(), full.scored[0])[0],
    )


def test_a_hand_written_night_keeps_the_candidates_of_rows_that_did_not_change(register):
    """The register unchanged, the list reordered with one date corrected and one person
    added: the four untouched rows keep their candidates, the two others are blocked, and the
    scored pairs equal blocking and comparing all again. A resident added the next night
    (a namesake born the same day) has the row of her name blocked again, and is found; the
    five others keep their candidates, the two no key found among them (Vũ Thị Lan, Đỗ Văn
    Mới) too: she was born too long before them to be near for the fuzzy fallback."""
    from reconcile.kinds import ListKind
    from reconcile.matching.engine import run_remembering
    from reconcile.matching.weights import COMMUNE_MODEL

    from conftest import people

    secret = b"k" * 16
    first_list = people(ListKind.MEMBERSHIP, LIST_NIGHT_1)
    second_list = _night_2_list()

    first = run_remembering(COMMUNE_MODEL, [first_list], register, None, secret=secret)
    again, full = _again_and_full(second_list, register, first.memory)
    assert again.candidates_recalled == 4 and full.candidates_recalled == 0
    pd.testing.assert_frame_equal(again.scored[0], full.scored[0])
    stored = memory_module.from_bytes(*memory_module.to_bytes(again.memory))
    pd.testing.assert_frame_equal(stored.candidates, again.memory.candidates)
    assert stored.candidates_key == again.memory.candidates_key

    namesake = people(
        ListKind.REGISTER,
        [
            {
                "resident_code": "NK7",
                "full_name": "Nguyễn Thị Hòa",
                "birth_date": "12/03/1951",
                "sex": "Nữ",
                "personal_id": "034151000777",
                "hamlet": "Thôn Tây",
                "status": "Đang cư trú",
            }
        ],
        file="dan_cu.xlsx",
    ).set_axis([len(register)])
    bigger = pd.concat([register, namesake])
    after, after_full = _again_and_full(second_list, bigger, again.memory)
    assert after.candidates_recalled == 5
    pd.testing.assert_frame_equal(after.scored[0], after_full.scored[0])
    hoa = second_list.index[second_list["name_fold"] == "nguyen thi hoa"][0]
    met = after.scored[0].loc[after.scored[0]["left"] == hoa, "right"]
    assert len(register) in set(met)


def test_the_rows_candidates_are_kept_in_the_store(list_nights):
    runs, _ = list_nights
    result = runs["incremental"]
    config = load_config_for(result).model_copy(
        update={"out_dir": result.register.spec.path.parent.parent / "incremental"}
    )
    memory = store_for(config).pair_memory()
    assert memory.candidates_key and memory.candidates is not None
    candidates = memory.candidates
    assert set(candidates.columns) == {"left_key", "right_key", "met", "reach"}
    assert candidates["left_key"].dtype == candidates["right_key"].dtype == "uint64"
    # each resident met is named by its row key, never by a row number
    assert candidates.loc[candidates["met"], "right_key"].isin(memory.register_keys).all()
    # a row that met nobody is kept too, so it is not searched again either
    assert (~candidates["met"]).any() and len(candidates) > 300
    assert set(candidates["reach"]) == {0, 1, 2}  # easy keys, loose keys, the fuzzy fallback


def test_raw_row_keys_hash_every_cell_as_its_text(monkeypatch):
    """A raw row's key is the hash of its cells' text (an empty cell "None"), however the
    hashing is sped up: text columns taken as they are, no factorising. Cells as ingest hands
    them on: text, empty cells, numbers, Excel dates, a column of text only."""
    from pathlib import Path

    import numpy as np

    from reconcile.config import ListConfig
    from reconcile.input_memory import raw_row_keys
    from reconcile.kinds import ListKind

    frame = pd.DataFrame(
        {
            "full_name": ["Nguyễn Văn An", "Trần Thị Bình", "Lê Văn Cường", "Nguyễn Văn An"],
            "birth_date": ["01/02/1990", dt.datetime(1985, 3, 4), 1970.0, None],
            "personal_id": ["034090000001", None, 34070000003, float("nan")],
            "row_number": [1.0, 2.0, float("nan"), 4.0],
            "source_file": "x.xlsx",
            "source_sheet": "S",
            "source_row": [2, 3, 4, 5],
        }
    ).astype({"full_name": object, "birth_date": object, "personal_id": object})
    spec = ListConfig(kind=ListKind.MEMBERSHIP, path=Path("x.xlsx"))
    keys = raw_row_keys(frame, spec, {}, None)
    captured = {}
    real = pd.util.hash_pandas_object

    def spy(obj, **kwargs):
        captured["key"] = kwargs["hash_key"]
        return real(obj, **kwargs)

    monkeypatch.setattr(pd.util, "hash_pandas_object", spy)
    raw_row_keys(frame, spec, {}, None)
    columns = ["birth_date", "full_name", "personal_id", "row_number"]
    cells = frame[columns].astype(object).where(frame[columns].notna(), None).astype(str)
    earlier = real(cells, index=False, hash_key=captured["key"]).to_numpy(np.uint64)
    assert (keys == earlier).all()
    assert keys[0] != keys[3] and len(set(keys.tolist())) == 4


def test_a_register_read_as_before_keeps_its_row_keys_and_an_edited_one_is_hashed_again(
    register, monkeypatch
):
    """The register's row keys are kept under the tag of its reading (input_memory's digest,
    the store's secret, the model) and cross the store: a night with the same reading takes
    them instead of hashing every resident again, and scores as a run without memory does; an
    edited register (another reading) is hashed again, and its keys are its own rows'."""
    import numpy as np

    from reconcile.kinds import ListKind
    from reconcile.matching import engine
    from reconcile.matching.engine import run_remembering
    from reconcile.matching.weights import COMMUNE_MODEL

    from conftest import people

    secret = b"k" * 16
    tag = memory_module.register_tag("reading-1", secret, COMMUNE_MODEL.name)
    first_list = people(ListKind.MEMBERSHIP, LIST_NIGHT_1)
    first = run_remembering(
        COMMUNE_MODEL, [first_list], register, None, secret=secret, register_tag=tag
    )
    stored = memory_module.from_bytes(*memory_module.to_bytes(first.memory))
    np.testing.assert_array_equal(stored.register_keys, first.register_keys)
    assert stored.register_tag == tag and stored.register_keys.dtype == np.uint64

    hashed = []
    real_row_keys = engine.row_keys
    monkeypatch.setattr(
        engine,
        "row_keys",
        lambda table, s=b"", raw=None: hashed.append(len(table)) or real_row_keys(table, s, raw),
    )
    second_list = _night_2_list()
    again = run_remembering(
        COMMUNE_MODEL,
        [second_list],
        register,
        stored,
        retrain=False,
        secret=secret,
        register_tag=tag,
    )
    assert hashed == [len(second_list)]  # the list's rows only
    np.testing.assert_array_equal(again.register_keys, first.register_keys)
    alone = run_remembering(
        COMMUNE_MODEL,
        [second_list],
        register,
        stored.forget_pairs(),
        retrain=False,
        secret=secret,
    )
    pd.testing.assert_frame_equal(again.scored[0], alone.scored[0])

    edited = register.copy()
    edited.loc[edited["resident_code"] == "NK2", "hamlet_key"] = "thon moi"
    other = memory_module.register_tag("reading-2", secret, COMMUNE_MODEL.name)
    after = run_remembering(
        COMMUNE_MODEL,
        [second_list],
        edited,
        again.memory,
        retrain=False,
        secret=secret,
        register_tag=other,
    )
    own = run_remembering(COMMUNE_MODEL, [second_list], edited, None, secret=secret)
    np.testing.assert_array_equal(after.register_keys, own.register_keys)
    assert not np.array_equal(after.register_keys, first.register_keys)


HAND_REGISTER_NIGHT_1 = [
    *REGISTER_TOP,
    [1, "Nguyễn Văn Hoà", dt.date(1950, 3, 5), "Nam", "034050001234", "Thôn Đông", "Thường trú"],
    [2, "Trần Thị Thuỷ", "20/11/1962", "Nữ", "034162004321", "Thôn Đoài", "Thường trú"],
    [3, "Lê Đức Quý", "01/07/1988", "Nam", "034088000777", "Thôn Đông", "Thường trú"],
    [4, "Phạm Văn Khải", "1941", "Nam", "034041000555", "Thôn Đoài", "Thường trú"],
    [5, "Bùi Thị Hạnh", dt.date(1995, 12, 3), "Nữ", "034195003333", "Xóm Mới", "Tạm trú"],
]
# night 2: rows moved, Quý's date corrected, Khải's typed as a date that does not exist (the
# row is rejected), and a newcomer at the end
HAND_REGISTER_NIGHT_2 = [
    *HAND_REGISTER_NIGHT_1[:2],
    HAND_REGISTER_NIGHT_1[6],
    [4, "Phạm Văn Khải", "31/02/1941", "Nam", "034041000555", "Thôn Đoài", "Thường trú"],
    HAND_REGISTER_NIGHT_1[2],
    [3, "Lê Đức Quý", "01/08/1988", "Nam", "034088000777", "Thôn Đông", "Thường trú"],
    HAND_REGISTER_NIGHT_1[3],
    [6, "Đinh Công Tráng", "15/06/2003", "Nam", "034203006666", "Xóm Mới", "Thường trú"],
]


def test_a_hand_written_register_reuses_its_unchanged_rows_where_they_now_stand(tmp_path):
    """Rows reused from the last reading are placed where tonight's file has them, with
    tonight's Excel rows; the edited and new rows are read afresh and the rejected one is left
    out: the table equals the file read with nothing remembered, ids included."""
    from reconcile.config import build_config
    from reconcile.input_memory import StoredReading, to_record
    from reconcile.pipeline import _read, call_directly

    from listfiles import workbook

    def read(rows, name, stored=None):
        path = workbook({"Dân cư": rows}, tmp_path / name)
        config = build_config({"kind": "register", "path": path}, [], tmp_path / "out")
        spec = config.population_register
        return _read(spec, config, call_directly, lambda _: None, stored=stored)

    night_1 = read(HAND_REGISTER_NIGHT_1, "dan_cu.xlsx")
    stored = StoredReading.of({"digest": "night 1", **to_record(night_1)})
    again = read(HAND_REGISTER_NIGHT_2, "dan_cu.xlsx", stored)
    fresh = read(HAND_REGISTER_NIGHT_2, "dan_cu.xlsx")

    assert again.reused_rows == 3 and fresh.reused_rows == 0  # Hoà, Thuỷ, Hạnh
    pd.testing.assert_frame_equal(again.people, fresh.people)
    assert (again.raw_keys == fresh.raw_keys).all()
    shown = again.people.set_index("pid")
    assert shown.loc["034195003333", "source_row"] == 3  # Hạnh, row 7 last night
    assert shown.loc["034088000777", "birth_display"] == "01/08/1988"
    assert "034041000555" not in shown.index  # rejected tonight
    assert shown.loc["034203006666", "source_row"] == 8
    assert again.counts.rejected == 1
    # last night's rows no row of tonight's was taken from: Quý's and Khải's, as they were
    assert again.departed_from == "night 1" and fresh.departed is None
    assert sorted(again.departed["pid"]) == ["034041000555", "034088000777"]
    assert list(again.departed["birth_display"]) == ["01/07/1988", "1941"]


def test_the_memory_keeps_each_pair_once_as_first_compared_with_levels_as_codes():
    """Two lists' comparisons, one pair in both and an empty third: each pair once, as its
    first comparison gave it, levels as codes named by `categories`, the key last."""
    levels = pd.CategoricalDtype(["missing", "exact", "differs"])
    first = pd.DataFrame(
        {
            "left": [0, 1, 2],
            "right": [5, 6, 7],
            "name": pd.Categorical(["exact", "differs", "missing"], dtype=levels),
            "score": [9.5, -3.0, 0.25],
        }
    )
    second = pd.DataFrame(
        {
            "left": [0, 1],
            "right": [6, 8],
            "name": pd.Categorical(["exact", "exact"], dtype=levels),
            "score": [1.0, 7.0],
        }
    )
    keys = [
        np.array([11, 12, 13], dtype=np.uint64),
        np.array([12, 14], dtype=np.uint64),  # 12: the pair the first list compared too
        np.array([], dtype=np.uint64),
    ]
    memory = memory_module.remember(None, "m", [first, second, first.iloc[:0]], keys)
    expected = pd.DataFrame(
        {
            "name": np.array([1, 2, 0, 1], dtype=np.int8),
            "score": [9.5, -3.0, 0.25, 7.0],
            "key": np.array([11, 12, 13, 14], dtype=np.uint64),
        }
    )
    pd.testing.assert_frame_equal(memory.pairs, expected)
    assert memory.categories == {"name": ["missing", "exact", "differs"]}


def test_canonical_pairs_come_in_left_then_right_label_order():
    """Recalled and fresh candidates are put in the order a full blocking gives them, whether
    the labels fit one int64 per pair or only the two-key sort."""
    from reconcile.matching.engine import canonical

    pairs = pd.DataFrame({"left": [7, 3, 7, 3, 12, 0], "right": [5, 900, 2, 4, 0, 900]})
    expected = [(0, 900), (3, 4), (3, 900), (7, 2), (7, 5), (12, 0)]
    got = canonical(pairs)
    assert list(zip(got["left"], got["right"], strict=True)) == expected
    far = pairs.assign(right=pairs["right"] * 2**50)  # too wide for one key: lexsort
    got = canonical(far)
    assert list(zip(got["left"], got["right"] // 2**50, strict=True)) == expected


def _hanh(code: str, family: str, sex: str, day: int) -> dict:
    return {
        "resident_code": code,
        "full_name": f"{family} Hạnh",
        "birth_date": f"{day:02d}/04/1970",
        "sex": sex,
        "personal_id": f"034170{day:06d}",
        "hamlet": "Thôn Đông",
        "status": "Đang cư trú",
    }


def _raw_stand_in(table: pd.DataFrame) -> np.ndarray:
    """What input_memory.raw_row_keys gives a row: a key of what its own cells decide (every
    column but where it was read and the late ones)."""
    own = table.drop(columns=[c for c in memory_module.LATE_COLUMNS if c in table])
    return memory_module.row_keys(own)


def test_a_row_keyed_by_its_raw_cells_is_compared_again_when_the_register_changes_its_context():
    """A resident's cells and a list row's are the same on both nights, but a man named Hạnh
    registered tonight means Hạnh no longer says "a woman": Trần Hạnh's registered sex (Nam) is
    no longer a slip against his name, so his pair with the list's Trần Hạnh (Nữ) compares
    otherwise. Keyed by raw cells, the pair must still be compared again, not recalled: the
    night equals a run without memory."""
    from reconcile.kinds import ListKind
    from reconcile.matching.engine import run_remembering
    from reconcile.matching.weights import COMMUNE_MODEL

    from conftest import people

    women = [_hanh(f"NK{d}", family, "Nữ", d) for d, family in enumerate(FAMILIES, start=1)]
    him = _hanh("NK99", "Trần", "Nam", 28)
    night_1 = people(ListKind.REGISTER, [*women, him])
    night_2 = people(ListKind.REGISTER, [*women, him, _hanh("NK98", "Lê", "Nam", 27)])
    listed = people(ListKind.MEMBERSHIP, [{**him, "sex": "Nữ", "resident_code": None}])
    secret = b"k" * 16

    def night(register, memory):
        raw = ([_raw_stand_in(listed)], _raw_stand_in(register))
        return run_remembering(
            COMMUNE_MODEL, [listed], register, memory, retrain=False, secret=secret, raw_keys=raw
        )

    first = night(night_1, None)
    again = night(night_2, first.memory)
    alone = night(night_2, first.memory.forget_pairs())

    def his_pair(run, register):
        his = register.index[register["resident_code"] == "NK99"]
        return run.scored[0].set_index("right").loc[his]

    ours, before = his_pair(again, night_2), his_pair(first, night_1)
    assert (ours["sex"] != before["sex"]).all()  # the context did change the comparison
    pd.testing.assert_frame_equal(again.scored[0], alone.scored[0])


FAMILIES = ["Nguyễn", "Lê", "Phạm", "Hoàng", "Phan", "Vũ", "Võ", "Đặng", "Bùi", "Đỗ"] * 2


def test_a_run_keys_each_read_row_by_its_raw_key(tmp_path, monkeypatch):
    """Every table read from a file (the register and each list) is keyed by its raw row keys,
    here in this process: nothing hashes a whole table's forty columns."""
    from reconcile.matching import engine

    from conftest import SAMPLE_DIR

    given = []
    real_row_keys = engine.row_keys

    def spied(table, secret=b"", raw=None):
        given.append((len(table), raw is not None))
        return real_row_keys(table, secret, raw)

    monkeypatch.setattr(engine, "row_keys", spied)
    config = load_config(SAMPLE_DIR / "reconcile.toml", out_dir=tmp_path)
    result, _ = run_reconciliation(config, now=NIGHT_1)
    lists = [len(item.people) for item in result.lists if item.people is not None]
    tables = [len(result.register.people), *lists]
    assert sorted(given) == sorted((rows, True) for rows in tables)
