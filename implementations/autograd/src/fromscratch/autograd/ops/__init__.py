"""Every differentiable operation on tensors, one family per module.

Each op computes its output with NumPy and hands :meth:`Tensor._make` a ``backward``
closure that turns the upstream gradient into one gradient per input. The docstrings give
both directions in LaTeX, with :math:`\\bar{o} = \\partial L / \\partial o` for the upstream
gradient of the output :math:`o`.

* :mod:`.broadcast` -- turning operands into tensors, and summing gradients back over
  broadcast dimensions;
* :mod:`.arithmetic` -- ``+ - * / **``, negation, comparisons;
* :mod:`.unary` -- exp, log, sqrt, abs, tanh, sigmoid, relu, dtype casts;
* :mod:`.reduce` -- sum, mean, var, std, max, cumsum, cumprod;
* :mod:`.linalg` -- matmul, einsum;
* :mod:`.shape` -- reshape, flatten, transpose, permute, indexing, cat, stack, pad;
* :mod:`.pieces` -- split, chunk, unbind;
* :mod:`.select` -- where, clamp, masked_fill, gather, triu, tril.

The fused neural-network ops (linear, softmax, the losses) are in
:mod:`fromscratch.autograd.nn.functional`.
"""

from .arithmetic import add, compare, div, mul, neg, pow, sub
from .broadcast import as_tensor, normalize_dim, normalize_dims, unbroadcast
from .linalg import einsum, matmul
from .pieces import chunk, split, unbind
from .reduce import cumprod, cumsum, max_all, max_dim, mean, std, sum, var
from .select import clamp, gather, masked_fill, tril, triu, where
from .shape import cat, flatten, getitem, pad, permute, reshape, stack, transpose, unflatten
from .unary import abs, exp, log, relu, sigmoid, sqrt, tanh, to_dtype

__all__ = [
    "abs",
    "add",
    "as_tensor",
    "cat",
    "chunk",
    "clamp",
    "compare",
    "cumprod",
    "cumsum",
    "div",
    "einsum",
    "exp",
    "flatten",
    "gather",
    "getitem",
    "log",
    "masked_fill",
    "matmul",
    "max_all",
    "max_dim",
    "mean",
    "mul",
    "neg",
    "normalize_dim",
    "normalize_dims",
    "pad",
    "permute",
    "pow",
    "relu",
    "reshape",
    "sigmoid",
    "split",
    "sqrt",
    "stack",
    "std",
    "sub",
    "sum",
    "tanh",
    "to_dtype",
    "transpose",
    "tril",
    "triu",
    "unbind",
    "unbroadcast",
    "unflatten",
    "var",
    "where",
]
