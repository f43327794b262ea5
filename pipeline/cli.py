"""Command line: thin wrappers that parse options, call one library function and render the result."""

from __future__ import annotations

import argparse
import json
import logging
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from pipeline import __version__
from pipeline.argparse_zh import Parser
from pipeline.batch.inbox import MSG_NO_INBOX
from pipeline.errors import JixiaoError
from pipeline.model import (
    EXIT_CLEAN,
    EXIT_INTERRUPTED,
    EXIT_USAGE,
    EXPLAINED_ZH,
    LEVEL_ZH,
    STATUS_ZH,
    Result,
    exit_code,
)
from pipeline.settings import DEFAULT_YEAR
from pipeline.store.files import cannot_write

STATUS_STYLE = {"ok": "green", "warnings": "yellow", "errors": "red", "rejected": "magenta"}
LEVEL_STYLE = {"error": "red", "warning": "yellow"}


def _workers(text: str) -> int:
    """--workers: a whole number ≥ 0, said in Chinese otherwise."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"须为不小于 0 的整数，收到 {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"须为不小于 0 的整数（0 = 在本进程中读取），收到 {value}")
    return value


PROFILE_HELP = "审核口径：schemas/profiles/ 下的名称（如 example_40_40），或 .toml 文件的路径（默认 default）"


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(prog="jixiao", description="绩效自评审核：检查预算单位整体支出绩效自评表")
    parser.add_argument("--version", action="version", version=f"jixiao {__version__}", help="显示版本号并退出")
    parser.add_argument("-v", "--verbose", action="store_true", help="输出调试日志")
    commands = parser.add_subparsers(dest="command", required=True, metavar="命令", title="命令")

    p = commands.add_parser("template", help="生成官方空白模板（附件1–3）")
    p.add_argument("--year", type=int, default=DEFAULT_YEAR, metavar="年度", help=f"年度（默认 {DEFAULT_YEAR}）")
    p.add_argument(
        "--out", type=Path, default=Path("templates_xlsx"), metavar="目录", help="输出目录（默认 templates_xlsx）"
    )
    p.add_argument("--profile", default="default", metavar="口径", help=PROFILE_HELP)
    p.add_argument(
        "--edition",
        action="append",
        default=[],
        metavar="版本",
        help="某表种改用其他版本（schemas/forms/ 下的文件名，如 a3_national），可重复",
    )

    p = commands.add_parser("check", help="审核一个或多个工作簿")
    p.add_argument(
        "files", nargs="+", type=Path, metavar="文件", help="提交的工作簿（.xlsx/.xls/.ods），或文件夹（含子文件夹）"
    )
    p.add_argument("--out", type=Path, default=None, metavar="目录", help="审核结果工作簿的输出目录")
    p.add_argument("--json", action="store_true", help="以 JSON 输出审核结果")
    p.add_argument("--profile", default="default", metavar="口径", help=PROFILE_HELP)
    p.add_argument(
        "--year", type=int, default=None, metavar="年度", help="表格未写年度时采用的年度（标题或表头写明的年度优先）"
    )
    p.add_argument(
        "--workers",
        type=_workers,
        default=1,
        metavar="进程数",
        help="读取文件的独立进程数（默认 1；文件导致读取进程崩溃时只退回该文件；0 = 在本进程中读取）",
    )

    p = commands.add_parser("synth", help="生成模拟单位工作簿及错误答案（测试与基准用）")
    p.add_argument("--units", type=int, required=True, metavar="数量", help="单位数")
    p.add_argument("--fault-rate", type=float, default=0.3, metavar="比例", help="含错误工作簿的比例（默认 0.3）")
    p.add_argument("--seed", type=int, default=0, metavar="种子", help="随机种子，相同种子生成相同文件（默认 0）")
    p.add_argument("--year", type=int, default=DEFAULT_YEAR, metavar="年度", help=f"年度（默认 {DEFAULT_YEAR}）")
    p.add_argument(
        "--xls", type=float, default=0.0, metavar="比例", help="另存为 .xls 的比例（需要 LibreOffice，默认 0）"
    )
    p.add_argument("--workers", type=_workers, default=None, metavar="进程数", help="并行进程数（默认 CPU 核数）")
    p.add_argument("--out", type=Path, required=True, metavar="目录", help="输出目录（须为空或不存在）")
    p.add_argument(
        "--reports",
        action="store_true",
        help="为无错单位另写自评报告（.docx，部分含错误，答案见 .report_key.json）",
    )

    for name, text in (
        ("run", "审核收件箱中的新文件（含子目录），生成审核结果与汇总表"),
        ("watch", "持续监视收件箱，文件到达即审核（Ctrl-C 停止）"),
    ):
        p = commands.add_parser(name, help=text)
        p.add_argument("inbox", type=Path, metavar="收件箱", help="收件箱目录（工作簿、自评报告及其 .zip 压缩包）")
        p.add_argument(
            "--out", type=Path, required=True, metavar="目录", help="输出目录（账本、归档、审核结果、汇总表）"
        )
        p.add_argument(
            "--workers",
            type=_workers,
            default=None,
            metavar="进程数",
            help="读取文件的进程数（默认 CPU 核数，最多 8；0 = 在本进程中读取）",
        )
        p.add_argument("--profile", default="default", metavar="口径", help=PROFILE_HELP)
        p.add_argument("--roster", type=Path, default=None, metavar="名单", help=ROSTER_HELP)
        p.add_argument("--include-errors", action=argparse.BooleanOptionalAction, default=None, help=ERRORS_HELP)
    p = commands.add_parser("summary", help="根据账本重新生成汇总表")
    p.add_argument("--out", type=Path, required=True, metavar="目录", help="jixiao run 的输出目录")
    p.add_argument("--roster", type=Path, default=None, metavar="名单", help=ROSTER_HELP)
    p.add_argument("--include-errors", action=argparse.BooleanOptionalAction, default=None, help=ERRORS_HELP)
    p = commands.add_parser("export", help="将总览和问题清单导出为 CSV（UTF-8 带 BOM，Excel 可直接打开）")
    p.add_argument("--out", type=Path, required=True, metavar="目录", help="jixiao run 的输出目录（CSV 也写在这里）")
    p = commands.add_parser("roster", help="生成空白的预算单位名单（名单.xlsx）")
    p.add_argument("--template", action="store_true", required=True, help="写出空白名单表")
    p.add_argument("--out", type=Path, default=Path("."), metavar="目录", help="写到哪个目录（默认当前目录）")
    p = commands.add_parser("review", help="导入在别处编辑的汇总表中的审核意见与备注，并重新生成汇总表")
    p.add_argument("file", type=Path, metavar="汇总表", help="填写了审核意见的汇总表（.xlsx）")
    p.add_argument("--out", type=Path, required=True, metavar="目录", help="jixiao run 的输出目录")
    return parser


ERRORS_HELP = "汇总数是否计入审核状态为“有错误”的单位（默认不计入；设置保存在输出目录，之后的汇总沿用）"
ROSTER_HELP = (
    "预算单位名单（.xlsx 或 .csv，列：单位名称、单位编码、主管部门、联系人、联系电话），复制到输出目录的 名单.xlsx"
)


def _install_roster(args: argparse.Namespace) -> None:
    """`--roster FILE`: a copy in OUT, which every later summary reads (JixiaoError when it cannot be read)."""
    if getattr(args, "roster", None) is None:
        return
    from pipeline.store.roster import install_roster

    if not args.roster.is_file():
        raise JixiaoError(f"找不到名单文件：{args.roster}")
    install_roster(args.roster, args.out)


def _install_options(args: argparse.Namespace) -> None:
    """`--include-errors` / `--no-include-errors`: kept in OUT for every later rebuild."""
    if getattr(args, "include_errors", None) is not None:
        from pipeline.store.options import save_options

        save_options(args.out, include_errors=args.include_errors)


def entry() -> int:
    """The console script and `python -m pipeline`: `main` in a process of jixiao's own. pandera imports
    hypothesis, when installed (the tests need it), to offer data synthesis that jixiao never uses: ≈ 0.1 s of
    every `jixiao check`. Marked absent here, pandera does without it (as when it is not installed)."""
    sys.modules.setdefault("hypothesis", None)  # type: ignore[arg-type]
    return main()


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.WARNING, format="%(levelname)s %(name)s: %(message)s"
    )
    console = Console(stderr=False, highlight=False)
    commands = {
        "template": cmd_template,
        "check": cmd_check,
        "synth": cmd_synth,
        "run": cmd_run,
        "watch": cmd_watch,
        "summary": cmd_summary,
        "review": cmd_review,
        "roster": cmd_roster,
        "export": cmd_export,
    }
    try:
        if getattr(args, "profile", None) is not None:  # checked before anything is written (then cached)
            from pipeline.forms import load_profile

            load_profile(args.profile)
        _install_roster(args)
        _install_options(args)
        return commands[args.command](args, console)
    except JixiaoError as exc:
        return user_error(str(exc))
    except KeyboardInterrupt:
        Console(stderr=True).print("已中断。")
        return EXIT_INTERRUPTED


def user_error(message: str) -> int:
    """Say what the user must change, in Chinese, on stderr; exit code 2 (EXIT_USAGE)."""
    Console(stderr=True, highlight=False, soft_wrap=True).print(f"[red]错误：[/red]{escape(message)}")
    return EXIT_USAGE


def cmd_template(args: argparse.Namespace, console: Console) -> int:
    from pipeline.forms import load_profile
    from pipeline.report.template import TEMPLATE_FILENAME, write_template

    profile = load_profile(args.profile)
    if args.out.exists() and not args.out.is_dir():
        return user_error(f"--out 须为文件夹，{args.out} 是一个文件")
    path = args.out / TEMPLATE_FILENAME.format(year=args.year)
    try:
        args.out.mkdir(parents=True, exist_ok=True)
        write_template(path, year=args.year, profile=profile, editions=args.edition)
    except ValueError as exc:  # the year is outside what the forms cover; the message says which
        return user_error(str(exc))
    except OSError as exc:
        raise cannot_write(f"模板文件 {path}", exc) from exc
    console.print(f"已生成 {args.year} 年度空白模板（审核口径 {profile.name}）：{path}")
    return EXIT_CLEAN


def cmd_check(args: argparse.Namespace, console: Console) -> int:
    from pipeline.check import check_files, expand_paths
    from pipeline.forms import load_profile

    files = expand_paths(args.files)
    profile = load_profile(args.profile).with_year(args.year)
    results = check_files(files, profile=profile, out_dir=args.out, workers=args.workers)
    if args.json:
        sys.stdout.write(json.dumps([r.to_dict() for r in results], ensure_ascii=False, indent=2) + "\n")
    else:
        for result in results:
            render_result(console, result)
        render_totals(console, results)
    return exit_code(r.status for r in results)


def cmd_synth(args: argparse.Namespace, console: Console) -> int:
    from pipeline.synth.corpus import ANSWER_KEY, KIND_ZH, generate, key_summary, load_key

    try:
        paths = generate(
            args.out,
            units=args.units,
            fault_rate=args.fault_rate,
            seed=args.seed,
            year=args.year,
            xls_share=args.xls,
            workers=args.workers,
        )
    except ValueError as exc:
        return user_error(str(exc))
    info = key_summary(load_key(args.out / ANSWER_KEY))
    kinds = "，".join(f"{KIND_ZH.get(k, k)} {n}" for k, n in info["by_kind"].items())
    console.print(f"已生成 {len(paths)} 个工作簿（.xls {info['xls']} 个）于 {args.out}")
    console.print(
        f"含错误 {info['faulty_files']} 个，共注入 {info['faults']} 处错误、应报 {info['expected']} 条：{kinds}"
    )
    console.print(f"答案：{args.out / ANSWER_KEY}")
    if args.reports:
        from pipeline.synth.reports import REPORT_KEY, write_reports

        key = load_key(args.out / ANSWER_KEY)
        clean = [args.out / name for name, entry in sorted(key["files"].items()) if not entry["faults"]]
        written = write_reports(clean, args.out, seed=args.seed, fault_rate=args.fault_rate)["reports"]
        faulty = sum(entry["fault"] is not None for entry in written.values())
        console.print(f"自评报告 {len(written)} 份（含错误 {faulty} 份），答案：{args.out / REPORT_KEY}")
    return EXIT_CLEAN


def cmd_run(args: argparse.Namespace, console: Console) -> int:
    from pipeline.batch.engine import run_inbox
    from pipeline.batch.workers import prepare_workers, stop_on_interrupt

    if args.workers != 0:  # 0: read in this process (tests, debugging), no forkserver
        prepare_workers()
    with stop_on_interrupt(lambda: console.print(STOPPING)) as stop, RunProgress(console) as progress:
        report = run_inbox(
            args.inbox, args.out, workers=args.workers, profile=args.profile, listener=progress, stop=stop
        )
    render_run(console, report)
    return EXIT_INTERRUPTED if report.interrupted else report.exit_code


def cmd_watch(args: argparse.Namespace, console: Console) -> int:
    from pipeline.batch.engine import watch_inbox
    from pipeline.batch.workers import prepare_workers, stop_on_interrupt

    if not args.inbox.is_dir():  # before announcing that it is watched
        return user_error(MSG_NO_INBOX.format(path=args.inbox))
    if args.workers != 0:
        prepare_workers()
    console.print(f"正在监视收件箱 {args.inbox}，输出到 {args.out}。按 Ctrl-C 停止（处理完当前文件后退出）。")
    with stop_on_interrupt(lambda: console.print(STOPPING)) as stop:
        report = watch_inbox(
            args.inbox,
            args.out,
            stop=stop,
            workers=args.workers,
            profile=args.profile,
            listener=WatchLog(console),
            on_pass=lambda r: console.print(f"  汇总表已更新：{'、'.join(str(p) for p in r.summaries)}"),
        )
    console.print("已停止监视。")
    render_run(console, report)
    return report.exit_code  # Ctrl-C is how a watch ends: the code tells what the files it saw hold


def cmd_summary(args: argparse.Namespace, console: Console) -> int:
    from pipeline.report.summary import rebuild_summaries

    return _list_written(console, rebuild_summaries(args.out), "生成汇总表", "已生成汇总表")


def cmd_export(args: argparse.Namespace, console: Console) -> int:
    from pipeline.report.export import export_csv

    return _list_written(console, export_csv(args.out), "导出", "已导出")


def _list_written(console: Console, paths: Sequence[Path], verb: str, done: str) -> int:
    if not paths:
        console.print(f"账本中还没有审核过的文件，未{verb}。")
    for path in paths:
        console.print(f"{done}：{path}")
    return EXIT_CLEAN


def cmd_roster(args: argparse.Namespace, console: Console) -> int:
    from pipeline.store.roster import ROSTER_STEM, write_roster_template

    args.out.mkdir(parents=True, exist_ok=True)
    path = write_roster_template(args.out / f"{ROSTER_STEM}.xlsx")
    console.print(f"已生成空白名单：{path}（填好后用 --roster 指定，或放在输出目录中命名为 名单.xlsx）")
    return EXIT_CLEAN


def cmd_review(args: argparse.Namespace, console: Console) -> int:
    from pipeline.report.summary import review_file

    if not args.file.is_file():
        return user_error(f"找不到文件：{args.file}")
    try:
        changed, paths = review_file(args.out, args.file)
    except ValueError as exc:
        return user_error(str(exc))
    console.print(f"已导入审核意见 {changed} 条（来自 {args.file.name}）")
    for path in paths:
        console.print(f"已生成汇总表：{path}")
    return EXIT_CLEAN


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
        from datetime import datetime

        style = STATUS_STYLE.get(outcome.status, "")
        status = f"[{style}]{RUN_STATUS_ZH[outcome.status]}[/{style}]" if style else RUN_STATUS_ZH[outcome.status]
        extra = f"错误 {outcome.errors}，提示 {outcome.warnings}" if outcome.status in STATUS_STYLE else ""
        if outcome.status in ("rejected", "duplicate"):
            extra = outcome.reason or ""
        elif outcome.kind != "workbook":  # a report waits for its workbook; a bundle's members follow
            status, extra = KIND_ZH[outcome.kind], ""
        self.console.print(f"{datetime.now():%H:%M:%S}  {outcome.original}  {outcome.unit or ''}  {status}  {extra}")


RUN_STATUS_ZH = {**STATUS_ZH, "duplicate": "重复提交"}
KIND_ZH = {"report": "自评报告", "bundle": "压缩包（已解开）"}


def render_run(console: Console, report: Any) -> None:
    """Counts, where the outputs are, and the files that need attention."""
    counts = report.counts()
    if not report.outcomes and not report.interrupted:  # stopped early: files may well be waiting
        console.print("收件箱中没有新文件（已处理过的文件不会再次审核）。")
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
                problems.add_row(o.original, "", status, "", "", o.reason or "")
            else:
                problems.add_row(o.original, o.unit or "", status, str(o.errors), str(o.warnings), *([""] * refused))
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
        console.print(f"[red]无法读取[/red] {name}：{why}（留在收件箱中）")
    if report.waiting:
        console.print(f"{len(report.waiting)} 个文件仍在写入，留待下次处理：{'、'.join(report.waiting[:5])}")
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
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def render_result(console: Console, result: Result) -> None:
    style = STATUS_STYLE[result.status]
    unit = f"{result.unit or ''} {result.year or ''}".strip()
    console.print(f"[bold]{result.file.name}[/bold]  {unit}  [{style}]{result.status_text}[/{style}]")
    if result.findings:
        table = Table(show_header=True, header_style="bold", expand=False)
        for col in ("级别", "规则", "工作表", "单元格", "问题说明"):
            table.add_column(col, overflow="fold", no_wrap=col in ("级别", "规则", "单元格"))
        for f in sorted(result.findings, key=lambda f: f.level != "error"):
            level = f"[{LEVEL_STYLE[f.level]}]{LEVEL_ZH[f.level]}[/{LEVEL_STYLE[f.level]}]"
            table.add_row(level, f.rule, f.sheet, f.cells[0] if f.cells else "", f.message)
        console.print(table)
    if result.output:
        console.print(f"  审核结果工作簿：{result.output}")
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
