r"""Ops that move entries around without changing them.

Each output entry *is* some input entry, so the backward moves each gradient entry back
to where its value came from: reshape un-reshapes, a permutation applies the inverse
permutation, indexing scatters into zeros, ``cat`` and ``stack`` cut the gradient into
the pieces they glued.
"""

from __future__ import annotations

from collections.abc import Sequence
from math import prod
from typing import Any

import numpy as np

from ..tensor import Array, Tensor
from .broadcast import normalize_dim


def reshape(x: Tensor, shape: tuple[int, ...]) -> Tensor:
    r"""The same entries in a new shape (``-1`` infers one size); :math:`\bar{x}` is
    :math:`\bar{o}` reshaped back.

    ``view`` is the same op here: NumPy copies when it must, where torch's ``view``
    refuses non-contiguous input.
    """
    try:
        out = x.data.reshape(shape)
    except ValueError:
        raise RuntimeError(
            f"shape {list(shape)} is invalid for input of size {x.data.size} (shape {x.shape})"
        ) from None

    def backward(dL_dout: Array) -> tuple[Array]:
        return (dL_dout.reshape(x.data.shape),)

    return Tensor._make(out, (x,), backward, "ViewBackward")


def flatten(x: Tensor, start_dim: int = 0, end_dim: int = -1) -> Tensor:
    r"""Dimensions ``start_dim`` to ``end_dim`` merged into one, as ``torch.flatten``: a
    :func:`reshape`, so :math:`\bar{x}` is :math:`\bar{o}` reshaped back. A 0-d tensor
    becomes shape (1,)."""
    shape = x.data.shape
    start, end = normalize_dim(start_dim, x.data.ndim), normalize_dim(end_dim, x.data.ndim)
    if start > end:
        raise RuntimeError(
            f"flatten() has invalid args: start_dim cannot come after end_dim "
            f"(start_dim={start_dim}, end_dim={end_dim})"
        )
    if x.data.ndim == 0:
        return reshape(x, (1,))
    merged = 1
    for n in shape[start : end + 1]:
        merged *= n
    return reshape(x, (*shape[:start], merged, *shape[end + 1 :]))


def unflatten(x: Tensor, dim: int, sizes: Sequence[int]) -> Tensor:
    r"""Dimension ``dim`` split into ``sizes`` (one may be -1), as ``torch.unflatten``:
    the inverse of :func:`flatten`, also a :func:`reshape`."""
    axis = normalize_dim(dim, x.data.ndim)
    if x.data.ndim == 0:
        raise RuntimeError("unflatten(): a 0-d tensor has no dimension to split")
    shape = x.data.shape
    parts = [int(n) for n in sizes]
    if parts.count(-1) == 1:  # inferred from this dimension alone, not from the whole size
        known = prod(n for n in parts if n != -1)
        if known == 0 or shape[axis] % known:
            raise RuntimeError(
                f"unflatten(): sizes {tuple(sizes)} cannot split dimension {axis} of size "
                f"{shape[axis]}"
            )
        parts[parts.index(-1)] = shape[axis] // known
    if prod(parts) != shape[axis]:
        raise RuntimeError(
            f"unflatten(): sizes {tuple(sizes)} do not multiply to {shape[axis]}, the size of "
            f"dimension {axis}"
        )
    return reshape(x, (*shape[:axis], *parts, *shape[axis + 1 :]))


def permute(x: Tensor, dims: Sequence[int]) -> Tensor:
    r"""Reorder the dimensions: :math:`o` has dimension ``dims[i]`` of :math:`x` at
    position :math:`i`; :math:`\bar{x}` is :math:`\bar{o}` under the inverse permutation."""
    if len(dims) != x.data.ndim:
        raise RuntimeError(
            f"permute(): number of dims {len(dims)} does not match the tensor's {x.data.ndim}"
        )
    axes = tuple(normalize_dim(d, x.data.ndim) for d in dims)
    if len(set(axes)) != len(axes):
        raise RuntimeError(f"permute(): duplicate dims are not allowed, got {tuple(dims)}")
    inverse = tuple(int(i) for i in np.argsort(axes))

    def backward(dL_dout: Array) -> tuple[Array]:
        return (dL_dout.transpose(inverse),)

    return Tensor._make(x.data.transpose(axes), (x,), backward, "PermuteBackward")


def transpose(x: Tensor, dim0: int, dim1: int) -> Tensor:
    r"""Swap two dimensions; swapping them again is the backward."""
    i, j = normalize_dim(dim0, x.data.ndim), normalize_dim(dim1, x.data.ndim)
    if x.data.ndim == 0:  # torch accepts dims 0 and -1 of a scalar: nothing to swap
        return x[()]

    def backward(dL_dout: Array) -> tuple[Array]:
        return (np.swapaxes(dL_dout, i, j),)

    return Tensor._make(np.swapaxes(x.data, i, j), (x,), backward, "TransposeBackward")


