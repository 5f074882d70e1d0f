"""The bench's workload as a torch user would write it: one file, no bench machinery.

784-128-64-10 relu MLP, cross-entropy, float32, plain SGD (learning rate 0.1), batch 128,
one shuffled pass over the MNIST training rows per epoch. It imports torch, NumPy and
our MNIST reader, nothing of the bench. The bench runs it as one more contender, ``torch
(plain script)``, and warns when its own torch contender
(:func:`fromscratch.conformance.bench_worker.torch_epoch`) is slower than this file at
the same thread count: a slowdown the bench's process adds to torch (another library's
thread pool alive beside it, float64 data, a copy per batch) would flatter us.

    OMP_NUM_THREADS=1 python -m fromscratch.conformance.plain_torch --epochs 3

prints one line per epoch and, last, one JSON line (``epoch_s`` and ``cpu_s``, seconds).
"""

from __future__ import annotations

import argparse
import json
import os
import time

import numpy as np
import torch

from fromscratch.datasets import load_mnist  # the MNIST files; torchvision is not installed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=3, help="timed epochs")
    parser.add_argument("--warmup", type=int, default=1, help="untimed epochs first")
    parser.add_argument("--n-train", type=int, default=None, help="only the first N rows")
    args = parser.parse_args()

    images, labels = load_mnist("train")
    X = torch.from_numpy(np.asarray(images[: args.n_train], dtype=np.float32))
    y = torch.from_numpy(np.asarray(labels[: args.n_train], dtype=np.int64))

    torch.manual_seed(0)
    model = torch.nn.Sequential(
        torch.nn.Linear(784, 128),
        torch.nn.ReLU(),
        torch.nn.Linear(128, 64),
        torch.nn.ReLU(),
        torch.nn.Linear(64, 10),
    )
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    loss_fn = torch.nn.CrossEntropyLoss()

    def epoch() -> None:
        order = torch.randperm(len(X))
        for start in range(0, len(X), 128):
            rows = order[start : start + 128]
            optimizer.zero_grad()
            loss = loss_fn(model(X[rows]), y[rows])
            loss.backward()
            optimizer.step()

    for _ in range(args.warmup):
        epoch()
    epoch_s, cpu_s = [], []
    for i in range(args.epochs):
        start, cpu = time.perf_counter(), time.process_time()
        epoch()
        epoch_s.append(time.perf_counter() - start)
        cpu_s.append(time.process_time() - cpu)
        print(f"epoch {i + 1}: {epoch_s[-1]:.3f} s, {cpu_s[-1]:.3f} s CPU")
    threads = torch.get_num_threads()
    print(
        json.dumps(
            {"epoch_s": epoch_s, "cpu_s": cpu_s, "pid": os.getpid(), "torch_threads": threads}
        )
    )


if __name__ == "__main__":
    main()
