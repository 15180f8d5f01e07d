"""The run configuration: which register, which lists of which kind, where outputs go.

Read from a TOML file (paths relative to that file) or built from command-line options. Only
paths and options, never personal data: the nightly flow stores these as its parameters.
"""

from __future__ import annotations

import difflib
import re
import tomllib
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from reconcile.kinds import ListKind


class ConfigError(Exception):
    """A configuration that cannot run, with a bilingual message."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class ListConfig(_Strict):
    kind: ListKind
    path: Path
    # a database table instead of a file: SQLAlchemy URL and table ("schema.table"); `path`
    # then only names it (default: the table's name)
    url: str | None = None
    table: str | None = None
    name: str | None = None
    # header text as written in the file → our field name, for unusual headers
    columns: dict[str, str] = Field(default_factory=dict)
    # the list's identity across runs, which finding ids and decisions are keyed to; default:
    # the kind and the file name without its numbers (tro_cap_thang_11 → welfare/tro_cap_thang)
    series: str | None = None

    @model_validator(mode="before")
    @classmethod
    def _table_names_the_path(cls, data):
        if isinstance(data, dict) and data.get("url") and not data.get("path"):
            data = {**data, "path": Path(str(data.get("table") or "table").replace(".", "_"))}
        return data

    @property
    def label(self) -> str:
        return self.name or self.path.stem

    @property
    def list_series(self) -> str:
        if self.series:
            return self.series
        stem = re.sub(r"[\s._-]*\d+", "", self.path.stem).strip(" ._-") or self.path.stem
        return f"{self.kind.value}/{stem.lower()}"


class MatchingConfig(_Strict):
    # "fitted" (default): weights learnt from the run's own data, scores are log2 odds (match 7,
    # possible 0 by default); "prior": the hand-set weights alone (match 10, possible 6)
    weights: Literal["prior", "fitted"] = "fitted"
    match: float | None = None
    possible: float | None = None
    ambiguity_margin: float = 3.0
    # compare only the pairs the last run did not (matching.memory); false: compare every pair
    incremental: bool = True
    # "auto": keep the last run's model unless more than 10% of the pairs are new; "always":
    # learn it again; "never": keep it whenever there is one
    retrain: Literal["auto", "always", "never"] = "auto"

    def retrain_choice(self) -> bool | None:
        """retrain as matching.engine.run_remembering takes it (None: decide by the share)."""
        return {"auto": None, "always": True, "never": False}[self.retrain]

    def thresholds(self):
        from reconcile.matching.decision import PRIOR_THRESHOLDS, Thresholds

        base = Thresholds() if self.weights == "fitted" else PRIOR_THRESHOLDS
        return Thresholds(
            self.match if self.match is not None else base.match,
            self.possible if self.possible is not None else base.possible,
            self.ambiguity_margin,
        )


class EngineConfig(_Strict):
    # "pandas": matching in this process; "dask": comparing on a Dask cluster (the one at
    # `address`, else a LocalCluster of `workers` processes)
    kind: Literal["pandas", "dask"] = "pandas"
    address: str | None = None
    workers: int = Field(default=2, ge=1)


class ReviewConfig(_Strict):
    # SQLAlchemy URL of the decisions store; default: decisions.sqlite in the output folder
    store: str | None = None
    # the commune whose findings these are: required when the store is shared (not SQLite)
    commune: str | None = None
    # a folder (or one workbook) where officers drop reviewed workbooks
    inbox: Path | None = None


class RunConfig(_Strict):
    # "register" in the file; a different attribute name, since BaseModel already has .register
    population_register: ListConfig = Field(alias="register")
    lists: list[ListConfig] = Field(default_factory=list)
    out_dir: Path = Path("out")
    matching: MatchingConfig = MatchingConfig()
    hamlet_aliases: dict[str, str] = Field(default_factory=dict)
    review: ReviewConfig = ReviewConfig()
    engine: EngineConfig = EngineConfig()


def _resolve(base: Path, path: str | Path) -> Path:
    path = Path(path).expanduser()
    return path if path.is_absolute() else (base / path).resolve()


# The sections a run configuration may have; anything else is a typo to report, not to ignore.
SECTIONS = ("register", "lists", "output", "matching", "hamlet_aliases", "review", "engine")


def _check_sections(data: dict, name: str) -> None:
    for key in data:
        if key in SECTIONS:
            continue
        close = difflib.get_close_matches(key, SECTIONS, n=1, cutoff=0.5)
        hint = f" (có phải '{close[0]}'? / did you mean '{close[0]}'?)" if close else ""
        raise ConfigError(
            f"Tệp cấu hình {name}: mục '{key}' không có{hint}; các mục dùng được: "
            f"{', '.join(SECTIONS)} / {name}: unknown section '{key}'{hint}"
        )
    if "output" in data and set(data["output"]) - {"dir"}:
        unknown = ", ".join(sorted(set(data["output"]) - {"dir"}))
        raise ConfigError(f"Tệp cấu hình {name}: [output] chỉ có 'dir' / unknown key(s): {unknown}")


def load_config(path: Path, out_dir: Path | None = None) -> RunConfig:
    """Read a TOML run config. `out_dir` (from the command line) overrides [output] dir."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"Không tìm thấy tệp cấu hình {path} / config file not found") from None
    except (IsADirectoryError, PermissionError):
        raise ConfigError(f"Không đọc được tệp cấu hình {path} / cannot read {path}") from None
    except (UnicodeDecodeError, ValueError) as exc:
        if isinstance(exc, tomllib.TOMLDecodeError) and path.suffix.lower() == ".toml":
            raise ConfigError(
                f"Tệp cấu hình {path.name} sai cú pháp / invalid TOML: {exc}"
            ) from None
        raise ConfigError(
            f"{path.name} không phải tệp cấu hình .toml (là một bảng tính?). Dùng "
            f"'reconcile run --register {path.name} …' hoặc đưa tệp .toml / {path.name} is not a "
            f"TOML run configuration (a spreadsheet?): give a .toml file, or the lists with "
            f"--register/--list"
        ) from None
    _check_sections(data, path.name)
    base = path.resolve().parent
    register = dict(data.get("register", {}), kind="register")
    if "path" in register:
        register["path"] = _resolve(base, register["path"])
    lists = [
        dict(item, path=_resolve(base, item["path"])) if "path" in item else item
        for item in data.get("lists", [])
    ]
    output = data.get("output", {})
    target = out_dir or (_resolve(base, output["dir"]) if "dir" in output else Path("out"))
    review = dict(data.get("review", {}))
    if "inbox" in review:
        review["inbox"] = _resolve(base, review["inbox"])
    return build_config(
        register,
        lists,
        target,
        data.get("matching", {}),
        data.get("hamlet_aliases", {}),
        source=path.name,
        review=review,
        engine=data.get("engine", {}),
    )


