"""What one run's matching leaves the next: the fitted model and every candidate pair it
compared, each pair keyed by the content of its two rows.

A pair's levels depend only on the two rows as the comparison reads them (with what the
comparison takes from the whole register, `with_context`, inside the row). So a pair of rows
whose contents were compared last night compares the same tonight, whatever row numbers the
files give them: tonight compares only pairs with a new or changed side. Scoring and the
decision still run over every pair (a list's in-register share and one resident per row are
whole-list questions), so the result is the one a full run with the same model gives, by
construction.

A list row's candidates depend only on its own content and on the residents in its blocks (a
loose block's cap counts them; commune scoping keeps within them), except for a row no key
found, which the fuzzy fallback compares with every resident near it. So each row's candidates
are kept by its row key: the row keys of the residents it met (not their labels, which move
when a row before them leaves), and its reach (blocking.REACH_*: an easy key found it, the
loose keys looked too, or the fallback chose). Tonight a row is blocked again when its key is
new, or a resident who changed can reach it: one sharing an exact key with it, or a loose key
the loose keys looked for it by and whose block the steady residents do not already overfill,
or, for the fallback's row, one near it (or the steady residents stand in another order: the
fallback keeps the first of equals). The others take their candidates back, each resident found
by row key on the row it stands on tonight.

Who changed: tonight's residents not standing one for one, by row key, for last night's
(`changed_residents`), and last night's rows tonight's reading no longer has (the register's
`departed` rows, pipeline). Why that is everyone: a resident's key is its content (or its raw
cells and late columns, which decide it: row_keys), so the steady residents are last night's,
one for one. A row of last night's neither steady nor departed was read again into a row of
tonight's with its values, and counting the rows of those values on both nights shows one of
tonight's rows with them is among the changed. So a block holding no changed or departed
resident holds the same people, and as many, on both nights.

The register's duplicate pairs (matching.duplicates) are kept too, with the key of what they
were found in (duplicates_key: the register's rows and labels, the model, the search's code).
A night whose register is the last one's, under the same model, takes them instead of searching
again; any changed resident row searches the whole register again (a duplicate's weight counts
how common its name and date are among all residents).

Row keys are keyed hashes (the installation's secret): the store holds no value that can be
checked against a guessed name and date.
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass, field, replace
from functools import cache
from pathlib import Path

import numpy as np
import pandas as pd

from reconcile.matching import fellegi_sunter as fs
from reconcile.matching.blocking import REACH_FUZZY
from reconcile.matching.comparison import SEX_SLIP

# Retrain the model when more than this share of tonight's candidate pairs is new: the lists or
# the register changed enough that what was learnt may no longer describe them.
RETRAIN_SHARE = 0.10
# Columns of a people table that only say where a row was read, not who it is.
_PLACE_COLUMNS = {"source_file", "source_sheet", "source_row"}
_MIX = np.uint64(0x9E3779B97F4A7C15)


# Columns a run sets after reading a file, from other rows than the row itself: the commune a
# list inherits from the register and the hamlet keys that carry it (inherit_commune), the
# register's ids made over all its rows (identity.resident_ids), and the comparison's context
# (comparison.SEX_SLIP). Every other column is made from the row's own cells and the reading's
# settings, which its raw key (input_memory.raw_row_keys) stands for.
LATE_COLUMNS = ("commune", "hamlet_key", "person_id", SEX_SLIP)


def row_keys(table: pd.DataFrame, secret: bytes = b"", raw: np.ndarray | None = None) -> np.ndarray:
    """One uint64 per row from every column but where it was read: equal rows, equal keys.

    With `raw` (each row's input_memory.raw_row_keys), a row is keyed by its raw key and its
    LATE_COLUMNS alone: the raw key decides the rest, as the reading memory relies on when it
    reuses a row it normalised before. Hashing four columns rather than forty: about 1 s less
    for a district's list, 3 s for a province's. The two ways give one row other keys; a run
    keys every table it reads by raw keys (pipeline._read makes them, --full or not), so a
    table keyed the other way (a reading stored before raw keys were) only recalls nothing."""
    if not len(table):
        return np.zeros(0, dtype=np.uint64)
    if raw is not None:
        late = [c for c in LATE_COLUMNS if c in table]
        table = table[late].assign(_raw_key=np.asarray(raw, dtype=np.uint64))
    columns = sorted(c for c in table.columns if c not in _PLACE_COLUMNS)
    frame = table[columns].astype(
        {c: object for c in columns if isinstance(table[c].dtype, pd.CategoricalDtype)}
    )
    key = (secret.hex() + "0" * 16)[:16]
    # hashed as they are, not factorised first: a register's IDs and codes are all distinct,
    # and a million-row table's hash tables cost more than the hashing they spare
    return pd.util.hash_pandas_object(frame, index=False, hash_key=key, categorize=False).to_numpy(
        np.uint64
    )


def pair_keys(left_keys: np.ndarray, right_keys: np.ndarray) -> np.ndarray:
    with np.errstate(over="ignore"):
        return left_keys * _MIX + (right_keys ^ (right_keys >> np.uint64(29)))


@dataclass
class PairMemory:
    """The model a run used and its compared pairs: `pairs` has a uint64 `key` (pair_keys of
    the two rows) and the comparison's columns, categories as codes (`categories` names
    them)."""

    params: fs.Model | None
    pairs: pd.DataFrame
    categories: dict[str, list[str]]
    model_name: str = ""
    # the register's duplicate pairs and the duplicates_key of what they were found in
    duplicates: pd.DataFrame | None = None
    duplicates_key: str = ""
    # every list row's candidates: `left_key` (its row_keys), `right_key` (a resident's
    # row_keys; `met` false and 0 for a row that met nobody) and `reach` (how far blocking
    # looked for the row, blocking.REACH_*), with the candidates_key of the blocking
    candidates: pd.DataFrame | None = None
    candidates_key: str = ""
    # the register's row_keys (who the candidates met), and the register_tag of the reading
    # they were made from ("" for none: a table, or a caller that names no reading)
    register_keys: np.ndarray | None = None
    register_tag: str = ""
    _index: pd.Index | None = field(default=None, init=False, repr=False, compare=False)
    _reach: pd.Series | None = field(default=None, init=False, repr=False, compare=False)

    @classmethod
    def empty(cls, params: fs.Model | None = None, model_name: str = "") -> PairMemory:
        return cls(params, pd.DataFrame({"key": pd.Series(dtype=np.uint64)}), {}, model_name)

    def recalled_reach(self, left_keys: np.ndarray) -> np.ndarray:
        """Each row's reach as the memory has it (by its row key), -1 for a row it lacks."""
        if self.candidates is None:
            return np.full(len(left_keys), -1, dtype=np.int8)
        if self._reach is None:  # one entry per row key, built once per run
            rows = self.candidates.drop_duplicates("left_key")
            self._reach = pd.Series(
                rows["reach"].to_numpy(np.int8), index=rows["left_key"].to_numpy(np.uint64)
            )
        at = self._reach.index.get_indexer(left_keys)
        return np.where(at >= 0, self._reach.to_numpy()[at], -1).astype(np.int8)

    def recalls_anything(self) -> bool:
        """Whether it holds pairs or candidates (a run then compares only the new ones)."""
        return len(self.pairs) > 0 or self.candidates is not None

    def forget_pairs(self) -> PairMemory:
        """The model alone: every pair compared again under it (a full run, kept model)."""
        return PairMemory.empty(self.params, self.model_name)

    def recall(self, keys: np.ndarray) -> tuple[np.ndarray, pd.DataFrame]:
        """(positions of `keys` found, their remembered comparison columns in that order)."""
        if not len(self.pairs):
            return np.zeros(0, dtype=np.int64), self.pairs.iloc[:0]
        if self._index is None:  # built once, looked up once per list
            self._index = pd.Index(self.pairs["key"].to_numpy(np.uint64))
        where = self._index.get_indexer(keys)
        found = np.flatnonzero(where >= 0)
        columns = self.pairs.iloc[where[found]].drop(columns="key").reset_index(drop=True)
        for column, categories in self.categories.items():
            columns[column] = pd.Categorical.from_codes(columns[column], categories)
        return found, columns


