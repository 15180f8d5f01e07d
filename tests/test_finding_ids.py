"""Finding ids made in bulk are the ids the standard library's HMAC gives, for every length of
secret: the decisions typed against last night's ids must find tonight's."""

import hashlib
import hmac
import random

import pytest

from reconcile.findings import finding_ids

SUBJECTS = ["001190012345|Nguyễn Thị Hoà", "Lê Văn Thuỷ|1987-03-04", "", "dòng 17|NGUYỄN VĂN A"]


def _by_stdlib(kinds, series, subjects, fields, secret):
    return [
        hmac.new(secret, f"{k}|{s}|{j}|{f}".encode(), hashlib.sha256).hexdigest()[:20]
        for k, s, j, f in zip(kinds, series, subjects, fields, strict=True)
    ]


# shorter than SHA-256's 64-byte block, exactly one block, and longer (then hashed first)
@pytest.mark.parametrize("length", [1, 16, 32, 63, 64, 65, 200])
def test_bulk_ids_equal_hmac_sha256_for_every_secret_length(length):
    rng = random.Random(length)
    secret = bytes(rng.randrange(256) for _ in range(length))
    kinds = ["wrong_birth_date", "not_in_register", "register_duplicate", "dead_but_active"]
    series = ["xa-a|tro_cap", "xa-a|doan_vien", "register", "xa-b|ho_tich"]
    fields = ["birth_date", "", "person_id", "full_name"]
    assert finding_ids(kinds, series, SUBJECTS, fields, secret) == _by_stdlib(
        kinds, series, SUBJECTS, fields, secret
    )


def test_without_a_secret_the_ids_are_sha1():
    kinds, series, fields = ["x"] * 4, ["s"] * 4, ["f"] * 4
    assert finding_ids(kinds, series, SUBJECTS, fields) == [
        hashlib.sha1(f"x|s|{j}|f".encode()).hexdigest()[:16] for j in SUBJECTS
    ]
