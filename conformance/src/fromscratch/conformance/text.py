"""Character models trained on Tiny Shakespeare, each beside its torch twin.

``fromscratch text`` (``python -m fromscratch.conformance text``) trains every model of
:data:`MODELS` with its implementation's ``SequenceNetwork.fit`` and trains the same
network in torch from the same initial state dict, on the same windows in the same order,
with the same optimizer, schedule and clipping. It records the validation loss of each in
nats per character, the training CPU and wall time of each, training tokens per second,
and text sampled from the trained model at temperature 0.8, in ``reports/text.json``;
the report's *Sequences* section shows them.

The data (``docs/protocol.md``, *Sequence models*): the training text (the first 90%) is
cut into windows of T + 1 characters, X the first T of each and y the last T; validation
is the last 10% cut into non-overlapping windows the same way. Two ways of drawing the
training windows are used, each the one its model's figures were first measured with:

* ``"epochs"``: the non-overlapping windows, shuffled each epoch by the model's own
  generator (``fit``'s shuffling), a cosine schedule over the epochs;
* ``"random"``: ``steps * batch_size`` windows starting at random offsets (drawn from the
  seed), taken in order in one epoch (``shuffle=False``), the gradient clipped to norm 1.

``--steps N`` trains every model for about N steps instead of its full count (a quick
run); the file then says ``"full": false`` and the report says the figures are not the
full result.

``text.json``
-------------
``schema_version`` (1); ``command``; ``full``: every model trained its full count;
``environment``: date, versions, CPU, threads, load average; ``runs``: one per model, with
its ``layers``, ``T``, ``fit`` options, ``steps`` (and ``full_steps``), ``tokens`` (training
tokens seen), ``validation_windows``, and for ``ours`` and ``torch`` each:
``validation_nats_per_char``, ``train_loss_last`` (mean of the last 100 steps' losses),
``train_cpu_s``, ``train_wall_s``, ``tokens_per_cpu_s``, ``tokens_per_wall_s``; then
``relative_gap`` (ours / torch - 1) and ``sample`` (``prompt``, ``temperature``, ``text``);
``skipped``: model name to why it did not run (its implementation is not installed);
``failed``: model name to the error that stopped it. ``text.schema.json`` says it exactly.
"""

from __future__ import annotations

import argparse
import copy
import json
import math
import os
import platform
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path
from typing import Any, Final

import numpy as np
from numpy.typing import NDArray

SCHEMA_VERSION: Final = 1
VOCABULARY: Final = 65
"""Tiny Shakespeare's 65 characters."""

LSTM_LAYERS: Final = (
    f"Embedding({VOCABULARY}, 64)",
    "LSTM(64, 256, batch_first=True)",
    f"Linear(256, {VOCABULARY})",
)
_BLOCK = "TransformerEncoderLayer(128, 4, 512, dropout=0.0, batch_first=True, norm_first=True)"
TRANSFORMER_LAYERS: Final = (
    f"Embedding({VOCABULARY}, 128)",
    "PositionalEmbedding(64, 128)",
    _BLOCK,
    _BLOCK,
    _BLOCK,
    "LayerNorm(128)",
    f"Linear(128, {VOCABULARY})",
)


@dataclass(frozen=True)
class TextModel:
    """One character model: what it is, who builds it, and how it is trained."""

    name: str
    implementation: str
    architecture: str
    layers: tuple[str, ...]
    learning_rate: float
    batches: str
    """``"epochs"`` (shuffled non-overlapping windows) or ``"random"`` (random offsets)."""
    steps: int
    """The full run's optimizer steps (for ``"epochs"``: ``epochs`` passes over every window)."""
    epochs: int = 1
    options: dict[str, Any] = field(default_factory=dict)
    prompt: str = "\n"
    sample_seed: int = 0
    context: int = 0
    """How many of the last tokens the sampler reads (0: all, up to the model's context)."""
    T: int = 64
    batch_size: int = 32
    seed: int = 0


