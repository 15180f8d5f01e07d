"""The nightly deployment against a real Prefect server: deploy, trigger, check the outputs, then
search everything Prefect stored and every log line for the inputs' names and ID numbers."""

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request

import pytest

from reconcile.ingest import ingest_list
from reconcile.kinds import ListKind
from reconcile.normalize.names import parse_name
from reconcile.normalize.people import normalize_people
from reconcile.validate import validate_list

from conftest import SAMPLE_DIR

INBOX = {
    "register": "dan_cu.xlsx",
    "birth": "khai_sinh.xlsx",
    "death": "khai_tu.xlsx",
    "vaccination": "tiem_chung.xlsx",
    "welfare": "tro_cap_xa_hoi.xlsx",
    "membership": "doan_thanh_nien.xlsx",
}
PREFECT = shutil.which("prefect")
RECONCILE = shutil.which("reconcile")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait(predicate, seconds: float, what: str):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(1)
    raise AssertionError(f"timed out waiting for {what}")


# The codes Prefect's own client retries: the server answers 503 when its SQLite database is
# busy (a retryable error rolled back, so nothing was written), which a loaded CI machine hits.
_RETRYABLE = {408, 429, 502, 503}


def _api(url: str, body: dict | None = None, attempts: int = 8):
    request = urllib.request.Request(
        url,
        data=json.dumps(body).encode() if body is not None else None,
        headers={"Content-Type": "application/json"},
        method="POST" if body is not None else "GET",
    )
    for attempt in range(attempts):
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                return json.loads(response.read() or b"null")
        except urllib.error.HTTPError as error:
            if error.code not in _RETRYABLE or attempt == attempts - 1:
                raise
            time.sleep(min(2**attempt, 10))


def _healthy(api: str) -> bool:
    try:
        return _api(f"{api}/health") is True
    except OSError:
        return False


def _personal_values() -> set[str]:
    """Every name (as written and as read) and every ID number in the inbox's files."""
    values: set[str] = set()
    for kind, name in INBOX.items():
        ingested = ingest_list(SAMPLE_DIR / name, ListKind(kind))
        people = normalize_people(validate_list(ingested).valid, ListKind(kind))
        values |= {str(v) for v in ingested.frame["full_name"].dropna() if str(v).strip()}
        values |= set(people["name"]) | set(people["pid"].dropna())
        values |= {parse_name(v).display.upper() for v in people["name"]}
    return {v for v in values if len(v) >= 6}


def _stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.mark.skipif(
    PREFECT is None or RECONCILE is None or sys.platform == "win32",
    reason="needs the installed prefect and reconcile commands",
)
def test_nightly_deployment_on_a_real_server_leaves_no_personal_data(tmp_path):
    port = _free_port()
    api = f"http://127.0.0.1:{port}/api"
    home = tmp_path / "prefect_home"
    env = {
        **os.environ,
        "PREFECT_HOME": str(home),
        "PREFECT_API_URL": api,
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        "PREFECT_LOGGING_LEVEL": "DEBUG",
    }
    inbox, out = tmp_path / "inbox", tmp_path / "out"
    for kind, name in INBOX.items():
        (inbox / kind).mkdir(parents=True)
        shutil.copy(SAMPLE_DIR / name, inbox / kind / name)
    logs = tmp_path / "logs"
    logs.mkdir()
    server = subprocess.Popen(
        [PREFECT, "server", "start", "--host", "127.0.0.1", "--port", str(port)],
        env=env,
        stdout=(logs / "server.log").open("w"),
        stderr=subprocess.STDOUT,
    )
    serving = None
    try:
        _wait(lambda: _healthy(api), 120, "the Prefect server")
        serving = subprocess.Popen(
            [RECONCILE, "nightly", "serve", "--inbox", str(inbox), "--out", str(out)],
            env=env,
            stdout=(logs / "serve.log").open("w"),
            stderr=subprocess.STDOUT,
        )

        def deployment():
            try:
                return _api(f"{api}/deployments/name/reconcile-nightly/nightly")
            except OSError:
                return None

        found = _wait(deployment, 90, "the deployment")
        (schedule,) = found["schedules"]
        assert schedule["schedule"]["cron"] == "0 2 * * *"
        assert schedule["schedule"]["timezone"] == "Asia/Ho_Chi_Minh"
        assert schedule["active"] and not found["paused"]
        run = _api(f"{api}/deployments/{found['id']}/create_flow_run", {})

        def finished():
            state = _api(f"{api}/flow_runs/{run['id']}")["state"]
            return state if state["type"] in ("COMPLETED", "FAILED", "CRASHED") else None

        state = _wait(finished, 180, "the flow run")
        assert state["type"] == "COMPLETED", state
        (run_dir,) = [p for p in out.iterdir() if p.is_dir() and not p.name.startswith(".")]
        summary = json.loads((run_dir / "summary.json").read_text(encoding="utf-8"))
        assert all(summary["checks"].values())
        assert len(summary["inputs"]) == len(INBOX)
        assert summary["findings_total"] > 0
        artifacts = _api(f"{api}/artifacts/filter", {})
        assert {"reconcile-findings-by-type", "reconcile-run-summary"} <= {
            a["key"] for a in artifacts
        }
        _stop(serving)  # a restart of the serve process must not pause the nightly schedule
        after = _api(f"{api}/deployments/name/reconcile-nightly/nightly")
        assert not after["paused"] and after["schedules"][0]["active"]
    finally:
        if serving is not None:
            _stop(serving)
        _stop(server)

    stored = [p for p in home.rglob("*") if p.is_file()] + list(logs.iterdir())
    assert any(p.suffix == ".db" for p in stored)  # the server's database is among them
    haystack = b"\n".join(p.read_bytes() for p in stored)
    # the scan sees what the run said: its progress lines name files and counts
    assert re.search(rb"dan_cu\.xlsx: \d{4} ", haystack)
    leaks = []
    for value in _personal_values():
        for form in {value.encode(), json.dumps(value).strip('"').encode()}:
            if form in haystack:
                leaks.append(value[:3] + "…")
    assert leaks == []
