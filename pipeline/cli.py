"""Command line: thin wrappers that parse options, call one library function and render the result."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path

from rich.console import Console
from rich.markup import escape

from pipeline import __version__, logs
from pipeline.argparse_zh import Parser
from pipeline.batch.inbox import MSG_NO_INBOX
from pipeline.errors import JixiaoError
from pipeline.model import (
    EXIT_CLEAN,
    EXIT_INTERRUPTED,
    EXIT_USAGE,
    exit_code,
)
from pipeline.settings import DEFAULT_YEAR
from pipeline.store.files import cannot_write
from pipeline.terminal import (
    STOPPING,
    RunProgress,
    WatchLog,
    render_result,
    render_run,
    render_totals,
)
from pipeline.web import commands as portal_commands


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
    p = commands.add_parser("notices", help="为审核意见为退回修改的单位生成退回通知（.docx）及各主管部门的退回单位清单")
    p.add_argument("--out", type=Path, required=True, metavar="目录", help="jixiao run 的输出目录（写在 退回通知/ 中）")
    p.add_argument("--profile", default="default", metavar="口径", help=f"{PROFILE_HELP}；退回期限取自 return_deadline")
    p = commands.add_parser("roster", help="生成空白的预算单位名单（名单.xlsx）")
    p.add_argument("--template", action="store_true", required=True, help="写出空白名单表")
    p.add_argument("--out", type=Path, default=Path("."), metavar="目录", help="写到哪个目录（默认当前目录）")
    p = commands.add_parser("edition", help="表样：根据一个工作簿生成自定表样（schemas/forms 格式的 TOML）")
    actions = p.add_subparsers(dest="action", required=True, metavar="操作")
    d = actions.add_parser("draft", help="打印工作簿中各自评表的表样草稿，另存为 .toml 并在审核口径中列出即可使用")
    d.add_argument("file", type=Path, metavar="工作簿", help="一个使用未内置表样的工作簿（.xlsx/.xls/.ods）")
    p = commands.add_parser("ledger", help="审核账本维护：账本损坏或丢失时从归档重建（ledger recover）")
    p = p.add_subparsers(dest="action", required=True, metavar="操作", title="操作").add_parser(
        "recover", help="从输出目录的归档（archive/）和汇总表中的审核意见重建审核账本"
    )
    p.add_argument("--out", type=Path, required=True, metavar="目录", help="jixiao run 的输出目录")
    p = commands.add_parser("review", help="导入在别处编辑的汇总表中的审核意见与备注，并重新生成汇总表")
    p.add_argument("file", type=Path, metavar="汇总表", help="填写了审核意见的汇总表（.xlsx）")
    p.add_argument("--out", type=Path, required=True, metavar="目录", help="jixiao run 的输出目录")
    portal_commands.add_parsers(commands, workers=_workers, profile_help=PROFILE_HELP)
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
    logs.quiet_warnings(sys.argv[1:])  # openpyxl's English warnings about a unit's file are not for users
    return main()


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logs.configure(verbose=args.verbose)
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
        "edition": cmd_edition,
        "notices": cmd_notices,
        **portal_commands.COMMANDS,
        "serve": lambda a, c: portal_commands.cmd_serve(a, c, listener=WatchLog(c)),
        "ledger": cmd_ledger,
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
    except Exception as exc:  # a bug of ours: said in Chinese, its traceback logged (-v: raised as it is)
        return user_error(logs.internal_error(exc, reraise=args.verbose))


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
            on_pass=lambda r: console.print(f"  汇总表已更新：{escape('、'.join(str(p) for p in r.summaries))}"),
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


def cmd_notices(args: argparse.Namespace, console: Console) -> int:
    from pipeline.report.notices import write_notices

    paths = write_notices(args.out, profile=args.profile)
    if not paths:
        console.print("没有审核意见为退回修改的单位，未生成退回通知。")
    for path in paths:
        console.print(f"已生成：{path}")
    return 0


def _list_written(console: Console, paths: Sequence[Path], verb: str, done: str) -> int:
    if not paths:
        console.print(f"账本中还没有审核过的文件，未{verb}。")
    for path in paths:
        console.print(f"{done}：{escape(str(path))}")
    return EXIT_CLEAN


def cmd_ledger(args: argparse.Namespace, console: Console) -> int:
    from pipeline.batch.recover import recover_ledger

    report = recover_ledger(args.out)
    console.print(f"已从归档重建审核账本：{len(report.outcomes)} 个文件重新审核并登记")
    return _list_written(console, report.summaries, "生成汇总表", "已生成汇总表（保留了原汇总表中的审核意见）")


def cmd_roster(args: argparse.Namespace, console: Console) -> int:
    from pipeline.store.roster import ROSTER_STEM, write_roster_template

    args.out.mkdir(parents=True, exist_ok=True)
    path = write_roster_template(args.out / f"{ROSTER_STEM}.xlsx")
    console.print(f"已生成空白名单：{path}（填好后用 --roster 指定，或放在输出目录中命名为 名单.xlsx）")
    return EXIT_CLEAN


def cmd_edition(args: argparse.Namespace, console: Console) -> int:
    """`edition draft FILE`: the edition TOML of each table, one after another (each to be saved on its own)."""
    from pipeline.read.draft import draft_editions

    drafts = draft_editions(args.file)  # a missing or unreadable file: RejectedFile, said by main
    for n, draft in enumerate(drafts, 1):
        if len(drafts) > 1:
            print(f"# ===== 第 {n} 个表样（{draft.sheet}!{draft.cell}），请另存为单独的 .toml 文件 =====")
        print(draft.text)
    return 0


def cmd_review(args: argparse.Namespace, console: Console) -> int:
    from pipeline.report.summary import review_file

    if not args.file.is_file():
        return user_error(f"找不到文件：{args.file}")
    try:
        tally, paths = review_file(args.out, args.file)
    except ValueError as exc:
        return user_error(str(exc))
    console.print(f"已导入审核意见 {tally.recorded} 条（来自 {args.file.name}；{tally.text()}）")
    for path in paths:
        console.print(f"已生成汇总表：{escape(str(path))}")
    return EXIT_CLEAN
