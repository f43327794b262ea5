"""Command line: thin wrappers over the library (filled in as commands land)."""

from __future__ import annotations

import argparse


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="jixiao", description="绩效自评审核")
    parser.parse_args(argv)
    return 0