def build_config(
    register: dict,
    lists: list[dict],
    out_dir: Path,
    matching: dict | None = None,
    hamlet_aliases: dict | None = None,
    source: str = "dòng lệnh",
    review: dict | None = None,
    engine: dict | None = None,
) -> RunConfig:
    try:
        config = RunConfig(
            register=register,
            lists=lists,
            out_dir=out_dir,
            matching=matching or {},
            hamlet_aliases=hamlet_aliases or {},
            review=review or {},
            engine=engine or {},
        )
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors()
        )
        raise ConfigError(
            f"Cấu hình ({source}) không hợp lệ / invalid configuration: {problems}"
        ) from None
    if config.population_register.kind is not ListKind.REGISTER:
        raise ConfigError("Mục [register] phải là dữ liệu dân cư / [register] must be the register")
    if any(item.kind is ListKind.REGISTER for item in config.lists):
        raise ConfigError("Chỉ một dữ liệu dân cư mỗi lần chạy / only one register per run")
    store = config.review.store
    if store and not store.startswith("sqlite") and not config.review.commune:
        raise ConfigError(
            'Kho quyết định dùng chung cần [review] commune = "tên xã" để tách dữ liệu các '
            'xã / a shared decisions store needs [review] commune = "name" to keep communes '
            "apart"
        )
    return config


def parse_list_option(option: str) -> tuple[ListKind, Path]:
    """KIND=PATH from the command line."""
    kind, sep, path = option.partition("=")
    kinds = ", ".join(k.value for k in ListKind if k is not ListKind.REGISTER)
    if not sep or not path:
        raise ConfigError(f"--list cần dạng KIND=PATH / --list takes KIND=PATH (KIND: {kinds})")
    try:
        parsed = ListKind(kind.strip().lower())
    except ValueError:
        raise ConfigError(
            f"Loại danh sách không rõ '{kind}' / unknown list kind (KIND: {kinds})"
        ) from None
    return parsed, Path(path)
