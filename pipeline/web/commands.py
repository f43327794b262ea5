"""The portal's commands — `jixiao serve`, `jixiao codes`, `jixiao users add` — parsers and thin handlers.

Kept out of cli.py so its merges stay small; nothing heavy is imported until a command runs (the CLI starts fast).
Handlers take (args, console) and return the exit code; a JixiaoError is shown by cli.main as for any command.
"""

from __future__ import annotations

import argparse
import getpass
from collections.abc import Callable
from pathlib import Path
from typing import Any

from pipeline.errors import JixiaoError

MSG_PASSWORDS_DIFFER = "两次输入的密码不一致"


def add_parsers(commands: Any, *, workers: Callable[[str], int], profile_help: str) -> None:
    """Add serve, codes and users to the `jixiao` subcommands."""
    p = commands.add_parser("serve", help="启动网上自查与上报门户，同时监视收件箱（同 jixiao watch）")
    p.add_argument("--inbox", type=Path, required=True, metavar="收件箱", help="收件箱目录（单位上报的文件也写到这里）")
    p.add_argument("--out", type=Path, required=True, metavar="目录", help="输出目录（账本、归档、审核结果、汇总表）")
    p.add_argument(
        "--host", default="127.0.0.1", metavar="地址", help="监听地址（默认 127.0.0.1；局域网访问用 0.0.0.0）"
    )
    p.add_argument("--port", type=int, default=8000, metavar="端口", help="监听端口（默认 8000）")
    p.add_argument("--workers", type=workers, default=None, metavar="进程数", help="批量审核读取文件的进程数")
    p.add_argument("--profile", default="default", metavar="口径", help=profile_help)

    p = commands.add_parser("codes", help="为名单中的每个单位生成提交码（写入一次性的提交码文件）")
    p.add_argument("--out", type=Path, required=True, metavar="目录", help="输出目录（其中须有名单）")
    p.add_argument(
        "--renew", action="append", default=[], metavar="单位", help="为该单位重新生成提交码（旧码作废），可重复"
    )

    p = commands.add_parser("users", help="管理审核人员账号")
    actions = p.add_subparsers(dest="action", required=True, metavar="操作", title="操作")
    a = actions.add_parser("add", help="添加审核人员（密码在终端输入，不回显）")
    a.add_argument("name", metavar="用户名", help="审核人员登录名")
    a.add_argument("--out", type=Path, required=True, metavar="目录", help="输出目录")


def cmd_serve(args: argparse.Namespace, console: Any, *, listener: Any = None) -> int:
    """`listener`: told of each inbox file as the watch loop finishes it (cli's WatchLog, as `jixiao watch`)."""
    from pipeline.batch.workers import prepare_workers
    from pipeline.web.serve import serve

    if args.workers != 0:
        prepare_workers()
    shown = "localhost" if args.host in ("127.0.0.1", "0.0.0.0") else args.host
    started = f"门户已启动：http://{shown}:{args.port}/ （监视收件箱 {args.inbox}，输出到 {args.out}；Ctrl-C 停止）"
    serve(
        args.inbox,
        args.out,
        host=args.host,
        port=args.port,
        workers=args.workers,
        profile=args.profile,
        listener=listener,
        on_pass=lambda r: console.print(f"  汇总表已更新：{'、'.join(str(p) for p in r.summaries)}"),
        on_ready=lambda: console.print(started),
    )
    console.print("门户已停止。")
    return 0


def cmd_codes(args: argparse.Namespace, console: Any) -> int:
    from pipeline.store.ledger import LEDGER_NAME, Ledger
    from pipeline.store.portal import MSG_NO_ROSTER, issue_codes
    from pipeline.store.roster import load_roster, roster_path

    found = roster_path(args.out)
    if found is None:
        raise JixiaoError(MSG_NO_ROSTER)
    with Ledger(Path(args.out) / LEDGER_NAME) as ledger:
        done = issue_codes(ledger, load_roster(found), args.out, renew=args.renew)
    if done.file is None:
        console.print("名单中的单位都已有提交码；要作废并重发某单位的提交码，请用 --renew 单位名称。")
        return 0
    console.print(f"已生成 {len(done.issued)} 个提交码：{done.file}")
    console.print("提交码只保存在这个文件中（系统只存其校验值）：请分发给各单位后妥善保管或删除。")
    return 0


def cmd_users(args: argparse.Namespace, console: Any) -> int:
    from pipeline.store.ledger import LEDGER_NAME, Ledger
    from pipeline.store.portal import add_user

    password = getpass.getpass("密码：")
    if getpass.getpass("再次输入密码：") != password:
        raise JixiaoError(MSG_PASSWORDS_DIFFER)
    Path(args.out).mkdir(parents=True, exist_ok=True)
    with Ledger(Path(args.out) / LEDGER_NAME) as ledger:
        add_user(ledger, args.name, password)
    console.print(f"已添加审核人员 {args.name}。")
    return 0


COMMANDS = {"serve": cmd_serve, "codes": cmd_codes, "users": cmd_users}
