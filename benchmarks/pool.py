"""`python -m benchmarks.pool`: the crash-isolating worker pool (`read.isolate.map_isolated`) measured alone.

1. Crash and hang: 20 tasks of 0.2 s on 2 workers, one of which aborts its process (as calamine does on a
   failed allocation) and one of which hangs past the timeout (2 s). Wall time, and each task's outcome:
   only the two culprits may be refused.
2. Tiny tasks: 5,000 tasks that return at once, 2 workers: the pool's own cost per task.
3. End to end (with `--files N`, N > 0): `jixiao run` on N files of the benchmark corpus
   (`benchmarks.run.corpus`, generated once and cached), wall time and peak RSS as `make bench` measures them.

Prints one line per measurement; `--repeat` runs 1 and 2 that many times and prints each.
"""

from __future__ import annotations

import argparse
import os
import time
from collections.abc import Sequence

from pipeline.errors import RejectedFile
from pipeline.read.isolate import map_isolated

HANG_TIMEOUT_S = 2.0
TASK_S = 0.2


def act(item: str) -> str:
    """Worker: sleep, abort the process, or hang, as the item says."""
    if item == "abort":
        os.abort()
    if item == "hang":
        time.sleep(600)
    if item.startswith("sleep"):
        time.sleep(TASK_S)
    return item


def crash_and_hang(workers: int) -> tuple[float, dict[str, str]]:
    items = [f"sleep{i}" for i in range(18)]
    items[5:5] = ["abort"]
    items[12:12] = ["hang"]
    t0 = time.perf_counter()
    got = dict(map_isolated(act, items, workers=workers, timeout_s=HANG_TIMEOUT_S))
    seconds = time.perf_counter() - t0
    refused = {item: r.code for item, r in got.items() if isinstance(r, RejectedFile)}
    assert len(got) == len(items), got
    return seconds, refused


def tiny(workers: int, n: int = 5000) -> float:
    t0 = time.perf_counter()
    got = sum(1 for _ in map_isolated(act, [f"t{i}" for i in range(n)], workers=workers))
    assert got == n
    return time.perf_counter() - t0


def end_to_end(files: int, workers: int) -> dict[str, float]:
    from benchmarks import run as bench

    folder, _ = bench.corpus(files, xls_share=0.0, workers=workers)
    paths = bench.corpus_files(folder)[:files]
    m = bench.end_to_end(paths, bench.CACHE / "work" / f"pool-e2e-{files}", runner="run", workers=workers)
    return {"seconds": m["seconds"], "peak_rss_mb": m["peak_rss_mb"], "cpu_seconds": m["cpu_seconds"]}


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.pool", description="进程池基准")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--files", type=int, default=0, help="端到端 jixiao run 的文件数（0 为不测）")
    args = parser.parse_args(argv)
    print(f"load average at start: {' / '.join(f'{x:.2f}' for x in os.getloadavg())}")
    for _ in range(args.repeat):
        seconds, refused = crash_and_hang(args.workers)
        print(f"crash-and-hang (20 tasks, 1 abort, 1 hang): {seconds:.2f} s, refused {refused}")
    for _ in range(args.repeat):
        print(f"5,000 tiny tasks: {tiny(args.workers):.2f} s")
    if args.files:
        m = end_to_end(args.files, args.workers)
        print(
            f"jixiao run, {args.files} files: {m['seconds']:.1f} s, peak RSS {m['peak_rss_mb']:.0f} MB, "
            f"CPU {m['cpu_seconds']:.1f} s"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
