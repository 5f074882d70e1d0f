"""Train matrix's character LSTM on Tiny Shakespeare, next to its torch twin.

Both start from one state dict (drawn by matrix) and see the same windows in the same
order: the training text is cut into windows of T + 1 characters (X the first T, y the
last T), shuffled each epoch by the generator ``SequenceNetwork.fit`` uses, and fed in
batches; Adam with a per-epoch cosine schedule, in float32, one BLAS thread each. The
validation text is cut the same way; its loss is the mean cross-entropy in nats per
character. Prints and writes (``--out``) the losses, the CPU and wall times, training
tokens per second, and 600 characters sampled from the matrix model at temperature 0.8.

    FROMSCRATCH_DATA=../shared/datasets python implementations/matrix/scripts/char_lstm.py
    ... --max-windows 64 --epochs 1   # the CI subset: a few steps, the same code path

torch is needed for the twin only. ``--part matrix`` or ``--part torch`` trains one of
the two (the twin still starts from the state dict matrix draws for the seed), so that
both can run at once in two processes; ``--part both`` (the default) runs them in turn.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path
from typing import Any

import numpy as np
from threadpoolctl import threadpool_limits

from fromscratch.boundary.loop import shuffle_rng
from fromscratch.datasets import decode_chars, encode_chars, load_tiny_shakespeare
from fromscratch.matrix.sequence import SequenceNetwork

V = 65  # the vocabulary of Tiny Shakespeare


def windows(ids: np.ndarray, T: int, limit: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Non-overlapping windows of T + 1 tokens: X the first T of each, y the last T."""
    n = len(ids) // (T + 1) if limit is None else min(limit, len(ids) // (T + 1))
    w = ids[: n * (T + 1)].reshape(n, T + 1)
    return np.ascontiguousarray(w[:, :-1]), np.ascontiguousarray(w[:, 1:])


