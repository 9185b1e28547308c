"""Start the real action server and Rasa server once per session, on free loopback ports."""

from __future__ import annotations

import os
import shutil
import socket
import sqlite3
import subprocess
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import requests

ROOT = Path(__file__).resolve().parents[2]
MODEL = Path(os.environ.get("HEALTHBOT_TEST_MODEL", ROOT / "models" / "assistant.tar.gz"))
START_TIMEOUT_S = 240
# A small real knowledge base for the end-to-end tests: the clinic folder plus a few MedQuAD
# documents (building the full index would take minutes).
E2E_KB_FILES = (
    "clinic",
    "medquad/mplushealthtopics/MPlusHealthTopics_0000471.md",  # High Blood Pressure
    "medquad/nihseniorhealth/NIHSeniorHealth_0000027.md",  # Glaucoma
    "medquad/nhlbi/NHLBI_0000071.md",  # High Blood Pressure (NHLBI)
)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The log scan runs last, after every other end-to-end test has written to the logs."""
    items.sort(key=lambda item: item.nodeid.startswith("tests/e2e/test_logs.py"))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_until_up(url: str, process: subprocess.Popen, log: Path, timeout: float) -> None:
    """Poll ``url`` until it answers 200; fail with the process log if it dies or times out."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"{url} exited early ({process.returncode}):\n{log.read_text()[-4000:]}")
        try:
            if requests.get(url, timeout=2).status_code == 200:
                return
        except requests.RequestException:
            pass
        time.sleep(0.5)
    pytest.fail(f"{url} did not come up in {timeout:.0f} s:\n{log.read_text()[-4000:]}")


@dataclass
class Stack:
    """The running assistant: where it listens, its database and its logs."""

    rasa_url: str
    actions_url: str
    tracker_db: Path
    kb_dir: Path
    kb_index: Path
    uploads_dir: Path
    state_dir: Path
    env: dict[str, str] = field(default_factory=dict)
    logs: list[Path] = field(default_factory=list)

    def send(self, sender: str, text: Any, **kwargs: Any) -> requests.Response:
        """POST one message to the REST channel."""
        return requests.post(
            f"{self.rasa_url}/webhooks/rest/webhook",
            json={"sender": sender, "message": text},
            timeout=120,
            **kwargs,
        )

    def say(self, sender: str, text: str) -> list[str]:
        """Send a message and return the texts of the replies (asserting a 200)."""
        response = self.send(sender, text)
        assert response.status_code == 200, response.text
        return [reply.get("text", "") for reply in response.json()]

    def parse(self, text: str) -> dict[str, Any]:
        response = requests.post(f"{self.rasa_url}/model/parse", json={"text": text}, timeout=60)
        assert response.status_code == 200, response.text
        return response.json()

    def stored_events(self, sender: str) -> int:
        """How many events the tracker store holds for ``sender``."""
        with sqlite3.connect(self.tracker_db) as db:
            (count,) = db.execute(
                "SELECT COUNT(*) FROM events WHERE sender_id = ?", (sender,)
            ).fetchone()
        return int(count)


def build_small_kb(tmp: Path) -> tuple[Path, Path]:
    """Copies the e2e knowledge files and builds their index with the real CLI."""
    kb, index = tmp / "knowledge", tmp / "kb-index"
    for rel in E2E_KB_FILES:
        source = ROOT / "knowledge" / rel
        target = kb / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        if source.is_dir():
            shutil.copytree(source, target)
        else:
            shutil.copy(source, target)
    kb_build(kb, index)
    return kb, index


def kb_build(kb: Path, index: Path) -> None:
    """`healthbot kb build`, as an editor runs it, on the given folders."""
    env = {**os.environ, "HEALTHBOT_KB_DIR": str(kb), "HEALTHBOT_KB_INDEX_DIR": str(index)}
    command = [str(ROOT / ".venv/bin/healthbot"), "kb", "build", "--quiet"]
    subprocess.run(command, env=env, cwd=ROOT, check=True, capture_output=True, timeout=300)


def _start(cmd: list[str], env: dict[str, str], log: Path) -> subprocess.Popen:
    handle = log.open("w")
    return subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=handle, stderr=subprocess.STDOUT)


