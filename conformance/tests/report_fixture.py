"""A small, hand-made ``results.json``: two made-up implementations, one failure, one check
and one details field the report code has never heard of.

Built in code rather than stored, so the pixel arrays stay out of the repository; every
number is fixed, so the fixture is the same on every run.
"""

from __future__ import annotations

import re
from typing import Any

import numpy as np

from fromscratch.boundary.recipes import LENET5
from fromscratch.conformance import watch

IMPLEMENTATIONS = ("alpha", "beta")
NEW_CHECK = "brand_new_check"
NEW_FIELD = "worst_parameter_key"


def _training(impl: str, dataset: str, k: int, seed: int) -> dict[str, Any]:
    rng = np.random.default_rng(seed)
    epochs = [1, 2, 3, 4]
    confusion = (np.eye(k, dtype=np.int64) * 40 + rng.integers(0, 3, size=(k, k))).tolist()
    per_class = [
        {"class": c, "precision": 0.9, "recall": 0.8 + c / 100, "f1": 0.85, "support": 42}
        for c in range(k)
    ]
    record: dict[str, Any] = {
        "implementation": impl,
        "dataset": dataset,
        "case": dataset,
        "n_train": "all",
        "train_seconds": 1.5 + seed,
        "epochs": epochs,
        "loss": [1.0, 0.5, 0.3, 0.2],
        "seconds": [0.4, 0.8, 1.1, 1.5],
        "test_accuracy": [0.7, 0.85, 0.9, 0.93],
        "metrics": {
            "accuracy": 0.93,
            "macro_precision": 0.9,
            "macro_recall": 0.85,
            "macro_f1": 0.87,
            "per_class": per_class,
            "confusion_matrix": confusion,
        },
        "weights": f"weights/{impl}-{dataset}.safetensors",
        "first_layer": None,
        "misclassified": None,
    }
    if dataset == "mnist":
        tiles = rng.integers(-127, 128, size=(6, 784)).tolist()
        record["first_layer"] = {"shape": [28, 28], "total_units": 32, "tiles": tiles}
        examples = [
            {
                "index": i,
                "true": i % k,
                "predicted": (i + 1) % k,
                "confidence": 0.99 - i / 100,
                "pixels": rng.integers(0, 256, size=784).tolist(),
            }
            for i in range(4)
        ]
        record["misclassified"] = {"shape": [28, 28], "n_wrong": 70, "examples": examples}
    return record


def _measurement(
    check: str, impl: str, case: str, value: Any, bound: Any, passed: bool, **details: Any
) -> dict[str, Any]:
    return {
        "check": check,
        "implementation": impl,
        "case": case,
        "value": value,
        "bound": bound,
        "passed": passed,
        "details": details,
    }


def measurements() -> list[dict[str, Any]]:
    alpha, beta = IMPLEMENTATIONS
    return [
        _measurement("gradient_vs_torch", alpha, "relu-mse-4x3-n1", 0.0, 1.0, True),
        _measurement(
            "gradient_vs_torch", alpha, "tanh-bce-4x7x1-n5", 0.02, 1.0, True, max_abs_error=1e-15
        ),
        _measurement(
            "central_difference", alpha, "relu-mse-3x5x4x3-n5", 3e-4, 1.0, True, step=1e-6
        ),
        _measurement("forward_vs_torch", alpha, "relu-bce-float64", 0.5, 1.0, True),
        _measurement("forward_vs_torch", beta, "relu-bce-float64", "inf", 1.0, False),
        _measurement(NEW_CHECK, alpha, "only case", 0.25, 1.0, True, **{NEW_FIELD: "2.weight"}),
        _measurement(
            "bad_input",
            beta,
            "X NaN",
            None,
            None,
            False,
            raised="TypeError: unsupported operand type(s)",
        ),
        _measurement(
            "es_gradient",
            beta,
            "n_pairs=25, rank=1",
            0.31,
            0.2,
            True,
            n_pairs=25,
            expected_cosine=0.45,
        ),
        _measurement(
            "es_gradient",
            beta,
            "n_pairs=400, rank=1",
            0.85,
            0.4,
            True,
            n_pairs=400,
            expected_cosine=0.9,
        ),
        _measurement("accuracy", alpha, "mnist", 0.93, 0.975, False, train_seconds=1.5),
        _measurement("accuracy", beta, "mnist[:10000]", 0.93, 0.85, True, train_seconds=2.5),
        _measurement("accuracy", alpha, "breast_cancer", 0.96, 0.95, True, train_seconds=0.1),
        _measurement("accuracy", beta, "breast_cancer", 0.97, 0.95, True, train_seconds=0.2),
    ]


