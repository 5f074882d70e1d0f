"""``python -m fromscratch.conformance {list,report,bench}``."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from fromscratch.conformance import report
from fromscratch.conformance.registry import Implementation, RegistryError, discover, select
from fromscratch.conformance.tolerances import SPEED_TARGETS


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m fromscratch.conformance",
        description="Hold every installed fromscratch implementation to PyTorch.",
    )
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("list", help="list the installed implementations")

    report.add_arguments(
        sub.add_parser("report", help="train with the recipes, run every check, write the report")
    )

    bench = sub.add_parser("bench", help="time one MNIST epoch against torch eager")
    bench.add_argument("--impl", action="append", help="only this implementation (repeatable)")
    bench.add_argument("--rounds", type=int, default=5, help="timed rounds after a warm-up")
    bench.add_argument("--out", type=Path, default=Path("reports/bench.json"))
    return parser


def _with_baselines(impls: list[Implementation]) -> list[Implementation]:
    """``impls`` plus every installed implementation a speed target is measured against."""
    installed = discover()
    chosen = {i.name: i for i in impls}
    for impl in impls:
        target = SPEED_TARGETS.get(impl.name)
        if target and target.baseline in installed:
            chosen.setdefault(target.baseline, installed[target.baseline])
    return list(chosen.values())


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.command == "report":
        return report.main(args)
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
    from fromscratch.conformance.bench import bench

    if args.rounds < 1:
        print("error: --rounds must be at least 1", file=sys.stderr)
        return 2
    bench(_with_baselines(impls), args.rounds, args.out)
    return 0
