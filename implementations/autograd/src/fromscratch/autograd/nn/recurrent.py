r"""Recurrent layers: ``RNN``, ``LSTM`` and ``GRU``, one time step at a time.

Each layer carries a hidden state :math:`h_t` (and the LSTM a cell state :math:`c_t`)
along the sequence, starting from zeros. With :math:`x_t` the input at step t and
:math:`\sigma` the logistic function, the steps are torch's, gates stacked in its order:

* ``RNN``: :math:`h_t = \tanh(W_{ih} x_t + b_{ih} + W_{hh} h_{t-1} + b_{hh})`;
* ``LSTM`` (gates input, forget, cell, output):

  .. math::

      [i; f; g; o] = W_{ih} x_t + b_{ih} + W_{hh} h_{t-1} + b_{hh}, \qquad
      c_t = \sigma(f) \odot c_{t-1} + \sigma(i) \odot \tanh(g), \qquad
      h_t = \sigma(o) \odot \tanh(c_t)

* ``GRU`` (gates reset, update, new):

  .. math::

      r = \sigma(\cdot_r), \quad z = \sigma(\cdot_z), \quad
      n = \tanh(W_{in} x_t + b_{in} + r \odot (W_{hn} h_{t-1} + b_{hn})), \quad
      h_t = (1 - z) \odot n + z \odot h_{t-1}

There is no backward here: backpropagation through time is the engine walking back
through the T copies of this step that the loop recorded (``matrix`` writes it out by
hand). Two details keep it fast: the input projection :math:`W_{ih} x_t + b_{ih}` of
every step is one product over the whole sequence, and the sequence is cut into steps by
``unbind``, whose backward costs one pass over the sequence, not one per step.

``num_layers=2`` stacks two layers: the second reads the first's output sequence.
``output`` is the last layer's :math:`h_t` for every t, and ``h_n`` (``c_n``) the last
step's state of each layer, shape (num_layers, n, hidden).
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

State = tuple[Tensor, ...]  # (h,) or, for the LSTM, (h, c)


def rnn_tanh_step(gx: Tensor, gh: Tensor, state: State) -> State:
    return (ops.tanh(gx + gh),)


def rnn_relu_step(gx: Tensor, gh: Tensor, state: State) -> State:
    return (ops.relu(gx + gh),)


def lstm_step(gx: Tensor, gh: Tensor, state: State) -> State:
    """``gx`` and ``gh`` are the two projections, (n, 4H) each: input, forget, cell, output."""
    _, c = state
    i, f, g, o = ops.chunk(gx + gh, 4, -1)
    c = ops.sigmoid(f) * c + ops.sigmoid(i) * ops.tanh(g)
    h = ops.sigmoid(o) * ops.tanh(c)
    return h, c


def gru_step(gx: Tensor, gh: Tensor, state: State) -> State:
    """``gx``, ``gh`` (n, 3H) each: reset, update, new. The reset gate scales only the
    hidden part of the new gate, so the two projections stay apart."""
    (h,) = state
    x_r, x_z, x_n = ops.chunk(gx, 3, -1)
    h_r, h_z, h_n = ops.chunk(gh, 3, -1)
    r = ops.sigmoid(x_r + h_r)
    z = ops.sigmoid(x_z + h_z)
    n = ops.tanh(x_n + r * h_n)
    return ((1 - z) * n + z * h,)


class _Recurrent(Module):
    """The layer loop shared by the three; a subclass gives its step and gate count."""

    gates: int
    states: int = 1

    def step(self, gx: Tensor, gh: Tensor, state: State) -> State:
        raise NotImplementedError

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        num_layers: int = 1,
        bias: bool = True,
        batch_first: bool = False,
        dropout: float = 0.0,
        bidirectional: bool = False,
        dtype: DTypeLike = np.float32,
        generator: np.random.Generator | None = None,
    ) -> None:
        super().__init__()
        if bidirectional:
            raise ValueError("bidirectional=True is not implemented here; pass False")
        if dropout != 0.0:
            raise ValueError(f"dropout={dropout} between layers is not implemented here; pass 0.0")
        if num_layers < 1:
            raise ValueError(f"num_layers must be at least 1, got {num_layers}")
        rng = default_generator() if generator is None else generator
        self.input_size, self.hidden_size, self.num_layers = input_size, hidden_size, num_layers
        self.bias, self.batch_first = bias, batch_first
        k = 1 / math.sqrt(hidden_size)  # torch draws every weight and bias from U(-k, k)
        G = self.gates * hidden_size
        for layer in range(num_layers):
            n_in = input_size if layer == 0 else hidden_size
            shapes: dict[str, tuple[int, ...]] = {
                "weight_ih": (G, n_in),
                "weight_hh": (G, hidden_size),
            }
            if bias:
                shapes |= {"bias_ih": (G,), "bias_hh": (G,)}
            for name, shape in shapes.items():
                setattr(self, f"{name}_l{layer}", Parameter(rng.uniform(-k, k, shape), dtype=dtype))

    def _layer(self, layer: int) -> tuple[Tensor, Tensor, Tensor | None, Tensor | None]:
        p = self._parameters
        b_ih, b_hh = p.get(f"bias_ih_l{layer}"), p.get(f"bias_hh_l{layer}")
        return p[f"weight_ih_l{layer}"], p[f"weight_hh_l{layer}"], b_ih, b_hh

    def forward(self, input: Tensor, hx: Any = None) -> tuple[Tensor, Any]:
        """``(output, h_n)``, or for the LSTM ``(output, (h_n, c_n))``, as torch."""
        batched = input.ndim == 3
        if input.ndim not in (2, 3):
            raise ValueError(
                f"{type(self).__name__}: expected a 2-D or 3-D input, got shape {input.shape}"
            )
        x = input if batched else input.unsqueeze(0 if self.batch_first else 1)
        time = 1 if self.batch_first else 0
        n = x.shape[1 - time]
        initial = self._initial_states(hx, n, x.dtype, batched)
        finals: list[State] = []
        for layer in range(self.num_layers):
            W_ih, W_hh, b_ih, b_hh = self._layer(layer)
            gx_all = F.linear(x, W_ih, b_ih)  # every step's input projection in one product
            state = initial[layer]
            outputs = []
            for gx in ops.unbind(gx_all, time):
                state = self.step(gx, F.linear(state[0], W_hh, b_hh), state)
                outputs.append(state[0])
            x = ops.stack(outputs, time)
            finals.append(state)
        h_n = [ops.stack([s[j] for s in finals], 0) for j in range(self.states)]
        output = x
        if not batched:  # drop the batch of one again
            output = x.reshape(-1, self.hidden_size)
            h_n = [h.reshape(self.num_layers, self.hidden_size) for h in h_n]
        return output, (h_n[0] if self.states == 1 else tuple(h_n))

    def _initial_states(self, hx: Any, n: int, dtype: Any, batched: bool) -> list[State]:
        """Zeros, or the given ``hx`` ((num_layers, n, H) each) cut per layer."""
        if hx is None:
            zero = Tensor._wrap(np.zeros((n, self.hidden_size), dtype=dtype))
            return [(zero,) * self.states for _ in range(self.num_layers)]
        given = (hx,) if self.states == 1 else tuple(hx)
        if not batched:
            given = tuple(h.unsqueeze(1) for h in given)
        per_state = [ops.unbind(h, 0) for h in given]
        return [tuple(s[layer] for s in per_state) for layer in range(self.num_layers)]

    def extra_repr(self) -> str:
        return (
            f"{self.input_size}, {self.hidden_size}, num_layers={self.num_layers}, "
            f"batch_first={self.batch_first}"
        )


class RNN(_Recurrent):
    """``torch.nn.RNN``: :math:`h_t = \\tanh(\\ldots)` (or ``nonlinearity="relu"``)."""

    gates = 1

    def __init__(self, *args: Any, nonlinearity: str = "tanh", **kwargs: Any) -> None:
        if nonlinearity not in ("tanh", "relu"):
            raise ValueError(
                f"Unknown nonlinearity '{nonlinearity}'. Select from 'tanh' or 'relu'."
            )
        super().__init__(*args, **kwargs)
        self.nonlinearity = nonlinearity

    def step(self, gx: Tensor, gh: Tensor, state: State) -> State:
        return (rnn_tanh_step if self.nonlinearity == "tanh" else rnn_relu_step)(gx, gh, state)


class LSTM(_Recurrent):
    """``torch.nn.LSTM``: returns ``(output, (h_n, c_n))``."""

    gates, states = 4, 2

    def step(self, gx: Tensor, gh: Tensor, state: State) -> State:
        return lstm_step(gx, gh, state)


class GRU(_Recurrent):
    """``torch.nn.GRU``: returns ``(output, h_n)``."""

    gates = 3

    def step(self, gx: Tensor, gh: Tensor, state: State) -> State:
        return gru_step(gx, gh, state)
