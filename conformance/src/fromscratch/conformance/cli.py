"""``python -m fromscratch.conformance {list,report,bench}``."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import get_args

from fromscratch.conformance import bench
from fromscratch.conformance.registry import RegistryError, discover, select
from fromscratch.conformance.tolerances import Dataset


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m fromscratch.conformance",
        description="Hold every installed fromscratch implementation to PyTorch.",
    )
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("list", help="list the installed implementations")

    report = sub.add_parser("report", help="train with the recipes, run every check, save JSON")
    report.add_argument("--impl", action="append", help="only this implementation (repeatable)")
    report.add_argument(
        "--dataset", action="append", choices=get_args(Dataset), help="only this dataset"
    )
    report.add_argument("--out", type=Path, default=Path("reports/results.json"))

    bench.add_arguments(sub.add_parser("bench", help="time one MNIST epoch against torch, fairly"))
    return parser


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.command == "bench":
        return bench.main(args)
    try:
        if args.command == "list":
            for name, impl in discover().items():
                print(f"{name:<12} {impl.training:<14} {impl.factory.__module__}")
            return 0
        impls = select(args.impl)
    except RegistryError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if not impls:
        print("error: no implementation is installed (see docs/protocol.md)", file=sys.stderr)
        return 2
    from fromscratch.conformance.report import report

    datasets = tuple(args.dataset or get_args(Dataset))
    return 0 if report(impls, datasets, args.out) else 1
