"""Find installed implementations through the ``fromscratch.implementations`` entry points.

A distribution registers its model class under a name::

    [project.entry-points."fromscratch.implementations"]
    matrix = "fromscratch.matrix:Network"

and the module that defines the entry point (``fromscratch.matrix`` here) exports
``RECIPES``. Nothing else is needed: the suite checks the protocol structurally.
"""

from __future__ import annotations

import importlib
import os
from collections.abc import Sequence
from dataclasses import dataclass
from importlib.metadata import EntryPoint, entry_points
from typing import Any, Final, cast

import fromscratch
from fromscratch.conformance.protocol import (
    Differentiable,
    GradientEstimator,
    Model,
    ModelFactory,
    Recipes,
)
from fromscratch.conformance.tolerances import Dataset, Training

GROUP: Final = "fromscratch.implementations"
DATASETS: Final[tuple[Dataset, ...]] = ("mnist", "breast_cancer")


class RegistryError(RuntimeError):
    """An entry point that cannot be loaded or does not offer what the suite needs."""


@dataclass(frozen=True)
class Implementation:
    """One registered implementation: its name, model class and recipes."""

    name: str
    factory: ModelFactory
    recipes: Recipes

    @property
    def training(self) -> Training:
        """``"gradient"`` when the model class offers exact gradients, else ``"gradient_free"``."""
        return "gradient" if callable(getattr(self.factory, "gradients", None)) else "gradient_free"

    @property
    def differentiable(self) -> bool:
        return self.training == "gradient"

    @property
    def estimates_gradient(self) -> bool:
        """Whether the model class offers an evolution-strategies ``estimate_gradient``."""
        return callable(getattr(self.factory, "estimate_gradient", None))

    def build(self, layers: Sequence[int | str], **kwargs: Any) -> Any:
        """Construct a model; the result is checked against the protocol."""
        model = self.factory(layers, **kwargs)
        expected: list[type] = [Differentiable if self.differentiable else Model]
        if self.estimates_gradient:
            expected.append(GradientEstimator)
        for protocol in expected:
            if not isinstance(model, protocol):
                raise RegistryError(
                    f"{self.name}: {type(model).__name__} does not offer every method of "
                    f"{protocol.__name__} (see docs/protocol.md)"
                )
        return model


def _load(ep: EntryPoint) -> Implementation:
    where = f"entry point {ep.name!r} = {ep.value!r} (group {GROUP!r})"
    try:
        factory = ep.load()
        module = importlib.import_module(ep.module)
    except Exception as exc:
        raise RegistryError(f"{where} failed to load: {exc!r}") from exc
    if not callable(factory):
        raise RegistryError(f"{where} is not a class or callable")
    recipes = getattr(module, "RECIPES", None)
    if not isinstance(recipes, dict):
        raise RegistryError(f"{where}: module {ep.module} must export a dict RECIPES")
    for dataset in DATASETS:
        recipe = recipes.get(dataset)
        if not isinstance(recipe, dict) or not {"model", "fit"} <= recipe.keys():
            raise RegistryError(
                f"{where}: RECIPES[{dataset!r}] must be a dict with 'model' and 'fit' keys"
            )
    return Implementation(ep.name, cast(ModelFactory, factory), recipes)


def shadowing_checkout() -> str | None:
    """A checkout of this repository that Python has taken for part of the ``fromscratch``
    package, with what to do about it in one line; ``None`` when there is none.

    ``fromscratch`` is a namespace package: every folder named ``fromscratch`` on
    ``sys.path`` becomes part of it. Run from the parent of a clone named ``fromscratch``
    (``python -m`` and ``python -c`` put the current directory on ``sys.path``), the clone
    joins it, and its folders ``datasets/`` and ``conformance/`` pass for the subpackages
    ``fromscratch.datasets`` and ``fromscratch.conformance`` ahead of the editable
    installs: imports from them fail far from the cause. A real part of the package never
    holds a ``pyproject.toml``; a checkout does.
    """
    for folder in fromscratch.__path__:
        if os.path.isfile(os.path.join(folder, "pyproject.toml")):
            return (
                f"the folder {folder} is a checkout of fromscratch, and Python takes it for the "
                f"installed fromscratch package because the current directory is on sys.path: "
                f"run from inside it (cd {folder}) or from any folder other than its parent"
            )
    return None


def discover() -> dict[str, Implementation]:
    """All installed implementations, by name, in name order."""
    shadowed = shadowing_checkout()
    if shadowed:
        raise RegistryError(shadowed)
    eps = sorted(entry_points(group=GROUP), key=lambda ep: ep.name)
    return {ep.name: _load(ep) for ep in eps}


def select(names: list[str] | None = None) -> list[Implementation]:
    """The named implementations (all installed ones when ``names`` is empty)."""
    installed = discover()
    if not names:
        return list(installed.values())
    unknown = [n for n in names if n not in installed]
    if unknown:
        raise RegistryError(
            f"no implementation named {', '.join(map(repr, unknown))}; "
            f"installed: {', '.join(installed) or 'none'} (entry-point group {GROUP!r})"
        )
    return [installed[n] for n in names]