def _register_digest(labels: pd.Index, keys: np.ndarray, setting: str, code: Path) -> str:
    """Every resident row (its content and its label, which pairs name), a setting and the
    code that uses them."""
    import hashlib

    digest = hashlib.sha256()
    digest.update(np.asarray(labels, dtype=np.int64).tobytes())
    digest.update(np.asarray(keys, dtype=np.uint64).tobytes())
    digest.update(setting.encode())
    digest.update(code.read_bytes())
    return digest.hexdigest()[:32]


def duplicates_key(register_labels: pd.Index, register_keys: np.ndarray, params) -> str:
    """What the register's duplicate search depends on: every resident row, the model whose
    weights it uses, and the search's own code. Equal keys, equal duplicates."""
    from reconcile.matching import duplicates

    return _register_digest(
        register_labels, register_keys, params_json(params), Path(duplicates.__file__)
    )


def candidates_key(register: pd.DataFrame, spans_communes: bool, blocking) -> str:
    """What a list row's candidates depend on besides the row and the residents sharing its
    keys: the model's blocking rules, the blocking code, which columns the register has and
    whether it spans several communes."""
    import hashlib

    from reconcile.matching import blocking as blocking_module

    digest = hashlib.sha256()
    digest.update(repr((blocking, sorted(map(str, register.columns)), spans_communes)).encode())
    digest.update(Path(blocking_module.__file__).read_bytes())
    return digest.hexdigest()[:32]


