"""``fit``, written once for every model trained by gradients: the classifiers
(:class:`~fromscratch.boundary.model.GradientClassifier`) and the next-token models
(:class:`~fromscratch.boundary.sequence.SequenceModel`) both inherit it from
:class:`GradientFit`.

A model brings its subject, ``backward(X, y)`` (forward, loss, and the gradients stored
where the optimizers read them; returns the loss) and ``parameters()`` (what the optimizer
steps), and its own check of the data, ``check_data(X, y)``. ``fit`` calls
``train_mode(True)`` before the first batch and ``train_mode(False)`` after the last, as a
torch loop calls ``model.train()`` and ``model.eval()``; by default that does nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any, ClassVar

import numpy as np
from numpy.typing import NDArray

from . import validation as check
from .loop import train
from .optim import Optimizer, clip_grad_norm, set_learning_rate
from .options import OPTIMIZERS, check_fit_options, make_optimizer
from .types import BatchCallback, Callback


class GradientFit:
    """``fit`` by mini-batch gradient descent around the subclass's ``backward``.

    ``optimizers`` names the optimizers ``fit(optimizer=...)`` accepts and the classes
    that implement them.
    """

    optimizers: ClassVar[Mapping[str, Callable[..., Optimizer]]] = {
        name: OPTIMIZERS[name] for name in ("sgd", "adam")
    }
    shuffle_rng: np.random.Generator

    def backward(self, X: Any, y: Any) -> float:
        raise NotImplementedError

    def parameters(self) -> Iterable[Any]:
        raise NotImplementedError

    def check_data(self, X: object, y: object) -> tuple[NDArray[Any], NDArray[Any]]:
        """``X`` and ``y`` checked and converted, as the model reads them."""
        raise NotImplementedError

    def train_mode(self, training: bool) -> None:
        """Switch layers that train differently (dropout, batch norm); none by default."""

    def fit(
        self,
        X: NDArray[Any],
        y: NDArray[Any],
        *,
        epochs: int,
        batch_size: int,
        learning_rate: float,
        callback: Callback | None = None,
        batch_callback: BatchCallback | None = None,
        **options: Any,
    ) -> Any:
        r"""Train by mini-batch gradient descent; return ``self``.

        Each epoch shuffles the rows (unless ``shuffle=False``), then for each batch of
        ``batch_size`` rows (the last one may be smaller) runs ``backward`` and one
        optimizer step.

        Options
        -------
        optimizer
            ``"sgd"`` (default), ``"adam"`` (and ``"adamw"`` where ``optimizers`` has it),
            updating exactly like ``torch.optim``'s.
        momentum, nesterov
            SGD only: momentum in [0, 1) (default 0), Nesterov's variant (default False).
        betas, eps
            The Adams only: default ``(0.9, 0.999)`` and ``1e-8``.
        weight_decay
            L2 penalty added to the gradient (AdamW: decoupled, default 0.01; else 0).
        schedule
            ``"constant"`` (default) or ``"cosine"`` annealing of the learning rate per
            epoch, see :mod:`fromscratch.boundary.optim`.
        shuffle
            ``True`` (default) shuffles the rows each epoch; ``False`` keeps their order,
            so the batches are rows ``[0, batch_size)``, ``[batch_size, 2 batch_size)``, ...
            in every epoch: how the conformance suite replays torch's training step for step.
        clip_grad_norm
            None (default), or a float: torch's ``clip_grad_norm_`` before each step.

        ``callback(epoch, metrics)`` runs after each epoch (counting from 1) with
        ``metrics = {"loss": mean batch loss, "learning_rate": rate used}``;
        ``batch_callback(epoch, batch, loss)`` after each mini-batch step.

        Raises
        ------
        ValueError
            Bad data or hyper-parameters.
        FloatingPointError
            The loss or the parameters stopped being finite (usually a learning rate too
            high).
        """
        epochs, batch_size, learning_rate = check.check_fit_arguments(
            epochs, batch_size, learning_rate, callback, batch_callback
        )
        config = check_fit_options(options, tuple(self.optimizers))
        X, y = self.check_data(X, y)
        params = list(self.parameters())
        optimizer = make_optimizer(params, learning_rate, config, self.optimizers)

        def step() -> None:
            if config.clip_grad_norm is not None:
                clip_grad_norm([optimizer.gradient(p) for p in params], config.clip_grad_norm)
            optimizer.step()

        self.train_mode(True)
        try:
            train(
                lambda rows: self.backward(np.take(X, rows, axis=0), y[rows]),
                step,
                n_rows=len(X),
                epochs=epochs,
                batch_size=batch_size,
                learning_rate=learning_rate,
                schedule=config.schedule,
                shuffle=config.shuffle,
                rng=self.shuffle_rng,
                set_learning_rate=lambda lr: set_learning_rate(optimizer, lr),
                parameters=lambda: (p.data for p in params),
                callback=callback,
                batch_callback=batch_callback,
            )
        finally:
            self.train_mode(False)
        return self
