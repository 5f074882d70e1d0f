"""Training tokens per second of matrix's character LSTM against torch's, as the bench does.

Each contender runs in processes of its own, alternating (matrix, torch, matrix, ...),
one BLAS thread each. A process builds the model of ``char_lstm.py`` (Embedding(65, 64),
LSTM(64, 256), Linear(256, 65)) from one state dict, takes ``--warmup`` Adam steps on
batches of 32 windows of 64 Tiny Shakespeare characters, then times ``--steps`` more,
in CPU time and wall time. The ratio is taken of the medians across processes, so a
process slowed by other load on the machine moves it less.

    FROMSCRATCH_DATA=../shared/datasets python implementations/matrix/scripts/lstm_bench.py
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time

import numpy as np

B, T, E, H, V = 32, 64, 64, 256, 65


def batches(steps: int) -> tuple[np.ndarray, np.ndarray]:
    """`steps` batches of consecutive windows from the start of the training text."""
    from fromscratch.datasets import encode_chars, load_tiny_shakespeare

    ids = encode_chars(load_tiny_shakespeare("train"))[: steps * B * (T + 1)]
    w = ids.reshape(steps, B, T + 1)
    return w[:, :, :-1], w[:, :, 1:]


def worker(contender: str, warmup: int, steps: int) -> dict[str, float]:
    """Time `steps` training steps after `warmup` ones; returns seconds and tokens/s."""
    from threadpoolctl import threadpool_limits

    from fromscratch.matrix import SequenceNetwork

    X, y = batches(warmup + steps)
    layers = [f"Embedding({V}, {E})", f"LSTM({E}, {H}, batch_first=True)", f"Linear({H}, {V})"]
    model = SequenceNetwork(layers, seed=0, dtype="float32")
    with threadpool_limits(1):
        if contender == "matrix":
            from fromscratch.boundary.optim import Adam

            optimizer = Adam(model.parameters(), lr=4e-3)

            def step(i: int) -> None:
                model.backward(X[i], y[i])
                optimizer.step()
        else:
            import torch

            torch.set_num_threads(1)

            class LSTM(torch.nn.LSTM):
                def forward(self, x: torch.Tensor) -> torch.Tensor:  # type: ignore[override]
                    return super().forward(x)[0]

            twin = torch.nn.Sequential(
                torch.nn.Embedding(V, E), LSTM(E, H, batch_first=True), torch.nn.Linear(H, V)
            )
            twin.load_state_dict({k: torch.from_numpy(v) for k, v in model.state_dict().items()})
            torch_optimizer = torch.optim.Adam(twin.parameters(), lr=4e-3)
            Xt, yt = torch.from_numpy(X), torch.from_numpy(y)

            def step(i: int) -> None:
                torch_optimizer.zero_grad()
                z = twin(Xt[i])
                torch.nn.functional.cross_entropy(z.reshape(-1, V), yt[i].reshape(-1)).backward()
                torch_optimizer.step()

        for i in range(warmup):
            step(i)
        cpu, wall = time.process_time(), time.perf_counter()
        for i in range(warmup, warmup + steps):
            step(i)
        cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    tokens = steps * B * T
    return {
        "cpu_s": cpu,
        "wall_s": wall,
        "tokens_per_cpu_s": tokens / cpu,
        "tokens_per_wall_s": tokens / wall,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--processes", type=int, default=3, help="per contender")
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--worker", choices=["matrix", "torch"], help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        print(json.dumps(worker(args.worker, args.warmup, args.steps)))
        return
    runs: dict[str, list[dict[str, float]]] = {"matrix": [], "torch": []}
    for _ in range(args.processes):
        for contender in runs:
            command = [
                sys.executable,
                __file__,
                "--worker",
                contender,
                "--warmup",
                str(args.warmup),
                "--steps",
                str(args.steps),
            ]
            out = subprocess.run(command, check=True, capture_output=True, text=True).stdout
            runs[contender].append(json.loads(out.strip().splitlines()[-1]))
            print(contender, runs[contender][-1], flush=True)
    medians = {c: {k: statistics.median(r[k] for r in rs) for k in rs[0]} for c, rs in runs.items()}
    for measure in ("cpu_s", "wall_s"):
        ratio = medians["matrix"][measure] / medians["torch"][measure]
        print(f"matrix / torch, median {measure} per {args.steps} steps: {ratio:.2f}")
    print(json.dumps(medians))


if __name__ == "__main__":
    main()
