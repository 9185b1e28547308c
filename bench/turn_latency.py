"""Per-turn latency and memory of our assistant against a plain `rasa init` assistant (moodbot).

Why this exists: our assistant adds custom NLU components, an action server and a SQLite tracker
store to stock Rasa. Patients feel every turn, so the acceptance target is that, under 20
concurrent conversations, our p95 turn latency stays within 1.5x the p95 of Rasa's own starter
bot measured in the same run on the same machine. Measuring both in one run (interleaved rounds
A, B, B, A, ...) cancels most of the noise of a shared machine; absolute numbers from different
runs are not comparable.

What it does (from the repository root, any Python with httpx; Rasa runs from `.venv-rasa`)::

    .venv/bin/python bench/turn_latency.py [--conversations 20] [--turns 300] \
        [--out bench/results/turn_latency.json]

1. Baseline: `rasa init --no-prompt` in a temporary folder (creates and trains moodbot), then
   `rasa run --enable-api` there with its default in-memory tracker store and no action server.
2. Ours: `scripts/run_actions.sh` + `scripts/run_rasa.sh` on free loopback ports with a temporary
   SQLite tracker store and `models/assistant.tar.gz` (waits for it; never trains it).
3. Realistic conversations over `/webhooks/rest/webhook`, one at a time and N concurrent, after an
   uncounted warm-up; plus `/model/parse` alone, one at a time, to split NLU from the rest.
4. RSS of each server (children included) after the load; JSON to --out, Markdown to stdout.

Every request has a timeout, every loop a bound, and every started process is stopped.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import json
import os
import shlex
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[1]
RASA = ROOT / ".venv-rasa" / "bin" / "rasa"
MODEL = ROOT / "models" / "assistant.tar.gz"
DEFAULT_OUT = ROOT / "bench" / "results" / "turn_latency.json"
TARGET_RATIO = 1.5
REQUEST_TIMEOUT_S = 60.0
START_TIMEOUT_S = 420.0
INIT_TIMEOUT_S = 1800.0
STOP_TIMEOUT_S = 20.0
INTAKE = "<intake>"  # plan marker: answer the triage questions ("no") until the advice
SUMMARY_MARKER = "My advice:"
MAX_INTAKE_TURNS = 9
QUIET_ENV = {"RASA_TELEMETRY_ENABLED": "false", "TF_CPP_MIN_LOG_LEVEL": "2"}


# --- Conversations -------------------------------------------------------------------------


@dataclass(frozen=True)
class Plan:
    """What one simulated user says; INTAKE answers "no" to each triage question."""

    messages: tuple[str, ...]
    answers: tuple[tuple[str, str], ...] = ()
    labels: tuple[str, ...] = ()  # what each message is, to split latency by kind of turn

    def label(self, position: int) -> str:
        """The kind of turn at `position` (INTAKE answers are all `intake_answer`)."""
        if self.messages[position] == INTAKE:
            return "intake_answer"
        return self.labels[position] if position < len(self.labels) else f"step{position}"


OUR_LABELS = ("greet", "report_symptom", INTAKE, "health_question", "thanks")
OUR_PLANS = (
    Plan(
        ("hi there", "i've got a sore throat", INTAKE, "what causes high blood pressure?",
         "thanks"),
        (),
        OUR_LABELS,
    ),
    Plan(
        ("hello", "i have a bad headache", INTAKE, "what are the symptoms of diabetes",
         "thank you"),
        (),
        OUR_LABELS,
    ),
    Plan(
        ("good morning", "my lower back hurts", INTAKE, "is ibuprofen safe to take daily?",
         "thanks a lot"),
        (),
        OUR_LABELS,
    ),
)  # fmt: skip

BASELINE_PLANS = (
    Plan(("hello", "I am very sad", "yes", "bye"), (), ("greet", "mood", "affirm", "goodbye")),
    Plan(
        ("hi", "I am great", "are you a bot?", "goodbye"), (), ("greet", "mood", "bot", "goodbye")
    ),
    Plan(
        ("hey there", "not very good", "no", "see you later"),
        (),
        ("greet", "mood", "deny", "goodbye"),
    ),
)


@dataclass
class ConversationState:
    """Walks a plan; decides the next message from the bot's last replies (bounded intake)."""

    plan: Plan
    position: int = 0
    intake_turns: int = 0
    intake_completed: bool = False
    last_label: str = ""

    def next_message(self, replies: list[str]) -> str | None:
        """Return what the user says next, or None when the plan is finished."""
        while self.position < len(self.plan.messages):
            message = self.plan.messages[self.position]
            self.last_label = self.plan.label(self.position)
            if message != INTAKE:
                self.position += 1
                return message
            answer = self._intake_answer(replies)
            if answer is not None:
                return answer
            self.position += 1
        return None

    def _intake_answer(self, replies: list[str]) -> str | None:
        """The answer to the current triage question; None once advised, lost or too long."""
        if any(SUMMARY_MARKER in reply for reply in replies):
            self.intake_completed = True
            return None
        if self.intake_turns >= MAX_INTAKE_TURNS:
            return None
        if replies and replies[-1].rstrip().endswith("?"):
            self.intake_turns += 1
            return "no"
        return None


