"""One reconciliation run: the stages in order, the same whether a Prefect flow or a plain call
executes them.

`call(stage, *args)` runs one stage, given as the function itself (a StageRunner passes the
stage's own arguments and returns its own result). The default calls it directly; flows/ passes
one that runs each stage as a Prefect task. So the order of stages, what a skipped list means
and how counts add up live here once, and flows/ only wires.
"""

from __future__ import annotations

import datetime as dt
import multiprocessing
import os
import zlib
from collections.abc import Callable
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from dataclasses import replace as dc_replace
from pathlib import Path
from typing import ParamSpec, Protocol, TypeVar

import numpy as np
import pandas as pd

from reconcile.check_sample import corrected, draw_sample
from reconcile.collection import fewer_collections, let_readings_go, set_for_worker
from reconcile.config import EngineConfig, ListConfig, RunConfig
from reconcile.estimates import Trust, estimate_list, learnt_weights, score_histogram
from reconcile.findings import LinkedList, build_findings, probability
from reconcile.frames import pickled_by_column, unpickled_by_column
from reconcile.ingest import (
    LAYOUT_COLUMNS,
    IngestedList,
    UnreadableListError,
    drop_read_ahead,
    ingest_list,
    read_ahead,
)
from reconcile.input_memory import (
    StoredReading,
    input_digest,
    raw_row_keys,
    reuse_rows,
    to_record,
    with_reused,
)
from reconcile.kind_evidence import contradiction
from reconcile.kinds import ListKind
from reconcile.leftovers import end_leftovers, forget_children, record_children
from reconcile.matching.beside import (
    HelperExecutor,
    held_evidence,
    held_record,
    let_go,
    place,
    result_or,
    submitted,
)
from reconcile.matching.decision import Thresholds
from reconcile.matching.duplicates import (
    duplicate_evidence,
    weigh_duplicates,
)
from reconcile.matching.engine import executor_for, run_remembering
from reconcile.matching.memory import (
    PairMemory,
    duplicates_key,
    recall_duplicates,
    register_tag,
)
from reconcile.normalize.people import inherit_commune, normalize_people, single_commune
from reconcile.review.intake import vouched
from reconcile.review.rules import ReviewOutcome, apply_review
from reconcile.review.store import existing_store, store_for
from reconcile.review.workbook_decisions import (
    read_check_marks,
    read_workbook,
    review_workbooks,
)
from reconcile.validate import (
    REJECTED_COLUMNS,
    MissingColumnsError,
    Validated,
    column_warnings,
    validate_list,
)
from schemas.tables import check_people


class RunError(Exception):
    """The run cannot go on at all (the register itself is unreadable). Bilingual message."""


@dataclass
class ListCounts:
    """What happened to one input file's rows. Counts only: safe for summaries and logs."""

    label: str
    kind: str
    file: str
    rows_read: int = 0
    valid: int = 0
    rejected: int = 0
    match: int = 0
    possible: int = 0
    none: int = 0
    skipped: str | None = None
    # physical rows of the file's sheets = rows_read + layout rows (titles, groups, footers…)
    sheet_rows: int = 0
    layout: dict[str, int] = field(default_factory=dict)
    # sheets not read, each with why ("no header row (closest: row 5: …)", "hidden sheet")
    sheets_skipped: dict[str, str] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)


# A reading keeps the last one's rows it no longer has (PreparedList.departed) while they are at
# most this share of them: past it, so many residents changed that every list row is blocked
# again anyway, and carrying them from the reading's process would cost more than it spares.
DEPARTED_AT_MOST = 0.5


@dataclass
class PreparedList:
    spec: ListConfig
    counts: ListCounts
    people: pd.DataFrame | None = None
    rejected: pd.DataFrame | None = None
    layout: pd.DataFrame | None = None  # every non-data row with its role and reason
    digest: str | None = None  # input_memory.input_digest of what was read
    remembered: bool = False  # taken from the store, the file unchanged since it was read
    raw_keys: np.ndarray | None = None  # input_memory.raw_row_keys of the people's raw rows
    reused_rows: int = 0  # rows taken as the last reading normalised them (input_memory)
    # input_memory.to_record of this reading, made early where a process had time for it
    record: dict | None = None
    # a register's: the rows of the last reading (whose digest is `departed_from`) that no row
    # of this one was taken from, what the matching memory needs to know who left
    departed: pd.DataFrame | None = None
    departed_from: str | None = None

    def __getstate__(self) -> dict:
        # the people cross from the process that read them column by column
        # (frames.pickled_by_column): a whole-frame pickle memoises every cell's object
        state = dict(self.__dict__)
        if self.people is not None:
            state["people"] = _ByColumn(pickled_by_column(self.people))
        return state

    def __setstate__(self, state: dict) -> None:
        if isinstance(state.get("people"), _ByColumn):
            state["people"] = unpickled_by_column(state["people"].parts)
        self.__dict__.update(state)


@dataclass(frozen=True)
class _ByColumn:
    parts: list[bytes]