def _index_part(part: Any) -> Any:
    """One entry of an index as NumPy reads it: an int, slice, None, Ellipsis or an array.

    As torch does, a 0-d integer tensor counts as an integer, a list as an index tensor
    (an empty one as an empty integer index), and a negative slice step is refused.
    """
    if isinstance(part, Tensor):
        part = part.data
    if isinstance(part, list):
        part = np.asarray(part) if part else np.zeros(0, dtype=np.int64)
    if isinstance(part, np.ndarray) and part.ndim == 0 and part.dtype.kind in "iu":
        return int(part)
    return part


def _split_index(key: Any, ndim: int) -> tuple[tuple[Any, ...], tuple[Any, ...] | None]:
    """``key`` as torch applies it: a basic index, then an advanced one on the result.

    torch first applies every integer, slice and ``None`` (integers drop their dimension),
    and only then the index arrays, at the positions their dimensions have *in that
    result*. NumPy treats an integer as one more index array instead, which moves the
    result's dimensions elsewhere: on a (2, 3, 4) tensor ``x[0, :, [0, 1]]`` is (3, 2) in
    torch and (2, 3) in NumPy. Applying the two steps one after the other in NumPy gives
    torch's rule. The advanced index is None when there are no index arrays.
    """
    parts = [_index_part(p) for p in (key if isinstance(key, tuple) else (key,))]
    arrays = [p for p in parts if isinstance(p, np.ndarray | np.bool_ | bool)]
    consumed = sum(
        np.ndim(p) if np.asarray(p).dtype == np.bool_ else 1
        for p in parts
        if p is not None and p is not Ellipsis
    )
    if sum(p is Ellipsis for p in parts) > 1:  # torch's answers here are inconsistent
        raise IndexError("an index can only have a single ellipsis ('...')")
    if consumed > ndim:
        raise IndexError(f"too many indices for tensor of dimension {ndim}")
    for p in parts:
        if isinstance(p, slice) and p.step is not None and p.step <= 0:
            raise ValueError(f"step must be greater than zero, got slice step {p.step}")
    fill = [slice(None)] * (ndim - consumed)
    if any(p is Ellipsis for p in parts):
        at = next(i for i, p in enumerate(parts) if p is Ellipsis)
        parts = parts[:at] + fill + parts[at + 1 :]
    else:
        parts = parts + fill
    if not arrays:
        return tuple(parts), None
    basic: list[Any] = []
    advanced: list[Any] = []  # one entry per dimension of the basic result
    for p in parts:
        if isinstance(p, np.ndarray | np.bool_ | bool):
            masked = np.ndim(p) if np.asarray(p).dtype == np.bool_ else 1
            basic.extend([slice(None)] * masked)
            advanced.append(p)
        else:
            basic.append(p)
            if not isinstance(p, int | np.integer):  # a slice or None keeps one dimension
                advanced.append(slice(None))
    return tuple(basic), tuple(advanced)


def _within(advanced: tuple[Any, ...], shape: tuple[int, ...]) -> tuple[Any, ...]:
    """Index arrays clipped into their dimensions' range, for an empty tensor only.

    torch reads no entry of an empty tensor, so it checks no index into a non-empty
    dimension of one: ``zeros(3, 0, 2)[:, :, [5]]`` is a (3, 0, 1) tensor, not an error.
    An index into a dimension of size 0 is still refused.
    """
    clipped, dim = [], 0
    for part in advanced:
        if isinstance(part, np.ndarray) and part.dtype.kind in "iu" and shape[dim]:
            part = np.clip(part, -shape[dim], shape[dim] - 1)
        clipped.append(part)
        dim += np.ndim(part) if np.asarray(part).dtype == np.bool_ else 1
    return tuple(clipped)


def getitem(x: Tensor, key: Any) -> Tensor:
    r"""Indexing, ``x[key]``, with torch's rules: basic (integers, slices, ``None``,
    ``...``) and advanced (integer or boolean arrays, lists), in any mix.

    Each output entry is one input entry, so its gradient goes back there. An index
    array may pick the same entry several times; then the gradients add up:

    .. math::

        \bar{x}_j = \sum_{i \,:\, \text{key}_i = j} \bar{o}_i

    which is what ``np.add.at`` computes (plain ``x[key] += g`` would keep only one).
    See :func:`_split_index` for the order in which the parts of ``key`` apply.
    """
    basic, advanced = _split_index(key, x.data.ndim)
    out = x.data[(*basic, ...)]  # the trailing ... keeps even a 0-d result a view
    if advanced is not None:
        try:
            out = out[advanced]
        except IndexError:
            if out.size:
                raise
            advanced = _within(advanced, out.shape)
            out = out[advanced]
    out = np.asarray(out)

    def backward(dL_dout: Array) -> tuple[Array]:
        dL_dx = np.zeros_like(x.data)
        if advanced is None:  # every entry appears once: a plain assignment is exact
            dL_dx[basic] = dL_dout
        else:  # dL_dx[basic] is a view: adding into it adds into dL_dx
            np.add.at(dL_dx[(*basic, ...)], advanced, dL_dout)
        return (dL_dx,)

    return Tensor._make(out, (x,), backward, "IndexBackward")


