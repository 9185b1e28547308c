"""What the edge costs: gateway overhead per message, and a 5 MB photo upload end to end.

Why: the gateway sits in front of every web turn. Its cost must vanish next to Rasa's own turn
time, even with many conversations at once (target: overhead p95 <= 10 ms at 50 concurrent web
conversations).

How overhead is measured: every gateway reply carries ``Server-Timing: rasa;dur=…``, the time
the gateway waited for Rasa on that very request. Overhead = the client's round trip through the
gateway minus that, per message: the extra HTTP hop, origin/session checks, JSON in and out and
any time the gateway's event loop made the request wait. Rasa's own variance cancels out because
both numbers come from the same request. In the same run, the same conversations go straight to
Rasa's REST channel (the baseline), and the report gives the ratio of the two round trips.

Usage (from the repository root; starts the action server, Rasa and the edge on free ports)::

    .venv/bin/python bench/gateway_bench.py [--conversations 50] [--turns 600] [--uploads 20]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import hashlib
import io
import json
import os
import random
import statistics
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp

sys.path.insert(0, str(Path(__file__).resolve().parent))
from turn_latency import (  # bench scripts import their sibling
    MODEL,
    ROOT,
    free_port,
    machine_info,
    start_ours,
    start_process,
    wait_until_up,
)

DEFAULT_OUT = ROOT / "bench" / "results" / "gateway_bench.json"
ORIGIN = "https://clinic.example.org"
API_KEY = "bench-api-key"
TURNS = ["hello", "what can you do", "thanks", "who are you", "ok", "thank you", "bye"]
TARGET_OVERHEAD_P95_MS = 10.0


@dataclass
class Sample:
    """Round trips (s), Rasa's share of them (s, gateway only) and errors."""

    rtt: list[float] = field(default_factory=list)
    rasa: list[float] = field(default_factory=list)
    inside: list[float] = field(default_factory=list)  # request in → response out, in the edge
    errors: int = 0
    wall_s: float = 0.0


def pct(values: list[float], q: int) -> float:
    cuts = statistics.quantiles(sorted(values), n=100, method="inclusive")
    return round(1000 * cuts[q - 1], 2)


def summary(values: list[float]) -> dict[str, Any]:
    if len(values) < 2:
        return {"n": len(values)}
    return {
        "n": len(values),
        "p50_ms": pct(values, 50),
        "p95_ms": pct(values, 95),
        "p99_ms": pct(values, 99),
        "mean_ms": round(1000 * statistics.fmean(values), 2),
    }


def server_timing(header: str, metric: str = "rasa") -> float | None:
    """A ``Server-Timing`` metric in seconds (the gateway sends ``rasa`` and ``edge``)."""
    for part in header.split(","):
        name, _, params = part.strip().partition(";")
        if name == metric and params.startswith("dur="):
            return float(params[4:]) / 1000
    return None


async def new_session(client: aiohttp.ClientSession, edge: str) -> str:
    """A widget session, as the page creates it after consent."""
    async with client.post(
        f"{edge}/api/v1/widget/session",
        json={"clinic": "bench", "consent": True},
        headers={"Origin": ORIGIN},
    ) as created:
        return str((await created.json())["session"])


async def conversation(
    client: aiohttp.ClientSession, target: str, edge: str, rasa: str, turns: int, sample: Sample
) -> None:
    """One patient: a session (gateway), then ``turns`` messages in order."""
    headers = {"Origin": ORIGIN}
    if target == "gateway":
        session = await new_session(client, edge)
    sender = f"bench-{uuid.uuid4().hex[:12]}"
    for index in range(turns):
        text = TURNS[index % len(TURNS)]
        if target == "gateway":
            url, body = (
                f"{edge}/api/v1/widget/messages",
                {
                    "clinic": "bench",
                    "session": session,
                    "text": text,
                },
            )
        else:
            url, body = f"{rasa}/webhooks/rest/webhook", {"sender": sender, "message": text}
        started = time.perf_counter()
        try:
            async with client.post(url, json=body, headers=headers) as response:
                await response.read()
                elapsed = time.perf_counter() - started
                status, header = response.status, response.headers.get("server-timing", "")
        except aiohttp.ClientError:
            sample.errors += 1
            continue
        if status != 200:
            sample.errors += 1
            continue
        sample.rtt.append(elapsed)
        if target == "gateway":
            upstream, inside = server_timing(header), server_timing(header, "edge")
            if upstream is None or inside is None:
                sample.errors += 1
            else:
                sample.rasa.append(upstream)
                sample.inside.append(inside)


async def load(target: str, edge: str, rasa: str, conversations: int, turns: int) -> Sample:
    """``conversations`` patients at once (a closed loop: each waits for its reply)."""
    sample = Sample()
    connector = aiohttp.TCPConnector(limit=conversations + 10)
    timeout = aiohttp.ClientTimeout(total=120)
    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as client:
        started = time.perf_counter()
        await asyncio.gather(
            *(conversation(client, target, edge, rasa, turns, sample) for _ in range(conversations))
        )
        sample.wall_s = time.perf_counter() - started
    return sample