@dataclass
class ReviewReport:
    """What the officer's earlier decisions did to this run. Counts and sheet/row problems only."""

    workbooks_read: int = 0
    decisions_recorded: int = 0
    suppressed: int = 0
    resolved: int = 0
    ignored: int = 0  # decisions or workbook parts ignored, each a problem below
    check_marks: int = 0  # marks read from check sheets (of links this installation sampled)
    # by file, sheet and row, never a cell's text; shown in the workbook, not in summary.json
    problems: list[str] = field(default_factory=list)


@dataclass
class MatchStats:
    """How much of a run's matching was remembered from the last run: counts only."""

    pairs: int = 0  # candidate pairs of every list
    recalled: int = 0  # of them, compared last run and not again
    retrained: bool = True  # the model was learnt tonight (else the last run's was kept)
    # the register's duplicate pairs were the last run's (its register and model unchanged)
    duplicates_recalled: bool = False
    # list rows whose candidate pairs were the last run's (they and the register unchanged)
    candidates_recalled: int = 0


@dataclass
class RunResult:
    run_id: str
    started: dt.datetime
    register: PreparedList
    lists: list[PreparedList]
    findings: pd.DataFrame
    links: pd.DataFrame
    rejected: pd.DataFrame
    duplicates: int
    review: ReviewReport = field(default_factory=lambda: ReviewReport())
    layout: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=LAYOUT_COLUMNS))
    trust: Trust = field(default_factory=Trust)
    matching: MatchStats = field(default_factory=lambda: MatchStats())


# ---- the stages: plain functions of data ----


def ingest_stage(spec: ListConfig) -> IngestedList:
    return ingest_list(spec.path, spec.kind, spec.label, spec.columns, spec.url, spec.table)


def validate_stage(ingested: IngestedList) -> Validated:
    return validate_list(ingested)


def normalize_stage(
    valid: pd.DataFrame,
    kind: ListKind,
    hamlet_aliases: dict[str, str],
    list_date: dt.date | None = None,
) -> pd.DataFrame:
    people = normalize_people(valid, kind, hamlet_aliases=hamlet_aliases, list_date=list_date)
    return check_people(people, register=kind is ListKind.REGISTER)


@dataclass
class Matched:
    """What match_stage gives. The register's duplicates may still be searched in the helper
    when the lists are linked: they are waited for, and weighed, when first asked for (the
    findings of the lists are made meanwhile)."""

    linked: list[LinkedList]
    pending_duplicates: Callable[[], pd.DataFrame]
    linked_memory: PairMemory | None  # tonight's memory but the duplicates (None: taken)
    stats: MatchStats
    record: Future | None = None  # the register's reading as kept, made in the helper
    duplicates_key: str = ""
    _duplicates: pd.DataFrame | None = field(default=None, repr=False)

    @property
    def duplicates(self) -> pd.DataFrame:
        if self._duplicates is None:
            self._duplicates = self.pending_duplicates()
        return self._duplicates

    @property
    def memory(self) -> PairMemory:
        return dc_replace(
            self.linked_memory, duplicates=self.duplicates, duplicates_key=self.duplicates_key
        )

    def take_memory(self) -> PairMemory:
        """`memory`, no longer held here: the caller's reference is the last."""
        memory = self.memory
        self.linked_memory = None
        return memory


def match_stage(
    register: pd.DataFrame,
    lists: list[PreparedList],
    thresholds: Thresholds,
    fitted: bool = True,
    engine: EngineConfig | None = None,
    memory: PairMemory | None = None,
    retrain: bool | None = None,
    secret: bytes = b"",
    helper: ProcessPoolExecutor | None = None,
    register_digest: str | None = None,
    departed: tuple[str | None, pd.DataFrame] | None = None,
    register_raw: np.ndarray | None = None,
    reading: PreparedList | None = None,
) -> Matched:
    """Every list linked to the register, and the register's duplicates. With `memory` (the
    last run's), only pairs it does not hold are compared, and its model is kept unless
    `retrain` (None: when much changed): the result is the one a full run with that model
    gives. With `helper` (a warm process), the register's duplicates are searched there while
    this process links the lists (matching.beside), and weighed here with the model when first
    asked for (Matched.duplicates). The helper then makes the register's `reading` (sent
    without its people: they are the register it holds) as the next run keeps it
    (Matched.record), and lets the register go: it held 3.8 GB of the dirty 3M province's to the
    end of the matching, the summed peak's moment, only to make that reading after.
    `register_digest` (input_memory's) names the register's reading, whose row keys the
    memory keeps; `departed` (the digest of the reading before it and the rows of that one
    no row of this was taken from) tells the memory who left the register. `register_raw`
    (the register's raw row keys) and the lists' key each row by its raw key (memory.row_keys;
    without them a row is keyed by all its columns)."""
    from reconcile.matching.weights import COMMUNE_MODEL

    tag = register_tag(register_digest, secret, COMMUNE_MODEL.name)
    token = place(helper, register)  # it crosses once, for its duplicates
    engine = engine or EngineConfig()
    evidence: list[Future | None] = []
    recorded: list[Future | None] = [None]

    def search_duplicates() -> None:
        evidence.append(submitted(helper, held_evidence, token) if token else None)
        if token:  # the helper's last uses of the register: nothing is shared with it after
            if reading is not None:
                recorded[0] = submitted(helper, held_record, token, reading)
            submitted(helper, let_go, token)

    # a full run's first comparison is shared with the helper, the duplicates queued behind
    # it; a night that recalls compares few pairs, and the duplicates go first
    recalls = memory is not None and memory.recalls_anything()
    sharing = token is not None and engine.kind == "pandas" and not recalls
    if not sharing:
        search_duplicates()
    commune = single_commune(register)
    people = [inherit_commune(item.people, commune) for item in lists]
    with executor_for(engine.kind, engine.address, engine.workers) as executor:
        if sharing:
            executor = HelperExecutor(helper, token, register.index, then=search_duplicates)
        run = run_remembering(
            COMMUNE_MODEL,
            people,
            register,
            memory,
            executor,
            fitted,
            retrain,
            secret,
            register_tag=tag,
            departed=None
            if departed is None
            else (register_tag(departed[0], secret, COMMUNE_MODEL.name), departed[1]),
            raw_keys=([item.raw_keys for item in lists], register_raw),
        )
        if sharing:
            executor.finish()
        decided = [
            executor.decide(table, register, scored, thresholds)
            for table, scored in zip(people, run.scored, strict=True)
        ]
    linked = [
        LinkedList(item.spec.label, item.spec.kind, table, links, scored, item.spec.list_series)
        for item, table, scored, links in zip(lists, people, run.scored, decided, strict=True)
    ]
    key = ""
    if run.register_keys is not None:
        key = duplicates_key(register.index, run.register_keys, run.params)
    recalled = recall_duplicates(memory, key)
    stats = MatchStats(
        run.pairs, run.recalled, run.retrained, recalled is not None, run.candidates_recalled
    )
    if recalled is not None and evidence[0] is not None:
        evidence[0].cancel()
    params = run.params  # the run itself is not held by `weighed`: it holds the memory

    def weighed() -> pd.DataFrame:
        if recalled is not None:
            return recalled
        found = result_or(evidence[0], lambda: duplicate_evidence(register))
        return weigh_duplicates(found, params)

    return Matched(linked, weighed, run.memory, stats, recorded[0], key)


