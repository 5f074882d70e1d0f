"""``fit``'s optional keyword arguments for the gradient-trained models, and the optimizer
they describe.

``fit(X, y, epochs=..., batch_size=..., learning_rate=..., **options)`` takes the same
options in every implementation trained by a gradient: ``optimizer``, ``momentum``,
``nesterov``, ``weight_decay``, ``betas``, ``eps``, ``schedule``, ``shuffle`` and
``clip_grad_norm``. They are checked here once, and :func:`make_optimizer` turns them into
an optimizer.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from . import optim
from .validation import check_bool, check_choice, check_float, listing

SCHEDULES = ("constant", "cosine")

OPTIMIZERS: dict[str, type[optim.Optimizer]] = {
    "sgd": optim.SGD,
    "adam": optim.Adam,
    "adamw": optim.AdamW,
}
"""The optimizers ``fit(optimizer=...)`` may name, and the classes that implement them."""


@dataclass(frozen=True)
class FitOptions:
    """The optional keyword arguments of ``fit``, checked."""

    optimizer: str = "sgd"
    momentum: float = 0.0
    nesterov: bool = False
    weight_decay: float = 0.0
    betas: tuple[float, float] = (0.9, 0.999)
    eps: float = 1e-8
    schedule: str = "constant"
    shuffle: bool = True
    clip_grad_norm: float | None = None


_SGD_ONLY = ("momentum", "nesterov")
_ADAM_ONLY = ("betas", "eps")
FIT_OPTIONS = (
    *("optimizer", *_SGD_ONLY, "weight_decay", *_ADAM_ONLY),
    *("schedule", "shuffle", "clip_grad_norm"),
)


def check_fit_options(
    options: Mapping[str, Any], optimizers: Sequence[str] = ("sgd", "adam")
) -> FitOptions:
    """Check ``fit``'s ``**options``; an option meant for another optimizer is an error.

    ``optimizers`` lists the names this implementation accepts. Silently ignoring
    ``momentum=0.9`` because the optimizer is Adam would train a different model than the
    caller thinks, so it is refused instead. ``weight_decay`` defaults to 0, except for
    ``"adamw"`` where it defaults to torch's 0.01.
    """
    unknown = sorted(set(options) - set(FIT_OPTIONS))
    if unknown:
        raise ValueError(
            f"unknown fit option(s) {listing(unknown)}; accepted options are {listing(FIT_OPTIONS)}"
        )
    optimizer = check_choice("optimizer", options.get("optimizer", "sgd"), optimizers)
    foreign = _ADAM_ONLY if optimizer == "sgd" else _SGD_ONLY
    misplaced = [name for name in foreign if name in options]
    if misplaced:
        raise ValueError(
            f"option(s) {listing(misplaced)} do not apply to optimizer={optimizer!r}; "
            f"{listing(_SGD_ONLY)} are for 'sgd', {listing(_ADAM_ONLY)} for the Adams"
        )

    momentum = check_float("momentum", options.get("momentum", 0.0), low=0, high=1)
    nesterov = check_bool("nesterov", options.get("nesterov", False))
    if nesterov and momentum == 0:
        raise ValueError("nesterov=True needs momentum > 0 (e.g. momentum=0.9), got momentum=0")
    default_decay = 0.01 if optimizer == "adamw" else 0.0
    weight_decay = check_float("weight_decay", options.get("weight_decay", default_decay), low=0)

    betas = options.get("betas", (0.9, 0.999))
    if isinstance(betas, str) or not isinstance(betas, Sequence) or len(betas) != 2:
        raise ValueError(f"betas must be a pair (beta1, beta2) such as (0.9, 0.999), got {betas!r}")
    beta1 = check_float("betas[0]", betas[0], low=0, high=1)
    beta2 = check_float("betas[1]", betas[1], low=0, high=1)
    eps = check_float("eps", options.get("eps", 1e-8), low=0, low_inclusive=False)

    schedule = options.get("schedule", "constant")
    schedule = check_choice("schedule", "constant" if schedule is None else schedule, SCHEDULES)
    shuffle = check_bool("shuffle", options.get("shuffle", True))
    clip = options.get("clip_grad_norm")
    if clip is not None:
        clip = check_float("clip_grad_norm", clip, low=0, low_inclusive=False)
    return FitOptions(
        optimizer=optimizer,
        momentum=momentum,
        nesterov=nesterov,
        weight_decay=weight_decay,
        betas=(beta1, beta2),
        eps=eps,
        schedule=schedule,
        shuffle=shuffle,
        clip_grad_norm=clip,
    )


def make_optimizer(
    params: Iterable[Any],
    learning_rate: float,
    options: FitOptions,
    kinds: Mapping[str, Callable[..., optim.Optimizer]] = OPTIMIZERS,
) -> optim.Optimizer:
    """The optimizer ``options`` name, over ``params``, built from ``kinds`` (autograd
    passes its own ``Tensor`` classes, which take the same arguments)."""
    kind = kinds[options.optimizer]
    if options.optimizer == "sgd":
        return kind(
            params,
            lr=learning_rate,
            momentum=options.momentum,
            nesterov=options.nesterov,
            weight_decay=options.weight_decay,
        )
    return kind(
        params,
        lr=learning_rate,
        betas=options.betas,
        eps=options.eps,
        weight_decay=options.weight_decay,
    )