def changed_residents(old_keys: np.ndarray, new_keys: np.ndarray) -> np.ndarray:
    """A mask of tonight's residents (their row_keys) not found once, and only once, among the
    last register's and tonight's: a resident added or edited, or one of several alike. The
    others stand one for one for last night's of the same key, content and all."""
    steady = _alone(new_keys) & pd.Series(new_keys).isin(old_keys[_alone(old_keys)]).to_numpy()
    return ~steady


def in_same_order(old_keys: np.ndarray, steady_keys: np.ndarray) -> bool:
    """Whether `steady_keys` (each once in `old_keys`) come in the order `old_keys` has them."""
    alone = np.flatnonzero(_alone(old_keys))
    was_at = alone[pd.Index(old_keys[alone]).get_indexer(steady_keys)]
    return bool((np.diff(was_at) > 0).all())


def _alone(keys: np.ndarray) -> np.ndarray:
    """A mask of the keys found only once."""
    return ~pd.Series(keys).duplicated(keep=False).to_numpy()


def row_candidates(
    left_index: pd.Index, left_keys: np.ndarray, pairs: pd.DataFrame, reach: pd.Series
) -> pd.DataFrame:
    """A table's candidates by row key (`left_key`; `right` a resident's label, -1 for a row
    that met nobody; `reach`, from the rows' reach by label, REACH_FUZZY where it is not
    given)."""
    position = left_index.get_indexer(pairs["left"].to_numpy())
    met = np.zeros(len(left_index), dtype=bool)
    met[position] = True
    row_reach = reach.reindex(left_index, fill_value=REACH_FUZZY).to_numpy(np.int8)
    return pd.DataFrame(
        {
            "left_key": np.concatenate([left_keys[position], left_keys[~met]]),
            "right": np.concatenate(
                [pairs["right"].to_numpy(np.int64), np.full((~met).sum(), -1, dtype=np.int64)]
            ),
            "reach": np.concatenate([row_reach[position], row_reach[~met]]),
        }
    )


def keyed_by_resident(
    candidates: pd.DataFrame, register_index: pd.Index, register_keys: np.ndarray
) -> pd.DataFrame:
    """row_candidates as the memory keeps them: each resident by its row key, not its label."""
    right = candidates["right"].to_numpy(np.int64)
    met = right >= 0
    keys = np.zeros(len(right), dtype=np.uint64)
    keys[met] = register_keys[register_index.get_indexer(right[met])]
    return pd.DataFrame(
        {
            "left_key": candidates["left_key"].to_numpy(np.uint64),
            "right_key": keys,
            "met": met,
            "reach": candidates["reach"].to_numpy(np.int8),
        }
    )