def recall_stage(config: RunConfig) -> PairMemory | None:
    """What the last run of this scope remembered; with incremental off, its model alone."""
    memory = store_for(config).pair_memory()
    if memory is None or config.matching.incremental:
        return memory
    return memory.forget_pairs()


def findings_stage(
    register: pd.DataFrame,
    duplicates: pd.DataFrame | Callable[[], pd.DataFrame],
    linked: list[LinkedList],
    config: RunConfig,
) -> pd.DataFrame:
    """build_findings; `duplicates` may be asked for (Matched.duplicates) once the lists'
    findings are made."""
    store = store_for(config)
    return build_findings(register, duplicates, linked, store.secret(), store.scope)


def returned_stage(config: RunConfig) -> ReviewReport:
    """Read the reviewed workbooks into the store: their check marks, which tonight's
    estimates are corrected by, and the decisions a workbook this installation wrote may make,
    on findings its run issued (review_stage applies them)."""
    store = store_for(config)
    report = ReviewReport()
    decisions = []
    for path in review_workbooks(config.review.inbox, config.out_dir):
        report.check_marks += store.record_marks(read_check_marks(path))[0]
        accepted, problems = vouched(read_workbook(path), store)
        decisions += accepted
        report.problems += problems
        report.workbooks_read += 1
    report.ignored = len(report.problems)
    report.decisions_recorded = store.record_decisions(decisions)
    return report


def review_stage(
    findings: pd.DataFrame,
    config: RunConfig,
    run_id: str,
    started: dt.datetime,
    processed: set[str],
    returned: ReviewReport,
) -> tuple[ReviewOutcome, ReviewReport]:
    """The stored decisions applied to this run's findings; `returned` (returned_stage's
    report) with what they did."""
    store = store_for(config)
    outcome = apply_review(
        findings, store.history(), store.decisions(), processed, run_id, started.date()
    )
    report = dc_replace(returned, suppressed=outcome.suppressed, resolved=outcome.resolved)
    # the store is written from the change alone: the whole view (a row per finding ever
    # raised, 0.35 GB for the dirty 3M province) is not carried to the end of the run
    return dc_replace(outcome, history=None), report


def estimate_stage(
    linked: list[LinkedList], register: pd.DataFrame, config: RunConfig, run_id: str
) -> Trust:
    """Each list's error estimates (corrected by the officers' marks so far), this run's check
    sample, the weights the model learnt and the scores' distribution."""
    store = store_for(config)
    marks = store.check_marks()
    estimates = {}
    for item in linked:
        estimate = estimate_list(item.links, item.scored)
        mine = marks[marks["series"] == (item.series or item.label)]
        estimates[item.label] = corrected(estimate, item.links, item.scored, mine)
    seed = zlib.crc32(run_id.encode())  # the same run draws the same sample
    thresholds = config.matching.thresholds()
    return Trust(
        estimates,
        draw_sample(linked, register, store.secret(), seed),
        learnt_weights([item.scored for item in linked]),
        score_histogram([item.links for item in linked]),
        thresholds.match,
        thresholds.possible,
    )


