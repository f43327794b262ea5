"""Command line: thin wrappers that parse options, call one library function and render the result."""

from __future__ import annotations

import argparse
import json
import logging
import sys
from collections.abc import Sequence
from pathlib import Path

from rich.console import Console
from rich.table import Table

from pipeline.errors import JixiaoError
from pipeline.model import LEVEL_ZH, STATUS_ZH, Result
from pipeline.settings import DEFAULT_YEAR

STATUS_STYLE = {"ok": "green", "warnings": "yellow", "errors": "red", "rejected": "magenta"}
LEVEL_STYLE = {"error": "red", "warning": "yellow"}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="jixiao", description="绩效自评审核：检查预算单位整体支出绩效自评表")
    parser.add_argument("-v", "--verbose", action="store_true", help="输出调试日志")
    commands = parser.add_subparsers(dest="command", required=True, metavar="命令")

    p = commands.add_parser("template", help="生成官方空白模板（附件1–3）")
    p.add_argument("--year", type=int, default=DEFAULT_YEAR, help=f"年度（默认 {DEFAULT_YEAR}）")
    p.add_argument("--out", type=Path, default=Path("templates_xlsx"), help="输出目录")

    p = commands.add_parser("check", help="审核一个或多个工作簿")
    p.add_argument("files", nargs="+", type=Path, metavar="FILE", help="提交的工作簿（.xlsx/.xls/.ods）")
    p.add_argument("--out", type=Path, default=None, help="审核结果工作簿的输出目录")
    p.add_argument("--json", action="store_true", help="以 JSON 输出审核结果")
    p.add_argument("--profile", default="default", help="审核口径（schemas/profiles/ 下的名称）")

    p = commands.add_parser("synth", help="生成模拟单位工作簿及错误答案（测试与基准用）")
    p.add_argument("--units", type=int, required=True, help="单位数")
    p.add_argument("--fault-rate", type=float, default=0.3, help="含错误工作簿的比例（默认 0.3）")
    p.add_argument("--seed", type=int, default=0, help="随机种子，相同种子生成相同文件（默认 0）")
    p.add_argument("--year", type=int, default=DEFAULT_YEAR, help=f"年度（默认 {DEFAULT_YEAR}）")
    p.add_argument("--xls", type=float, default=0.0, help="另存为 .xls 的比例（需要 LibreOffice，默认 0）")
    p.add_argument("--workers", type=int, default=None, help="并行进程数（默认 CPU 核数）")
    p.add_argument("--out", type=Path, required=True, help="输出目录（须为空或不存在）")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.WARNING, format="%(levelname)s %(name)s: %(message)s"
    )
    console = Console(stderr=False, highlight=False)
    try:
        if args.command == "template":
            return cmd_template(args, console)
        if args.command == "check":
            return cmd_check(args, console)
        if args.command == "synth":
            return cmd_synth(args, console)
    except JixiaoError as exc:
        Console(stderr=True).print(f"[red]错误：[/red]{exc}")
        return 2
    except KeyboardInterrupt:
        Console(stderr=True).print("已中断。")
        return 130
    return 2


def cmd_template(args: argparse.Namespace, console: Console) -> int:
    from pipeline.template import build_templates

    path = build_templates(args.out, args.year)
    console.print(f"已生成 {args.year} 年度空白模板：{path}")
    return 0


def cmd_check(args: argparse.Namespace, console: Console) -> int:
    from pipeline.check import check_files

    missing = [str(f) for f in args.files if not f.is_file()]
    if missing:
        Console(stderr=True).print(f"[red]错误：[/red]找不到文件：{'、'.join(missing)}")
        return 2
    results = check_files(args.files, profile=args.profile, out_dir=args.out)
    if args.json:
        sys.stdout.write(json.dumps([r.to_dict() for r in results], ensure_ascii=False, indent=2) + "\n")
    else:
        for result in results:
            render_result(console, result)
        render_totals(console, results)
    return exit_code(results)


def cmd_synth(args: argparse.Namespace, console: Console) -> int:
    from pipeline.synth import ANSWER_KEY, KIND_ZH, generate, key_summary, load_key

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
        Console(stderr=True).print(f"[red]错误：[/red]{exc}")
        return 2
    info = key_summary(load_key(args.out / ANSWER_KEY))
    kinds = "，".join(f"{KIND_ZH.get(k, k)} {n}" for k, n in info["by_kind"].items())
    console.print(f"已生成 {len(paths)} 个工作簿（.xls {info['xls']} 个）于 {args.out}")
    console.print(
        f"含错误 {info['faulty_files']} 个，共注入 {info['faults']} 处错误、应报 {info['expected']} 条：{kinds}"
    )
    console.print(f"答案：{args.out / ANSWER_KEY}")
    return 0


def exit_code(results: Sequence[Result]) -> int:
    """0 no error found, 1 errors found, 2 a file could not be read."""
    if any(r.rejected for r in results):
        return 2
    return 1 if any(r.errors for r in results) else 0


def render_result(console: Console, result: Result) -> None:
    style = STATUS_STYLE[result.status]
    unit = f"{result.unit or ''} {result.year or ''}".strip()
    console.print(f"[bold]{result.file.name}[/bold]  {unit}  [{style}]{STATUS_ZH[result.status]}[/{style}]")
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


def render_totals(console: Console, results: Sequence[Result]) -> None:
    counts = {s: sum(r.status == s for r in results) for s in STATUS_ZH}
    parts = [f"{STATUS_ZH[s]} {n}" for s, n in counts.items()]
    console.print(f"共审核 {len(results)} 个文件：" + "，".join(parts))