def recall_candidates(
    memory: PairMemory | None,
    key: str,
    left_index: pd.Index,
    left_keys: np.ndarray,
    steady_labels: pd.Index,
    steady_keys: np.ndarray,
    blocked: np.ndarray,
    fuzzy_sure: bool = False,
) -> tuple[pd.DataFrame, np.ndarray, pd.Series] | None:
    """(the last run's candidate pairs of the rows it can recall, a mask of those rows, their
    reach by label), or None when its candidates were found by other blocking (`key`,
    candidates_key). A row is recalled when the memory holds its key, it is not `blocked` (a
    changed resident is in one of its blocks, or near it for the fuzzy fallback), it was found
    by a key or `fuzzy_sure` (the fallback's choice among equals is that of last night's),
    and each resident it met is among the steady ones (changed_residents), whose labels and
    row keys tonight are `steady_labels` and `steady_keys`."""
    stored = None if memory is None or memory.candidates_key != key else memory.candidates
    if stored is None or not key:
        return None
    right_key = stored["right_key"].to_numpy(np.uint64)
    met = stored["met"].to_numpy(bool)
    at = pd.Index(steady_keys).get_indexer(right_key)
    found = at >= 0
    unsure = met & ~found
    if not fuzzy_sure:
        unsure |= stored["reach"].to_numpy(np.int8) == REACH_FUZZY
    stored_left = stored["left_key"].to_numpy(np.uint64)
    known = pd.Series(left_keys).isin(stored_left).to_numpy() & ~blocked
    known &= ~pd.Series(left_keys).isin(stored_left[unsure]).to_numpy()
    rows = pd.DataFrame({"left": left_index.to_numpy()[known], "left_key": left_keys[known]})
    sure = met & found
    kept = pd.DataFrame(
        {"left_key": stored_left[sure], "right": steady_labels.to_numpy()[at[sure]]}
    )
    pairs = rows.merge(kept, on="left_key", sort=False)[["left", "right"]]
    reach = pd.Series(memory.recalled_reach(left_keys[known]), index=left_index[known])
    return pairs.astype({"left": "int64", "right": "int64"}), known, reach


def register_tag(digest: str | None, secret: bytes, model_name: str) -> str:
    """What the register's row_keys depend on: the reading (input_memory's digest: the file,
    the settings and the package's code), the store's secret and the model whose context the
    rows carry. "" without a digest (nothing to tell one reading from another)."""
    if not digest:
        return ""
    import hashlib

    return hashlib.sha256(f"{digest}|{model_name}|{secret.hex()}".encode()).hexdigest()[:32]


def recall_register_keys(memory: PairMemory | None, tag: str, rows: int) -> np.ndarray | None:
    """The last run's row_keys of the register, when it was this same reading."""
    if memory is None or not tag or memory.register_tag != tag:
        return None
    keys = memory.register_keys
    return keys if keys is not None and len(keys) == rows else None


def recall_duplicates(memory: PairMemory | None, key: str) -> pd.DataFrame | None:
    """The last run's duplicate pairs when they were found in what `key` describes."""
    if memory is None or memory.duplicates is None or not key or memory.duplicates_key != key:
        return None
    return memory.duplicates


def remember(
    params: fs.Model | None,
    model_name: str,
    compared: list[pd.DataFrame],
    keys: list[np.ndarray],
    candidates: pd.DataFrame | None = None,
    candidates_key: str = "",
    register_keys: np.ndarray | None = None,
    tag: str = "",
) -> PairMemory:
    """Tonight's pairs (every list's, each pair once), rows' candidates and the register's
    row keys (under its register_tag) for tomorrow."""
    kept_keys = {"register_keys": register_keys, "register_tag": tag}
    kept = [(c, k) for c, k in zip(compared, keys, strict=True) if len(c)]
    if not kept:
        return replace(
            PairMemory.empty(params, model_name),
            candidates=candidates,
            candidates_key=candidates_key,
            **kept_keys,
        )
    # each pair once (its first), made a column at a time: the compared pairs were copied whole
    # four times (dropped, assigned, joined, deduplicated), about 0.9 GB a copy for the dirty
    # 3M province's 37.3M pairs
    key = np.concatenate([k for _, k in kept])
    first = ~pd.Series(key).duplicated().to_numpy()
    columns, categories = {}, {}
    for column in kept[0][0].columns.drop(["left", "right"]):
        values = pd.concat([c[column] for c, _ in kept], ignore_index=True)[first]
        if isinstance(values.dtype, pd.CategoricalDtype):
            categories[column] = [str(c) for c in values.cat.categories]
            values = values.cat.codes.astype(np.int8)
        columns[column] = values.to_numpy()
    columns["key"] = key[first]
    return PairMemory(
        params,
        pd.DataFrame(columns),
        categories,
        model_name,
        candidates=candidates,
        candidates_key=candidates_key if candidates is not None else "",
        **kept_keys,
    )