def _summary(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    groups: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for m in rows:
        higher = m["check"] in ("accuracy", "es_gradient")
        key = f"{m['check']}[{m['case']}]" if higher else m["check"]
        groups.setdefault((m["implementation"], key), []).append(m)
    summary = []
    for (impl, key), ms in groups.items():
        higher = ms[0]["check"] in ("accuracy", "es_gradient")
        values = [float(m["value"]) for m in ms if m["value"] is not None]
        worst = (min if higher else max)(values) if values else None
        summary.append(
            {
                "implementation": impl,
                "check": key,
                "cases": len(ms),
                "failed": sum(not m["passed"] for m in ms),
                "worst": "inf" if worst == float("inf") else worst,
                "bound": ms[0]["bound"],
                "higher_is_better": higher,
            }
        )
    return summary


def _cnn_training(impl: str, seed: int) -> dict[str, Any]:
    """A second recipe on MNIST, a spec that opens with ``Unflatten``: its tiles are what
    :func:`~fromscratch.conformance.watch.first_layer_tiles` finds, the first Conv2d's."""
    record = _training(impl, "mnist", 10, seed)
    rng = np.random.default_rng(seed)
    state = {"1.weight": rng.normal(size=(6, 1, 5, 5)), "1.bias": rng.normal(size=6)}
    record["recipe"] = record["case"] = "mnist_cnn"
    record["weights"] = f"weights/{impl}-mnist_cnn.safetensors"
    record["first_layer"] = watch.first_layer_tiles(state, (28, 28), LENET5)
    return record


def results(*, quick: bool = False, bench: bool = True) -> dict[str, Any]:
    rows = measurements()
    alpha, beta = IMPLEMENTATIONS
    bench_data = {
        "schema_version": 1,
        "environment": {"date": "2026-11-30T12:00:00+00:00"},
        "contenders": {
            "torch": {"median_s": 1.0, "spread_s": [0.9, 1.2], "times_s": [1.0, 0.9, 1.2]},
            alpha: {"median_s": 0.8, "spread_s": [0.7, 0.9], "times_s": [0.8, 0.7, 0.9]},
        },
        "ratios": {"to_torch": {"torch": 1.0, alpha: 0.8}, "to_matrix": {}},
        "targets": [
            {
                "implementation": alpha,
                "baseline": "torch",
                "ratio": 0.8,
                "target": 0.7,
                "met": False,
            }
        ],
        "warnings": ["the machine was busy"],
    }
    return {
        "schema_version": 1,
        "quick": quick,
        "command": "fromscratch report" + (" --quick" if quick else ""),
        "passed": all(m["passed"] for m in rows),
        "run": {
            "date": "2026-11-30T12:34:56+00:00",
            "git": {"commit": "0123456789abcdef0123456789abcdef01234567", "dirty": True},
            "python": "3.11.2",
            "platform": "Linux-x86_64",
            "versions": {"numpy": "2.4.6", "torch": "2.13.0", "scikit-learn": "1.9.1"},
            "torch_threads": 2,
            "blas": [
                {
                    "user_api": "blas",
                    "internal_api": "openblas",
                    "prefix": "libscipy_openblas",
                    "version": "0.3.30",
                    "num_threads": 2,
                    "filepath": "/x/libopenblas.so",
                }
            ],
            "cpu": {"model": "Example CPU @ 2.0GHz", "cores": 2},
            "seeds": {"recipes": {alpha: {"mnist": 0}, beta: {"mnist": 0}}},
            "wall_seconds": 12.5,
        },
        "implementations": [
            {"name": alpha, "training": "gradient", "estimates_gradient": False, "module": "a"},
            {"name": beta, "training": "gradient_free", "estimates_gradient": True, "module": "b"},
        ],
        "datasets": ["mnist", "breast_cancer"],
        "higher_is_better": ["accuracy", "es_gradient"],
        "tolerances": {"gradient_vs_torch": {"rtol": 1e-7, "atol": 1e-10}},
        "accuracy_thresholds": {"gradient": {"mnist": 0.975}},
        "ci_subsets": {"slow_accuracy": {beta: ["mnist"]}, "subsets": {}},
        "summary": _summary(rows),
        "measurements": rows,
        "trainings": [
            _training(alpha, "mnist", 10, 1),
            _training(beta, "mnist", 10, 2),
            _cnn_training(alpha, 5),
            _training(alpha, "breast_cancer", 2, 3),
            _training(beta, "breast_cancer", 2, 4),
        ],
        "es_prediction": [
            {
                "n_parameters": 75,
                "fraction": 0.5,
                "n_pairs": [10, 100, 1000],
                "expected": [0.34, 0.75, 0.98],
                "threshold": [0.17, 0.375, 0.49],
            }
        ],
        "bench": {
            "source": "reports/bench.json",
            "data": bench_data if bench else None,
            "note": "The bench ran on 2026-11-30." if bench else "reports/bench.json was not found",
        },
    }


# --------------------------------------------------------------------------- helpers


def expected_figures(results: dict[str, Any]) -> set[str]:
    names = {f"curves-{d}" for d in results["datasets"]} | {"accuracy-time-mnist", "agreement"}
    names.add("es-cosine")
    for t in results["trainings"]:
        names.add(f"confusion-{t['implementation']}-{t.get('recipe') or t['dataset']}")
        if t["first_layer"]:
            names.add(f"weights-{t['implementation']}-{t.get('recipe') or t['dataset']}")
            names.add(f"misclassified-{t['implementation']}-{t.get('recipe') or t['dataset']}")
    return names


def section_text(html: str, section_id: str) -> str:
    match = re.search(rf'<section id="{section_id}">(.*?)</section>', html, re.S)
    assert match, f"section {section_id} missing"
    return match.group(1)
