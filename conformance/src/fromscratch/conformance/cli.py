"""The ``fromscratch`` command line (also ``python -m fromscratch.conformance``).

==============================================  ==========================================
``fromscratch list``                            the installed implementations
``fromscratch train IMPL --dataset D``          train with the recipe, print test metrics,
                                                ``--save PATH`` the weights
``fromscratch evaluate PATH --dataset D``       saved weights in any implementation
                                                (``--impl``) or torch: the same metrics
``fromscratch check IMPL``                      the conformance checks on one implementation
``fromscratch report`` / ``fromscratch bench``  what ``nox -s report`` / ``nox -s bench`` run
``fromscratch text``                            the character models beside their torch
                                                twins (the report's Sequences section)
==============================================  ==========================================

A user's mistake (an unknown implementation or dataset, missing data, a damaged weights
file, a bad flag value) prints one line on stderr and exits with status 2; a failed check
exits with 1. The commands themselves live in :mod:`~fromscratch.conformance.commands`,
imported only when one runs, so ``--help`` and a mistyped flag answer at once.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any, NoReturn, get_args

from fromscratch.conformance.bench import add_arguments as add_bench_arguments
from fromscratch.conformance.registry import GROUP, Implementation, RegistryError, discover, select
from fromscratch.conformance.tolerances import Dataset

DATASETS = get_args(Dataset)
NONE_INSTALLED = (
    "no fromscratch implementation is installed. Add one: from a clone of the repository, "
    "`pip install -c constraints.txt -e implementations/matrix` (or loops, autograd, "
    f"evolution); or register your own class under the entry-point group {GROUP!r} "
    "(see docs/protocol.md, 'Bring your own implementation')"
)


class UsageError(Exception):
    """A mistake in how a command was called; its message is one line for the user."""


def _command(name: str) -> Any:
    """Run ``commands.<name>`` (imported only now: it brings in torch, which is slow)."""

    def run(args: argparse.Namespace) -> int:
        from fromscratch.conformance import commands

        status: int = getattr(commands, name)(args)
        return status

    return run


class _Parser(argparse.ArgumentParser):
    """argparse, but a mistake raises :class:`UsageError` (one line) instead of printing usage."""

    def error(self, message: str) -> NoReturn:
        raise UsageError(f"{message} (see `{self.prog} --help`)")


def _flag(convert: Callable[[str], Any], ok: Callable[[Any], bool], expected: str) -> Any:
    """An argparse ``type`` that converts a flag's text and says what it expected if it can't."""

    def parse(text: str) -> Any:
        try:
            value = convert(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected {expected}, got {text!r}") from None
        if not ok(value):
            raise argparse.ArgumentTypeError(f"expected {expected}, got {value}")
        return value

    return parse


_count = _flag(int, lambda v: v >= 1, "a positive integer")
_seed = _flag(int, lambda v: v >= 0, "an integer >= 0")
_rate = _flag(float, lambda v: 0 < v < float("inf"), "a positive, finite number")


def parser(prog: str = "fromscratch") -> argparse.ArgumentParser:
    top = _Parser(
        prog=prog,
        description="Neural networks from scratch, held to PyTorch: train, evaluate, check.",
    )
    sub = top.add_subparsers(dest="command", required=True, metavar="COMMAND")

    listing = sub.add_parser(
        "list",
        help="list the installed implementations",
        description="The installed implementations.",
    )
    listing.set_defaults(run=list_implementations)

    train = sub.add_parser(
        "train",
        help="train one implementation with its recipe and print test metrics",
        description="Train IMPL with its own recipe for --dataset (flags override the "
        "recipe), then print the test split's accuracy, macro precision/recall/F1, the "
        "per-class table and the wall time.",
    )
    train.add_argument("impl", metavar="IMPL", help="an installed implementation (see list)")
    train.add_argument("--dataset", required=True, choices=DATASETS)
    train.add_argument("--epochs", type=_count, help="override the recipe's epochs")
    train.add_argument("--seed", type=_seed, help="override the recipe's seed")
    train.add_argument("--batch-size", type=_count, help="override the recipe's batch size")
    train.add_argument("--learning-rate", type=_rate, help="override the recipe's rate")
    train.add_argument(
        "--n-train", type=_count, help="train on the first N training rows only (quick runs)"
    )
    train.add_argument("--save", type=Path, metavar="PATH", help="save the weights (.safetensors)")
    train.set_defaults(run=_command("train"))

    evaluate = sub.add_parser(
        "evaluate",
        help="load saved weights into any implementation or torch and print test metrics",
        description="Load weights saved by `train --save` into --impl (an implementation, "
        "or torch; by default the one that trained them) and print the same metrics on the "
        "test split of --dataset.",
    )
    evaluate.add_argument("path", type=Path, metavar="PATH", help="a .safetensors weights file")
    evaluate.add_argument("--dataset", required=True, choices=DATASETS)
    evaluate.add_argument("--impl", help="an installed implementation, or torch")
    evaluate.set_defaults(run=_command("evaluate"))

    check = sub.add_parser(
        "check",
        help="run the conformance checks on one implementation",
        description="Run every conformance check that applies to IMPL and print a pass/fail "
        "table with each figure beside its bound; exit status 1 if any fails. The accuracy "
        "checks train the recipes in full: MNIST takes seconds for matrix and autograd, "
        "minutes for loops and evolution (use --dataset to choose).",
    )
    check.add_argument("impl", metavar="IMPL", help="an installed implementation")
    check.add_argument(
        "--dataset",
        action="append",
        choices=[*DATASETS, "none"],
        help="accuracy check on this dataset (repeatable; default: all; none: skip them)",
    )
    check.set_defaults(run=_command("check"))

    _add_report(sub)
    _add_bench(sub)
    _add_text(sub)
    return top


# ------------------------------------------------------------------ list


def list_implementations(args: argparse.Namespace) -> int:
    """Name, how it trains, the module of its class, and its distribution's version."""
    installed = discover()
    if not installed:
        print(NONE_INSTALLED)
        return 0
    versions = {ep.name: ep.dist.version for ep in entry_points(group=GROUP) if ep.dist}
    rows = [("name", "training", "module", "version")]
    for name, impl in installed.items():
        rows.append((name, impl.training, impl.factory.__module__, versions.get(name, "?")))
    print(columns(rows))
    return 0