# --- Load generation -----------------------------------------------------------------------


@dataclass
class Sample:
    """Latencies and outcomes of one measured setting (merged over rounds)."""

    latencies_s: list[float] = field(default_factory=list)
    by_step: dict[str, list[float]] = field(default_factory=dict)
    errors: int = 0
    conversations: int = 0
    intakes_completed: int = 0
    wall_s: float = 0.0
    transcript: list[dict[str, Any]] = field(default_factory=list)

    def merge(self, other: Sample) -> None:
        """Add another round's numbers to this one."""
        self.latencies_s += other.latencies_s
        for label, values in other.by_step.items():
            self.by_step.setdefault(label, []).extend(values)
        self.errors += other.errors
        self.conversations += other.conversations
        self.intakes_completed += other.intakes_completed
        self.wall_s += other.wall_s


@dataclass
class Budget:
    """Turns a setting may still start conversations for, and until when (keeps runs bounded).

    A conversation that has started plays to its end (at most its plan plus MAX_INTAKE_TURNS),
    so concurrent settings measure whole conversations, not just their first turns.
    """

    turns: int
    deadline: float

    def open(self) -> bool:
        """Whether a new conversation may start."""
        return self.turns > 0 and not self.expired()

    def expired(self) -> bool:
        """Whether the time cap of the setting has passed (checked before every turn)."""
        return time.monotonic() > self.deadline


async def send_turn(client: httpx.AsyncClient, url: str, sender: str, text: str) -> list[str]:
    """POST one message to the REST channel and return the reply texts (raises on failure)."""
    response = await client.post(
        f"{url}/webhooks/rest/webhook", json={"sender": sender, "message": text}
    )
    response.raise_for_status()
    return [str(reply.get("text", "")) for reply in response.json()]


async def run_conversation(
    client: httpx.AsyncClient, url: str, plan: Plan, budget: Budget, sample: Sample
) -> None:
    """Play one plan under a fresh sender id; a failed turn ends the conversation."""
    state, sender = ConversationState(plan), f"bench-{uuid.uuid4().hex[:12]}"
    replies: list[str] = []
    sent = 0
    while (text := state.next_message(replies)) is not None and not budget.expired():
        budget.turns -= 1
        started = time.perf_counter()
        try:
            replies = await send_turn(client, url, sender, text)
        except (httpx.HTTPError, ValueError):
            sample.errors += 1
            break
        sample.latencies_s.append(elapsed := time.perf_counter() - started)
        sample.by_step.setdefault(state.last_label, []).append(elapsed)
        sent += 1
        if len(sample.transcript) < 12:
            sample.transcript.append({"user": text, "bot": replies})
    sample.conversations += sent > 0
    sample.intakes_completed += state.intake_completed