def reuse_model(
    memory: PairMemory | None, model_name: str, new_share: float, retrain: bool | None
) -> bool:
    """Whether tonight scores with the kept model: there is one of this model, and either the
    run said so (retrain=False) or little changed (retrain=None and at most RETRAIN_SHARE of
    the pairs are new)."""
    if memory is None or memory.params is None or memory.model_name != model_name:
        return False
    if retrain is None:
        return new_share <= RETRAIN_SHARE
    return not retrain


# ---- serialising (the decisions store keeps these as bytes) ----


def params_json(params: fs.Model | None) -> str:
    if params is None:
        return "null"
    return json.dumps(
        {
            "fields": params.fields,
            "levels": params.levels,
            "m": [m.tolist() for m in params.m],
            "u": [u.tolist() for u in params.u],
            "prior": params.prior,
        }
    )


def params_from_json(text: str) -> fs.Model | None:
    data = json.loads(text)
    if data is None:
        return None
    return fs.Model(
        data["fields"],
        data["levels"],
        [np.asarray(m, dtype=float) for m in data["m"]],
        [np.asarray(u, dtype=float) for u in data["u"]],
        float(data["prior"]),
    )


@cache
def logic_version() -> str:
    """A digest of the code that turns two rows into levels, and of this module, which keys
    them: a memory made by other code is not recalled (its levels may no longer be what this
    code gives, its keys not what row_keys gives)."""
    import hashlib

    from reconcile.matching import comparison, linker, memory, weights

    digest = hashlib.sha256()
    for module in (comparison, weights, linker, memory):
        digest.update(Path(module.__file__).read_bytes())
    return digest.hexdigest()[:16]


class StaleMemory(ValueError):
    """A memory written by other comparison code."""


def to_bytes(memory: PairMemory) -> tuple[str, bytes]:
    """(metadata JSON, the pairs as Parquet, then the candidates as Parquet, then the
    register's row keys: the meta says where each starts)."""
    import io

    buffer = io.BytesIO()
    memory.pairs.to_parquet(buffer, index=False)
    candidates_at = None
    if memory.candidates is not None:
        candidates_at = buffer.tell()
        memory.candidates.to_parquet(buffer, index=False)
    keys_at = None
    if memory.register_keys is not None:
        keys_at = buffer.tell()  # 8 bytes a resident, as they are
        buffer.write(np.ascontiguousarray(memory.register_keys, dtype="<u8").tobytes())
    duplicates = None
    if memory.duplicates is not None:  # a few pairs per thousand residents: inside the meta
        found = io.BytesIO()
        memory.duplicates.to_parquet(found, index=False)
        duplicates = base64.b64encode(found.getvalue()).decode("ascii")
    meta = json.dumps(
        {
            "params": params_json(memory.params),
            "categories": memory.categories,
            "model": memory.model_name,
            "logic": logic_version(),
            "duplicates": duplicates,
            "duplicates_key": memory.duplicates_key,
            "candidates_at": candidates_at,
            "candidates_key": memory.candidates_key,
            "register_keys_at": keys_at,
            "register_tag": memory.register_tag if keys_at is not None else "",
        }
    )
    return meta, buffer.getvalue()


def from_bytes(meta: str, payload: bytes) -> PairMemory:
    import io

    data = json.loads(meta)
    if data.get("logic") != logic_version():
        raise StaleMemory("matching code changed since this memory was written")
    candidates_at, keys_at = data.get("candidates_at"), data.get("register_keys_at")
    pairs = pd.read_parquet(io.BytesIO(payload[: candidates_at or keys_at]))
    candidates = None
    if candidates_at is not None:
        candidates = pd.read_parquet(io.BytesIO(payload[candidates_at:keys_at]))
    register_keys = None
    if keys_at is not None:
        register_keys = np.frombuffer(payload[keys_at:], dtype="<u8").astype(np.uint64)
    duplicates = None
    if data.get("duplicates"):
        from schemas.tables import from_parquet

        duplicates = from_parquet(io.BytesIO(base64.b64decode(data["duplicates"])))
    return PairMemory(
        params_from_json(data["params"]),
        pairs,
        data["categories"],
        data.get("model", ""),
        duplicates,
        data.get("duplicates_key", "") if duplicates is not None else "",
        candidates,
        data.get("candidates_key", "") if candidates is not None else "",
        register_keys,
        data.get("register_tag", "") if register_keys is not None else "",
    )