def columns(rows: Sequence[Sequence[str]]) -> str:
    """Rows of cells as aligned columns, the first row a header underlined with dashes."""
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


# ------------------------------------------------------------------ report and bench wiring


def _add_report(sub: Any) -> None:
    parser = sub.add_parser(
        "report",
        help="train with the recipes, run every check, write the report (nox -s report)",
        description="Train every selected implementation with its recipes, run every check, "
        "print the table and write reports/: index.html, report.md with its figures, "
        "results.json and the trained weights. Exit status 1 when a check failed.",
    )
    parser.add_argument("--impl", action="append", help="only this implementation (repeatable)")
    parser.add_argument("--dataset", action="append", choices=DATASETS, help="only this data set")
    parser.add_argument(
        "--out",
        type=Path,
        default=Path("reports"),
        help="folder to write the report into (default reports)",
    )
    parser.add_argument(
        "--from",
        dest="from_",
        type=Path,
        metavar="RESULTS_JSON",
        help="re-render index.html and report.md from this results.json, without training",
    )
    parser.add_argument(
        "--quick",
        action="store_true",
        help="train every accuracy check that has a CI subset (MNIST) on it, judged by the "
        "subset's own threshold and labelled so: minutes, not hours",
    )
    parser.add_argument(
        "--bench", action="store_true", help="run the speed bench first, for the Speed section"
    )
    parser.add_argument(
        "--text",
        action="store_true",
        help="train the character models beside torch first (`fromscratch text`, about half "
        "an hour; with --quick a short run, labelled so), for the Sequences section",
    )
    parser.set_defaults(run=_run_report)


def _run_report(args: argparse.Namespace) -> int:
    from fromscratch.conformance import report

    return report.main(args)


def _add_bench(sub: Any) -> None:
    bench = sub.add_parser(
        "bench",
        help="time one MNIST epoch against torch, fairly (nox -s bench)",
        description="Time one MNIST epoch of each implementation against torch eager, "
        "torch.compile and scikit-learn, each contender in processes of its own.",
    )
    add_bench_arguments(bench)
    bench.set_defaults(run=_run_bench)


def _run_bench(args: argparse.Namespace) -> int:
    from fromscratch.conformance.bench import main as run_bench

    return run_bench(args)


def _add_text(sub: Any) -> None:
    from fromscratch.conformance.text import add_arguments

    text = sub.add_parser(
        "text",
        help="train the character models on Tiny Shakespeare beside torch (reports/text.json)",
        description="Train each character model (matrix's LSTM, autograd's LSTM and "
        "Transformer) and its torch twin from one state dict on the same batches; record "
        "validation losses, CPU and wall times, tokens per second and a sample at "
        "temperature 0.8 in --out, for the report's Sequences section.",
    )
    add_arguments(text)
    text.set_defaults(run=_run_text)


def _run_text(args: argparse.Namespace) -> int:
    from fromscratch.conformance.text import main as run_text

    return run_text(args)


def _installed(names: list[str] | None) -> list[Implementation]:
    impls = select(names)
    if not impls:
        raise UsageError(NONE_INSTALLED)
    return impls


# ------------------------------------------------------------------ entry point


def _is_users_mistake(exc: BaseException) -> bool:
    """A usage error, an unknown implementation, a bad weights file or missing data.

    The weights and datasets modules are looked up only if some command imported them:
    an error of a module that was never loaded cannot have been raised.
    """
    kinds: list[type[BaseException]] = [UsageError, RegistryError]
    for module, name in (
        ("fromscratch.conformance.weights", "WeightsError"),
        ("fromscratch.datasets", "DatasetError"),
    ):
        if module in sys.modules:
            kinds.append(getattr(sys.modules[module], name))
    return isinstance(exc, tuple(kinds))


def main(argv: list[str] | None = None, prog: str = "fromscratch") -> int:
    """Run one command; return the exit status (0 ok, 1 a check or training failed, 2 misuse)."""
    try:
        args = parser(prog).parse_args(argv)
        status: int = args.run(args)
    except FloatingPointError as exc:  # training diverged: the run failed, not the user
        _say(prog, exc)
        return 1
    except Exception as exc:
        if not _is_users_mistake(exc):
            raise
        _say(prog, exc)
        return 2
    except KeyboardInterrupt:
        print(f"{prog}: interrupted", file=sys.stderr)
        return 130
    return status


def _say(prog: str, exc: BaseException) -> None:
    """One line on stderr, however many lines the message had."""
    text = " ".join(line.strip() for line in str(exc).splitlines() if line.strip())
    print(f"{prog}: error: {text}", file=sys.stderr)
