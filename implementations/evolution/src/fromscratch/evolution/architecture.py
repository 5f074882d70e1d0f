"""Which ``layers`` the evolution network takes: an MLP, optionally behind a fixed pool.

``layers`` is the MLP shorthand, sizes such as ``[784, 64, 10]`` with the model's
``activation`` between the ``Linear`` layers, or the project's architecture spec, one
``torch.nn`` constructor call per ``nn.Sequential`` entry (``fromscratch.boundary.spec``).
Evolution takes the specs of the form

    [Unflatten(1, (C, H, W)), AvgPool2d(k), Flatten(),]  Linear, Act, Linear, ..., Linear

the first three optional and together (:class:`~fromscratch.evolution.inputs.AvgPool`, a
fixed input transform), one kind of activation between the ``Linear`` layers. The state
dict's keys are the ``nn.Sequential``'s: ``"3.weight"`` for a ``Linear`` at index 3.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

from fromscratch.boundary.spec import LayerSpec, dense

from .inputs import AvgPool

SUPPORTED_LAYERS: Final = frozenset(
    {"Linear", "ReLU", "Sigmoid", "Tanh", "Unflatten", "AvgPool2d", "Flatten"}
)
"""The ``torch.nn`` names a spec may use here (in the order described above)."""

POOL_PREFIX: Final = ("Unflatten", "AvgPool2d", "Flatten")


@dataclass(frozen=True)
class Architecture:
    """The dense layers' ``sizes`` (after the input transform), their ``activation``, the
    fixed input ``transform`` (or None) and the ``nn.Sequential`` index of the first
    ``Linear`` (``first``), where the state dict's keys start."""

    sizes: tuple[int, ...]
    activation: str
    transform: AvgPool | None
    first: int

    @property
    def n_features(self) -> int:
        """The number of columns of ``X``."""
        return self.sizes[0] if self.transform is None else self.transform.in_features


def architecture(specs: Sequence[LayerSpec], activation: str) -> Architecture:
    """Read the bound specs (the boundary's constructor parsed ``layers``, checked their
    shapes and refused layers outside :data:`SUPPORTED_LAYERS`) into an
    :class:`Architecture`.

    ``activation`` is the one of the sizes form, used when no activation layer says
    otherwise. Raises ``ValueError`` for any other order of layers, naming the entry.
    """
    names = tuple(spec.name for spec in specs)
    transform = None
    first = 0
    if names[:3] == POOL_PREFIX:
        transform = _pool(specs[:3])
        first = 3
    sizes, kind = dense(specs, first, activation)
    return Architecture(sizes, kind, transform, first)


def _pool(specs: Sequence[LayerSpec]) -> AvgPool:
    unflatten, pool, _ = specs
    image = unflatten.params["unflattened_size"]
    (kh, kw), stride = pool.params["kernel_size"], pool.params["stride"]
    if len(image) != 3 or unflatten.params["dim"] not in (1, -1):
        raise ValueError(
            f"layers[0] = {unflatten}: expected Unflatten(1, (C, H, W)), one image per row"
        )
    if kh != kw or stride != (kh, kw):
        raise ValueError(
            f"layers[1] = {pool}: evolution pools square k x k blocks with stride k, "
            "as AvgPool2d(k)"
        )
    return AvgPool((image[0], image[1], image[2]), kh)
