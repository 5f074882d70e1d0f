"""``fit``'s options for the search strategies, checked once.

Everything else a caller hands in (data, layer sizes, state dicts, ``fit``'s required
arguments) is checked by the helpers every implementation shares,
:mod:`fromscratch.boundary.validation`; what is evolution's own is below: which strategy,
its population, and the options that belong to each strategy.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from fromscratch.boundary.options import SCHEDULES
from fromscratch.boundary.validation import (
    check_bool,
    check_choice,
    check_float,
    check_int,
    listing,
)

STRATEGIES = ("es", "ga", "hill_climb")
EXECUTORS = ("local", "threads", "processes", "ray")
OPTIMIZERS = ("adam", "sgd")


def check_population(value: object, *, even: bool) -> int:
    """A population size: an integer >= 2, and even for antithetic pairs."""
    population = check_int("population", value, low=2)
    if even and population % 2:
        raise ValueError(
            f"population must be even (it is made of population // 2 antithetic pairs "
            f"theta +- sigma * eps), got {population}"
        )
    return population


@dataclass(frozen=True)
class FitOptions:
    """The optional keyword arguments of ``Network.fit``, checked, with their defaults."""

    strategy: str = "es"
    population: int = 100
    sigma: float = 0.05
    optimizer: str = "adam"
    momentum: float = 0.9
    weight_decay: float = 0.0
    rank: int | None = None
    crossover: bool = True
    offspring: int | None = None
    self_adaptive: bool = False
    schedule: str = "constant"
    executor: str = "local"
    workers: int = 2
    address: str | None = None


# Which options each strategy reads; an option meant for another one is refused rather
# than silently ignored, so a caller never trains a different model than they think.
STRATEGY_OPTIONS: dict[str, tuple[str, ...]] = {
    "es": (
        "population",
        "sigma",
        "optimizer",
        "momentum",
        "weight_decay",
        "rank",
        "executor",
        "workers",
        "address",
    ),
    "ga": ("population", "crossover", "offspring", "self_adaptive"),
    "hill_climb": ("population",),
}
COMMON_OPTIONS = ("strategy", "schedule")
FIT_OPTIONS = (*COMMON_OPTIONS, *dict.fromkeys(o for v in STRATEGY_OPTIONS.values() for o in v))
DEFAULT_POPULATION = {"es": 100, "ga": 50, "hill_climb": 10}


def check_fit_options(options: Mapping[str, Any]) -> FitOptions:
    """Check ``fit``'s ``**options`` for the chosen strategy."""
    unknown = [name for name in options if name not in FIT_OPTIONS]
    if unknown:
        raise ValueError(
            f"unknown fit option(s) {listing(unknown)}; accepted options are {listing(FIT_OPTIONS)}"
        )
    strategy = check_choice("strategy", options.get("strategy", "es"), STRATEGIES)
    accepted = STRATEGY_OPTIONS[strategy]
    foreign = [name for name in options if name not in (*COMMON_OPTIONS, *accepted)]
    if foreign:
        raise ValueError(
            f"option(s) {listing(foreign)} do not apply to strategy={strategy!r}, which "
            f"accepts {listing(accepted)}"
            + ("" if strategy == "es" else "; its mutation scale is learning_rate")
        )
    defaults = FitOptions()
    population = options.get("population", DEFAULT_POPULATION[strategy])
    population = (
        check_int("population", population, low=1)  # one mutation per step is a valid climb
        if strategy == "hill_climb"
        else check_population(population, even=strategy == "es")
    )
    sigma = check_float("sigma", options.get("sigma", defaults.sigma), low=0, low_inclusive=False)
    optimizer = check_choice("optimizer", options.get("optimizer", defaults.optimizer), OPTIMIZERS)
    momentum = check_float("momentum", options.get("momentum", defaults.momentum), low=0, high=1)
    weight_decay = check_float(
        "weight_decay", options.get("weight_decay", defaults.weight_decay), low=0
    )
    rank = options.get("rank")
    if rank is not None:
        rank = check_int("rank", rank)
    crossover = check_bool("crossover", options.get("crossover", defaults.crossover))
    offspring = options.get("offspring")
    if offspring is not None:
        offspring = check_int("offspring", offspring)
    self_adaptive = check_bool(
        "self_adaptive", options.get("self_adaptive", defaults.self_adaptive)
    )
    schedule = check_choice("schedule", options.get("schedule", defaults.schedule), SCHEDULES)
    if self_adaptive and schedule != "constant":
        raise ValueError(
            f"schedule={schedule!r} does not combine with self_adaptive=True: each member "
            "then carries its own mutation strength, and learning_rate is only its start"
        )
    executor = check_choice("executor", options.get("executor", defaults.executor), EXECUTORS)
    if executor == "local" and ("workers" in options or "address" in options):
        raise ValueError(
            "workers apply to executor='threads', 'processes' or 'ray', address to 'ray' "
            "only; the local executor evaluates the population in this process, on one thread"
        )
    if executor in ("threads", "processes") and "address" in options:
        raise ValueError(
            f"address applies to executor='ray' only; executor={executor!r} evaluates the "
            f"population on {executor} of this machine"
        )
    workers = check_int("workers", options.get("workers", defaults.workers))
    address = options.get("address")
    if address is not None and not (isinstance(address, str) and address):
        raise ValueError(
            f"address must be a Ray cluster address such as 'ray://host:10001' or "
            f"'auto', or None for a local instance, got {address!r}"
        )
    return FitOptions(
        strategy=strategy,
        population=population,
        sigma=sigma,
        optimizer=optimizer,
        momentum=momentum,
        weight_decay=weight_decay,
        rank=rank,
        crossover=crossover,
        offspring=offspring,
        self_adaptive=self_adaptive,
        schedule=schedule,
        executor=executor,
        workers=workers,
        address=address,
    )
