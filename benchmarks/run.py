"""`make bench`: jixiao end to end against openpyxl's load floor, scaling, the rule engine alone, accuracy.

One run, the same files throughout:

1. Corpus: 1,000 synthetic units (`pipeline.synth.corpus`: 30 % faulty, 3 % saved as .xls by LibreOffice),
   generated once and cached in benchmarks/cache/ keyed by (units, fault rate, seed, .xls share,
   generator version).
2. End to end: `jixiao run INBOX --out OUT --workers N` as a subprocess on a fresh copy of the corpus.
   Wall time and files/s; memory and CPU sampled from /proc every 50 ms over the whole process tree
   (parent, forkserver, its workers, the resource tracker): the peak of the summed RSS — pages the workers
   share with the forkserver count once per process, so it overstates — the peak of the summed PSS (shared
   pages split among their sharers: what the run really occupies), each role's largest process, and the
   tree's CPU seconds. Until `jixiao run` exists, `jixiao check FILES --json --out OUT` stands in.
3. The floor a naive pipeline pays: `openpyxl.load_workbook` of the same .xlsx files, in this process.
   openpyxl cannot read .xls, so the ratio compares time per file (run: all files; openpyxl: the .xlsx).
4. Scaling: step 2 on 100 and 1,000 units (and 10,000 with JIXIAO_BENCH_10K=1): time per file and peak
   memory should stay flat.
5. Rule engine alone: a few hundred files extracted, their submissions replicated to 10,000, one
   `validate()` call, in a fresh process whose peak RSS is reported.
6. Accuracy: the run's findings against the answer key (`pipeline.synth.corpus.evaluate`): recall overall and
   per fault class, false alarms (error findings on fault-free workbooks), and unexpected findings on
   faulty ones.

Prints tables and writes benchmarks/results/latest.json.
"""

from __future__ import annotations

import argparse
import json
import math
import multiprocessing
import os
import platform
import shutil
import subprocess
import sys
import time
import warnings
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from benchmarks.portal import portal_latency, render_portal
from benchmarks.reports import report_accuracy
from pipeline.synth.corpus import ANSWER_KEY, GENERATOR_VERSION, KIND_ZH, Seen, evaluate, generate, load_key

ROOT = Path(__file__).resolve().parent.parent
CACHE = ROOT / "benchmarks" / "cache"
RESULTS = ROOT / "benchmarks" / "results" / "latest.json"
SEED = 2023
FAULT_RATE = 0.3
#: .xls need LibreOffice: converting a few percent in one call costs seconds, all of them minutes.
XLS_SHARE = 0.03
UNITS = 1000
SMALL = 100
BIG = 10_000
BIG_ENV = "JIXIAO_BENCH_10K"
RULE_ENGINE_UNITS = 10_000
#: openpyxl needs ~0.3–0.5 s per form workbook here (style objects of the bordered merged ranges): loading
#: every file would take most of the 10 minutes `make bench` may use, so a systematic sample is timed.
OPENPYXL_SAMPLE = 300
#: Files extracted for the rule-engine pass; their submissions are replicated up to RULE_ENGINE_UNITS.
RULE_ENGINE_SAMPLE = 300
POLL_S = 0.05
MB = 1024 * 1024
PAGE = os.sysconf("SC_PAGE_SIZE")
TICKS = os.sysconf("SC_CLK_TCK")
#: Most real submissions raise a 提示 or two: that share of the fault-free units gets one (issue #11).
WARNING_SHARE = 0.85
TARGET_RATIO = 0.2
TARGET_RSS_MB = 500
TARGET_10K_S = 120
TARGET_ANNOTATED = 0.8
TARGET_CHECK_S = 0.5
#: Workbooks the portal benchmark uploads (cycled): enough variety, few enough to read once.
PORTAL_FILES = 50
PREVIOUS = RESULTS.with_name("previous.json")

console = Console(highlight=False, width=None if sys.stdout.isatty() else 150)


