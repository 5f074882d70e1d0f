"""Creating tensors: ``tensor``, ``arange``, ``zeros``, ``ones``, ``full``, ``randn``,
``rand`` (each with its ``_like`` form) and the seed.

The dtypes are torch's: float32 unless ``dtype=`` says otherwise, except where the
values say it (``arange(5)`` and ``full((2,), 7)`` are int64, ``full((2,), True)`` bool).

Random numbers come from a NumPy :class:`~numpy.random.Generator`. Functions that draw
take ``generator=``; without it they use a module-wide generator that
:func:`manual_seed` resets, the way ``torch.manual_seed`` resets torch's.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import DTypeLike

from .tensor import Array, Tensor

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


def _fill_dtype(value: Any, dtype: DTypeLike | None) -> DTypeLike:
    """torch's dtype for a fill value: bool, int64 for integers, else float32."""
    if dtype is not None:
        return dtype
    if isinstance(value, bool | np.bool_):
        return np.bool_
    if isinstance(value, int | np.integer):
        return np.int64
    return np.float32


def arange(
    start: float,
    end: float | None = None,
    step: float = 1,
    *,
    dtype: DTypeLike | None = None,
    requires_grad: bool = False,
) -> Tensor:
    """``start, start + step, ...`` up to ``end`` (excluded); ``arange(n)`` is 0 .. n-1.

    int64 when every argument is an integer, float32 otherwise, as torch.
    """
    if end is None:
        start, end = 0, start
    if step == 0:
        raise RuntimeError("arange(): step must be nonzero")
    if (end - start) * step < 0:
        raise RuntimeError(
            f"arange(): upper bound {end} and lower bound {start} inconsistent with step "
            f"sign {step}"
        )
    integers = all(isinstance(v, int | np.integer) for v in (start, end, step))
    n = max(int(np.ceil((end - start) / step)), 0)
    steps: Array = np.arange(n, dtype=np.int64 if integers else np.float64)
    values = start + steps * step
    if dtype is None:
        dtype = np.int64 if integers else np.float32
    return Tensor(values, dtype=dtype, requires_grad=requires_grad)


def zeros(*size: Any, dtype: DTypeLike = np.float32, requires_grad: bool = False) -> Tensor:
    return Tensor(np.zeros(_shape(size), dtype=dtype), requires_grad=requires_grad)


def ones(*size: Any, dtype: DTypeLike = np.float32, requires_grad: bool = False) -> Tensor:
    return Tensor(np.ones(_shape(size), dtype=dtype), requires_grad=requires_grad)


def full(
    size: Any, fill_value: Any, *, dtype: DTypeLike | None = None, requires_grad: bool = False
) -> Tensor:
    """Every entry ``fill_value``; the dtype follows the value (see :func:`_fill_dtype`)."""
    shape = _shape((size,)) if isinstance(size, tuple | list) else (int(size),)
    return Tensor(
        np.full(shape, fill_value, dtype=_fill_dtype(fill_value, dtype)),
        requires_grad=requires_grad,
    )


def zeros_like(x: Tensor, *, dtype: DTypeLike | None = None, requires_grad: bool = False) -> Tensor:
    return Tensor(np.zeros_like(x.data, dtype=dtype), requires_grad=requires_grad)


def ones_like(x: Tensor, *, dtype: DTypeLike | None = None, requires_grad: bool = False) -> Tensor:
    return Tensor(np.ones_like(x.data, dtype=dtype), requires_grad=requires_grad)


def full_like(
    x: Tensor, fill_value: Any, *, dtype: DTypeLike | None = None, requires_grad: bool = False
) -> Tensor:
    """``x``'s shape and dtype (unless ``dtype=``), every entry ``fill_value``."""
    return Tensor(np.full_like(x.data, fill_value, dtype=dtype), requires_grad=requires_grad)


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


def rand_like(
    x: Tensor,
    *,
    dtype: DTypeLike | None = None,
    requires_grad: bool = False,
    generator: np.random.Generator | None = None,
) -> Tensor:
    """Uniform entries in [0, 1), of ``x``'s shape and floating dtype."""
    return rand(
        x.shape, dtype=_like_dtype(x, dtype), requires_grad=requires_grad, generator=generator
    )


def randn_like(
    x: Tensor,
    *,
    dtype: DTypeLike | None = None,
    requires_grad: bool = False,
    generator: np.random.Generator | None = None,
) -> Tensor:
    """Standard normal entries, of ``x``'s shape and floating dtype."""
    return randn(
        x.shape, dtype=_like_dtype(x, dtype), requires_grad=requires_grad, generator=generator
    )


def _like_dtype(x: Tensor, dtype: DTypeLike | None) -> DTypeLike:
    chosen = np.dtype(x.dtype if dtype is None else dtype)
    if chosen.kind != "f":
        raise RuntimeError(f"random draws need a floating dtype, got {chosen} (pass dtype=)")
    return chosen
