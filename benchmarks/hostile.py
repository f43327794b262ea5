"""`python -m benchmarks.hostile`: every hostile file of issue #5 — what jixiao says, how long it takes, how
much memory, and that the batch goes on.

The inbox is `tests.hostile.hostile_cases()` (the fixtures the tests use) plus valid submissions.

1. Each file alone through the reading step a worker runs (`check.load_submission`: sniff → read →
   extract), in a child forked from this process under the workers' address-space cap
   (settings.WORKER_MEMORY_MB, set as `isolate` sets it). Time: perf_counter around the step in the
   child, or the parent's wall time until it is reaped when the reader kills it. Memory: the child's
   peak RSS from wait4's rusage (it starts at this process's RSS, the base printed below: a file that
   costs nothing beyond a worker's footprint shows the base); an allocation the cap refused is quoted
   from the reader's own message.
2. The whole inbox once, as `jixiao run` does it (`prepare_workers`, `run_inbox`, 2 workers): what the
   ledger says of each file, where the file went, the run's wall time and this process's peak RSS.

Prints a Markdown table. Needs the dev extra (msoffcrypto-tool makes the encrypted workbook).
"""

from __future__ import annotations

import json
import os
import re
import resource
import shutil
import signal
import sqlite3
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")  # as in the workers: no per-core BLAS reservations

from pipeline import settings

ROOT = Path(__file__).resolve().parent.parent
WORKERS = 2
WORKER_MB = settings.WORKER_MEMORY_MB


@dataclass
class Alone:
    """The reading step on one file, in a child of its own."""

    outcome: str  # "read" or the refusal code, or how the child died
    reason: str
    ms: float
    peak_mb: float
    refused_alloc: int | None = None  # bytes of an allocation the address-space cap refused


def baseline_mb() -> float:
    """Peak RSS of a child that reads nothing: what every reading child starts from."""
    pid = os.fork()
    if pid == 0:
        os._exit(0)
    return os.wait4(pid, 0)[2].ru_maxrss / 1024


def read_alone(path: Path) -> Alone:
    with tempfile.TemporaryFile() as err:
        started = time.perf_counter()
        rfd, wfd = os.pipe()
        pid = os.fork()
        if pid == 0:
            os.close(rfd)
            os.dup2(err.fileno(), 2)
            _child(path, wfd)
        os.close(wfd)
        chunks = []
        while chunk := os.read(rfd, 65536):
            chunks.append(chunk)
        os.close(rfd)
        _, status, usage = os.wait4(pid, 0)
        wall_ms = (time.perf_counter() - started) * 1000
        err.seek(0)
        alloc = re.search(rb"memory allocation of (\d+) bytes failed", err.read())
    peak_mb = usage.ru_maxrss / 1024
    refused = int(alloc.group(1)) if alloc else None
    if os.WIFSIGNALED(status):
        name = signal.Signals(os.WTERMSIG(status)).name
        return Alone(f"killed by {name}", "", wall_ms, peak_mb, refused)
    data = json.loads(b"".join(chunks) or b"{}")
    return Alone(data.get("outcome", "?"), data.get("reason", ""), data.get("ms", wall_ms), peak_mb, refused)


def _child(path: Path, wfd: int) -> None:
    """In the forked child: cap it as a worker is capped, read, report through `wfd`, leave without cleanup."""
    from pipeline.check import load_submission
    from pipeline.errors import RejectedFile

    cap = WORKER_MB * 1024 * 1024
    resource.setrlimit(resource.RLIMIT_AS, (cap, resource.getrlimit(resource.RLIMIT_AS)[1]))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    t0 = time.perf_counter()
    try:
        load_submission(path)
        report: dict[str, object] = {"outcome": "read", "reason": ""}
    except RejectedFile as exc:
        report = {"outcome": exc.code, "reason": exc.reason}
    except MemoryError:
        report = {"outcome": "MemoryError", "reason": ""}
    report["ms"] = (time.perf_counter() - t0) * 1000
    os.write(wfd, json.dumps(report).encode())
    os._exit(0)


def run_batch(inbox: Path, out: Path) -> tuple[dict[str, tuple[str, str, str, str]], float, int]:
    """The whole inbox once; name → (status, code, reason, where it went), wall seconds, files filed."""
    from pipeline.batch.engine import run_inbox
    from pipeline.batch.workers import prepare_workers

    prepare_workers()
    started = time.perf_counter()
    report = run_inbox(inbox, out, workers=WORKERS, settle_s=0, wait_s=0)
    seconds = time.perf_counter() - started
    with sqlite3.connect(out / "ledger.sqlite3") as conn:
        rows = conn.execute(
            "SELECT original_path, status, COALESCE(reason_code, ''), COALESCE(reason, ''), dest_path, state"
            " FROM submissions"
        ).fetchall()
    filed = sum(1 for *_, state in rows if state == "filed")
    assert len(report.outcomes) == len(rows)
    return {r[0]: (r[1], r[2], r[3], (r[4] or "").split("/")[0]) for r in rows}, seconds, filed


def main() -> int:
    sys.path.insert(0, str(ROOT))  # tests.hostile holds the fixtures
    from tests import hostile as h

    with tempfile.TemporaryDirectory(prefix="jixiao-hostile-") as tmp:
        root = Path(tmp)
        cases = h.build_inbox(root / "inbox", root / "scratch")
        import pipeline.check  # noqa: F401  (imported before the first fork: every child starts alike)

        base_mb = baseline_mb()
        alone = {c.name: read_alone(root / "inbox" / c.name) for c in cases}
        batch, seconds, filed = run_batch(root / "inbox", root / "out")
        left = [p.name for p in (root / "inbox").iterdir()]
        shutil.rmtree(root / "scratch")

    print("| # | 文件 | 情形 | jixiao 的结论（批次中，取自账本） | 代码 | 读取用时 ms | 峰值 RSS MB | 批次继续 |")
    print("|---|---|---|---|---|---:|---:|---|")
    for i, case in enumerate(cases, start=1):
        status, code, reason, where = batch[case.name]
        said = reason if status == "rejected" else {"ok": "通过", "warnings": "有提示", "errors": "有错误"}[status]
        expected = (status == "rejected" and case.code == code) or (case.code is None and status == case.expect)
        one = alone[case.name]
        name = case.name if len(case.name) <= 24 else case.name[:10] + "…" + Path(case.name).suffix
        went = f"是（→ {where}/）" if where and not left else "否"
        flag = "" if expected else " ⚠ 与预期不符"
        memory = f"{one.peak_mb:.0f}"
        if one.refused_alloc:
            memory += f"（请求 {one.refused_alloc / 1024**3:.0f} GB，被 {WORKER_MB} MB 上限拒绝）"
        took = f"{one.ms:.1f}" + (f"（读取进程 {one.outcome}）" if one.outcome.startswith("killed") else "")
        cells = [str(i), f"`{name}`", case.what, said + flag, code or "—", took, memory, went]
        print("| " + " | ".join(cells) + " |")
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print()
    print(
        f"Batch: {len(cases)} files, {WORKERS} workers, {seconds:.1f} s wall; {filed}/{len(cases)} filed, "
        f"{len(left)} left in the inbox; parent peak RSS {rss_mb:.0f} MB. Per file: the reading step alone in a "
        f"child of its own, capped at {WORKER_MB} MB of address space as workers are (a child reading nothing "
        f"peaks at {base_mb:.0f} MB)."
    )
    return 0 if filed == len(cases) and not left else 1


if __name__ == "__main__":
    raise SystemExit(main())