MODELS: Final = {
    m.name: m
    for m in (
        TextModel(
            "matrix-lstm",
            "matrix",
            "LSTM",
            LSTM_LAYERS,
            4e-3,
            "epochs",
            steps=2 * math.ceil(15_443 / 32),  # two passes over the 15,443 windows
            epochs=2,
            options={"optimizer": "adam", "schedule": "cosine"},
            prompt="\n",
            sample_seed=0,
            context=64,
        ),
        TextModel(
            "autograd-lstm",
            "autograd",
            "LSTM",
            LSTM_LAYERS,
            3e-3,
            "random",
            steps=1000,
            options={"optimizer": "adam", "shuffle": False, "clip_grad_norm": 1.0},
            prompt="ROMEO:\n",
            sample_seed=1,
        ),
        TextModel(
            "autograd-transformer",
            "autograd",
            "Transformer",
            TRANSFORMER_LAYERS,
            2e-3,
            "random",
            steps=2500,
            options={"optimizer": "adam", "shuffle": False, "clip_grad_norm": 1.0},
            prompt="ROMEO:\n",
            sample_seed=1,
        ),
    )
}
"""The models whose figures the READMEs quote, each with the settings that produced them."""

SAMPLE_LENGTH: Final = 600
TEMPERATURE: Final = 0.8
LAST_STEPS: Final = 100

Tokens = NDArray[np.int64]


# --------------------------------------------------------------------------- the data


def windows(ids: Tokens, T: int) -> tuple[Tokens, Tokens]:
    """Every non-overlapping window of T + 1 tokens: X the first T of each, y the last T."""
    n = len(ids) // (T + 1)
    w = ids[: n * (T + 1)].reshape(n, T + 1)
    return np.ascontiguousarray(w[:, :-1]), np.ascontiguousarray(w[:, 1:])


def random_windows(ids: Tokens, T: int, n: int, seed: int) -> tuple[Tokens, Tokens]:
    """``n`` windows of T + 1 tokens starting at offsets drawn uniformly from ``seed``."""
    starts = np.random.default_rng(seed).integers(0, len(ids) - T - 1, size=n)
    w = ids[starts[:, None] + np.arange(T + 1)]
    return w[:, :-1], w[:, 1:]


def training_windows(model: TextModel, ids: Tokens, steps: int) -> tuple[Tokens, Tokens]:
    """The windows ``fit`` trains on for ``steps`` steps (all of them for the full count)."""
    if model.batches == "random":
        return random_windows(ids, model.T, steps * model.batch_size, model.seed)
    X, y = windows(ids, model.T)
    if steps < model.steps:  # a short run: fewer windows, the same number of epochs
        keep = max(1, steps // model.epochs) * model.batch_size
        X, y = X[:keep], y[:keep]
    return X, y


def steps_taken(model: TextModel, n_windows: int) -> int:
    return model.epochs * math.ceil(n_windows / model.batch_size)


# --------------------------------------------------------------------------- torch's twin


def torch_fit(twin: Any, model: TextModel, X: Tokens, y: Tokens, losses: list[float]) -> None:
    """Train ``twin`` as ``SequenceNetwork.fit`` trains ours: the same batches in the same
    order (the boundary's shuffling generator, :func:`~fromscratch.boundary.loop.shuffle_rng`),
    the same optimizer, cosine schedule and gradient clipping, in torch."""
    import torch

    from fromscratch.boundary.loop import shuffle_rng
    from fromscratch.conformance.sequence import sequence_loss

    options = dict(model.options)
    clip = options.pop("clip_grad_norm", None)
    shuffle = options.pop("shuffle", True)
    cosine = options.pop("schedule", "constant") == "cosine"
    if options.pop("optimizer", "sgd") != "adam" or options:
        raise ValueError(f"{model.name}: the twin replays Adam only, got {model.options}")
    optimizer = torch.optim.Adam(twin.parameters(), lr=model.learning_rate)
    schedule = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=model.epochs)
    rng = shuffle_rng(model.seed)
    X_t, y_t = torch.from_numpy(X), torch.from_numpy(y)
    for _ in range(model.epochs):
        order = torch.from_numpy(rng.permutation(len(X)) if shuffle else np.arange(len(X)))
        for start in range(0, len(X), model.batch_size):
            rows = order[start : start + model.batch_size]
            optimizer.zero_grad()
            loss = sequence_loss(twin, X_t[rows], y_t[rows])
            torch.autograd.backward(loss)
            if clip is not None:
                torch.nn.utils.clip_grad_norm_(twin.parameters(), clip)
            optimizer.step()
            losses.append(loss.item())
        if cosine:
            schedule.step()