def train_torch(
    state: dict[str, np.ndarray], args: argparse.Namespace, X: np.ndarray, y: np.ndarray
) -> tuple[Any, list[float]]:
    """The torch twin, trained on the batches SequenceNetwork.fit draws: same seed, same
    generator, same order, same schedule."""
    import torch

    class LSTM(torch.nn.LSTM):
        def forward(self, x: torch.Tensor) -> torch.Tensor:  # type: ignore[override]
            return super().forward(x)[0]

    model = torch.nn.Sequential(
        torch.nn.Embedding(V, args.embed),
        LSTM(args.embed, args.hidden, batch_first=True),
        torch.nn.Linear(args.hidden, V),
    )
    model.load_state_dict({k: torch.from_numpy(v.copy()) for k, v in state.items()})
    optimizer = torch.optim.Adam(model.parameters(), lr=args.lr)
    schedule = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=args.epochs)
    rng = shuffle_rng(args.seed)
    Xt, yt = torch.from_numpy(X), torch.from_numpy(y)
    epoch_losses = []
    for _ in range(args.epochs):
        order = torch.from_numpy(rng.permutation(len(X)))
        total = 0.0
        for start in range(0, len(X), args.batch_size):
            rows = order[start : start + args.batch_size]
            optimizer.zero_grad()
            z = model(Xt[rows])
            loss = torch.nn.functional.cross_entropy(z.reshape(-1, V), yt[rows].reshape(-1))
            loss.backward()
            optimizer.step()
            total += loss.item()
        epoch_losses.append(total / -(-len(X) // args.batch_size))
        schedule.step()
    return model, epoch_losses


def torch_loss(model: Any, X: np.ndarray, y: np.ndarray, batch_size: int = 256) -> float:
    import torch

    total = 0.0
    with torch.no_grad():
        for start in range(0, len(X), batch_size):
            z = model(torch.from_numpy(X[start : start + batch_size]))
            rows = torch.from_numpy(y[start : start + batch_size]).reshape(-1)
            total += torch.nn.functional.cross_entropy(z.reshape(-1, V), rows).item() * len(rows)
    return total / y.size


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--seq-len", type=int, default=64)
    parser.add_argument("--embed", type=int, default=64)
    parser.add_argument("--hidden", type=int, default=256)
    parser.add_argument("--lr", type=float, default=4e-3)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--max-windows", type=int, default=None, help="train on fewer windows")
    parser.add_argument("--sample-length", type=int, default=600)
    parser.add_argument("--part", choices=["both", "matrix", "torch"], default="both")
    parser.add_argument("--out", type=Path, default=None, help="write results.json here")
    args = parser.parse_args()

    T = args.seq_len
    X, y = windows(encode_chars(load_tiny_shakespeare("train")), T, args.max_windows)
    Xv, yv = windows(encode_chars(load_tiny_shakespeare("validation")), T)
    layers = [
        f"Embedding({V}, {args.embed})",
        f"LSTM({args.embed}, {args.hidden}, batch_first=True)",
        f"Linear({args.hidden}, {V})",
    ]
    model = SequenceNetwork(layers, seed=args.seed, dtype="float32")
    initial = model.state_dict()
    tokens = args.epochs * X.size
    results: dict[str, Any] = {"layers": layers, "args": vars(args) | {"out": str(args.out)}}
    results["train_windows"], results["validation_windows"] = len(X), len(Xv)
    print(f"{len(X)} training windows of {T}, {len(Xv)} validation windows; {layers}")

    if args.part != "matrix":
        import torch  # imported before the clock starts: its import takes seconds

        torch.set_num_threads(args.threads)
    with threadpool_limits(args.threads):
        if args.part != "torch":
            train_matrix(model, args, X, y, Xv, yv, results)
        if args.part != "matrix":
            cpu, wall = time.process_time(), time.perf_counter()
            twin, twin_epochs = train_torch(initial, args, X, y)
            cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
            results["torch"] = {
                "validation_nats_per_char": torch_loss(twin, Xv, yv),
                "train_epoch_losses": twin_epochs,
                "train_cpu_s": cpu,
                "train_wall_s": wall,
                "tokens_per_cpu_s": tokens / cpu,
                "tokens_per_wall_s": tokens / wall,
            }
            print("torch", json.dumps(results["torch"]), flush=True)
        if args.part == "both":
            m, t = results["matrix"], results["torch"]
            results["relative_gap"] = (
                m["validation_nats_per_char"] / t["validation_nats_per_char"] - 1
            )
            results["matrix_over_torch_cpu_time"] = m["train_cpu_s"] / t["train_cpu_s"]
            print(
                f"validation: matrix {m['validation_nats_per_char']:.4f}, torch "
                f"{t['validation_nats_per_char']:.4f} nats/char ({results['relative_gap']:+.2%});"
                f" training CPU time matrix/torch {results['matrix_over_torch_cpu_time']:.2f}"
            )
    if args.out is not None:
        args.out.mkdir(parents=True, exist_ok=True)
        tmp = args.out / f"results-{args.part}.json.part"
        tmp.write_text(json.dumps(results, indent=2) + "\n")
        tmp.replace(args.out / f"results-{args.part}.json")  # atomic: never a half-written file


def train_matrix(
    model: SequenceNetwork,
    args: argparse.Namespace,
    X: np.ndarray,
    y: np.ndarray,
    Xv: np.ndarray,
    yv: np.ndarray,
    results: dict[str, Any],
) -> None:
    """Train matrix's model, measure it, and sample from it, into `results`."""
    epochs: list[float] = []

    def progress(epoch: int, logs: Any) -> None:
        print(f"matrix epoch {epoch}: train loss {logs['loss']:.4f}", flush=True)
        epochs.append(logs["loss"])

    cpu, wall = time.process_time(), time.perf_counter()
    model.fit(
        X,
        y,
        epochs=args.epochs,
        batch_size=args.batch_size,
        learning_rate=args.lr,
        optimizer="adam",
        schedule="cosine",
        callback=progress,
    )
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    tokens = args.epochs * X.size
    results["matrix"] = {
        "validation_nats_per_char": model.loss(Xv, yv),
        "train_epoch_losses": epochs,
        "train_cpu_s": cpu,
        "train_wall_s": wall,
        "tokens_per_cpu_s": tokens / cpu,
        "tokens_per_wall_s": tokens / wall,
    }
    print("matrix", json.dumps(results["matrix"]), flush=True)
    sample = model.sample(
        encode_chars("\n"),
        args.sample_length,
        temperature=0.8,
        seed=args.seed,
        context=args.seq_len,
    )
    results["sample"] = decode_chars(sample)
    print(f"--- sample at temperature 0.8 ---\n{results['sample']}\n---", flush=True)


if __name__ == "__main__":
    main()