async def run_setting(
    url: str, plans: Sequence[Plan], concurrency: int, turns: int, max_s: float
) -> Sample:
    """Run `concurrency` users playing plans back to back until about `turns` turns are sent."""
    sample, budget = Sample(), Budget(turns, time.monotonic() + max_s)
    counter = iter(range(10**9))
    limits = httpx.Limits(max_connections=concurrency + 2, max_keepalive_connections=concurrency)

    async def user(client: httpx.AsyncClient) -> None:
        while budget.open():
            await run_conversation(client, url, plans[next(counter) % len(plans)], budget, sample)

    started = time.perf_counter()
    async with httpx.AsyncClient(timeout=REQUEST_TIMEOUT_S, limits=limits) as client:
        await asyncio.gather(*(user(client) for _ in range(concurrency)))
    sample.wall_s = time.perf_counter() - started
    return sample


async def run_parse_only(url: str, texts: Sequence[str], requests: int, max_s: float) -> Sample:
    """Time `/model/parse` alone, one request at a time: the NLU share of a turn."""
    sample, deadline = Sample(), time.monotonic() + max_s
    started = time.perf_counter()
    async with httpx.AsyncClient(timeout=REQUEST_TIMEOUT_S) as client:
        for index in range(requests):
            if time.monotonic() > deadline:
                break
            begin = time.perf_counter()
            try:
                response = await client.post(
                    f"{url}/model/parse", json={"text": texts[index % len(texts)]}
                )
                response.raise_for_status()
            except httpx.HTTPError:
                sample.errors += 1
                continue
            sample.latencies_s.append(time.perf_counter() - begin)
    sample.wall_s = time.perf_counter() - started
    return sample


def plan_texts(plans: Sequence[Plan]) -> list[str]:
    """Every literal user message of the plans (for the parse-only measurement)."""
    texts = [text for plan in plans for text in plan.messages if text != INTAKE]
    return texts + [answer for plan in plans for _, answer in plan.answers]


# --- Processes -----------------------------------------------------------------------------


def free_port() -> int:
    """A free loopback port (the OS picks it)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_process(
    cmd: list[str], cwd: Path, env: dict[str, str], log: Path, stack: contextlib.ExitStack
) -> subprocess.Popen[bytes]:
    """Start a server in its own process group, registered to be stopped when `stack` closes."""
    handle = stack.enter_context(log.open("wb"))
    process = subprocess.Popen(
        cmd, cwd=cwd, env=env, stdout=handle, stderr=subprocess.STDOUT, start_new_session=True
    )
    stack.callback(stop_process, process)
    return process


def stop_process(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM the process group we created, then SIGKILL it if it does not exit in time."""
    if process.poll() is not None:
        return
    for sig, wait_s in ((signal.SIGTERM, STOP_TIMEOUT_S), (signal.SIGKILL, 5.0)):
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, sig)
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(timeout=wait_s)
            return


def wait_until_up(url: str, process: subprocess.Popen[bytes], log: Path) -> None:
    """Poll `url` until it answers 200; raise with the log tail if the process dies or hangs."""
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{url} exited ({process.returncode}):\n{tail(log)}")
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(url, timeout=2.0).status_code == 200:
                return
        time.sleep(0.5)
    raise RuntimeError(f"{url} not up after {START_TIMEOUT_S:.0f} s:\n{tail(log)}")


def tail(path: Path, chars: int = 3000) -> str:
    """The end of a log file, for error messages."""
    return path.read_text(errors="replace")[-chars:] if path.exists() else "(no log)"