def torch_validation(twin: Any, X: Tokens, y: Tokens, batch_size: int = 256) -> float:
    """The twin's mean cross-entropy over every validation position, in nats."""
    import torch

    total = 0.0
    with torch.no_grad():
        for start in range(0, len(X), batch_size):
            z = twin(torch.from_numpy(X[start : start + batch_size]))
            target = torch.from_numpy(y[start : start + batch_size]).reshape(-1)
            total += float(
                torch.nn.functional.cross_entropy(
                    z.reshape(-1, z.shape[-1]), target, reduction="sum"
                )
            )
    return total / y.size


# --------------------------------------------------------------------------- one model


def _timed(train: Callable[[], object], tokens: int) -> dict[str, float]:
    cpu, wall = time.process_time(), time.perf_counter()
    train()
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    return {
        "train_cpu_s": cpu,
        "train_wall_s": wall,
        "tokens_per_cpu_s": tokens / cpu if cpu > 0 else math.inf,
        "tokens_per_wall_s": tokens / wall,
    }


def train_pair(
    model: TextModel,
    network_class: Any,
    data: tuple[Tokens, Tokens],
    validation_windows: int | None = None,
    *,
    steps: int,
    sample_length: int = SAMPLE_LENGTH,
    echo: Callable[[str], None] = print,
) -> dict[str, Any]:
    """Train ``model`` with ``network_class`` (the implementation's ``SequenceNetwork``) and
    its torch twin from the same state dict on the same windows; measure both; sample ours."""
    import torch

    from fromscratch.conformance.sequence import torch_sequential
    from fromscratch.datasets import decode_chars, encode_chars

    train_ids, validation_ids = data
    X_val, y_val = windows(validation_ids, model.T)
    X_val, y_val = X_val[:validation_windows], y_val[:validation_windows]
    X, y = training_windows(model, train_ids, steps)
    tokens = model.epochs * int(X.size)
    ours = network_class(list(model.layers), seed=model.seed, dtype="float32")
    start = ours.state_dict()
    losses: list[float] = []

    def batch_done(epoch: int, batch: int, loss: float) -> None:
        losses.append(loss)
        if len(losses) % 100 == 0:
            echo(f"  {model.name} step {len(losses)}: loss {np.mean(losses[-LAST_STEPS:]):.3f}")

    options = dict(model.options)
    fit = {
        "epochs": model.epochs,
        "batch_size": model.batch_size,
        "learning_rate": model.learning_rate,
    }
    record: dict[str, Any] = {"model": model.name, "implementation": model.implementation}
    record |= {"architecture": model.architecture, "layers": list(model.layers), "T": model.T}
    record |= {"fit": {**fit, **options}, "batches": model.batches, "seed": model.seed}
    record |= {"steps": steps_taken(model, len(X)), "full_steps": model.steps, "tokens": tokens}
    record["validation_windows"] = len(X_val)
    measured = _timed(lambda: ours.fit(X, y, batch_callback=batch_done, **fit, **options), tokens)
    record["ours"] = {
        "validation_nats_per_char": ours.loss(X_val, y_val),
        "train_loss_last": float(np.mean(losses[-LAST_STEPS:])),
        **measured,
    }
    echo(f"  {model.name}: validation {record['ours']['validation_nats_per_char']:.4f} nats/char")

    twin = torch_sequential(list(model.layers), "float32")
    twin.load_state_dict({k: torch.from_numpy(v.copy()) for k, v in start.items()})
    # torch's first steps set up kernels, thread pool and the optimizer's imports (seconds
    # in a fresh process): a throwaway copy takes them before the clock starts
    torch_fit(copy.deepcopy(twin), model, X[:1], y[:1], [])
    twin_losses: list[float] = []
    measured = _timed(lambda: torch_fit(twin, model, X, y, twin_losses), tokens)
    record["torch"] = {
        "validation_nats_per_char": torch_validation(twin, X_val, y_val),
        "train_loss_last": float(np.mean(twin_losses[-LAST_STEPS:])),
        **measured,
    }
    echo(f"  torch twin: validation {record['torch']['validation_nats_per_char']:.4f} nats/char")
    ratio = record["ours"]["validation_nats_per_char"] / record["torch"]["validation_nats_per_char"]
    record["relative_gap"] = ratio - 1
    drawn = ours.sample(
        encode_chars(model.prompt),
        sample_length,
        temperature=TEMPERATURE,
        seed=model.sample_seed,
        context=model.context,
    )
    text = model.prompt + decode_chars(drawn)
    record["sample"] = {"prompt": model.prompt, "temperature": TEMPERATURE, "text": text}
    return record