def cat(tensors: Sequence[Tensor], dim: int = 0) -> Tensor:
    r"""Join tensors along an existing dimension; :math:`\bar{x}_k` is the slice of
    :math:`\bar{o}` that :math:`x_k` filled."""
    parts = tuple(tensors)
    if not parts:
        raise RuntimeError("cat(): expected a non-empty list of Tensors")
    for k, t in enumerate(parts):
        if t.data.ndim == 0:
            raise RuntimeError(
                f"zero-dimensional tensor (at position {k}) cannot be concatenated; "
                "use stack, or unsqueeze it first"
            )
    axis = normalize_dim(dim, parts[0].data.ndim)
    try:
        out = np.concatenate([t.data for t in parts], axis=axis)
    except ValueError as exc:
        shapes = [t.shape for t in parts]
        raise RuntimeError(
            f"Sizes of tensors must match except in dimension {axis}; got shapes {shapes}: {exc}"
        ) from None
    bounds = np.cumsum([t.data.shape[axis] for t in parts])[:-1]

    def backward(dL_dout: Array) -> list[Array]:
        return np.split(dL_dout, bounds, axis=axis)

    return Tensor._make(out, parts, backward, "CatBackward")


def stack(tensors: Sequence[Tensor], dim: int = 0) -> Tensor:
    r"""Join equally shaped tensors along a new dimension; :math:`\bar{x}_k` is
    :math:`\bar{o}` at index :math:`k` of that dimension."""
    parts = tuple(tensors)
    if not parts:
        raise RuntimeError("stack expects a non-empty TensorList")
    axis = normalize_dim(dim, parts[0].data.ndim + 1)
    shapes = [t.shape for t in parts]
    if any(shape != shapes[0] for shape in shapes):
        raise RuntimeError(f"stack expects each tensor to be equal size, but got {shapes}")
    out = np.stack([t.data for t in parts], axis=axis)

    def backward(dL_dout: Array) -> list[Array]:
        return [np.take(dL_dout, k, axis=axis) for k in range(len(parts))]

    return Tensor._make(out, parts, backward, "StackBackward")


def pad(
    x: Tensor, pad: Sequence[int], mode: str = "constant", value: float | None = None
) -> Tensor:
    r"""Pad (or, with negative amounts, crop) the last dimensions, as ``torch.nn.functional.pad``.

    ``pad`` lists (left, right) amounts from the last dimension backwards:
    ``(1, 2)`` pads the last dimension with one entry before and two after, ``(1, 2, 0, 3)``
    also the one before it. The input sits inside the output as a block, so the gradient
    is that block of :math:`\bar{o}` (the padding is constant: it gets nothing):

    .. math::

        o = \begin{bmatrix} v & \cdots & v \\ \vdots & x & \vdots \\ v & \cdots & v
        \end{bmatrix}, \qquad \bar{x} = \bar{o}[\text{block}]

    Only ``mode="constant"`` is implemented.
    """
    if mode != "constant":
        raise NotImplementedError(f"pad(): only mode='constant' is implemented, got mode={mode!r}")
    amounts = [int(p) for p in pad]
    if len(amounts) % 2:
        raise RuntimeError(f"Padding length must be divisible by 2, got {len(amounts)}")
    if len(amounts) // 2 > x.data.ndim:
        raise RuntimeError(
            f"Padding length too large: {len(amounts)} amounts for a tensor of dimension "
            f"{x.data.ndim} (at most {2 * x.data.ndim})"
        )
    shape = list(x.data.shape)
    inside: list[slice] = [slice(None)] * x.data.ndim  # the block of x that is kept
    block: list[slice] = [slice(None)] * x.data.ndim  # where it lands in the output
    for k in range(len(amounts) // 2):
        d = x.data.ndim - 1 - k
        left, right = amounts[2 * k], amounts[2 * k + 1]
        kept = shape[d] + min(left, 0) + min(right, 0)  # negative pads crop, one side each
        if shape[d] + min(left, 0) < 0 or kept < 0:
            raise RuntimeError(
                f"narrow(): length must be non-negative: padding ({left}, {right}) crops more "
                f"than the {shape[d]} entries of dimension {d}"
            )
        inside[d] = slice(max(-left, 0), max(-left, 0) + kept)
        block[d] = slice(max(left, 0), max(left, 0) + kept)
        shape[d] = kept + max(left, 0) + max(right, 0)
    fill = 0 if value is None else value
    out = np.full(shape, fill, dtype=x.data.dtype)
    out[tuple(block)] = x.data[tuple(inside)]

    def backward(dL_dout: Array) -> tuple[Array]:
        dL_dx = np.zeros_like(x.data)
        dL_dx[tuple(inside)] = dL_dout[tuple(block)]
        return (dL_dx,)

    return Tensor._make(out, (x,), backward, "ConstantPadNdBackward")