def process_tree(pid: int) -> list[int]:
    """`pid` and all its descendants, from /proc (so forked workers are counted too)."""
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError, ValueError, IndexError):
            ppid = int(stat.read_text().rsplit(")", 1)[1].split()[1])
            children.setdefault(ppid, []).append(int(stat.parent.name))
    tree, todo = [], [pid]
    while todo:
        current = todo.pop()
        tree.append(current)
        todo += children.get(current, [])
    return tree


def memory_mib(pid: int) -> dict[str, float]:
    """Summed VmRSS (now) and VmHWM (peak) of a process tree, in MiB."""
    totals = {"rss_mib": 0.0, "peak_rss_mib": 0.0, "processes": 0.0}
    for member in process_tree(pid):
        with contextlib.suppress(OSError):
            fields = dict(
                line.split(":", 1)
                for line in Path(f"/proc/{member}/status").read_text().splitlines()
            )
            totals["rss_mib"] += int(fields["VmRSS"].split()[0]) / 1024
            totals["peak_rss_mib"] += int(fields["VmHWM"].split()[0]) / 1024
            totals["processes"] += 1
    return {key: round(value, 1) for key, value in totals.items()}


# --- The two assistants --------------------------------------------------------------------


@dataclass
class Assistant:
    """A running assistant under test: its URL, its plans and the processes to weigh."""

    name: str
    url: str
    plans: Sequence[Plan]
    processes: dict[str, subprocess.Popen[bytes]]


def prepare_baseline(work: Path, reuse: Path | None) -> Path:
    """A trained moodbot project: `rasa init --no-prompt` (trains, starts no shell) or `reuse`."""
    if reuse is not None:
        if not list((reuse / "models").glob("*.tar.gz")):
            raise RuntimeError(f"{reuse}/models holds no trained model")
        return reuse
    project = work / "moodbot"
    project.mkdir()  # with --no-prompt, rasa init refuses a folder that does not exist
    log = work / "rasa_init.log"
    with log.open("wb") as handle:
        subprocess.run(
            [str(RASA), "init", "--no-prompt", "--init-dir", str(project)],
            cwd=work,
            env={**os.environ, **QUIET_ENV},
            stdout=handle,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            timeout=INIT_TIMEOUT_S,
            check=False,
        )
    if not list((project / "models").glob("*.tar.gz")):
        raise RuntimeError(f"rasa init did not train a model:\n{tail(log)}")
    return project


def start_baseline(project: Path, work: Path, stack: contextlib.ExitStack) -> Assistant:
    """`rasa run --enable-api` in the moodbot folder: in-memory tracker, no action server."""
    port, log = free_port(), work / "baseline_rasa.log"
    cmd = [str(RASA), "run", "--enable-api", "-i", "127.0.0.1", "-p", str(port)]
    process = start_process(cmd, project, {**os.environ, **QUIET_ENV}, log, stack)
    url = f"http://127.0.0.1:{port}"
    wait_until_up(f"{url}/status", process, log)
    return Assistant("baseline", url, BASELINE_PLANS, {"rasa (baseline)": process})


def start_ours(work: Path, model: Path, stack: contextlib.ExitStack) -> Assistant:
    """Our action server and Rasa server, started by the project's own scripts on free ports."""
    rasa_port, actions_port = free_port(), free_port()
    env = {
        **os.environ,
        **QUIET_ENV,
        "ACTIONS_PORT": str(actions_port),
        "RASA_PORT": str(rasa_port),
        "HEALTHBOT_TRACKER_DB": str(work / "tracker.db"),
        "RASA_MODEL": str(model.resolve()),
    }
    actions_log, rasa_log = work / "ours_actions.log", work / "ours_rasa.log"
    actions = start_process(["scripts/run_actions.sh"], ROOT, env, actions_log, stack)
    rasa = start_process(["scripts/run_rasa.sh"], ROOT, env, rasa_log, stack)
    wait_until_up(f"http://127.0.0.1:{actions_port}/health", actions, actions_log)
    url = f"http://127.0.0.1:{rasa_port}"
    wait_until_up(f"{url}/status", rasa, rasa_log)
    return Assistant("ours", url, OUR_PLANS, {"rasa (ours)": rasa, "action server (ours)": actions})


