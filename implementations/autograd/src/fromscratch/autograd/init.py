"""Creating tensors: ``tensor``, ``zeros``, ``ones``, ``randn``, ``rand`` and the seed.

Random numbers come from a NumPy :class:`~numpy.random.Generator`. Functions that draw
take ``generator=``; without it they use a module-wide generator that
:func:`manual_seed` resets, the way ``torch.manual_seed`` resets torch's.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import DTypeLike

from .tensor import Tensor

_generator = np.random.default_rng()


def manual_seed(seed: int) -> np.random.Generator:
    """Reseed the default generator (for layers and draws without ``generator=``)."""
    global _generator
    _generator = np.random.default_rng(seed)
    return _generator


def default_generator() -> np.random.Generator:
    return _generator


def _shape(size: tuple[Any, ...]) -> tuple[int, ...]:
    if len(size) == 1 and isinstance(size[0], tuple | list):
        return tuple(size[0])
    return tuple(size)


def tensor(data: Any, dtype: DTypeLike | None = None, requires_grad: bool = False) -> Tensor:
    """A new tensor holding a copy of ``data`` (as ``torch.tensor``)."""
    return Tensor(data, requires_grad=requires_grad, dtype=dtype)


def zeros(*size: Any, dtype: DTypeLike = np.float32, requires_grad: bool = False) -> Tensor:
    return Tensor(np.zeros(_shape(size), dtype=dtype), requires_grad=requires_grad)


def ones(*size: Any, dtype: DTypeLike = np.float32, requires_grad: bool = False) -> Tensor:
    return Tensor(np.ones(_shape(size), dtype=dtype), requires_grad=requires_grad)


def zeros_like(x: Tensor, requires_grad: bool = False) -> Tensor:
    return Tensor(np.zeros_like(x.data), requires_grad=requires_grad)


def ones_like(x: Tensor, requires_grad: bool = False) -> Tensor:
    return Tensor(np.ones_like(x.data), requires_grad=requires_grad)


def randn(
    *size: Any,
    dtype: DTypeLike = np.float32,
    requires_grad: bool = False,
    generator: np.random.Generator | None = None,
) -> Tensor:
    """Standard normal entries."""
    rng = _generator if generator is None else generator
    return Tensor(rng.standard_normal(_shape(size)), dtype=dtype, requires_grad=requires_grad)


def rand(
    *size: Any,
    dtype: DTypeLike = np.float32,
    requires_grad: bool = False,
    generator: np.random.Generator | None = None,
) -> Tensor:
    """Uniform entries in [0, 1)."""
    rng = _generator if generator is None else generator
    return Tensor(rng.random(_shape(size)), dtype=dtype, requires_grad=requires_grad)