@pytest.fixture(scope="session")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """The real Rasa server + action server, started once for all end-to-end tests."""
    if not MODEL.exists():
        pytest.fail(f"{MODEL} is missing: run `make train` (make test does it for you)")
    tmp = tmp_path_factory.mktemp("stack")
    rasa_port, actions_port = free_port(), free_port()
    kb_dir, kb_index = build_small_kb(tmp)
    env = {
        **os.environ,
        "ACTIONS_PORT": str(actions_port),
        "RASA_PORT": str(rasa_port),
        "HEALTHBOT_TRACKER_DB": str(tmp / "tracker.db"),
        "RASA_TELEMETRY_ENABLED": "false",
        "RASA_MODEL": str(MODEL),
        "HEALTHBOT_KB_DIR": str(kb_dir),
        "HEALTHBOT_KB_INDEX_DIR": str(kb_index),
        "HEALTHBOT_KB_RELOAD_INTERVAL_S": "0.2",
        # Shared by the edge (writes uploads) and the action server (reads them by id).
        "HEALTHBOT_UPLOADS_DIR": str(tmp / "uploads"),
        "HEALTHBOT_STATE_DIR": str(tmp / "edge-state"),
        "HEALTHBOT_RASA_URL": f"http://127.0.0.1:{rasa_port}",
        "HEALTHBOT_PHOTO_HISTORY_DB": str(tmp / "photo-history.db"),
        "HEALTHBOT_EHR_STORE_DIR": str(tmp / "ehr"),
    }
    logs = [tmp / "actions.log", tmp / "rasa.log"]
    actions = _start(["scripts/run_actions.sh"], env, logs[0])
    rasa = _start(["scripts/run_rasa.sh"], env, logs[1])
    try:
        stack = Stack(
            f"http://127.0.0.1:{rasa_port}",
            f"http://127.0.0.1:{actions_port}",
            tmp / "tracker.db",
            kb_dir,
            kb_index,
            tmp / "uploads",
            tmp / "edge-state",
            env,
            logs,
        )
        wait_until_up(f"{stack.actions_url}/health", actions, logs[0], START_TIMEOUT_S)
        wait_until_up(f"{stack.rasa_url}/status", rasa, logs[1], START_TIMEOUT_S)
        yield stack
    finally:
        for process in (rasa, actions):
            process.terminate()
        for process in (rasa, actions):
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()


@pytest.fixture
def sender() -> str:
    """A fresh conversation id per test."""
    return f"e2e-{uuid.uuid4().hex[:12]}"


CLINIC_KEY = "test-clinic"
API_KEY = "test-api-key"
ALLOWED_ORIGIN = "https://clinic.example.org"


@dataclass
class Edge:
    """The running gateway: its URL, the test clinic's keys, and its log."""

    url: str
    clinic_key: str
    api_key: str
    allowed_origin: str
    log: Path
    process: subprocess.Popen

    def api(self, path: str, **kwargs: Any) -> requests.Response:
        """An integrator call (Bearer API key) to ``/api/v1/...``."""
        headers = {"Authorization": f"Bearer {self.api_key}", **kwargs.pop("headers", {})}
        method = kwargs.pop("method", "POST")
        return requests.request(method, f"{self.url}{path}", headers=headers, timeout=120, **kwargs)


def write_clinics_file(path: Path, port: int) -> None:
    """A clinics file for the tests: one clinic, the gateway's own origin and one other site."""
    import hashlib

    digest = hashlib.sha256(API_KEY.encode()).hexdigest()
    path.write_text(
        "clinics:\n"
        f"  {CLINIC_KEY}:\n"
        "    name: Test Clinic\n"
        f"    origins: [{ALLOWED_ORIGIN}, http://127.0.0.1:{port}]\n"
        f"    api_key_sha256: {digest}\n"
        "    theme: {color: '#1d4ed8', title: Test Clinic assistant}\n",
        encoding="utf-8",
    )


@pytest.fixture(scope="session")
def edge(stack: Stack, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Edge]:
    """The real edge process (`python -m bot`) in front of the real Rasa and action server."""
    tmp = tmp_path_factory.mktemp("edge")
    port = free_port()
    clinics = tmp / "clinics.yml"
    write_clinics_file(clinics, port)
    env = {
        **stack.env,
        "HEALTHBOT_WEB_PORT": str(port),
        "HEALTHBOT_CLINICS_FILE": str(clinics),
        "TELEGRAM_BOT_TOKEN": "",
    }
    log = tmp / "edge.log"
    stack.logs.append(log)
    process = _start([str(ROOT / ".venv/bin/python"), "-m", "bot"], env, log)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until_up(f"{url}/healthz", process, log, START_TIMEOUT_S)
        yield Edge(url, CLINIC_KEY, API_KEY, ALLOWED_ORIGIN, log, process)
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
