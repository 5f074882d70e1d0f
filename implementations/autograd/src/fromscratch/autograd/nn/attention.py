r"""Attention: every position takes a weighted mean of the values, weighted by how well
its query matches each key.

For queries :math:`Q` (L, d), keys :math:`K` (S, d) and values :math:`V` (S, d_v):

.. math::

    A = \operatorname{softmax}\!\Big(\frac{Q K^\top}{\sqrt{d}} + M\Big), \qquad O = A V

where the mask :math:`M` is 0 where query i may look at key j and :math:`-\infty` where it
may not (so :math:`A_{ij} = 0` there). *Causal* attention masks every key after the
query (:math:`j > i`): the output at position t depends on positions 0..t only, which is
what lets a language model be trained on every position of a window at once.

There is no backward written here: attention is composed of ops that each have one
(``matmul``, ``masked_fill``, ``softmax``, ``split``), and the engine chains them. The
multi-head layer runs ``num_heads`` attentions side by side on slices of the model
dimension, after the query, key and value projections that torch stores packed in one
``in_proj_weight`` of shape (3E, E): rows [0, E) project queries, [E, 2E) keys, [2E, 3E)
values.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from numpy.typing import DTypeLike

from .. import ops
from ..init import default_generator
from ..tensor import Tensor
from . import functional as F
from .module import Module, Parameter


def scaled_dot_product_attention(
    query: Tensor,
    key: Tensor,
    value: Tensor,
    attn_mask: Any = None,
    dropout_p: float = 0.0,
    is_causal: bool = False,
    scale: float | None = None,
) -> Tensor:
    """``torch.nn.functional.scaled_dot_product_attention`` (without dropout).

    ``attn_mask`` is boolean (True: *may* attend, torch's convention here) or a float
    mask added to the scores; ``is_causal`` masks every key after its query.
    """
    if dropout_p != 0.0:
        raise NotImplementedError("scaled_dot_product_attention: dropout_p must be 0.0 here")
    if is_causal and attn_mask is not None:
        raise RuntimeError(
            "_scaled_dot_product_attention: Explicit attn_mask should not be set when "
            "is_causal=True"
        )
    if min(query.ndim, key.ndim, value.ndim) < 2:
        raise RuntimeError(
            "Expected query, key, and value to all be at least 2 dimensional, but got "
            f"query.dim: {query.ndim} key.dim: {key.ndim} and value.dim: {value.ndim} instead."
        )
    d = query.shape[-1]
    if scale is None:
        scale = 1 / math.sqrt(d) if d else 1.0  # no dimensions: every score is 0 anyway
    scores = (query @ key.transpose(-2, -1)) * scale
    if is_causal:
        L, S = scores.shape[-2], scores.shape[-1]
        attn_mask = np.tril(np.ones((L, S), dtype=bool))
    if attn_mask is not None:
        mask = ops.as_tensor(attn_mask)
        if mask.data.dtype == np.bool_:
            scores = scores.masked_fill(~mask.data, -math.inf)
        else:
            scores = scores + mask
    return F.softmax(scores, dim=-1) @ value


def _merged_mask(
    attn_mask: Any, key_padding_mask: Any, n: int, heads: int, L: int, S: int, dtype: Any
) -> Any:
    """The float mask (n, heads, L, S) or (L, S) that MultiheadAttention adds to the scores:
    its boolean masks mean True = *may not* attend (the opposite of the function above)."""
    mask = None
    if attn_mask is not None:
        m = np.asarray(ops.as_tensor(attn_mask).data)
        m = np.where(m, -np.inf, 0.0).astype(dtype) if m.dtype == np.bool_ else m.astype(dtype)
        mask = m if m.ndim == 2 else m.reshape(n, heads, L, S)
    if key_padding_mask is not None:
        k = np.asarray(ops.as_tensor(key_padding_mask).data)
        k = np.where(k, -np.inf, 0.0).astype(dtype) if k.dtype == np.bool_ else k.astype(dtype)
        k = k.reshape(n, 1, 1, S)
        mask = k if mask is None else mask + k
    return mask


class MultiheadAttention(Module):
    r"""``torch.nn.MultiheadAttention(embed_dim, num_heads, bias=True, batch_first=False)``.

    ``in_proj_weight`` (3E, E) starts Xavier-uniform,
    :math:`\mathcal{U}(\pm\sqrt{6 / (E + 3E)})`, ``in_proj_bias`` and ``out_proj.bias`` at
    zero, ``out_proj.weight`` as any ``Linear``'s: torch's initialisation.
    """

    def __init__(
        self,
        embed_dim: int,
        num_heads: int,
        dropout: float = 0.0,
        bias: bool = True,
        batch_first: bool = False,
        dtype: DTypeLike = np.float32,
        generator: np.random.Generator | None = None,
    ) -> None:
        super().__init__()
        if embed_dim % num_heads:
            raise ValueError(f"embed_dim {embed_dim} must be divisible by num_heads {num_heads}")
        if dropout != 0.0:
            raise ValueError(
                f"dropout={dropout}: attention dropout is not implemented here; pass 0.0"
            )
        from .layers import Linear

        rng = default_generator() if generator is None else generator
        E = embed_dim
        self.embed_dim, self.num_heads, self.batch_first = E, num_heads, batch_first
        bound = math.sqrt(6 / (E + 3 * E))
        self.in_proj_weight = Parameter(rng.uniform(-bound, bound, (3 * E, E)), dtype=dtype)
        self.in_proj_bias: Parameter | None = (
            Parameter(np.zeros(3 * E), dtype=dtype) if bias else None
        )
        self.out_proj = Linear(E, E, bias=bias, dtype=dtype, generator=rng)
        if self.out_proj.bias is not None:
            self.out_proj.bias.data[...] = 0

    def forward(
        self,
        query: Tensor,
        key: Tensor,
        value: Tensor,
        key_padding_mask: Any = None,
        need_weights: bool = True,
        attn_mask: Any = None,
        average_attn_weights: bool = True,
        is_causal: bool = False,
    ) -> tuple[Tensor, Tensor | None]:
        """``(output, weights)``; ``weights`` averaged over heads (or per head), or None
        when ``need_weights=False``. ``is_causal`` is a hint that ``attn_mask`` is causal, as
        in torch: the mask itself must be given."""
        if is_causal and attn_mask is None:
            raise RuntimeError("Need attn_mask if specifying the is_causal hint")
        if not self.batch_first:  # (L, n, E) -> (n, L, E)
            query, key, value = (t.transpose(0, 1) for t in (query, key, value))
        n, L, E = query.shape
        S, h = key.shape[1], self.num_heads
        W_q, W_k, W_v = ops.chunk(self.in_proj_weight, 3, 0)
        b_q, b_k, b_v = (
            ops.chunk(self.in_proj_bias, 3, 0) if self.in_proj_bias is not None else (None,) * 3
        )
        if query is key and key is value:  # self-attention: one product for q, k and v
            q, k, v = ops.chunk(F.linear(query, self.in_proj_weight, self.in_proj_bias), 3, -1)
        else:
            q, k, v = F.linear(query, W_q, b_q), F.linear(key, W_k, b_k), F.linear(value, W_v, b_v)
        # (n, T, E) -> (n, h, T, E/h): each head sees its own slice of the dimensions
        q, k, v = (t.reshape(n, t.shape[1], h, E // h).transpose(1, 2) for t in (q, k, v))
        scores = (q @ k.transpose(-2, -1)) * (1 / math.sqrt(E // h))
        mask = _merged_mask(attn_mask, key_padding_mask, n, h, L, S, scores.dtype)
        if mask is not None:
            scores = scores + Tensor._wrap(mask)
        A = F.softmax(scores, dim=-1)
        out = (A @ v).transpose(1, 2).reshape(n, L, E)  # the heads side by side again
        out = self.out_proj(out)
        if not self.batch_first:
            out = out.transpose(0, 1)
        if not need_weights:
            return out, None
        return out, (A.mean(dim=1) if average_attn_weights else A)

    def extra_repr(self) -> str:
        return (
            f"embed_dim={self.embed_dim}, num_heads={self.num_heads}, "
            f"batch_first={self.batch_first}"
        )