# -- corpus -------------------------------------------------------------------------------------------
def corpus(units: int, *, xls_share: float, workers: int) -> tuple[Path, float]:
    """The cached corpus directory, and the seconds spent generating it now (0 when cached)."""
    name = f"u{units}-r{FAULT_RATE:g}-s{SEED}-x{xls_share:g}-w{WARNING_SHARE:g}-v{GENERATOR_VERSION}"
    path = CACHE / name
    if (path / ANSWER_KEY).is_file():
        return path, 0.0
    partial = CACHE / f"{name}.partial"
    shutil.rmtree(partial, ignore_errors=True)
    console.print(f"生成 {units} 个模拟单位（首次运行，之后使用缓存 {path.relative_to(ROOT)}）…")
    t0 = time.perf_counter()
    generate(
        partial,
        units=units,
        fault_rate=FAULT_RATE,
        seed=SEED,
        xls_share=xls_share,
        warning_share=WARNING_SHARE,
        workers=workers,
    )
    seconds = time.perf_counter() - t0
    shutil.rmtree(path, ignore_errors=True)  # an incomplete cache (no answer key, e.g. under its old name)
    partial.rename(path)
    return path, seconds


def corpus_files(path: Path) -> list[Path]:
    return sorted(p for p in path.iterdir() if p.suffix in (".xlsx", ".xls"))


# -- measuring a subprocess -----------------------------------------------------------------------------
@dataclass(slots=True)
class Proc:
    """One process of the measured tree, as last sampled."""

    role: str
    rss: int = 0  # bytes, peak
    pss: int = 0  # bytes, peak (proportional: shared pages split among the processes sharing them)
    cpu: float = 0.0  # user + system seconds, last seen


