"""The portal's self-check latency: `jixiao serve` started as a real server, `POST /api/check` over loopback.

A real uvicorn server (the `jixiao serve` command, with its watch loop and warm reader pool) on a free port; the
client is the standard library's (`http.client`, one connection per request, as a browser's upload), in this
process. First a few warm-up uploads, then the same workbooks one at a time (1 in flight) and from 20 threads
at once (20 in flight): p50 / p95 / max of the time from sending the request to having the whole answer.
Client and server share the machine's cores, as they would not in a bureau; so the figures overstate.
`python -m benchmarks.portal` alone (sample_inputs/), or as part of `make bench` (benchmarks/run.py).
"""

from __future__ import annotations

import http.client
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

ROOT = Path(__file__).resolve().parent.parent
TARGET_P95_MS = 300.0
IN_FLIGHT = (1, 20)
WARMUP = 5
PER_CLIENT = 8  # uploads each of the concurrent clients sends, one after the other
SEQUENTIAL = 40
START_TIMEOUT_S = 120.0


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _body(path: Path) -> tuple[bytes, str]:
    boundary = uuid.uuid4().hex
    head = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{path.name}"\r\n'
        "Content-Type: application/octet-stream\r\n\r\n"
    ).encode()
    return head + path.read_bytes() + f"\r\n--{boundary}--\r\n".encode(), f"multipart/form-data; boundary={boundary}"


def _post(port: int, body: bytes, content_type: str) -> float:
    """Seconds for one upload and its whole answer; raises on anything but 200 with a JSON result."""
    start = time.perf_counter()
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    try:
        conn.request("POST", "/api/check", body=body, headers={"Content-Type": content_type})
        response = conn.getresponse()
        data = response.read()
    finally:
        conn.close()
    elapsed = time.perf_counter() - start
    if response.status != 200 or "findings" not in json.loads(data):
        raise RuntimeError(f"/api/check answered {response.status}: {data[:200]!r}")
    return elapsed


def _wait_until_up(port: int, server: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if server.poll() is not None:
            why = server.stderr.read().decode(errors="replace")[-2000:] if server.stderr else ""
            raise RuntimeError(f"jixiao serve exited with {server.returncode}: {why}")
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            conn.request("GET", "/")
            if conn.getresponse().status == 200:
                return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError("jixiao serve did not answer")


def _stats(seconds: list[float], wall: float) -> dict[str, Any]:
    ms = sorted(1000 * s for s in seconds)
    return {
        "requests": len(ms),
        "p50_ms": round(statistics.median(ms), 1),
        "p95_ms": round(ms[max(0, round(0.95 * len(ms)) - 1)], 1),
        "max_ms": round(ms[-1], 1),
        "per_s": round(len(ms) / wall, 1),
    }


def portal_latency(files: Sequence[Path], *, per_client: int = PER_CLIENT) -> dict[str, Any]:
    """Start `jixiao serve` over empty folders and measure `POST /api/check` with `files` (cycled)."""
    bodies = [_body(p) for p in files if p.suffix == ".xlsx"]
    if not bodies:
        raise ValueError("no .xlsx file to upload")
    port = _free_port()
    with tempfile.TemporaryDirectory() as tmp:
        inbox, out = Path(tmp) / "inbox", Path(tmp) / "out"
        inbox.mkdir()
        command = [sys.executable, "-m", "pipeline", "serve", "--inbox", str(inbox), "--out", str(out)]
        server = subprocess.Popen(
            [*command, "--port", str(port)], cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
        )
        try:
            _wait_until_up(port, server)
            for i in range(WARMUP):
                _post(port, *bodies[i % len(bodies)])
            result: dict[str, Any] = {"files": len(bodies), "cores": os.cpu_count()}
            for n in IN_FLIGHT:
                count = SEQUENTIAL if n == 1 else n * per_client
                jobs = [bodies[i % len(bodies)] for i in range(count)]
                start = time.perf_counter()
                with ThreadPoolExecutor(max_workers=n) as pool:
                    times = list(pool.map(lambda job: _post(port, *job), jobs))
                result[f"in_flight_{n}"] = _stats(times, time.perf_counter() - start)
        finally:
            server.terminate()
            try:
                server.wait(30)
            except subprocess.TimeoutExpired:
                server.kill()
    result["target_p95_ms"] = TARGET_P95_MS
    result["target_met"] = result[f"in_flight_{IN_FLIGHT[-1]}"]["p95_ms"] <= TARGET_P95_MS
    return result


def render_portal(console: Console, p: dict[str, Any]) -> None:
    """The table `make bench` prints."""
    t = Table(title="门户自查延迟（jixiao serve，本机回环，POST /api/check）", title_justify="left")
    for col in ("并发", "次数", "p50", "p95", "最长", "吞吐"):
        t.add_column(col, justify="right")
    for n in IN_FLIGHT:
        row = p[f"in_flight_{n}"]
        times = (f"{row[k]} ms" for k in ("p50_ms", "p95_ms", "max_ms"))
        t.add_row(str(n), str(row["requests"]), *times, f"{row['per_s']} 次/秒")
    console.print(t)
    met = "[green]达标[/green]" if p["target_met"] else "[red]未达标[/red]"
    console.print(f"目标：{IN_FLIGHT[-1]} 个并发 p95 ≤ {TARGET_P95_MS:g} ms —— {met}（客户端与服务器共用本机的核）")


def main() -> int:
    render_portal(Console(highlight=False), portal_latency(sorted((ROOT / "sample_inputs").glob("*.xlsx"))))
    return 0


if __name__ == "__main__":
    sys.exit(main())