# --------------------------------------------------------------------------- the run


def environment(threads: int) -> dict[str, Any]:
    import torch

    from fromscratch.conformance.runfacts import cpu_model

    return {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "cpu": cpu_model(),
        "cpus": os.cpu_count(),
        "numpy": np.__version__,
        "torch": torch.__version__,
        "threads": threads,
        "load_before": list(os.getloadavg()),
    }


def run(
    names: list[str],
    out: Path,
    *,
    steps: int | None = None,
    validation_windows: int | None = None,
    sample_length: int = SAMPLE_LENGTH,
    threads: int = 1,
    command: str = "fromscratch text",
    echo: Callable[[str], None] = print,
) -> dict[str, Any]:
    """Train each named model beside its twin, at ``threads`` threads; write ``out`` after
    each one (atomically), so a run stopped half-way keeps what it measured."""
    import torch
    from threadpoolctl import threadpool_limits

    from fromscratch.conformance.registry import discover
    from fromscratch.conformance.report import write_json
    from fromscratch.conformance.sequence import _package
    from fromscratch.datasets import encode_chars, load_tiny_shakespeare

    train_ids = encode_chars(load_tiny_shakespeare("train"))
    validation_ids = encode_chars(load_tiny_shakespeare("validation"))
    installed = discover()
    result: dict[str, Any] = {
        "schema_version": SCHEMA_VERSION,
        "command": command,
        "full": steps is None and validation_windows is None and sample_length == SAMPLE_LENGTH,
        "environment": environment(threads),
        "runs": [],
        "skipped": {},
        "failed": {},
    }
    torch.set_num_threads(threads)
    for name in names:
        model = MODELS[name]
        impl = installed.get(model.implementation)
        network = None if impl is None else getattr(_package(impl), "SequenceNetwork", None)
        if network is None:
            result["skipped"][name] = f"{model.implementation}'s SequenceNetwork is not installed"
            echo(f"{name}: skipped, {result['skipped'][name]}")
            continue
        count = model.steps if steps is None else min(steps, model.steps)
        echo(f"{name}: {count} steps of {model.batch_size} windows of {model.T}, then its twin")
        try:
            with threadpool_limits(threads):
                record = train_pair(
                    model,
                    network,
                    (train_ids, validation_ids),
                    steps=count,
                    validation_windows=validation_windows,
                    sample_length=sample_length,
                    echo=echo,
                )
        except FloatingPointError as exc:
            result["failed"][name] = f"training diverged: {exc}"
            echo(f"{name}: {result['failed'][name]}")
            continue
        result["runs"].append(record)
        result["environment"]["load_after"] = list(os.getloadavg())
        write_json(out, result)
    result["environment"]["load_after"] = list(os.getloadavg())
    write_json(out, result)
    echo(format_table(result))
    echo(f"wrote {out}")
    return result