def record_stage(outcome: ReviewOutcome, config: RunConfig, result: RunResult) -> None:
    store = store_for(config)
    store.record_estimates(
        result.run_id,
        result.started,
        {
            item.spec.list_series: result.trust.estimates[item.spec.label].as_dict()
            for item in result.lists
            if item.spec.label in result.trust.estimates
        },
    )
    store.save(
        outcome.change,
        result.started,
        len(outcome.findings),
        outcome.suppressed,
        outcome.resolved,
    )


def remember_stage(config: RunConfig, run_id: str, memory: PairMemory) -> None:
    """Keep tonight's matching memory for the next run, as soon as its duplicates are known
    (after the findings), so that the run lets it go before the review: 1.5 GB of frames at a
    3M province, held through review and report when it was kept with the outputs. Keyed by
    content, not by this run (as _keep_for_next_run's readings): a run that fails after this
    leaves only what a later run would compute again the same."""
    store_for(config).save_pair_memory(run_id, memory)


def _keep_for_next_run(store, result: RunResult) -> None:
    """What the next run may reuse of the files as read: keyed by content, not by this run, so
    saving them before the run's folder is in place is safe: a run killed after this leaves
    only what a later run would compute again the same."""
    for item in (result.register, *result.lists):
        if _kept_next_run(item):
            store.save_prepared(_series(item.spec), item.digest, item.record or to_record(item))


def _kept_next_run(item: PreparedList) -> bool:
    """Whether a reading is kept for the next run: read anew, with a digest to find it by."""
    return bool(item.digest) and not item.remembered and item.people is not None


def report_stage(
    result: RunResult,
    config: RunConfig,
    helper: ProcessPoolExecutor | None = None,
    begun: dict | None = None,
) -> Path:
    """Write the run's folder (the workbook in `helper`, a warm process, when there is one,
    finishing what begin_workbooks `begun` there). While the workbook is written, the store
    learns which findings it issues (before the folder appears, so decisions typed into it
    are never lost to a kill) and keeps what the next run reuses."""
    from reconcile.report.output import write_run

    store = store_for(config)

    def meanwhile() -> None:
        store.record_issued(result.run_id, result.findings)
        store.record_sample(result.run_id, result.trust.check_sample)
        _keep_for_next_run(store, result)

    return write_run(
        result,
        config.out_dir,
        token=store.workbook_token(result.run_id),
        helper=helper,
        meanwhile=meanwhile,
        begun=begun,
    )


# Every stage a run may call: flows/ makes one Prefect task of each.
STAGES: tuple[Callable, ...] = (
    ingest_stage,
    validate_stage,
    normalize_stage,
    recall_stage,
    match_stage,
    findings_stage,
    remember_stage,
    returned_stage,
    review_stage,
    estimate_stage,
    report_stage,
    record_stage,
)
STAGE_LABELS = {
    "ingest": "Đọc tệp / reading",
    "validate": "Kiểm tra / validating",
    "normalize": "Chuẩn hóa / normalising",
    "match": "Ghép người / matching",
    "findings": "Tìm sai lệch / finding discrepancies",
    "review": "Đối chiếu quyết định đã có / applying earlier decisions",
    "record": "Lưu lịch sử / recording history",
    "archive": "Lưu trữ tệp đã xử lý / archiving processed files",
    "retain": "Xóa lần chạy cũ / retention",
    "report": "Ghi kết quả / writing outputs",
}


P = ParamSpec("P")
T = TypeVar("T")


class StageRunner(Protocol):
    """Runs one stage function with its arguments and returns its result."""

    def __call__(self, stage: Callable[P, T], /, *args: P.args, **kwargs: P.kwargs) -> T: ...


def call_directly(stage: Callable[P, T], /, *args: P.args, **kwargs: P.kwargs) -> T:
    return stage(*args, **kwargs)


Progress = Callable[[str], None]


def _series(spec: ListConfig) -> str:
    return "register" if spec.kind is ListKind.REGISTER else spec.list_series


def _prepare(
    spec: ListConfig, config: RunConfig, call: StageRunner, progress: Progress
) -> PreparedList:
    """A file read, validated and normalised; or, unchanged since the last run read it, as
    that run left it (input_memory)."""
    looked = _look_up(spec, config)
    return _remembered(looked, progress) or _read_anew(looked, config, call, progress)


@dataclass
class _LookedUp:
    """What the store holds of a file: its digest today and the last reading's record."""

    spec: ListConfig
    digest: str | None
    record: dict | None


def _digest(spec: ListConfig, config: RunConfig) -> str | None:
    return input_digest(spec, config.hamlet_aliases) if config.matching.incremental else None


def _look_up(spec: ListConfig, config: RunConfig, digest: str | None = None) -> _LookedUp:
    digest = digest or _digest(spec, config)
    store = existing_store(config) if digest else None
    return _LookedUp(spec, digest, store.prepared(_series(spec)) if store else None)


def _parsed_ahead(config: RunConfig, digest: str | None) -> list[Path]:
    """The files of the lists that changed, when the register's file is the one the last run
    read (by the store's digests alone, not the readings). Its reading is then recalled, and
    the lists are read here after it: their sheets can be parsed meanwhile (ingest.read_ahead)."""
    store = existing_store(config) if digest else None
    if store is None or store.prepared_digest(_series(config.population_register)) != digest:
        return []
    return [
        spec.path
        for spec in config.lists
        if not spec.url and store.prepared_digest(_series(spec)) != _digest(spec, config)
    ]


