"""What the next night reuses (a reading's frames, the matching memory's pairs) is kept in the
decisions store in pieces: SQLite and PostgreSQL hold at most 1 GB in one value, and a
province's matching memory nears it. Every value comes back whole, a smaller one replaces a
larger one without a piece left over, and stores written before the pieces still read."""

import numpy as np
import pytest
import sqlalchemy as sa

from reconcile.review import store as store_module
from reconcile.review.store import INPUTS, PIECES, DecisionStore


@pytest.fixture(params=["sqlite", "postgresql"])
def url(request, tmp_path, monkeypatch):
    monkeypatch.setattr(store_module, "PIECE_BYTES", 1000)
    if request.param == "postgresql":
        return request.getfixturevalue("postgres_url")
    return f"sqlite:///{(tmp_path / 'decisions.sqlite').as_posix()}"


def _reading(rng: np.random.Generator, people: int) -> dict:
    return {
        "counts": '{"file": "khai_sinh.xlsx"}',
        "people": rng.bytes(people),
        "rejected": b"",  # an empty value is kept as empty, not as none
        "layout": None,
    }


def _pieces(url: str, scope: str) -> dict[str, int]:
    """Pieces per holder of one scope."""
    with sa.create_engine(url).connect() as connection:
        rows = connection.execute(
            sa.select(PIECES.c.holder, sa.func.count())
            .where(PIECES.c.scope == scope)
            .group_by(PIECES.c.holder)
        ).all()
    return dict(rows)


def test_a_reading_larger_than_a_piece_comes_back_whole(url):
    rng = np.random.default_rng(11)
    mine, theirs = DecisionStore(url, "Xã A"), DecisionStore(url, "Xã B")
    first, other = _reading(rng, 10_500), _reading(rng, 4_000)
    mine.save_prepared("khai_sinh", "d1", first)
    theirs.save_prepared("khai_sinh", "d9", other)
    assert _pieces(url, "Xã A") == {
        "input_memory/khai_sinh/people": 11,
        "input_memory/khai_sinh/rejected": 1,
    }
    back = mine.prepared("khai_sinh")
    assert back["digest"] == "d1" and back["counts"] == first["counts"]
    assert back["people"] == first["people"]
    assert back["rejected"] == b"" and back["layout"] is None

    smaller = _reading(rng, 2_500)
    mine.save_prepared("khai_sinh", "d2", smaller)
    assert mine.prepared("khai_sinh")["people"] == smaller["people"]
    assert _pieces(url, "Xã A")["input_memory/khai_sinh/people"] == 3
    assert theirs.prepared("khai_sinh")["people"] == other["people"]  # another commune's kept


def test_a_reading_kept_in_its_own_cell_by_an_earlier_version_is_read(url):
    store = DecisionStore(url, "Xã A")
    record = _reading(np.random.default_rng(5), 3_000)
    with store.engine.begin() as connection:  # as stores before the pieces hold it
        connection.execute(
            sa.insert(INPUTS), [{"scope": "Xã A", "series": "register", "digest": "d", **record}]
        )
    back = store.prepared("register")
    assert back["people"] == record["people"] and back["rejected"] == b""
    assert _pieces(url, "Xã A") == {}
