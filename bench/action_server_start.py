"""Action server start-up: seconds until /health answers, memory then, modules imported.

Memory is the whole process tree's (rasa-sdk's Sanic runs a worker process beside the main
one). Compares this checkout's server (``python -m actions``) with another checkout's (a
baseline, e.g. ``git worktree add /tmp/base <commit>``, started the way that commit started it),
alternating runs so both see the same machine. By default warm-up is off in both, so the numbers
are what the server imports to serve; ``--warm-s 60`` turns it on and reads memory once the
models are loaded.

    .venv/bin/python bench/action_server_start.py --baseline /tmp/base \
        --baseline-command "-m rasa_sdk --actions actions" --runs 5
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import socket
import statistics
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
OURS = "-m actions --actions actions"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def rss_mib(pid: int) -> float:
    """Resident memory of the process, from /proc (Linux)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def tree_rss_mib(pid: int) -> float:
    """Resident memory of a process and all its descendants (Sanic's workers)."""
    total, todo = 0.0, [pid]
    while todo:
        current = todo.pop()
        total += rss_mib(current)
        for task in Path(f"/proc/{current}/task").iterdir():
            todo += [int(c) for c in (task / "children").read_text().split()]
    return total


def start_once(
    cwd: Path, command: str, warm_s: float = 0.0, timeout_s: float = 120.0
) -> dict[str, float]:
    """Spawn the server, poll /health, measure, stop it. With ``warm_s``, warm-up is on and the
    whole process tree's memory is read ``warm_s`` seconds after /health answered."""
    port = free_port()
    warm = "1" if warm_s else "0"
    env = {**os.environ, "HEALTHBOT_WARM_UP": warm, "OMP_NUM_THREADS": "1",
           "SANIC_HOST": "127.0.0.1", "PYTHONDONTWRITEBYTECODE": "1"}  # fmt: skip
    args = [sys.executable, *shlex.split(command), "--port", str(port)]
    started = time.perf_counter()
    process = subprocess.Popen(
        args, cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        while time.perf_counter() - started < timeout_s:
            if process.poll() is not None:
                raise RuntimeError(f"{command} exited with {process.returncode} in {cwd}")
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=1) as r:
                    if r.status == 200:
                        break
            except OSError:
                time.sleep(0.05)
        else:
            raise TimeoutError(f"{command} did not answer /health within {timeout_s} s")
        seconds = time.perf_counter() - started
        time.sleep(warm_s or 0.5)  # let the workers settle (or warm up) before reading memory
        return {"start_s": seconds, "rss_mib": tree_rss_mib(process.pid)}
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()


def imported_modules(cwd: Path, command: str, package: str = "actions") -> dict[str, int]:
    """What the server's entry module plus registering the action package import (rasa-sdk
    imports every submodule of the package)."""
    entry = shlex.split(command)[1]
    entry = "rasa_sdk.__main__" if entry == "rasa_sdk" else entry
    code = (
        "import sys, json, importlib\n"
        f"importlib.import_module({entry!r})\n"
        "from rasa_sdk.executor import ActionExecutor\n"
        f"ActionExecutor().register_package({package!r})\n"
        "heavy = ('torch', 'transformers', 'faiss', 'spacy', 'medspacy', 'onnxruntime',"
        " 'sklearn', 'matplotlib', 'fhir')\n"
        "roots = {m.split('.')[0] for m in sys.modules}\n"
        "print(json.dumps({'modules': len(sys.modules), 'first_party': sum(1 for m in sys.modules"
        " if m.split('.')[0] in ('actions', 'bot', 'healthbot', 'training')),"
        " 'training_or_eval': sum(1 for m in sys.modules if m.startswith('training') or"
        " m.split('.')[-1] in ('train', 'evaluate', 'conll', 'data') and m.startswith('actions')),"
        " 'heavy_loaded': sorted(h for h in heavy if h in roots)}))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=cwd, capture_output=True, text=True, check=True
    )
    return json.loads(out.stdout)


def summary(runs: list[dict[str, float]]) -> dict[str, Any]:
    return {
        key: {"median": statistics.median(r[key] for r in runs),
              "min": min(r[key] for r in runs), "max": max(r[key] for r in runs)}
        for key in ("start_s", "rss_mib")
    }  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--baseline", type=Path, required=True, help="the other checkout")
    parser.add_argument("--baseline-command", default=OURS, help="how that checkout starts it")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument(
        "--warm-s", type=float, default=0.0, help="warm-up on; read memory this long after start"
    )
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args(argv)
    sides = {"baseline": (args.baseline, args.baseline_command), "this": (ROOT, OURS)}
    runs: dict[str, list[dict[str, float]]] = {name: [] for name in sides}
    for number in range(args.runs):  # alternate, so a busy moment hits both
        for name, (cwd, command) in sides.items():
            runs[name].append(start_once(cwd, command, args.warm_s))
            print(f"run {number + 1}/{args.runs} {name}: {runs[name][-1]}", file=sys.stderr)
    result = {name: {**summary(r), "imports": imported_modules(*sides[name])}
              for name, r in runs.items()}  # fmt: skip
    base, this = result["baseline"], result["this"]
    result["ratio_this_vs_baseline"] = {
        key: this[key]["median"] / base[key]["median"] for key in ("start_s", "rss_mib")
    }
    result["machine"] = f"{os.cpu_count()} cores, {sys.platform}, Python {sys.version.split()[0]}"
    result["date"] = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    result["warm_s"] = args.warm_s
    default = f"action_server_start{'_warm' if args.warm_s else ''}.json"
    args.out = args.out or ROOT / "bench" / "results" / default
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