def wait_for_model(model: Path, timeout_s: float) -> None:
    """Wait until the model exists and its size is stable (`make train` may be writing it)."""
    deadline, last_size = time.monotonic() + timeout_s, -1
    while time.monotonic() < deadline:
        size = model.stat().st_size if model.exists() else -1
        if size > 0 and size == last_size:
            return
        last_size = size
        time.sleep(10.0)
    raise RuntimeError(f"{model} did not appear within {timeout_s:.0f} s (run `make train`)")


# --- Measurement plan ----------------------------------------------------------------------


def latency_stats(latencies_s: Sequence[float]) -> dict[str, Any]:
    """n and mean/p50/p95/max in ms (inclusive quantiles) of a list of latencies."""
    values = sorted(latencies_s)
    out: dict[str, Any] = {"n": len(values)}
    if len(values) >= 2:
        cuts = statistics.quantiles(values, n=100, method="inclusive")
        out |= {
            "mean_ms": round(1000 * statistics.fmean(values), 1),
            "p50_ms": round(1000 * cuts[49], 1),
            "p95_ms": round(1000 * cuts[94], 1),
            "max_ms": round(1000 * values[-1], 1),
        }
    return out


def stats(sample: Sample, by_step: bool = False) -> dict[str, Any]:
    """Latency statistics, errors and throughput of one setting (optionally per kind of turn)."""
    out = latency_stats(sample.latencies_s) | {"errors": sample.errors}
    out["turns_per_s"] = round(out["n"] / sample.wall_s, 2) if sample.wall_s else None
    out["conversations"] = sample.conversations
    out["intakes_completed"] = sample.intakes_completed
    if by_step:
        out["by_step"] = {label: latency_stats(v) for label, v in sorted(sample.by_step.items())}
    return out


async def warm_up(assistant: Assistant, concurrency: int, max_s: float) -> Sample:
    """Uncounted: one conversation alone, then one conversation per concurrent user."""
    first = await run_setting(assistant.url, assistant.plans, 1, len(assistant.plans), max_s)
    await run_setting(assistant.url, assistant.plans, concurrency, concurrency, max_s)
    if not first.latencies_s:
        raise RuntimeError(f"{assistant.name}: warm-up got no answer ({first.errors} errors)")
    return first


