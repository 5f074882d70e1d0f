r"""Layers: ``Linear``, the activations as modules, ``Flatten``, ``Unflatten`` and
``Sequential``.

The convolution, pooling, normalization and dropout layers live beside their ops, in
:mod:`.convolution`, :mod:`.pooling`, :mod:`.batchnorm` and :mod:`.dropout`.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np
from numpy.typing import DTypeLike

from .. import ops
from ..init import default_generator
from ..tensor import Tensor
from . import functional as F
from .module import Module, Parameter


class Linear(Module):
    r"""The fully connected layer :math:`z = x W^\top + b`, like ``torch.nn.Linear``.

    ``weight`` has shape (out, in), one row per output unit, and ``bias`` shape (out,).
    Both start as torch's default, :math:`\mathcal{U}(-1/\sqrt{\text{in}}, 1/\sqrt{\text{in}})`
    (its Kaiming-uniform with :math:`a = \sqrt{5}` reduces to exactly that), drawn from
    ``generator`` (a :class:`numpy.random.Generator`; the global one of
    :func:`~fromscratch.autograd.manual_seed` when omitted), the weight first.
    The forward and backward are :func:`~.functional.linear`.
    """

    def __init__(
        self,
        in_features: int,
        out_features: int,
        bias: bool = True,
        dtype: DTypeLike = np.float32,
        generator: np.random.Generator | None = None,
    ) -> None:
        super().__init__()
        rng = default_generator() if generator is None else generator
        self.in_features, self.out_features = in_features, out_features
        bound = 1 / math.sqrt(in_features)
        self.weight = Parameter(
            rng.uniform(-bound, bound, size=(out_features, in_features)), dtype=dtype
        )
        self.bias: Parameter | None = (
            Parameter(rng.uniform(-bound, bound, size=out_features), dtype=dtype) if bias else None
        )

    def forward(self, x: Tensor) -> Tensor:
        return F.linear(x, self.weight, self.bias)

    def extra_repr(self) -> str:
        return (
            f"in_features={self.in_features}, out_features={self.out_features}, "
            f"bias={self.bias is not None}"
        )


class ReLU(Module):
    """:math:`\\max(x, 0)` as a module."""

    def forward(self, x: Tensor) -> Tensor:
        return ops.relu(x)


class Sigmoid(Module):
    """:math:`1 / (1 + e^{-x})` as a module."""

    def forward(self, x: Tensor) -> Tensor:
        return ops.sigmoid(x)


class Tanh(Module):
    """:math:`\\tanh x` as a module."""

    def forward(self, x: Tensor) -> Tensor:
        return ops.tanh(x)


class Flatten(Module):
    """Dimensions ``start_dim`` to ``end_dim`` merged into one, by default every dimension
    but the batch: (N, C, H, W) becomes (N, C * H * W). See
    :func:`~fromscratch.autograd.ops.shape.flatten`."""

    def __init__(self, start_dim: int = 1, end_dim: int = -1) -> None:
        super().__init__()
        self.start_dim, self.end_dim = start_dim, end_dim

    def forward(self, x: Tensor) -> Tensor:
        return ops.flatten(x, self.start_dim, self.end_dim)

    def extra_repr(self) -> str:
        return f"start_dim={self.start_dim}, end_dim={self.end_dim}"


class Unflatten(Module):
    """Dimension ``dim`` split into ``unflattened_size``: ``Unflatten(1, (1, 28, 28))``
    turns rows of 784 pixels into one-channel 28 x 28 images."""

    def __init__(self, dim: int, unflattened_size: Sequence[int]) -> None:
        super().__init__()
        self.dim, self.unflattened_size = dim, tuple(unflattened_size)

    def forward(self, x: Tensor) -> Tensor:
        return ops.unflatten(x, self.dim, self.unflattened_size)

    def extra_repr(self) -> str:
        return f"dim={self.dim}, unflattened_size={self.unflattened_size}"


class Sequential(Module):
    """Modules applied one after the other, registered as ``"0"``, ``"1"``, ...

    So the parameters of ``Sequential(Linear, ReLU, Linear)`` are named ``"0.weight"``,
    ``"0.bias"``, ``"2.weight"``, ``"2.bias"``: torch's layout.
    """

    def __init__(self, *modules: Module) -> None:
        super().__init__()
        for index, module in enumerate(modules):
            setattr(self, str(index), module)
        self._chain = list(modules)

    def forward(self, x: Any) -> Any:
        for module in self._chain:
            x = module(x)
        return x

    def __getitem__(self, index: int) -> Module:
        return self._chain[index]

    def __len__(self) -> int:
        return len(self._chain)

    def __iter__(self) -> Iterator[Module]:
        return iter(self._chain)