def _sample(pid: int) -> tuple[int, int, int, float] | None:
    """(ppid, rss, pss, cpu seconds) of a live process, from /proc; None when it is gone."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
        rss = int(Path(f"/proc/{pid}/statm").read_text().split()[1]) * PAGE
        pss = 0
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            if line.startswith("Pss:"):
                pss = int(line.split()[1]) * 1024
                break
    except (OSError, ValueError, IndexError):
        return None
    return int(stat[1]), rss, pss, (int(stat[11]) + int(stat[12])) / TICKS


def _children(pid: int) -> list[int]:
    try:
        return [int(c) for task in Path(f"/proc/{pid}/task").iterdir() for c in (task / "children").read_text().split()]
    except (OSError, ValueError):
        return []


def _role(pid: int, ppid: int, root: int) -> str:
    if pid == root:
        return "parent"
    try:
        cmd = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return "worker"
    if b"resource_tracker" in cmd:
        return "resource_tracker"
    return "forkserver" if b"forkserver" in cmd and ppid == root else "worker"


def sample_tree(root: int, procs: dict[int, Proc]) -> tuple[int, int]:
    """Sample `root` and its descendants into `procs`; the summed RSS and PSS right now."""
    total_rss = total_pss = 0
    stack, seen = [root], set()
    while stack:
        pid = stack.pop()
        if pid in seen:
            continue
        seen.add(pid)
        got = _sample(pid)
        if got is None:
            continue
        ppid, rss, pss, cpu = got
        proc = procs.setdefault(pid, Proc(_role(pid, ppid, root)))
        proc.rss, proc.pss, proc.cpu = max(proc.rss, rss), max(proc.pss, pss), cpu
        total_rss, total_pss = total_rss + rss, total_pss + pss
        stack += _children(pid)
    return total_rss, total_pss


def measure(cmd: Sequence[str], *, log_dir: Path) -> dict[str, Any]:
    """Run `cmd`; wall seconds, peak summed RSS and PSS of its process tree, its processes' peaks by role,
    CPU seconds of the whole tree (sampled from /proc: forkserver workers are not this process's
    children, so rusage would miss them), exit code."""
    log_dir.mkdir(parents=True, exist_ok=True)
    procs: dict[int, Proc] = {}
    peak_rss = peak_pss = 0
    with open(log_dir / "stdout", "wb") as out, open(log_dir / "stderr", "wb") as err:
        t0 = time.perf_counter()
        proc = subprocess.Popen(list(cmd), stdout=out, stderr=err)
        while proc.poll() is None:
            rss, pss = sample_tree(proc.pid, procs)
            peak_rss, peak_pss = max(peak_rss, rss), max(peak_pss, pss)
            time.sleep(POLL_S)
        seconds = time.perf_counter() - t0
    by_role: dict[str, float] = {}
    for p in procs.values():
        by_role[p.role] = max(by_role.get(p.role, 0.0), p.rss / MB)
    return {
        "seconds": seconds,
        "peak_rss_mb": peak_rss / MB,
        "peak_pss_mb": peak_pss / MB,
        "max_process_rss_mb": max((p.rss for p in procs.values()), default=0) / MB,
        "cpu_seconds": sum(p.cpu for p in procs.values()),
        "processes": len(procs),
        "peak_rss_mb_by_role": {role: round(mb, 1) for role, mb in sorted(by_role.items())},
        "returncode": proc.returncode,
        "stdout": log_dir / "stdout",
        "stderr": log_dir / "stderr",
    }


def jixiao() -> list[str]:
    exe = Path(sys.executable).parent / "jixiao"
    return [str(exe)] if exe.is_file() else [sys.executable, "-m", "pipeline"]


def has_run() -> bool:
    return subprocess.run([*jixiao(), "run", "--help"], capture_output=True, check=False).returncode == 0


# -- end to end ---------------------------------------------------------------------------------------
def end_to_end(files: Sequence[Path], work: Path, *, runner: str, workers: int) -> dict[str, Any]:
    """Copy `files` into a fresh inbox and time jixiao on it; findings per file name come back too."""
    shutil.rmtree(work, ignore_errors=True)
    inbox, out = work / "inbox", work / "out"
    inbox.mkdir(parents=True)
    for f in files:
        shutil.copy2(f, inbox / f.name)  # keeps mtimes: the files are settled, as a bureau's inbox would be
    if runner == "run":
        cmd = [*jixiao(), "run", str(inbox), "--out", str(out), "--workers", str(workers)]
    else:
        cmd = [*jixiao(), "check", *(str(inbox / f.name) for f in files), "--json", "--out", str(out)]
    m = measure(cmd, log_dir=work / "logs")
    if m["returncode"] not in (0, 1, 2):
        tail = m["stderr"].read_text(encoding="utf-8", errors="replace")[-2000:]
        raise SystemExit(f"jixiao {runner} failed (exit {m['returncode']}):\n{tail}")
    m["findings"] = run_findings(out) if runner == "run" else check_findings(m["stdout"])
    m["files"] = len(files)
    m["annotated"] = sum(1 for _ in out.rglob("*_审核结果.xlsx"))
    m["command"] = " ".join(cmd[:2] + (["…"] if runner == "check" else cmd[2:]))
    return m


def check_findings(stdout: Path) -> dict[str, list[Seen]]:
    results = json.loads(stdout.read_text(encoding="utf-8"))
    return {
        Path(r["file"]).name: [Seen(f["rule"], f["level"], f["sheet"], tuple(f["cells"])) for f in r["findings"]]
        for r in results
        if r["status"] != "rejected"
    }


def run_findings(out: Path) -> dict[str, list[Seen]]:
    """Findings per original file name, from the ledger `jixiao run` keeps in OUT."""
    from pipeline.store.ledger import Ledger

    with Ledger.open_existing(out) as ledger:
        entries = [e for e in ledger.entries() if e.status not in ("rejected", "duplicate", None)]
        names = {e.id: Path(e.original_path).name for e in entries}
        found: dict[str, list[Seen]] = {name: [] for name in names.values()}
        for f in ledger.findings(names):
            cells = tuple(c for c in f.cells.split(",") if c)
            found[names[f.submission_id]].append(Seen(f.rule, f.level, f.sheet, cells))
    return found


def single_check(file: Path, work: Path, *, repeat: int = 3) -> dict[str, Any]:
    """`jixiao check FILE` as a user types it (default options), whole process: the best of `repeat`."""
    times = []
    for n in range(repeat):
        m = measure([*jixiao(), "check", str(file)], log_dir=work / f"check-{n}")
        times.append(m["seconds"])
    return {"file": file.name, "seconds": round(min(times), 3), "all_seconds": [round(t, 3) for t in times]}


# -- the floor and the rule engine ---------------------------------------------------------------------
def _load_all(paths: list[str]) -> list[tuple[float, float]]:
    """In a worker: `openpyxl.load_workbook` each file; (wall, CPU) seconds each took."""
    import openpyxl

    times = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # openpyxl warns about data-validation extensions it drops
        for p in paths:
            t0, c0 = time.perf_counter(), time.process_time()
            openpyxl.load_workbook(p).close()
            times.append((time.perf_counter() - t0, time.process_time() - c0))
    return times


def openpyxl_floor(files: Sequence[Path], *, workers: int, sample: int) -> dict[str, Any]:
    """Time to load the .xlsx files with openpyxl in as many processes as jixiao gets (wall) and in one
    process (the sum of per-file times), measured on every k-th file (`sample` files; 0: all) and
    scaled to all of them."""
    xlsx = [str(f) for f in files if f.suffix == ".xlsx"]
    step = max(1, len(xlsx) // sample) if sample else 1
    timed = xlsx[::step]
    chunks = [timed[i::workers] for i in range(workers)]
    with ProcessPoolExecutor(workers) as pool:
        list(pool.map(_load_all, [[] for _ in range(workers)]))  # start the workers and import openpyxl first
        t0 = time.perf_counter()
        times = [t for chunk in pool.map(_load_all, chunks) for t in chunk]
        seconds = time.perf_counter() - t0
    scale = len(xlsx) / len(timed)
    return {
        "seconds": seconds * scale,
        "one_process_seconds": sum(w for w, _ in times) * scale,
        "cpu_seconds": sum(c for _, c in times) * scale,
        "files": len(xlsx),
        "timed": len(timed),
    }


def _rule_engine(paths: list[str], units: int) -> dict[str, Any]:
    """In a fresh process: extract `paths`, replicate to `units` submissions, one validate() pass."""
    import resource

    from pipeline.check import load_submission
    from pipeline.errors import RejectedFile
    from pipeline.rules.validate import validate

    t0 = time.perf_counter()
    subs = []
    for p in paths:
        try:
            subs.append(load_submission(Path(p)))
        except RejectedFile:
            continue
    extract_s = time.perf_counter() - t0
    batch = (subs * math.ceil(units / len(subs)))[:units]
    t0 = time.perf_counter()
    findings = validate(batch)
    seconds = time.perf_counter() - t0
    return {
        "units": len(batch),
        "distinct_files": len(subs),
        "seconds": seconds,
        "units_per_s": len(batch) / seconds,
        "extract_ms_per_file": 1000 * extract_s / len(paths),
        "findings": sum(map(len, findings)),
        "max_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


def rule_engine(files: Sequence[Path]) -> dict[str, Any]:
    step = max(1, len(files) // RULE_ENGINE_SAMPLE)
    sample = [str(f) for f in files[::step][:RULE_ENGINE_SAMPLE]]
    with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn")) as pool:
        return pool.submit(_rule_engine, sample, RULE_ENGINE_UNITS).result()


# -- report -------------------------------------------------------------------------------------------
def machine() -> dict[str, Any]:
    cpu = platform.processor() or platform.machine()
    try:
        cpu = next(
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        )
        kb = next(
            int(line.split()[1])
            for line in Path("/proc/meminfo").read_text().splitlines()
            if line.startswith("MemTotal")
        )
    except (OSError, StopIteration):
        kb = 0
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "ram_gb": round(kb / 1024 / 1024, 1),
        "os": platform.platform(),
        "python": platform.python_version(),
        **{pkg: metadata.version(pkg) for pkg in ("openpyxl", "python-calamine", "pandas", "pandera")},
    }


def scale_row(m: dict[str, Any]) -> dict[str, Any]:
    return {
        "files": m["files"],
        "seconds": round(m["seconds"], 2),
        "ms_per_file": round(1000 * m["seconds"] / m["files"], 2),
        "files_per_s": round(m["files"] / m["seconds"], 1),
        "peak_rss_mb": round(m["peak_rss_mb"], 1),
        "peak_pss_mb": round(m["peak_pss_mb"], 1),
        "max_process_rss_mb": round(m["max_process_rss_mb"], 1),
        "cpu_ms_per_file": round(1000 * m["cpu_seconds"] / m["files"], 2),
        "annotated_share": round(m["annotated"] / m["files"], 3),
        "peak_rss_mb_by_role": m["peak_rss_mb_by_role"],
    }


def _previous_summary(prev: dict[str, Any] | None) -> dict[str, Any] | None:
    """The headline figures of the last result, for the comparison line."""
    if prev is None:
        return None
    keys = ("date", "files", "seconds", "ms_per_file", "ratio_to_openpyxl", "peak_rss_mb", "recall", "false_alarms")
    out = {k: prev.get(k) for k in keys}
    out["scaling"] = [{k: row.get(k) for k in ("files", "seconds", "peak_rss_mb")} for row in prev.get("scaling", [])]
    out["single_check_s"] = (prev.get("single_check") or {}).get("seconds")
    out["annotated_share"] = prev.get("annotated_share")
    return out


def pct(x: float | None) -> str:
    return "—" if x is None else f"{100 * x:.2f}%"


def ok(flag: bool | None) -> str:
    return "[dim]未测[/dim]" if flag is None else ("[green]达标[/green]" if flag else "[red]未达标[/red]")


def render(r: dict[str, Any]) -> None:
    procs = f"{r['workers']} 进程" if r["runner"] == "run" else "单进程"
    t = Table(title=f"端到端：{r['runner_command']}（{procs}）", title_justify="left")
    cols = (
        "文件",
        "耗时 s",
        "文件/s",
        "ms/文件",
        "RSS 合计峰值 MB",
        "PSS 合计峰值 MB",
        "单进程峰值 MB",
        "openpyxl 加载 s",
        "比值",
    )
    for col in cols:
        t.add_column(col, justify="right")
    t.add_row(
        str(r["files"]),
        f"{r['seconds']:.1f}",
        f"{r['files_per_s']:.1f}",
        f"{r['ms_per_file']:.1f}",
        f"{r['peak_rss_mb']:.0f}",
        f"{r['peak_pss_mb']:.0f}",
        f"{r['max_process_rss_mb']:.0f}",
        f"{r['openpyxl_load_seconds']:.1f}",
        f"{r['ratio_to_openpyxl']:.2f}",
    )
    console.print(t)
    console.print(
        f"openpyxl：{r['openpyxl_files']} 个 .xlsx（抽 {r['openpyxl_timed_files']} 个计时后折算），"
        f"{r['workers']} 进程并行 {r['openpyxl_load_seconds']:.1f} s"
        f"（单进程逐个加载合计 {r['openpyxl_load_one_process_seconds']:.1f} s，"
        f"比值 {r['ratio_to_openpyxl_one_process']:.2f}）；CPU 时间：jixiao {r['cpu_seconds']:.0f} s，"
        f"openpyxl {r['openpyxl_cpu_seconds']:.0f} s，比值 {r['cpu_ratio_to_openpyxl']:.2f}（不受机器上其他负载影响）"
    )
    s = Table(title="规模：每文件耗时与内存应保持平稳", title_justify="left")
    for col in ("文件数", "耗时 s", "ms/文件", "CPU ms/文件", "文件/s", "RSS 合计 MB", "PSS 合计 MB", "单进程峰值 MB"):
        s.add_column(col, justify="right")
    s.add_column("各进程峰值 MB")
    for row in r["scaling"]:
        cols = (
            "files",
            "seconds",
            "ms_per_file",
            "cpu_ms_per_file",
            "files_per_s",
            "peak_rss_mb",
            "peak_pss_mb",
            "max_process_rss_mb",
        )
        roles = "、".join(f"{k} {v:.0f}" for k, v in row["peak_rss_mb_by_role"].items())
        s.add_row(*(str(row[k]) for k in cols), roles)
    console.print(s)
    e = r["rule_engine"]
    console.print(
        f"规则引擎单独：{e['units']} 个单位（{e['distinct_files']} 个文件复制）一次 validate() "
        f"{e['seconds']:.2f} s（{e['units_per_s']:.0f} 单位/s，进程峰值 {e['max_rss_mb']:.0f} MB）；"
        f"读取+提取 {e['extract_ms_per_file']:.1f} ms/文件"
    )
    a = r["accuracy"]
    q = Table(title="准确性（对照答案）", title_justify="left")
    for col in ("错误类别", "注入", "检出", "检出率"):
        q.add_column(col, justify="right")
    for kind, c in a["by_kind"].items():
        q.add_row(f"{KIND_ZH.get(kind, kind)}（{kind}）", str(c["injected"]), str(c["detected"]), pct(c["recall"]))
    q.add_row("[bold]合计[/bold]", str(a["injected"]), str(a["detected"]), f"[bold]{pct(a['recall'])}[/bold]")
    console.print(q)
    console.print(
        f"误报（无错工作簿上的错误级结果）：{a['false_alarms']} 条 / {a['false_alarm_files']} 个文件"
        f"（共 {a['clean_files']} 个无错文件）；有错工作簿上不对应任何注入错误的错误级结果："
        f"{a['unexpected_errors_on_faulty']} 条；意外提示：{a['unexpected_warnings']} 条"
    )
    g = r["targets"]
    tt = Table(title="目标", title_justify="left")
    for col in ("目标", "实测", "结果"):
        tt.add_column(col)
    tt.add_row("检出率 100%", pct(a["recall"]), ok(g["recall"]))
    tt.add_row("零误报", str(a["false_alarms"]), ok(g["false_alarms"]))
    ra = r["report_accuracy"]
    tt.add_row(
        "自评报告核对：检出率 100%、零误报",
        f"{pct(ra['recall'])}（{ra['found']}/{ra['expected']}），误报 {ra['false_alarms']}（{ra['reports']} 份报告）",
        ok(g["report_recall"]),
    )
    tt.add_row(f"端到端 ≤ {TARGET_RATIO} × openpyxl 仅加载", f"{r['ratio_to_openpyxl']:.2f}", ok(g["ratio"]))
    tt.add_row(f"审核结果工作簿 ≥ {TARGET_ANNOTATED:.0%} 的文件", f"{r['annotated_share']:.1%}", ok(g["annotated"]))
    tt.add_row(
        f"单文件 jixiao check ≤ {TARGET_CHECK_S} s（整个进程）",
        f"{r['single_check']['seconds']:.2f} s",
        ok(g["single_check"]),
    )
    big = next((row for row in r["scaling"] if row["files"] >= BIG), None)
    tt.add_row(
        f"10,000 单位 ≤ {TARGET_10K_S} s",
        f"{big['seconds']:.0f} s" if big else f"未运行（设 {BIG_ENV}=1）",
        ok(g["wall_10k"]),
    )
    tt.add_row(
        f"10,000 单位峰值 RSS ≤ {TARGET_RSS_MB} MB",
        f"RSS 合计 {big['peak_rss_mb']:.0f} MB（PSS 合计 {big['peak_pss_mb']:.0f} MB）"
        if big
        else f"未运行（设 {BIG_ENV}=1）",
        ok(g["rss_10k"]),
    )
    console.print(tt)
    if r.get("portal"):
        render_portal(console, r["portal"])
    p = r.get("previous")
    if p:
        console.print(
            f"上次（{p['date']}）：{p['files']} 个文件 {p['seconds']} s（{p['ms_per_file']} ms/文件），"
            f"比值 {p['ratio_to_openpyxl']}，RSS {p['peak_rss_mb']} MB，单文件 check {p['single_check_s']} s，"
            f"审核结果工作簿 {p['annotated_share']}；规模 "
            + "、".join(f"{row['files']}: {row['seconds']} s / {row['peak_rss_mb']} MB" for row in p["scaling"])
        )
    m = r["machine"]
    console.print(
        f"机器：{m['cpu']}，{m['cores']} 核，{m['ram_gb']} GB 内存，Python {m['python']}，{m['os']}；"
        f"开始时负载 {' / '.join(map(str, r['load_average_at_start']))}"
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.run", description="jixiao 基准测试")
    parser.add_argument("--units", type=int, default=UNITS, help=f"主测单位数（默认 {UNITS}）")
    parser.add_argument("--xls", type=float, default=XLS_SHARE, help=f".xls 比例（默认 {XLS_SHARE}）")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1, help="jixiao run 的进程数")
    parser.add_argument(
        "--openpyxl-sample",
        type=int,
        default=OPENPYXL_SAMPLE,
        help=f"openpyxl 计时抽样文件数（0 为全部，默认 {OPENPYXL_SAMPLE}）",
    )
    parser.add_argument("--runner", choices=("auto", "run", "check"), default="auto", help="被测命令")
    parser.add_argument("--json", type=Path, default=RESULTS, help="结果 JSON 路径")
    parser.add_argument("--no-portal", action="store_true", help="不测门户自查延迟")
    args = parser.parse_args(argv)
    runner = args.runner if args.runner != "auto" else ("run" if has_run() else "check")
    if runner == "check":
        console.print("[yellow]jixiao run 尚不可用：以 jixiao check --json --out 代替测量[/yellow]")
    CACHE.mkdir(parents=True, exist_ok=True)
    load_at_start = [round(x, 2) for x in os.getloadavg()]  # other work on the machine skews every figure
    work = CACHE / "work"
    main_dir, gen_s = corpus(args.units, xls_share=args.xls, workers=args.workers)
    files = corpus_files(main_dir)
    scales = sorted({min(SMALL, len(files)), len(files)})
    runs: dict[int, dict[str, Any]] = {}
    for n in scales:
        console.print(f"端到端：{n} 个文件 …")
        runs[n] = end_to_end(files[:n], work / f"e2e-{n}", runner=runner, workers=args.workers)
    if os.environ.get(BIG_ENV) == "1":
        big_dir, big_gen = corpus(BIG, xls_share=args.xls, workers=args.workers)
        gen_s += big_gen
        console.print(f"端到端：{BIG} 个文件 …")
        runs[BIG] = end_to_end(corpus_files(big_dir), work / f"e2e-{BIG}", runner=runner, workers=args.workers)
    main_run = runs[len(files)]
    console.print("openpyxl 仅加载（同一批文件）…")
    floor = openpyxl_floor(files, workers=args.workers, sample=args.openpyxl_sample)
    console.print("单文件 jixiao check …")
    single = single_check(files[0], work)
    console.print(f"规则引擎：{RULE_ENGINE_UNITS} 个单位一次校验 …")
    engine = rule_engine(files)
    key = load_key(main_dir / ANSWER_KEY)
    accuracy = evaluate(key, main_run["findings"], limit=200)
    console.print("自评报告核对：模拟报告 …")
    reports = report_accuracy(files)
    portal = None
    if not args.no_portal:
        console.print("门户自查延迟（jixiao serve，POST /api/check）…")
        portal = portal_latency(files[:PORTAL_FILES])
    per_file = main_run["seconds"] / main_run["files"]
    floor_per_file = floor["seconds"] / max(floor["files"], 1)
    big_row = scale_row(runs[BIG]) if BIG in runs else None
    result: dict[str, Any] = {
        "date": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "runner": runner,
        "runner_command": main_run["command"],
        "workers": args.workers,
        "files": main_run["files"],
        "seconds": round(main_run["seconds"], 2),
        "files_per_s": round(main_run["files"] / main_run["seconds"], 1),
        "ms_per_file": round(1000 * per_file, 2),
        "peak_rss_mb": round(main_run["peak_rss_mb"], 1),
        "peak_rss_method": (
            "sum of RSS over the jixiao process tree (parent, forkserver, workers, resource tracker), sampled "
            "every 50 ms; pages the workers share with the forkserver count once per process, so it overstates"
        ),
        "peak_pss_mb": round(main_run["peak_pss_mb"], 1),
        "max_process_rss_mb": round(main_run["max_process_rss_mb"], 1),
        "peak_rss_mb_by_role": main_run["peak_rss_mb_by_role"],
        "openpyxl_load_seconds": round(floor["seconds"], 2),
        "openpyxl_load_one_process_seconds": round(floor["one_process_seconds"], 2),
        "openpyxl_files": floor["files"],
        "openpyxl_timed_files": floor["timed"],
        "ratio_to_openpyxl": round(per_file / floor_per_file, 3),
        "ratio_to_openpyxl_one_process": round(per_file / (floor["one_process_seconds"] / max(floor["files"], 1)), 3),
        "cpu_seconds": round(main_run["cpu_seconds"], 1),
        "openpyxl_cpu_seconds": round(floor["cpu_seconds"], 1),
        "cpu_ratio_to_openpyxl": round(
            (main_run["cpu_seconds"] / main_run["files"]) / (floor["cpu_seconds"] / max(floor["files"], 1)), 3
        ),
        "ratio_method": (
            "wall time per file: jixiao over all files / openpyxl load_workbook over the .xlsx files, "
            "both with the same number of worker processes; openpyxl timed on every k-th file and scaled"
        ),
        "recall": accuracy["recall"],
        "false_alarms": accuracy["false_alarms"],
        "unexpected_errors_on_faulty": accuracy["unexpected_errors_on_faulty"],
        "machine": machine(),
        "load_average_at_start": load_at_start,
        "corpus": {
            "units": args.units,
            "fault_rate": FAULT_RATE,
            "seed": SEED,
            "xls_share": args.xls,
            "xls_files": sum(f.suffix == ".xls" for f in files),
            "generator_version": GENERATOR_VERSION,
            "generated_seconds": round(gen_s, 1) if gen_s else None,
            "cache": str(main_dir.relative_to(ROOT)),
        },
        "scaling": [scale_row(runs[n]) for n in sorted(runs)],
        "rule_engine": {k: round(v, 3) if isinstance(v, float) else v for k, v in engine.items()},
        "annotated_share": round(main_run["annotated"] / main_run["files"], 3),
        "single_check": single,
        "accuracy": accuracy,
        "report_accuracy": reports,
        "portal": portal,
    }
    result["targets"] = {
        "recall": accuracy["recall"] == 1.0,
        "false_alarms": accuracy["false_alarms"] == 0,
        "report_recall": reports["recall"] == 1.0 and reports["false_alarms"] == 0,
        "ratio": result["ratio_to_openpyxl"] <= TARGET_RATIO,
        "rss_10k": None if big_row is None else big_row["peak_rss_mb"] <= TARGET_RSS_MB,
        "wall_10k": None if big_row is None else big_row["seconds"] <= TARGET_10K_S,
        "annotated": result["annotated_share"] >= TARGET_ANNOTATED,
        "single_check": single["seconds"] <= TARGET_CHECK_S,
        "portal_p95": None if portal is None else portal["target_met"],
    }
    args.json.parent.mkdir(parents=True, exist_ok=True)
    previous = None
    if args.json.is_file():  # the last result stays beside the new one, so a regression shows
        previous = json.loads(args.json.read_text(encoding="utf-8"))
        shutil.copy2(args.json, PREVIOUS if args.json == RESULTS else args.json.with_name("previous.json"))
    result["previous"] = _previous_summary(previous)
    args.json.write_text(json.dumps(result, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    render(result)
    console.print(f"结果已写入 {args.json}")
    shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