async def measure(
    assistants: Sequence[Assistant], args: argparse.Namespace
) -> dict[str, dict[str, Sample]]:
    """Interleave assistants per setting and alternate who goes first each round."""
    keys = ("c1", f"c{args.conversations}", "parse_c1")
    results = {a.name: {key: Sample() for key in keys} for a in assistants}
    per_round = max(1, args.turns // args.rounds)
    parse_per_round = max(1, args.parse_requests // args.rounds)
    for assistant in assistants:
        results[assistant.name]["warmup"] = await warm_up(
            assistant, args.conversations, args.max_setting_s
        )
    for round_index in range(args.rounds):
        order = assistants if round_index % 2 == 0 else list(reversed(assistants))
        for concurrency in sorted({1, args.conversations}):
            for assistant in order:
                sample = await run_setting(
                    assistant.url, assistant.plans, concurrency, per_round, args.max_setting_s
                )
                results[assistant.name][f"c{concurrency}"].merge(sample)
                log(f"round {round_index + 1} {assistant.name} c{concurrency}: {stats(sample)}")
        for assistant in order:
            texts = plan_texts(assistant.plans)
            parse = await run_parse_only(assistant.url, texts, parse_per_round, args.max_setting_s)
            results[assistant.name]["parse_c1"].merge(parse)
    return results


def log(message: str) -> None:
    """Progress on stderr, so stdout stays the Markdown report."""
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


# --- Report --------------------------------------------------------------------------------


def machine_info() -> dict[str, Any]:
    """What the numbers were measured on (they only compare within one run)."""
    cpuinfo = Path("/proc/cpuinfo").read_text()
    model = next(
        (
            line.split(":", 1)[1].strip()
            for line in cpuinfo.splitlines()
            if line.startswith("model name")
        ),
        "unknown",
    )
    meminfo = Path("/proc/meminfo").read_text().split("\n", 1)[0]
    return {
        "nproc": os.cpu_count(),
        "cpu_model": model,
        "mem_total": meminfo.split(":", 1)[1].strip(),
        "loadavg": Path("/proc/loadavg").read_text().split()[:3],
        "python": sys.version.split()[0],
    }


def ratio(ours: dict[str, Any], base: dict[str, Any], key: str) -> float | None:
    """ours/baseline for one statistic, or None where either side has no number."""
    if ours.get(key) and base.get(key):
        return round(ours[key] / base[key], 2)
    return None


def build_report(
    results: dict[str, dict[str, Sample]], memory: dict[str, dict[str, float]], meta: dict[str, Any]
) -> dict[str, Any]:
    """The JSON document: settings, per-setting stats, memory, ratios and the verdict."""
    table = {
        name: {key: stats(sample, by_step=True) for key, sample in settings.items()}
        for name, settings in results.items()
    }
    conc = f"c{meta['settings']['conversations']}"
    ratios = {
        f"{setting}_{key}": ratio(table["ours"][setting], table["baseline"][setting], key)
        for setting in ("c1", conc, "parse_c1")
        for key in ("p50_ms", "p95_ms", "mean_ms")
    }
    verdict = ratios[f"{conc}_p95_ms"]
    transcripts = {name: settings["warmup"].transcript for name, settings in results.items()}
    return {
        **meta,
        "results": table,
        "memory_after_load": memory,
        "ratios_ours_over_baseline": ratios,
        "target": {
            "metric": f"p95 at {conc[1:]} concurrent conversations, ours/baseline",
            "max_ratio": TARGET_RATIO,
            "ratio": verdict,
            "pass": verdict is not None and verdict <= TARGET_RATIO,
        },
        "sample_transcripts": transcripts,
    }


def fmt(value: Any) -> str:
    """A table cell: numbers with one decimal, missing values as n/a."""
    return "n/a" if value is None else f"{value:.1f}" if isinstance(value, float) else str(value)


def latency_table(report: dict[str, Any]) -> list[str]:
    """Rows of p50/p95 per setting, each side by side with its ours/baseline ratio."""
    conc = report["settings"]["conversations"]
    results, ratios = report["results"], report["ratios_ours_over_baseline"]
    lines = [
        "| setting | baseline p50 ms | ours p50 ms | p50 ratio | baseline p95 ms | ours p95 ms "
        "| p95 ratio | n (base/ours) | errors (base/ours) |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for key, label in (
        ("c1", "1 conversation"),
        (f"c{conc}", f"{conc} concurrent"),
        ("parse_c1", "`/model/parse` only, 1 at a time"),
    ):
        b, o = results["baseline"][key], results["ours"][key]
        lines.append(
            f"| {label} | {fmt(b.get('p50_ms'))} | {fmt(o.get('p50_ms'))} "
            f"| {fmt(ratios[f'{key}_p50_ms'])} | {fmt(b.get('p95_ms'))} | {fmt(o.get('p95_ms'))} "
            f"| {fmt(ratios[f'{key}_p95_ms'])} | {b['n']}/{o['n']} | {b['errors']}/{o['errors']} |"
        )
    return lines


def memory_table(report: dict[str, Any]) -> list[str]:
    """Rows of resident memory per server process tree, measured right after the load."""
    lines = ["| process | RSS after load MiB | peak RSS MiB | processes |", "|---|---:|---:|---:|"]
    for name, mem in report["memory_after_load"].items():
        rss, peak, count = fmt(mem["rss_mib"]), fmt(mem["peak_rss_mib"]), int(mem["processes"])
        lines.append(f"| {name} | {rss} | {peak} | {count} |")
    return lines


def markdown(report: dict[str, Any]) -> str:
    """The Markdown report the lead pastes into bench/RESULTS.md: tables, verdict, machine."""
    target, machine = report["target"], report["machine"]
    lines = [*latency_table(report), "", *memory_table(report)]
    lines += [
        "",
        f"**{'PASS' if target['pass'] else 'FAIL'}**: {target['metric']} = {fmt(target['ratio'])} "
        f"(target <= {TARGET_RATIO}).",
        "",
        f"Machine: {machine['nproc']} CPUs ({machine['cpu_model']}), {machine['mem_total']} RAM, "
        f"load average before/after {' '.join(machine['loadavg'])} / "
        f"{' '.join(report['loadavg_after'])}; {report['started_at']}; "
        f"took {report['duration_s']:.0f} s.",
        f"Command: `{report['command']}`",
    ]
    return "\n".join(lines)


# --- Main ----------------------------------------------------------------------------------


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    """Command-line options (defaults give 300 measured turns per setting and assistant)."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    parser.add_argument("--conversations", type=int, default=20, help="concurrent conversations")
    parser.add_argument("--turns", type=int, default=300, help="measured turns per setting")
    parser.add_argument("--rounds", type=int, default=2, help="interleaved rounds (A,B then B,A)")
    parser.add_argument("--parse-requests", type=int, default=100, help="/model/parse requests")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    parser.add_argument(
        "--baseline-project",
        type=Path,
        default=None,
        help="reuse a trained `rasa init` project instead of creating one",
    )
    parser.add_argument("--model", type=Path, default=MODEL, help="our trained Rasa model")
    parser.add_argument("--model-wait-s", type=float, default=1800.0)
    parser.add_argument("--max-setting-s", type=float, default=600.0, help="time cap per setting")
    args = parser.parse_args(argv)
    if args.conversations < 1 or args.turns < 2 or args.rounds < 1:
        parser.error("--conversations >= 1, --turns >= 2 and --rounds >= 1 are required")
    return args


def run(args: argparse.Namespace, work: Path) -> dict[str, Any]:
    """Prepare, start, measure and weigh both assistants; the ExitStack stops every process."""
    started, wall = dt.datetime.now(dt.timezone.utc), time.monotonic()
    settings = vars(args) | {k: str(v) for k, v in vars(args).items() if isinstance(v, Path)}
    meta = {
        "command": shlex.join([Path(sys.executable).name, *sys.argv]),
        "machine": machine_info(),
        "started_at": started.isoformat(timespec="seconds"),
        "settings": settings,
    }
    log("preparing the baseline (rasa init --no-prompt trains moodbot)")
    project = prepare_baseline(work, args.baseline_project)
    wait_for_model(args.model, args.model_wait_s)
    with contextlib.ExitStack() as stack:
        log("starting the servers")
        assistants = [start_baseline(project, work, stack), start_ours(work, args.model, stack)]
        log("measuring")
        results = asyncio.run(measure(assistants, args))
        memory = {name: memory_mib(p.pid) for a in assistants for name, p in a.processes.items()}
    meta["loadavg_after"] = Path("/proc/loadavg").read_text().split()[:3]
    meta["duration_s"] = round(time.monotonic() - wall, 1)
    return build_report(results, memory, meta)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point: run the benchmark, write the JSON, print the Markdown report."""
    args = parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="turn_latency_") as tmp:
        try:
            report = run(args, Path(tmp))
        except (RuntimeError, subprocess.TimeoutExpired) as error:
            log(f"benchmark failed: {error}")
            return 2
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2) + "\n")
    print(markdown(report))
    log(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