def photo_5mb() -> bytes:
    """A JPEG of about 5 MB (noise compresses badly, like a sharp phone photo)."""
    from PIL import Image

    rng = random.Random(7)
    width, height = 2600, 1950
    noise = bytes(rng.getrandbits(8) for _ in range(width * height * 3 // 16))
    small = Image.frombytes(
        "RGB", (width // 4, height // 4), noise[: (width // 4) * (height // 4) * 3]
    )
    image = small.resize((width, height), Image.Resampling.NEAREST)
    out = io.BytesIO()
    image.save(out, format="JPEG", quality=97)
    return out.getvalue()


async def uploads(edge: str, count: int, data: bytes) -> dict[str, Any]:
    """``count`` 5 MB photo uploads, one at a time: client round trip and Rasa's share."""
    totals, upstream, errors = [], [], 0
    headers = {"Origin": ORIGIN}
    timeout = aiohttp.ClientTimeout(total=120)
    async with aiohttp.ClientSession(timeout=timeout) as client:
        session = await new_session(client, edge)
        for _ in range(count):
            form = aiohttp.FormData()
            form.add_field("clinic", "bench")
            form.add_field("session", session)
            form.add_field("file", data, filename="photo.jpg", content_type="image/jpeg")
            started = time.perf_counter()
            async with client.post(
                f"{edge}/api/v1/widget/uploads", data=form, headers=headers
            ) as response:
                await response.read()
                if response.status != 200:
                    errors += 1
                    continue
                totals.append(time.perf_counter() - started)
                header = response.headers.get("server-timing", "")
                upstream.append(server_timing(header) or 0.0)
    edge_only = [t - u for t, u in zip(totals, upstream, strict=True)]
    return {
        "bytes": len(data),
        "errors": errors,
        "end_to_end": summary(totals),
        "rasa_and_action": summary(upstream),
        "edge_only": summary(edge_only),
    }


def start_edge(work: Path, rasa_url: str, stack: contextlib.ExitStack) -> str:
    port = free_port()
    clinics = work / "clinics.yml"
    digest = hashlib.sha256(API_KEY.encode()).hexdigest()
    clinics.write_text(
        f"clinics:\n  bench:\n    name: Bench\n    origins: [{ORIGIN}]\n"
        f"    api_key_sha256: {digest}\n"
    )
    env = {
        **os.environ,
        "HEALTHBOT_RASA_URL": rasa_url,
        "HEALTHBOT_WEB_PORT": str(port),
        "HEALTHBOT_CLINICS_FILE": str(clinics),
        "HEALTHBOT_WEB_RATE_PER_MINUTE": "100000",
        "TELEGRAM_BOT_TOKEN": "",
    }
    log = work / "edge.log"
    process = start_process([str(ROOT / ".venv/bin/python"), "-m", "bot"], ROOT, env, log, stack)
    url = f"http://127.0.0.1:{port}"
    wait_until_up(f"{url}/healthz", process, log)
    return url


async def run(args: argparse.Namespace, edge: str, rasa: str) -> dict[str, Any]:
    per_conv = max(1, args.turns // args.conversations // args.rounds)
    await load("gateway", edge, rasa, args.conversations, 2)  # warm-up, uncounted
    await load("direct", edge, rasa, args.conversations, 2)
    results = {"gateway": Sample(), "direct": Sample()}
    for round_index in range(args.rounds):
        order = ["gateway", "direct"] if round_index % 2 == 0 else ["direct", "gateway"]
        for target in order:
            sample = await load(target, edge, rasa, args.conversations, per_conv)
            merged = results[target]
            merged.rtt += sample.rtt
            merged.rasa += sample.rasa
            merged.inside += sample.inside
            merged.errors += sample.errors
            merged.wall_s += sample.wall_s
            print(f"round {round_index + 1} {target}: {summary(sample.rtt)}", file=sys.stderr)
    gateway, direct = results["gateway"], results["direct"]
    overhead = [rtt - up for rtt, up in zip(gateway.rtt, gateway.rasa, strict=True)]
    report = {
        "conversations": args.conversations,
        "gateway_round_trip": summary(gateway.rtt) | {"errors": gateway.errors},
        "direct_round_trip": summary(direct.rtt) | {"errors": direct.errors},
        "overhead": summary(overhead),
        "overhead_inside_edge": summary(
            [edge - up for edge, up in zip(gateway.inside, gateway.rasa, strict=True)]
        ),
        "ratio_p95_gateway_vs_direct": round(pct(gateway.rtt, 95) / pct(direct.rtt, 95), 3),
        "target_overhead_p95_ms": TARGET_OVERHEAD_P95_MS,
    }
    if args.uploads:
        report["upload_5mb"] = await uploads(edge, args.uploads, photo_5mb())
    return report


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--conversations", type=int, default=50)
    parser.add_argument("--turns", type=int, default=600, help="messages per target, in all")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--uploads", type=int, default=20)
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = parser.parse_args()
    with contextlib.ExitStack() as stack, tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        os.environ["HEALTHBOT_UPLOADS_DIR"] = str(work / "uploads")
        os.environ["HEALTHBOT_STATE_DIR"] = str(work / "state")
        ours = start_ours(work, MODEL, stack)
        edge = start_edge(work, ours.url, stack)
        import uvloop  # the same loop as the edge: the load generator must stay light

        report = uvloop.run(run(args, edge, ours.url))
    report |= {
        "command": "bench/gateway_bench.py " + " ".join(sys.argv[1:]),
        "date": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "machine": machine_info(),
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2) + "\n")
    print(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