def _remembered(looked: _LookedUp, progress: Progress) -> PreparedList | None:
    """The last run's reading of an unchanged file, or None."""
    if looked.record is None or looked.record["digest"] != looked.digest:
        return None
    stored = StoredReading.of(looked.record)
    if stored is None or not stored.still_valid():
        return None
    counts = ListCounts(**stored.counts)
    _say_counts(counts, progress, remembered=True)
    return PreparedList(
        looked.spec,
        counts,
        stored.people,
        stored.rejected,
        stored.layout,
        digest=looked.digest,
        remembered=True,
        raw_keys=stored.raw_keys,
    )


def _read_anew(
    looked: _LookedUp, config: RunConfig, call: StageRunner, progress: Progress
) -> PreparedList:
    """The file read again, reusing the rows of the last reading that are unchanged."""
    stored = StoredReading.of(looked.record) if looked.record is not None else None
    prepared = _read(looked.spec, config, call, progress, stored=stored)
    prepared.digest = looked.digest
    return prepared


def _read(
    spec: ListConfig,
    config: RunConfig,
    call: StageRunner,
    progress: Progress,
    stored: StoredReading | None = None,
) -> PreparedList:
    """Read, validate and normalise a file, and key its raw rows (input_memory.raw_row_keys):
    the next run reuses rows by them, and the matching keys rows by them whether or not this
    run is incremental (matching.memory.row_keys), so that a full run's memory serves the next
    night. With `stored` (the last reading of its series), rows whose raw cells the last reading
    normalised are taken as it did, and only the others are validated and normalised (the
    result is the same: a row's reading depends on its own cells and the settings its key
    carries; the register's ids are made again over all)."""
    counts = ListCounts(spec.label, spec.kind.value, spec.path.name)
    try:
        ingested = call(ingest_stage, spec)
        wrong_kind = contradiction(ingested)
        if wrong_kind:
            raise MissingColumnsError(wrong_kind)
        counts.rows_read = len(ingested.frame)
        _count_sheets(counts, ingested)
        keys = raw_row_keys(ingested.frame, spec, config.hamlet_aliases, ingested.list_date)
        stored_at = None  # each row's position in the stored people, -1 where it is new
        if stored is not None and stored.reusable:
            stored_at = reuse_rows(keys, stored.raw_keys)
            ingested_fresh = dc_replace(ingested, frame=ingested.frame[stored_at < 0])
        validated = call(validate_stage, ingested_fresh if stored_at is not None else ingested)
    except (UnreadableListError, MissingColumnsError) as exc:
        counts.skipped = str(exc)
        _say_counts(counts, progress)
        return PreparedList(spec, counts)
    people = call(
        normalize_stage, validated.valid, spec.kind, config.hamlet_aliases, ingested.list_date
    )
    reused_rows = 0 if stored_at is None else int((stored_at >= 0).sum())
    if reused_rows:
        register = spec.kind is ListKind.REGISTER
        people = with_reused(people, stored.people, stored_at, ingested.frame, register)
    counts.valid, counts.rejected = len(people), len(validated.rejected)
    # the warnings look at whole columns: a subset's would not be the file's
    warnings = validated.warnings if stored_at is None else column_warnings(ingested)
    counts.warnings = [*ingested.warnings, *warnings]
    _say_counts(counts, progress)
    departed = None
    if stored_at is not None and spec.kind is ListKind.REGISTER:
        departed = stored.people.iloc[np.setdiff1d(np.arange(len(stored.people)), stored_at)]
        if len(departed) > DEPARTED_AT_MOST * len(stored.people):
            departed = None
    return PreparedList(
        spec,
        counts,
        people,
        validated.rejected,
        ingested.layout,
        raw_keys=keys[ingested.frame.index.get_indexer(people.index)],
        reused_rows=reused_rows,
        departed=departed,
        departed_from=stored.digest if departed is not None else None,
    )


def _count_sheets(counts: ListCounts, ingested: IngestedList) -> None:
    for report in ingested.sheets:
        if report.skipped:
            counts.sheets_skipped[report.sheet] = report.skipped
            continue
        counts.sheet_rows += report.rows
        for role, n in report.layout.items():
            counts.layout[role] = counts.layout.get(role, 0) + n


def _say_counts(counts: ListCounts, progress: Progress, remembered: bool = False) -> None:
    if counts.skipped:
        progress(f"  ! {counts.file}: BỎ QUA / SKIPPED: {counts.skipped}")
    else:
        unchanged = " (không đổi từ lần trước / unchanged since the last run)" if remembered else ""
        progress(
            f"  {counts.file}: {counts.rows_read} dòng / rows, {counts.valid} hợp lệ / valid, "
            f"{counts.rejected} bị loại / rejected{unchanged}"
        )


# Below this much list input (about 50,000 rows of .xlsx), reading the lists beside the register
# costs more than it saves: a worker process starts a fresh interpreter and imports pandas (~2 s).
PARALLEL_INPUT_BYTES = 2 * 1024 * 1024


