"""Train autograd's character LSTM or causal Transformer on Tiny Shakespeare, beside its
torch twin: the same spec, the same initial state dict, the same batches in the same order.

    python implementations/autograd/scripts/train_char.py lstm --out /tmp/lstm
    python implementations/autograd/scripts/train_char.py transformer --out /tmp/gpt

Prints (and writes to ``--out/result.json``) the validation loss in nats per character of
both, the training wall and CPU time of each, their tokens per second, and 600 characters
sampled from the autograd model at temperature 0.8. Validation: the last 10% of the text
cut into non-overlapping windows of T + 1 characters (``docs/protocol.md``).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch

from fromscratch.autograd import SequenceNetwork
from fromscratch.conformance.sequence import torch_sequential

BLOCK = "TransformerEncoderLayer(128, 4, 512, dropout=0.0, batch_first=True, norm_first=True)"
MODELS: dict[str, dict[str, Any]] = {
    "lstm": {
        "layers": ["Embedding(65, 64)", "LSTM(64, 256, batch_first=True)", "Linear(256, 65)"],
        "T": 64,
        "batch_size": 32,
        "learning_rate": 3e-3,
    },
    "transformer": {
        "layers": [
            "Embedding(65, 128)",
            "PositionalEmbedding(64, 128)",
            *[BLOCK] * 3,
            "LayerNorm(128)",
            "Linear(128, 65)",
        ],
        "T": 64,
        "batch_size": 32,
        "learning_rate": 2e-3,
    },
}


def load_text() -> tuple[str, str]:
    """The training (first 90%) and validation (last 10%) text."""
    try:
        from fromscratch.datasets import load_tiny_shakespeare  # type: ignore[attr-defined]

        return load_tiny_shakespeare("train"), load_tiny_shakespeare("validation")
    except ImportError:  # before the loader lands: the file itself
        text = (Path(os.environ["FROMSCRATCH_DATA"]) / "tinyshakespeare" / "input.txt").read_text()
        n = int(0.9 * len(text))
        return text[:n], text[n:]


def windows(ids: np.ndarray, T: int, starts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """X = ids[s : s + T] and y = ids[s + 1 : s + T + 1] for every start s."""
    index = starts[:, None] + np.arange(T + 1)
    chunk = ids[index]
    return chunk[:, :-1], chunk[:, 1:]


def cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("model", choices=MODELS)
    parser.add_argument("--steps", type=int, default=2000)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--skip-torch", action="store_true")
    args = parser.parse_args()
    config = MODELS[args.model]
    T, B = config["T"], config["batch_size"]
    train_text, val_text = load_text()
    vocabulary = sorted(set(train_text + val_text))
    code = {c: i for i, c in enumerate(vocabulary)}
    train = np.array([code[c] for c in train_text], dtype=np.int64)
    val = np.array([code[c] for c in val_text], dtype=np.int64)
    starts = np.random.default_rng(args.seed).integers(0, len(train) - T - 1, size=args.steps * B)
    X, y = windows(train, T, starts)
    n_val = (len(val) - 1) // (T + 1)
    X_val, y_val = windows(val, T, np.arange(n_val) * (T + 1))
    fit = {
        "epochs": 1,
        "batch_size": B,
        "learning_rate": config["learning_rate"],
        "optimizer": "adam",
        "shuffle": False,
    }
    args.out.mkdir(parents=True, exist_ok=True)
    result: dict[str, Any] = {"model": args.model, "layers": config["layers"], "T": T, **fit}
    result["steps"], result["tokens"] = args.steps, int(X.size)

    model = SequenceNetwork(config["layers"], seed=args.seed, dtype="float32")
    initial = model.state_dict()
    losses: list[float] = []

    def progress(epoch: int, batch: int, loss: float) -> None:
        losses.append(loss)
        if batch % 100 == 0:
            print(f"autograd step {batch}: loss {np.mean(losses[-100:]):.3f}", flush=True)

    wall, cpu = time.perf_counter(), cpu_seconds()
    model.fit(X, y, batch_callback=progress, clip_grad_norm=1.0, **fit)
    result["autograd"] = {
        "wall_s": time.perf_counter() - wall,
        "cpu_s": cpu_seconds() - cpu,
        "validation_nats_per_char": model.loss(X_val, y_val),
        "train_loss_last_100": float(np.mean(losses[-100:])),
    }
    result["autograd"]["tokens_per_s"] = X.size / result["autograd"]["wall_s"]
    prompt = np.array([code[c] for c in "ROMEO:\n"], dtype=np.int64)
    sample = "".join(vocabulary[i] for i in model.sample(prompt, 600, 0.8, seed=1))
    result["sample"] = "ROMEO:\n" + sample
    print(json.dumps(result["autograd"]), flush=True)

    if not args.skip_torch:
        torch.manual_seed(args.seed)
        twin = torch_sequential(config["layers"], "float32")
        twin.load_state_dict({k: torch.from_numpy(v) for k, v in initial.items()})
        optimizer = torch.optim.Adam(twin.parameters(), lr=config["learning_rate"])
        wall, cpu = time.perf_counter(), cpu_seconds()
        for start in range(0, len(X), B):
            xb, yb = torch.from_numpy(X[start : start + B]), torch.from_numpy(y[start : start + B])
            logits = twin(xb)
            loss = torch.nn.functional.cross_entropy(
                logits.reshape(-1, logits.shape[-1]), yb.reshape(-1)
            )
            optimizer.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(twin.parameters(), 1.0)
            optimizer.step()
        result["torch"] = {"wall_s": time.perf_counter() - wall, "cpu_s": cpu_seconds() - cpu}
        with torch.no_grad():
            total = 0.0
            for start in range(0, len(X_val), 256):
                logits = twin(torch.from_numpy(X_val[start : start + 256]))
                total += float(
                    torch.nn.functional.cross_entropy(
                        logits.reshape(-1, logits.shape[-1]),
                        torch.from_numpy(y_val[start : start + 256]).reshape(-1),
                        reduction="sum",
                    )
                )
        result["torch"]["validation_nats_per_char"] = total / y_val.size
        result["torch"]["tokens_per_s"] = X.size / result["torch"]["wall_s"]
        result["relative_gap"] = (
            result["autograd"]["validation_nats_per_char"]
            / result["torch"]["validation_nats_per_char"]
            - 1
        )
        result["tokens_per_s_ratio_autograd_to_torch"] = (
            result["autograd"]["tokens_per_s"] / result["torch"]["tokens_per_s"]
        )
    result["load_average"] = os.getloadavg()
    result["torch_threads"] = torch.get_num_threads()
    (args.out / "result.json").write_text(json.dumps(result, indent=2))
    print(json.dumps({k: v for k, v in result.items() if k != "sample"}, indent=2))
    print(result["sample"])


if __name__ == "__main__":
    main()
