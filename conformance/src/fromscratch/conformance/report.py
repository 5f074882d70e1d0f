"""Run every check on every selected implementation, print a table, save JSON.

``python -m fromscratch.conformance report`` (and ``nox -s report``) is the project's
main job: it trains each implementation with its own recipes and puts every number the
suite judges by into ``reports/results.json``.
"""

from __future__ import annotations

import json
import math
import os
import platform
import sys
import tempfile
import time
import traceback
from collections.abc import Callable, Sequence
from dataclasses import asdict
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
import torch

from fromscratch.conformance.checks import HIGHER_IS_BETTER, Measurement, plan
from fromscratch.conformance.registry import Implementation
from fromscratch.conformance.tolerances import (
    ACCURACY_THRESHOLDS,
    SLOW_ACCURACY,
    SUBSETS,
    TOLERANCES,
    Dataset,
)


def _label(check: Callable[[], Measurement]) -> tuple[str, str]:
    """The check's name and case, for a check that raised before it could say."""
    if isinstance(check, partial):
        case = check.args[1] if len(check.args) > 1 else ""
        return check.func.__name__, str(getattr(case, "id", getattr(case, "name", case)))
    return getattr(check, "__name__", "check"), ""


def run_checks(impl: Implementation, datasets: tuple[Dataset, ...]) -> list[Measurement]:
    """Every check of :func:`plan`; a check that raises is recorded as failed, with the error."""
    results = []
    for check in plan(impl, datasets):
        try:
            results.append(check())
        except Exception as exc:
            name, case = _label(check)
            details = {"error": f"{type(exc).__name__}: {exc}", "traceback": traceback.format_exc()}
            results.append(Measurement(name, impl.name, case, None, None, False, details))
    return results


def summarize(results: Sequence[Measurement]) -> list[dict[str, Any]]:
    """One row per implementation and check, with the worst case.

    A score to reach (accuracy, the ES cosine) gets one row per case, since each case has
    its own bound.
    """
    groups: dict[tuple[str, str], list[Measurement]] = {}
    for m in results:
        key = f"{m.check}[{m.case}]" if m.check in HIGHER_IS_BETTER else m.check
        groups.setdefault((m.implementation, key), []).append(m)
    rows = []
    for (impl, check), ms in groups.items():
        values = [m.value for m in ms if m.value is not None]
        higher_is_better = ms[0].check in HIGHER_IS_BETTER
        row: dict[str, Any] = {
            "implementation": impl,
            "check": check,
            "cases": len(ms),
            "failed": sum(not m.passed for m in ms),
            "worst": (min if higher_is_better else max)(values) if values else None,
            "bound": ms[0].bound,
            "higher_is_better": higher_is_better,
        }
        abs_errors = [m.details["max_abs_error"] for m in ms if "max_abs_error" in m.details]
        if abs_errors:
            row["max_abs_error"] = max(abs_errors)
        if ms[0].check == "accuracy":
            row["train_seconds"] = ms[0].details.get("train_seconds")
            row["epochs"] = len(ms[0].details.get("epoch_loss", []))
        if "expected_cosine" in ms[0].details:
            row["expected"] = ms[0].details["expected_cosine"]
        rows.append(row)
    return rows


def _cells(row: dict[str, Any]) -> tuple[str, str, str]:
    """``worst``, ``bound`` and ``notes`` as the table shows them."""
    worst, bound = row["worst"], row["bound"]
    if worst is None or bound is None:
        return "-", "-", ""
    if "train_seconds" in row:
        notes = f"fit {row['train_seconds']} s, {row['epochs']} epochs"
        return f"{worst:.2%}", f">= {bound:.2%}", notes
    if row["higher_is_better"]:
        notes = f"expected about {row['expected']:.3f}" if "expected" in row else ""
        return f"{worst:.3f}", f">= {bound:.3f}", notes
    notes = f"max |error| {row['max_abs_error']:.2e}" if "max_abs_error" in row else ""
    return f"{worst:.3g}", f"<= {bound:g}", notes


def format_table(rows: Sequence[dict[str, Any]]) -> str:
    header = ("implementation", "check", "cases", "result", "worst", "bound", "notes")
    lines = [header]
    for r in rows:
        result = "pass" if r["failed"] == 0 else f"FAIL {r['failed']}"
        lines.append((r["implementation"], r["check"], str(r["cases"]), result, *_cells(r)))
    widths = [max(len(line[i]) for line in lines) for i in range(len(header))]
    text = ["  ".join(c.ljust(w) for c, w in zip(line, widths, strict=True)) for line in lines]
    text.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(line.rstrip() for line in text)


def environment() -> dict[str, Any]:
    """What the numbers were measured on."""
    return {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "numpy": np.__version__,
        "torch": torch.__version__,
        "torch_threads": torch.get_num_threads(),
        "cpus": os.cpu_count(),
    }


def write_json(path: Path, payload: Any) -> None:
    """Write ``payload`` as JSON atomically: a temp file beside ``path``, then a rename."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w") as f:
            json.dump(payload, f, indent=2, default=_jsonable)
            f.write("\n")
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _jsonable(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, tuple | set):
        return list(value)
    return str(value)


def _json_number(value: float | None) -> float | str | None:
    return str(value) if value is not None and math.isinf(value) else value


def report(
    impls: Sequence[Implementation], datasets: tuple[Dataset, ...], out: Path | None
) -> bool:
    """Run everything, print the table and failures, write ``out``; True when all passed."""
    results: list[Measurement] = []
    for impl in impls:
        start = time.perf_counter()
        print(f"{impl.name}: running the checks ...", flush=True)
        measured = run_checks(impl, datasets)
        results += measured
        failed = sum(not m.passed for m in measured)
        print(
            f"{impl.name}: {len(measured) - failed} passed, {failed} failed "
            f"in {time.perf_counter() - start:.1f} s",
            flush=True,
        )
    rows = summarize(results)
    print()
    print(format_table(rows))
    failures = [m for m in results if not m.passed]
    for m in failures:
        print(f"FAILED {m.implementation}: {m.describe()}", file=sys.stderr)
    if out is not None:
        payload = {
            "environment": environment(),
            "tolerances": {k: asdict(v) for k, v in TOLERANCES.items()},
            "accuracy_thresholds": ACCURACY_THRESHOLDS,
            "ci_subsets": {
                "slow_accuracy": SLOW_ACCURACY,
                "subsets": {k: asdict(v) for k, v in SUBSETS.items()},
            },
            "summary": [{**r, "worst": _json_number(r["worst"])} for r in rows],
            "measurements": [m.to_json() for m in results],
        }
        write_json(out, payload)
        print(f"\nwrote {out}")
    return not failures