class PreparationError(Exception):
    """A list failed unexpectedly in the worker process; named by file and error type only,
    since the exception's own text may quote a cell."""


def _prepare_quietly(spec: ListConfig, config: RunConfig) -> PreparedList:
    """_prepare in a worker process, which then makes the reading's stored record too: the
    worker would wait for the register, and this process has the end of the run to pay."""
    try:
        prepared = _prepare(spec, config, call_directly, lambda _: None)
        if _kept_next_run(prepared):
            prepared.record = to_record(prepared)
        return prepared
    except Exception as exc:
        raise PreparationError(f"{spec.path.name}: {type(exc).__name__}") from None


def _failed(spec: ListConfig, why: str) -> PreparedList:
    """A list whose reading failed unexpectedly: skipped, named by file and error type only."""
    counts = ListCounts(spec.label, spec.kind.value, spec.path.name)
    counts.skipped = (
        f"Lỗi khi đọc {spec.path.name} ({why}), danh sách bị bỏ qua; hãy mở và lưu lại tệp / "
        f"reading {spec.path.name} failed ({why}): skipped; open and save the file again"
    )
    return PreparedList(spec, counts)


def _prepare_list(
    spec: ListConfig, config: RunConfig, call: StageRunner, progress: Progress
) -> PreparedList:
    """_prepare for a list: whatever goes wrong with one file costs only that file."""
    try:
        return _prepare(spec, config, call, progress)
    except (RunError, KeyboardInterrupt):
        raise
    except Exception as exc:
        prepared = _failed(spec, type(exc).__name__)
        _say_counts(prepared.counts, progress)
        return prepared


def _spawn(workers: int) -> ProcessPoolExecutor:
    # spawn everywhere: forking a process that runs Prefect's threads can deadlock the child
    return ProcessPoolExecutor(
        workers, mp_context=multiprocessing.get_context("spawn"), initializer=set_for_worker
    )


def _input_bytes(specs: list[ListConfig]) -> int:
    return sum(spec.path.stat().st_size for spec in specs if spec.path.is_file())


def _list_readers(config: RunConfig) -> int:
    """How many worker processes read the lists beside the register: one per list up to the
    spare cores; none on one core or for lists too small to be worth a process."""
    cores = os.cpu_count() or 1
    if cores < 2 or not config.lists or _input_bytes(config.lists) < PARALLEL_INPUT_BYTES:
        return 0
    return min(len(config.lists), cores - 1)


def _lists_beside_register(
    config: RunConfig, helper: ProcessPoolExecutor | None
) -> tuple[ProcessPoolExecutor | None, list[Future]] | None:
    """Start reading the lists in worker processes while this process reads the register, when
    there is a spare core and enough input to be worth a process. Where one reader does, the
    helper is that reader (no pool of its own: None): it starts once, not twice, and is warm
    when the matching needs it. Plain library code runs there: a Prefect run shows the
    register's stages as tasks and the lists' counts."""
    readers = _list_readers(config)
    if not readers:
        return None
    if readers == 1 and helper is not None:
        futures = [helper.submit(_prepare_quietly, spec, config) for spec in config.lists]
        helper.submit(let_readings_go)  # before the register joins the list's leftovers
        return None, futures
    pool = _spawn(readers)
    futures = [pool.submit(_prepare_quietly, spec, config) for spec in config.lists]
    record_children(config.out_dir)
    return pool, futures


def _helper(config: RunConfig) -> ProcessPoolExecutor | None:
    """A process that starts now, to search the register's duplicates while this one links
    the lists (match_stage) and to write the review workbook beside the machine files later
    (report.output); None on one core or for a small run, where starting it would cost more
    than it saves."""
    from reconcile.report.output import warm_up

    specs = [config.population_register, *config.lists]
    if (os.cpu_count() or 1) < 2 or _input_bytes(specs) < PARALLEL_INPUT_BYTES:
        return None
    helper = _spawn(1)
    helper.submit(warm_up)
    record_children(config.out_dir)
    return helper


def _duplicates_helper(
    helper: ProcessPoolExecutor | None, register: PreparedList, memory: PairMemory | None
) -> ProcessPoolExecutor | None:
    """The helper, to search the register's duplicates beside the matching; None when the
    register is the one the last run searched (its duplicates are recalled, not searched, and
    sending the register to the helper would cost about a second for nothing)."""
    if register.remembered and memory is not None and memory.duplicates is not None:
        return None
    return helper


def _collect(config: RunConfig, futures: list[Future]) -> tuple[list[PreparedList], bool]:
    """The workers' lists, and whether a worker died. A worker that died (a reader aborting on
    a hostile file) breaks the pool: each list it had not finished is read again in a process
    of its own, so the file that kills its reader is the only one skipped."""
    out: list[PreparedList | None] = []
    retry = []
    for spec, future in zip(config.lists, futures, strict=True):
        try:
            out.append(future.result())
        except PreparationError as exc:
            out.append(_failed(spec, str(exc).split(": ", 1)[-1]))
        except BrokenProcessPool:
            out.append(None)
            retry.append(spec)
    for spec in retry:
        with _spawn(1) as alone:
            try:
                prepared = alone.submit(_prepare_quietly, spec, config).result()
            except PreparationError as exc:
                prepared = _failed(spec, str(exc).split(": ", 1)[-1])
            except BrokenProcessPool:
                prepared = _failed(spec, "chương trình đọc tệp dừng đột ngột / the reader died")
        out[config.lists.index(spec)] = prepared
    return out, bool(retry)