def format_table(result: dict[str, Any]) -> str:
    """One line per model: both validation losses, the gap, both CPU times, tokens/s."""
    lines = [
        f"{'model':<22}{'steps':>6}{'ours':>9}{'torch':>9}{'gap':>9}"
        f"{'ours cpu s':>12}{'torch cpu s':>12}{'ours tok/s':>12}{'torch tok/s':>12}"
    ]
    for r in result["runs"]:
        o, t = r["ours"], r["torch"]
        lines.append(
            f"{r['model']:<22}{r['steps']:>6}{o['validation_nats_per_char']:>9.4f}"
            f"{t['validation_nats_per_char']:>9.4f}{r['relative_gap']:>+9.2%}"
            f"{o['train_cpu_s']:>12.1f}{t['train_cpu_s']:>12.1f}"
            f"{o['tokens_per_wall_s']:>12.0f}{t['tokens_per_wall_s']:>12.0f}"
        )
    if not result["full"]:
        lines.append(
            "SHORT RUN (--steps, --validation-windows or --sample-length): not the full result"
        )
    return "\n".join(lines)


# --------------------------------------------------------------------------- reading it back


def schema() -> dict[str, Any]:
    """The JSON Schema of ``text.json``, shipped with the package."""
    path = resources.files("fromscratch.conformance").joinpath("text.schema.json")
    return dict(json.loads(path.read_text()))


def read(path: Path) -> dict[str, Any]:
    """The report's source for its *Sequences* section: ``{source, data, note}``, ``data``
    ``None`` with the reason when the file is missing, damaged or not ``text.json``."""
    from jsonschema import Draft202012Validator
    from jsonschema.exceptions import best_match

    hint = "run `fromscratch text` (nox -s report runs it)"
    if not path.exists():
        return {"source": str(path), "data": None, "note": f"{path} was not found: {hint}."}
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        note = f"{path} is damaged or unreadable ({exc}): {hint}."
        return {"source": str(path), "data": None, "note": note}
    error = best_match(Draft202012Validator(schema()).iter_errors(data))
    if error is not None:
        where = "".join(f"[{p!r}]" for p in error.absolute_path) or "the top level"
        note = f"{path} does not match text.schema.json at {where}: {error.message}; {hint}."
        return {"source": str(path), "data": None, "note": note}
    when = data["environment"]["date"]
    kind = "the full run" if data["full"] else "a SHORT run (not the full result)"
    return {"source": str(path), "data": data, "note": f"{kind}, {when}: {data['command']}"}


# --------------------------------------------------------------------------- command line


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--model",
        action="append",
        choices=list(MODELS),
        help="only this model (repeatable; default: all)",
    )
    parser.add_argument(
        "--out", type=Path, default=Path("reports/text.json"), help="where to write the JSON"
    )
    parser.add_argument(
        "--steps",
        type=int,
        help="train each model about this many steps instead of its full count (a quick "
        "run, labelled so)",
    )
    parser.add_argument(
        "--validation-windows", type=int, help="validate on the first N windows only"
    )
    parser.add_argument(
        "--sample-length", type=int, default=SAMPLE_LENGTH, help="characters to sample"
    )
    parser.add_argument("--threads", type=int, default=1, help="threads of every pool")


def main(args: argparse.Namespace) -> int:
    from fromscratch.conformance.cli import UsageError

    for flag, value in (
        ("steps", args.steps),
        ("validation-windows", args.validation_windows),
        ("sample-length", args.sample_length),
        ("threads", args.threads),
    ):
        if value is not None and value < 1:
            raise UsageError(f"--{flag} must be at least 1, got {value}")
    if args.out.is_dir():
        raise UsageError(f"--out {args.out}: is a folder; give the JSON file to write")
    names = list(dict.fromkeys(args.model or MODELS))
    flags = [f"--model {name}" for name in args.model or []]
    flags += [
        f"--{flag} {value}"
        for flag, value in (
            ("steps", args.steps),
            ("validation-windows", args.validation_windows),
            ("sample-length", None if args.sample_length == SAMPLE_LENGTH else args.sample_length),
        )
        if value is not None
    ]
    result = run(
        names,
        args.out,
        steps=args.steps,
        validation_windows=args.validation_windows,
        sample_length=args.sample_length,
        threads=args.threads,
        command=" ".join(["fromscratch text", *flags]),
    )
    return 1 if result["failed"] else 0
