"""What the jixiao command prints: the progress bar of a run, the watch log, the run's tables and a check's
result lines. Names and texts that came from a unit are printed as text, never as markup (`escape`).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from pipeline.model import EXPLAINED_ZH, LEVEL_ZH, STATUS_ZH, Result

LEVEL_STYLE = {"error": "red", "warning": "yellow"}
STATUS_STYLE = {"ok": "green", "warnings": "yellow", "errors": "red", "rejected": "magenta"}
STOPPING = "正在停止：处理完当前文件后退出（再按一次 Ctrl-C 立即中断，下次运行会接着处理）"


class RunProgress:
    """Rich progress bar for `jixiao run`: files done, rate, ETA; the stage in the description."""

    def __init__(self, console: Console) -> None:
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

        self.progress = Progress(
            TextColumn("{task.description}", style="bold"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.fields[rate]}"),
            TextColumn("剩余"),
            TimeRemainingColumn(),
            console=console,
            transient=False,
        )
        self.task = self.progress.add_task("审核", total=0, rate="")
        self.started = False

    def __enter__(self) -> RunProgress:
        return self

    def __exit__(self, *exc: object) -> None:
        if self.started:  # shown only once there is something to do
            self.progress.update(self.task, description="完成")
            self.progress.stop()

    def planned(self, n: int) -> None:
        if not self.started:
            self.progress.start()
            self.started = True
        total = self.progress.tasks[0].total or 0
        self.progress.update(self.task, total=total + n)

    def phase(self, text: str) -> None:
        self.progress.update(self.task, description=text)

    def done(self, outcome: object) -> None:
        self.progress.advance(self.task)
        task = self.progress.tasks[0]
        if task.elapsed:
            self.progress.update(self.task, rate=f"{task.completed / task.elapsed:.1f} 份/秒")


class WatchLog:
    """`jixiao watch`: one line per file as it is done."""

    def __init__(self, console: Console) -> None:
        self.console = console

    def planned(self, n: int) -> None:
        self.console.print(f"收到 {n} 个新文件")

    def phase(self, text: str) -> None:
        pass

    def done(self, outcome: Any) -> None:

        style = STATUS_STYLE.get(outcome.status, "")
        status = f"[{style}]{RUN_STATUS_ZH[outcome.status]}[/{style}]" if style else RUN_STATUS_ZH[outcome.status]
        extra = f"错误 {outcome.errors}，提示 {outcome.warnings}" if outcome.status in STATUS_STYLE else ""
        if outcome.status in ("rejected", "duplicate"):
            extra = outcome.reason or ""
        elif outcome.kind != "workbook":  # a report waits for its workbook; a bundle's members follow
            status, extra = KIND_ZH[outcome.kind], ""
        line = f"{escape(outcome.original)}  {escape(outcome.unit or '')}  {status}  {escape(extra)}"
        self.console.print(f"{datetime.now():%H:%M:%S}  {line}")


RUN_STATUS_ZH = {**STATUS_ZH, "duplicate": "重复提交"}
KIND_ZH = {"report": "自评报告", "bundle": "压缩包（已解开）"}


def render_run(console: Console, report: Any) -> None:
    """Counts, where the outputs are, and the files that need attention."""
    counts = report.counts()
    if not report.outcomes and not report.interrupted:  # stopped early: files may well be waiting
        console.print(f"收件箱中没有{'可审核的' if report.skipped else ''}新文件（已处理过的文件不会再次审核）。")
    explained = _explained(report)
    table = Table(title="审核结果", show_header=True, header_style="bold", title_justify="left")
    for col in ("单位数", "通过", EXPLAINED_ZH, "有提示", "有错误", "退回", "重复提交"):
        table.add_column(col, justify="right")
    table.add_row(
        str(report.units),
        f"[green]{counts['ok']}[/green]",
        f"[green]{explained}[/green]",
        f"[yellow]{counts['warnings'] - explained}[/yellow]",
        f"[red]{counts['errors']}[/red]",
        f"[magenta]{counts['rejected']}[/magenta]",
        str(counts["duplicate"]),
    )
    console.print(table)
    attention = [o for o in report.outcomes if o.status in ("errors", "rejected")]
    if attention:
        problems = Table(show_header=True, header_style="bold", title="需处理的文件", title_justify="left")
        refused = any(o.status == "rejected" for o in attention)
        for col in ("文件", "预算单位", "状态", "错误", "提示", *(["退回原因"] if refused else [])):
            problems.add_column(col, overflow="fold", justify="right" if col in ("错误", "提示") else "left")
        for o in attention[:20]:
            style = STATUS_STYLE[o.status]
            status = f"[{style}]{STATUS_ZH[o.status]}[/{style}]"
            if o.status == "rejected":
                problems.add_row(escape(o.original), "", status, "", "", escape(o.reason or ""))
            else:
                row = (escape(o.original), escape(o.unit or ""), status, str(o.errors), str(o.warnings))
                problems.add_row(*row, *([""] * refused))
        console.print(problems)
        if len(attention) > 20:
            console.print(f"……另有 {len(attention) - 20} 个文件，见汇总表。")
    where = Table(show_header=False, box=None, padding=(0, 2, 0, 0), title="输出位置", title_justify="left")
    for label, path in (
        *(("汇总表", p) for p in report.summaries),
        ("审核结果", report.out / "results"),
        ("已处理的原文件", report.out / "processed"),
        ("退回的原文件", report.out / "refused"),
        ("归档", report.out / "archive"),
        ("审核账本", report.ledger),
    ):
        where.add_row(label, _shown(path))
    console.print(where)
    if report.recovered:
        console.print(f"已完成上次中断时未处理完的 {report.recovered} 个文件。")
    _render_reports(console, report)
    for name, why in report.unreadable:
        console.print(f"[red]无法读取[/red] {escape(name)}：{escape(why)}（留在收件箱中）")
    if report.waiting:
        console.print(f"{len(report.waiting)} 个文件仍在写入，留待下次处理：{escape('、'.join(report.waiting[:5]))}")
    for line in report.skipped_lines():
        console.print(line, markup=False)
    if report.interrupted:
        console.print("已按要求停止；未处理的文件留在收件箱中，下次运行时继续。")


def _render_reports(console: Console, report: Any) -> None:
    """自评报告: how many came, how many were checked with their workbook, which still wait for one."""
    received = report.counts()["report"]
    if received or report.paired:
        console.print(f"自评报告：本次收到 {received} 份，已与工作簿一并审核 {len(report.paired)} 份。")
    if report.waiting_reports:
        names = "、".join(report.waiting_reports[:5]) + ("等" if len(report.waiting_reports) > 5 else "")
        console.print(f"待配对的自评报告 {len(report.waiting_reports)} 份（尚未收到同名单位的工作簿）：{names}")


def _shown(path: Path) -> str:
    try:
        return escape(str(path.relative_to(Path.cwd())))
    except ValueError:
        return escape(str(path))


def render_result(console: Console, result: Result) -> None:
    style = STATUS_STYLE[result.status]
    unit = f"{result.unit or ''} {result.year or ''}".strip()
    console.print(f"[bold]{escape(result.file.name)}[/bold]  {escape(unit)}  [{style}]{result.status_text}[/{style}]")
    if result.findings:
        table = Table(show_header=True, header_style="bold", expand=False)
        for col in ("级别", "规则", "工作表", "单元格", "问题说明"):
            table.add_column(col, overflow="fold", no_wrap=col in ("级别", "规则", "单元格"))
        for f in sorted(result.findings, key=lambda f: f.level != "error"):
            level = f"[{LEVEL_STYLE[f.level]}]{LEVEL_ZH[f.level]}[/{LEVEL_STYLE[f.level]}]"
            table.add_row(level, f.rule, escape(f.sheet), escape(f.cells[0] if f.cells else ""), escape(f.message))
        console.print(table)
    if result.output:
        console.print(f"  审核结果工作簿：{escape(str(result.output))}")
    console.print()


def _explained(report: Any) -> int:
    """Files of this run whose warnings are all explained by the unit (通过（提示已说明）), from the ledger."""
    ids = [o.id for o in report.outcomes if o.status == "warnings"]
    if not ids or not report.ledger.is_file():
        return 0
    from pipeline.store.ledger import Ledger
    from pipeline.store.ledger_reads import explained_ids

    with Ledger(report.ledger) as ledger:
        return len(explained_ids(ledger, ids))


def render_totals(console: Console, results: Sequence[Result]) -> None:
    counts = {s: sum(r.status == s for r in results) for s in STATUS_ZH}
    explained = sum(r.status_text == EXPLAINED_ZH for r in results)
    counts["warnings"] -= explained
    parts = [f"{STATUS_ZH[s]} {n}" for s, n in counts.items()]
    if explained:
        parts.insert(1, f"{EXPLAINED_ZH} {explained}")
    console.print(f"共审核 {len(results)} 个文件：" + "，".join(parts))