LINK_FILE_COLUMNS = [
    "source_file",
    "source_sheet",
    "source_row",
    "person_id",
    "register_row",
    "decision",
    "score",
    "probability",
]


def _count_decisions(lists: list[PreparedList], linked: list[LinkedList]) -> None:
    for item, linked_list in zip(lists, linked, strict=True):
        decisions = linked_list.links["decision"].value_counts()
        for decision in ("match", "possible", "none"):
            setattr(item.counts, decision, int(decisions.get(decision, 0)))


def _links_frame(linked: list[LinkedList], register: pd.DataFrame) -> pd.DataFrame:
    frames = []
    for item in linked:
        people = item.people.loc[item.links["left"]]
        position = register.index.get_indexer(item.links["right"].astype("float").fillna(-1))
        linked_to = (position >= 0) & (item.links["decision"].to_numpy() != "none")
        safe = np.maximum(position, 0)
        frames.append(
            pd.DataFrame(
                {
                    "source_file": people["source_file"].to_numpy(),
                    "source_sheet": people["source_sheet"].to_numpy(),
                    "source_row": people["source_row"].to_numpy(),
                    "person_id": np.where(
                        linked_to, register["person_id"].to_numpy(dtype=object)[safe], ""
                    ),
                    "register_row": pd.array(
                        np.where(linked_to, register["source_row"].to_numpy()[safe], -1)
                    ).astype("Int64"),
                    "decision": item.links["decision"].to_numpy(),
                    "score": item.links["score"].to_numpy(),
                    "probability": probability(item.links["score"]).round(4),
                }
            )
        )
    if not frames:
        return pd.DataFrame(columns=LINK_FILE_COLUMNS)
    links = pd.concat(frames, ignore_index=True)
    links.loc[links["register_row"] < 0, "register_row"] = pd.NA
    return links


def run_reconciliation(
    config: RunConfig,
    call: StageRunner = call_directly,
    progress: Progress | None = None,
    now: dt.datetime | None = None,
) -> tuple[RunResult, Path]:
    """Run every stage; return the result and the run's output folder."""
    with fewer_collections():
        return _run(config, call, progress or (lambda _: None), now)


def _run(
    config: RunConfig, call: StageRunner, say: Progress, now: dt.datetime | None
) -> tuple[RunResult, Path]:
    started = now or dt.datetime.now().astimezone()
    run_id = started.strftime("%Y%m%d-%H%M%S")

    say(f"[1/5] {STAGE_LABELS['ingest']}, {STAGE_LABELS['validate']}, {STAGE_LABELS['normalize']}")
    record_children(config.out_dir)  # a temporary Prefect API, when there is one
    digest = _digest(config.population_register, config)
    helper = None
    try:
        read_ahead(_parsed_ahead(config, digest))
        looked = _look_up(config.population_register, config, digest)
        register = _remembered(looked, say)
        # A register the last run read is recalled in a moment: the lists are then read here,
        # not in a process that takes longer to start, and the helper starts at once on the
        # idle core. A register read anew leaves the spare core to the lists' reader: the
        # helper, where one reader does.
        early = register is not None or _list_readers(config) == 1
        helper = _helper(config) if early else None
        register, lists, helper = _read_inputs(config, call, say, looked, register, helper)
        drop_read_ahead()
        let_readings_go()
        if helper is None:
            helper = _helper(config)
        return _reconcile(config, call, say, run_id, started, register, lists, helper)
    finally:
        drop_read_ahead()
        if helper is not None:
            helper.shutdown(cancel_futures=True)
            forget_children(config.out_dir)  # it has ended (a run that failed leaves nothing)


def _read_inputs(
    config: RunConfig,
    call: StageRunner,
    say: Progress,
    looked: _LookedUp,
    register: PreparedList | None,
    helper: ProcessPoolExecutor | None,
) -> tuple[PreparedList, list[PreparedList], ProcessPoolExecutor | None]:
    """The register (unless recalled already) and the lists, read beside it in a worker
    process when the register must be read and there is a core to spare; and the helper,
    None if it died reading a list (_collect reads that list again alone)."""
    background = None if register is not None else _lists_beside_register(config, helper)
    try:
        if register is None:
            register = _read_anew(looked, config, call, say)
        if register.people is None:
            raise RunError(
                f"Không đọc được dữ liệu dân cư, không thể đối soát / the register could "
                f"not be read, nothing to reconcile: {register.counts.skipped}"
            )
        if register.people.empty:
            raise RunError(
                f"Dữ liệu dân cư {register.counts.file} không có dòng hợp lệ nào, không thể đối "
                f"soát / the register {register.counts.file} has no valid rows: nothing to "
                f"reconcile against"
            )
        if background:
            lists, died = _collect(config, background[1])
            for item in lists:
                _say_counts(item.counts, say, item.remembered)
            if died and background[0] is None:
                helper.shutdown(cancel_futures=True)
                helper = None
        else:
            lists = [_prepare_list(spec, config, call, say) for spec in config.lists]
    finally:
        if background and background[0] is not None:
            background[0].shutdown(cancel_futures=True)
            forget_children(config.out_dir)
    return register, lists, helper


