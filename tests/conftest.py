import logging
import os
import sys
from pathlib import Path

import pandas as pd
import pytest
import sqlalchemy as sa
from hypothesis import settings

# The synthetic data generator is test support, not product (tests/support/synthetic).
sys.path.insert(0, str(Path(__file__).resolve().parent / "support"))

from reconcile.kinds import ListKind  # noqa: E402
from reconcile.normalize.people import normalize_people  # noqa: E402
from reconcile.review import store as store_module  # noqa: E402
from reconcile.review.store import DecisionStore  # noqa: E402

SAMPLE_DIR = Path(__file__).resolve().parent.parent / "sample_data"
# A real PostgreSQL server (.ci/run installs and starts Debian's): its SQLAlchemy URL.
POSTGRES_URL = os.environ.get("RECONCILE_TEST_POSTGRES")


@pytest.fixture
def postgres_url():
    """A fresh database on the test PostgreSQL server, dropped afterwards."""
    if not POSTGRES_URL:
        pytest.skip("RECONCILE_TEST_POSTGRES is not set: .ci/run starts a PostgreSQL server")
    import uuid

    name = f"t_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.execute(sa.text(f"CREATE DATABASE {name}"))
    except sa.exc.OperationalError as exc:
        pytest.skip(f"the test PostgreSQL server cannot be reached: {type(exc).__name__}")
    url = POSTGRES_URL.rsplit("/", 1)[0] + f"/{name}"
    yield url
    sa.create_engine(url).dispose()
    with admin.connect() as connection:
        connection.execute(sa.text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
    admin.dispose()


@pytest.fixture(params=["sqlite", "sqlite, named parameters", "postgresql"])
def open_store(request, tmp_path, monkeypatch):
    """A store of the given scope on a fresh database; with named parameters, SQLAlchemy
    inserts the rows, as it does for drivers without positional ones."""
    monkeypatch.setattr(store_module, "INSERT_BATCH", 7)  # several batches from a few rows
    monkeypatch.setattr(store_module, "READ_BATCH", 6)  # and read back in several
    if request.param == "postgresql":
        url = request.getfixturevalue("postgres_url")
    else:
        url = f"sqlite:///{(tmp_path / 'decisions.sqlite').as_posix()}"

    if request.param.endswith("named parameters"):  # sqlite3 takes both styles
        made = sa.create_engine
        monkeypatch.setattr(sa, "create_engine", lambda url: made(url, paramstyle="named"))
    return lambda scope: DecisionStore(url, scope)


# Prefect stops its temporary API at interpreter exit and logs it to a stream pytest has already
# closed; the stdlib's switch keeps that from printing a traceback after the test summary.
logging.raiseExceptions = False

# Property tests are part of a deterministic suite: the same examples every run, and no
# per-example deadline for a loaded 2-core CI machine to trip over.
settings.register_profile("reconcile", derandomize=True, deadline=None, print_blob=True)
settings.load_profile("reconcile")


def people(kind: ListKind, rows: list[dict], file: str = "list.xlsx") -> pd.DataFrame:
    """A normalised table from raw rows as ingest would hand them on (row i at Excel row i+2)."""
    raw = pd.DataFrame(rows).astype(object)
    raw = raw.where(raw.notna(), None)
    raw["source_file"] = file
    raw["source_sheet"] = "Sheet1"
    raw["source_row"] = range(2, len(raw) + 2)
    return normalize_people(raw, kind)


@pytest.fixture
def register():
    return people(
        ListKind.REGISTER,
        [
            {
                "resident_code": "NK1",
                "full_name": "Nguyễn Thị Hòa",
                "birth_date": "12/03/1951",
                "sex": "Nữ",
                "personal_id": "034151000111",
                "hamlet": "Thôn Đông",
                "status": "Đang cư trú",
                "insurance_number": "HT3343400000001",
            },
            {
                "resident_code": "NK2",
                "full_name": "Trần Văn Lâm",
                "birth_date": "02/09/1990",
                "sex": "Nam",
                "personal_id": "034090000222",
                "hamlet": "Thôn Đoài",
                "status": "Đang cư trú",
                "insurance_number": None,
            },
            {
                "resident_code": "NK3",
                "full_name": "Lê Văn Tú",
                "birth_date": "05/05/1960",
                "sex": "Nam",
                "personal_id": "034060000333",
                "hamlet": "Thôn Trung",
                "status": "Đang cư trú",
            },
            {
                "resident_code": "NK4",
                "full_name": "Lê Văn Tú",
                "birth_date": "20/11/1960",
                "sex": "Nam",
                "personal_id": "034060000444",
                "hamlet": "Thôn Trung",
                "status": "Đang cư trú",
            },
            {
                "resident_code": "NK5",
                "full_name": "Phạm Thị Gấm",
                "birth_date": "1938",
                "sex": "Nữ",
                "personal_id": "034138000555",
                "hamlet": "Thôn Hạ",
                "status": "Đã chết",
            },
            {
                "resident_code": "NK6",
                "full_name": "Phạm Thị Gấm",
                "birth_date": "1938",
                "sex": "Nữ",
                "personal_id": None,
                "hamlet": "Thôn Hạ",
                "status": "Đang cư trú",
            },
        ],
        file="dan_cu.xlsx",
    )
