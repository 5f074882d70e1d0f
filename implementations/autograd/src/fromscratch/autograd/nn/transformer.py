r"""``TransformerEncoderLayer``: self-attention, then a two-layer MLP, each added back.

With :math:`\mathrm{SA}` the multi-head self-attention and
:math:`\mathrm{FF}(x) = W_2\, \mathrm{relu}(W_1 x + b_1) + b_2` applied at every position,
torch's two orders are

.. math::

    \text{norm\_first (pre-norm, GPT):}\quad
    x \leftarrow x + \mathrm{SA}(\mathrm{LN}_1(x)), \quad
    x \leftarrow x + \mathrm{FF}(\mathrm{LN}_2(x))

    \text{post-norm (the 2017 paper):}\quad
    x \leftarrow \mathrm{LN}_1(x + \mathrm{SA}(x)), \quad
    x \leftarrow \mathrm{LN}_2(x + \mathrm{FF}(x))

The additions are what make a deep stack trainable: the gradient reaches every layer
through the identity path unchanged. Used with a causal ``src_mask``, position t sees
positions 0..t only. Parameter names are torch's: ``self_attn.in_proj_weight``,
``linear1``, ``linear2``, ``norm1``, ``norm2``.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import DTypeLike

from .. import ops
from ..init import default_generator
from ..tensor import Tensor
from .attention import MultiheadAttention
from .layers import Linear
from .module import Module
from .normalization import LayerNorm


class TransformerEncoderLayer(Module):
    """``torch.nn.TransformerEncoderLayer`` with ``activation="relu"`` and no dropout
    (``dropout=0.0`` must be passed: torch's default 0.1 is not implemented here)."""

    def __init__(
        self,
        d_model: int,
        nhead: int,
        dim_feedforward: int = 2048,
        dropout: float = 0.1,
        activation: str = "relu",
        layer_norm_eps: float = 1e-5,
        batch_first: bool = False,
        norm_first: bool = False,
        bias: bool = True,
        dtype: DTypeLike = np.float32,
        generator: np.random.Generator | None = None,
    ) -> None:
        super().__init__()
        if dropout != 0.0:
            raise ValueError(
                f"dropout={dropout}: dropout is not implemented in TransformerEncoderLayer here; "
                "pass dropout=0.0"
            )
        if activation != "relu":
            raise ValueError(f"activation={activation!r}: only 'relu' is implemented here")
        rng = default_generator() if generator is None else generator
        self.norm_first, self.batch_first = norm_first, batch_first
        # torch's order of creation, so that one seed draws the same kinds of numbers in turn
        self.self_attn = MultiheadAttention(
            d_model, nhead, bias=bias, batch_first=batch_first, dtype=dtype, generator=rng
        )
        self.linear1 = Linear(d_model, dim_feedforward, bias=bias, dtype=dtype, generator=rng)
        self.linear2 = Linear(dim_feedforward, d_model, bias=bias, dtype=dtype, generator=rng)
        self.norm1 = LayerNorm(d_model, eps=layer_norm_eps, bias=bias, dtype=dtype)
        self.norm2 = LayerNorm(d_model, eps=layer_norm_eps, bias=bias, dtype=dtype)

    def forward(
        self,
        src: Tensor,
        src_mask: Any = None,
        src_key_padding_mask: Any = None,
        is_causal: bool = False,
    ) -> Tensor:
        x = src
        if self.norm_first:
            x = x + self._sa(self.norm1(x), src_mask, src_key_padding_mask, is_causal)
            x = x + self._ff(self.norm2(x))
        else:
            x = self.norm1(x + self._sa(x, src_mask, src_key_padding_mask, is_causal))
            x = self.norm2(x + self._ff(x))
        return x

    def _sa(self, x: Tensor, mask: Any, padding: Any, is_causal: bool) -> Tensor:
        out, _ = self.self_attn(
            x,
            x,
            x,
            attn_mask=mask,
            key_padding_mask=padding,
            need_weights=False,
            is_causal=is_causal,
        )
        return out  # type: ignore[no-any-return]

    def _ff(self, x: Tensor) -> Tensor:
        return self.linear2(ops.relu(self.linear1(x)))  # type: ignore[no-any-return]