def _reconcile(
    config: RunConfig,
    call: StageRunner,
    say: Progress,
    run_id: str,
    started: dt.datetime,
    register: PreparedList,
    lists: list[PreparedList],
    helper: ProcessPoolExecutor | None,
) -> tuple[RunResult, Path]:
    """The run's stages after reading: match, find, review, estimate, report, record."""
    usable = [item for item in lists if item.people is not None]
    say(
        f"[2/5] {STAGE_LABELS['match']}: {len(register.people)} cư dân / residents, "
        f"{sum(len(i.people) for i in usable)} dòng danh sách / list rows"
    )
    thresholds = config.matching.thresholds()
    fitted = config.matching.weights == "fitted"
    memory = call(recall_stage, config)
    matched = call(
        match_stage,
        register.people,
        usable,
        thresholds,
        fitted,
        config.engine,
        memory,
        config.matching.retrain_choice(),
        store_for(config).secret(),
        _duplicates_helper(helper, register, memory),
        register.digest,
        None if register.departed is None else (register.departed_from, register.departed),
        register.raw_keys,
        dc_replace(register, people=None) if _kept_next_run(register) else None,
    )
    # the last run's memory lives on only in tonight's (matched.memory, let go once kept):
    # held here, the dirty 3M province's (37.3M pairs, 1.5 GB of frames) stayed to the end
    del memory
    linked = matched.linked
    if matched.stats.recalled:
        say(
            f"  {matched.stats.recalled}/{matched.stats.pairs} cặp đã so ở lần trước, "
            f"{'học lại mô hình' if matched.stats.retrained else 'giữ mô hình cũ'} / "
            f"{matched.stats.recalled} of {matched.stats.pairs} pairs recalled from the last "
            f"run, model {'learnt again' if matched.stats.retrained else 'kept'}"
        )
    _count_decisions(usable, linked)

    say(f"[3/5] {STAGE_LABELS['findings']}")
    # the duplicates are still searched beside on a full run: asked for after the lists' findings
    # (`matched` bound now: the name is deleted once the estimates are made)
    findings = call(
        findings_stage, register.people, lambda found=matched: found.duplicates, linked, config
    )
    call(remember_stage, config, run_id, matched.take_memory())

    say(f"[4/5] {STAGE_LABELS['review']}")
    returned = call(returned_stage, config)  # the check marks correct the estimates
    # The estimates are the last to read the scored pairs (findings explain links by them):
    # made before the review, the pairs are let go before it. Every compared pair's levels and
    # weights, they were held to the end of the run: 37.3M pairs at the dirty 3M province.
    trust = call(estimate_stage, linked, register.people, config, run_id)
    links = _links_frame(linked, register.people)
    duplicates, stats, register_record = len(matched.duplicates), matched.stats, matched.record
    del linked, matched
    processed = {"register", *(item.spec.list_series for item in usable)}
    outcome, review = call(review_stage, findings, config, run_id, started, processed, returned)
    del findings  # outcome.findings are what is reported (a copy, when some were dismissed)
    from reconcile.report.output import begin_workbooks

    begun = begin_workbooks(helper, outcome.findings, run_id)  # beside the report's own files
    rejected_parts = [i.rejected for i in [register, *lists] if i.rejected is not None]
    rejected = (
        pd.concat(rejected_parts, ignore_index=True)
        if rejected_parts
        else (pd.DataFrame(columns=REJECTED_COLUMNS))
    )
    layout_parts = [i.layout for i in [register, *lists] if i.layout is not None and len(i.layout)]
    result = RunResult(
        run_id,
        started,
        register,
        lists,
        outcome.findings,
        links,
        rejected,
        duplicates,
        review,
        pd.concat(layout_parts, ignore_index=True)
        if layout_parts
        else pd.DataFrame(columns=LAYOUT_COLUMNS),
        trust,
        stats,
    )

    register.record = result_or(register_record, lambda: None)  # None: made at writing
    say(f"[5/5] {STAGE_LABELS['report']}: {len(outcome.findings)} sai lệch / findings")
    run_dir = call(report_stage, result, config, helper, begun)
    # The store learns of this run only once its outputs exist.
    call(record_stage, outcome, config, result)
    forget_children(config.out_dir)  # nothing left to end: this run ended as it should
    return result, run_dir


def run_locked(
    config: RunConfig,
    call: StageRunner = call_directly,
    progress: Progress | None = None,
    now: dt.datetime | None = None,
) -> tuple[RunResult, Path]:
    """run_reconciliation holding the output folder's lock (two runs never overlap), after
    clearing what a killed run left half-written."""
    from reconcile.nightly import remove_stale_staging
    from reconcile.runlock import run_lock

    with run_lock(config.out_dir):
        ended = end_leftovers(config.out_dir)
        if ended and progress:
            progress(
                f"Đã dừng {ended} tiến trình lần chạy trước để lại / ended {ended} processes a "
                f"killed run left"
            )
        remove_stale_staging(config.out_dir)
        return run_reconciliation(config, call, progress, now)
