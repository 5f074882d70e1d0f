r"""Recurrent layers, ``RNN`` (tanh) and ``LSTM``, with backprop through time by hand.

Shapes and names are torch's: a layer ``l`` holds ``weight_ih_l{l}`` (G·H, in),
``weight_hh_l{l}`` (G·H, H), ``bias_ih_l{l}`` and ``bias_hh_l{l}`` (G·H,), with G = 1
for the RNN and G = 4 for the LSTM, its gates stacked in torch's order i, f, g, o.
Inside, sequences are time-major, ``x`` (T, n, in), so that ``x[t]`` is one time step;
``batch_first=True`` input (n, T, in) is transposed on the way in and out. The initial
states are zeros. ``forward`` returns the last layer's output sequence (what a spec's
recurrent entry means), and keeps the final states ``h_n`` (and ``c_n``) of every layer,
shape (num_layers, n, H), as torch returns them.

RNN forward
-----------
For :math:`t = 1 \dots T`, with :math:`h_0 = 0`:

.. math::

    z_t = x_t W_{ih}^\top + b_{ih} + h_{t-1} W_{hh}^\top + b_{hh}, \qquad
    h_t = \tanh(z_t) \qquad (n, H)

The output sequence is :math:`h_1 \dots h_T`; :math:`h_n = h_T`.

RNN backward through time
-------------------------
:math:`h_t` reaches the loss two ways: directly, through the output at step t (the
upstream gradient :math:`\bar h_t`), and through :math:`h_{t+1}`, which reads it. So
going backwards from :math:`t = T`, with :math:`\delta_{T+1} = 0` (or the cotangent of
:math:`h_n` when the final state is used):

.. math::

    \frac{\partial L}{\partial h_t} = \bar h_t + \delta_{t+1}, \qquad
    \frac{\partial L}{\partial z_t} = \frac{\partial L}{\partial h_t} \odot (1 - h_t^2),
    \qquad \delta_t = \frac{\partial L}{\partial z_t} W_{hh}

where :math:`\delta_t` is the gradient flowing back along h into step t-1. Only
:math:`\delta` needs the loop: once every :math:`\partial L/\partial z_t` is known, the
weights are shared by all steps, so their gradients are sums over t, each one matrix
product over the stacked steps:

.. math::

    \frac{\partial L}{\partial W_{ih}}
        = \sum_t \Big(\frac{\partial L}{\partial z_t}\Big)^\top x_t,
    \quad
    \frac{\partial L}{\partial W_{hh}}
        = \sum_t \Big(\frac{\partial L}{\partial z_t}\Big)^\top h_{t-1},
    \quad
    \frac{\partial L}{\partial b_{ih}} = \frac{\partial L}{\partial b_{hh}}
    = \sum_{t,\,\text{rows}} \frac{\partial L}{\partial z_t},
    \quad
    \frac{\partial L}{\partial x_t} = \frac{\partial L}{\partial z_t} W_{ih}

LSTM forward
------------
One product gives all four gates' pre-activations, split in torch's order:

.. math::

    z_t = x_t W_{ih}^\top + b_{ih} + h_{t-1} W_{hh}^\top + b_{hh}
        = [z^i_t, z^f_t, z^g_t, z^o_t] \qquad (n, 4H)

.. math::

    i_t = \sigma(z^i_t), \quad f_t = \sigma(z^f_t), \quad g_t = \tanh(z^g_t), \quad
    o_t = \sigma(z^o_t)

.. math::

    c_t = f_t \odot c_{t-1} + i_t \odot g_t, \qquad h_t = o_t \odot \tanh(c_t)

with :math:`h_0 = c_0 = 0`. The input gate i decides how much of the candidate g to
write, the forget gate f how much of the old cell to keep, the output gate o how much of
the cell to show.

LSTM backward through time
--------------------------
Two gradients flow back from step t+1: :math:`\delta^h_{t+1}` along h (through
:math:`W_{hh}`) and :math:`\delta^c_{t+1}` along c (through :math:`f_{t+1}`). At step t,
with :math:`\bar h_t` the upstream gradient of the output:

.. math::

    \frac{\partial L}{\partial h_t} = \bar h_t + \delta^h_{t+1}, \qquad
    \frac{\partial L}{\partial c_t} = \delta^c_{t+1}
        + \frac{\partial L}{\partial h_t} \odot o_t \odot (1 - \tanh^2 c_t)

(c reaches the loss through h and through :math:`c_{t+1}`). Each gate's gradient is
then what it multiplies, times the derivative of its nonlinearity
(:math:`\sigma' = \sigma(1 - \sigma)`, :math:`\tanh' = 1 - \tanh^2`):

.. math::

    \frac{\partial L}{\partial z^o_t} = \frac{\partial L}{\partial h_t} \odot \tanh(c_t)
        \odot o_t (1 - o_t), \qquad
    \frac{\partial L}{\partial z^i_t} = \frac{\partial L}{\partial c_t} \odot g_t
        \odot i_t (1 - i_t)

.. math::

    \frac{\partial L}{\partial z^f_t} = \frac{\partial L}{\partial c_t} \odot c_{t-1}
        \odot f_t (1 - f_t), \qquad
    \frac{\partial L}{\partial z^g_t} = \frac{\partial L}{\partial c_t} \odot i_t
        \odot (1 - g_t^2)

and what flows back to step t-1 is

.. math::

    \delta^c_t = \frac{\partial L}{\partial c_t} \odot f_t, \qquad
    \delta^h_t = \frac{\partial L}{\partial z_t} W_{hh}

with :math:`\partial L/\partial z_t` the four gate gradients side by side, in the same
order. The cell path multiplies by :math:`f_t` alone, with no squashing derivative and no
weight matrix: that is why an LSTM can carry a gradient across many steps where an RNN's
shrinks. The weight, bias and input gradients are the same sums over t as the RNN's.

Layers
------
With ``num_layers=2`` the second layer reads the first's output sequence as its x.
Backward goes through the layers in reverse: the ``dL_dx`` of layer 2 is the upstream
:math:`\bar h` of layer 1.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray

Array = NDArray[np.floating[Any]]


def sigmoid(z: Array) -> Array:
    r""":math:`\sigma(z) = 1 / (1 + e^{-z})`, computed as :math:`(1 + \tanh(z/2))/2`.

    The same function, written so that no exponential can overflow for large :math:`|z|`.
    """
    a: Array = 0.5 * (1.0 + np.tanh(0.5 * z))
    return a


class _Recurrent:
    """What RNN and LSTM share: parameters in torch's layout, layer stacking, batch_first."""

    n_gates = 1

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        num_layers: int = 1,
        *,
        batch_first: bool = False,
        rng: np.random.Generator,
        dtype: np.dtype[Any],
    ) -> None:
        self.input_size, self.hidden_size = input_size, hidden_size
        self.num_layers, self.batch_first = num_layers, batch_first
        # torch draws every tensor from U(-1/sqrt(H), 1/sqrt(H)), in this order.
        bound = 1 / np.sqrt(hidden_size)
        G, H = self.n_gates * hidden_size, hidden_size
        # Each parameter is an attribute named as torch names it, its gradient beside it
        # in dL_d<name>: weight_ih_l0 and dL_dweight_ih_l0.
        self.names: list[str] = []
        for l in range(num_layers):
            fan_in = input_size if l == 0 else H
            for name, shape in [
                (f"weight_ih_l{l}", (G, fan_in)),
                (f"weight_hh_l{l}", (G, H)),
                (f"bias_ih_l{l}", (G,)),
                (f"bias_hh_l{l}", (G,)),
            ]:
                setattr(self, name, rng.uniform(-bound, bound, size=shape).astype(dtype))
                setattr(self, f"dL_d{name}", np.zeros(shape, dtype=dtype))
                self.names.append(name)
        self.params = {name: name for name in self.names}  # torch's name -> the attribute
        self._caches: list[dict[str, Array]] = []

    def forward(self, a: Array) -> Array:
        """The last layer's output sequence, shaped like `a` ((n, T, ·) if batch_first)."""
        x = a.transpose(1, 0, 2) if self.batch_first else a
        self._caches = []
        for l in range(self.num_layers):
            x, cache = self._layer_forward(x, *self._weights(l))
            self._caches.append(cache)
        self.h_n = np.stack([cache["h"][-1] for cache in self._caches])  # (num_layers, n, H)
        if "c" in self._caches[0]:
            self.c_n = np.stack([cache["c"][-1] for cache in self._caches])
        return x.transpose(1, 0, 2) if self.batch_first else x

    def backward(
        self,
        dL_dout: Array,
        dL_dh_n: Array | None = None,
        dL_dc_n: Array | None = None,
    ) -> Array:
        """Store every parameter's gradient beside it (``dL_dweight_ih_l0``...); return dL/dx.

        `dL_dh_n` and `dL_dc_n` (num_layers, n, H) are the cotangents of the final
        states, when the loss reads them too; a model that uses only the output
        sequence leaves them None (zero).
        """
        dh = dL_dout.transpose(1, 0, 2) if self.batch_first else dL_dout
        for l in reversed(range(self.num_layers)):
            dh_T = None if dL_dh_n is None else dL_dh_n[l]
            dc_T = None if dL_dc_n is None else dL_dc_n[l]
            dZ = self._layer_backward(dh, self._caches[l], self._weights(l)[1], dh_T, dc_T)
            dh = self._weight_gradients(l, dZ, self._caches[l])
        return dh.transpose(1, 0, 2) if self.batch_first else dh

    def _weight_gradients(self, l: int, dZ: Array, cache: dict[str, Array]) -> Array:
        r"""Each weight's sum over t, as one product; returns :math:`\partial L/\partial x`."""
        T, n, G = dZ.shape
        dZ_rows = dZ.reshape(T * n, G)
        x, h = cache["x"], cache["h"]
        h_prev = np.concatenate([np.zeros_like(h[:1]), h[:-1]])  # h_0 = 0, h_1 ... h_{T-1}
        setattr(self, f"dL_dweight_ih_l{l}", dZ_rows.T @ x.reshape(T * n, -1))
        setattr(self, f"dL_dweight_hh_l{l}", dZ_rows.T @ h_prev.reshape(T * n, -1))
        setattr(self, f"dL_dbias_ih_l{l}", dZ_rows.sum(axis=0))
        setattr(self, f"dL_dbias_hh_l{l}", dZ_rows.sum(axis=0))
        W_ih = self.param(f"weight_ih_l{l}")
        return dZ @ W_ih  # (T, n, in)

    def param(self, name: str) -> Array:
        """The parameter torch calls `name`, e.g. ``weight_hh_l1``."""
        value: Array = getattr(self, name)
        return value

    def grad(self, name: str) -> Array:
        """The gradient of the parameter torch calls `name`, from the last backward pass."""
        value: Array = getattr(self, f"dL_d{name}")
        return value

    def _weights(self, l: int) -> tuple[Array, Array, Array]:
        """Layer l's W_ih, W_hh and the two biases summed (they only ever appear summed)."""
        return (
            self.param(f"weight_ih_l{l}"),
            self.param(f"weight_hh_l{l}"),
            self.param(f"bias_ih_l{l}") + self.param(f"bias_hh_l{l}"),
        )

    def _layer_forward(
        self, x: Array, W_ih: Array, W_hh: Array, b: Array
    ) -> tuple[Array, dict[str, Array]]:
        raise NotImplementedError

    def _layer_backward(
        self,
        dh_out: Array,
        cache: dict[str, Array],
        W_hh: Array,
        dh_T: Array | None,
        dc_T: Array | None,
    ) -> Array:
        raise NotImplementedError


class RNN(_Recurrent):
    r"""Elman RNN, as ``torch.nn.RNN(input_size, hidden_size, num_layers)``.

    ``nonlinearity="relu"`` (torch's other choice) puts :math:`\max(z, 0)` in place of
    tanh, and its derivative :math:`[h_t > 0]` in place of :math:`1 - h_t^2`.
    """

    n_gates = 1

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        num_layers: int = 1,
        *,
        nonlinearity: str = "tanh",
        batch_first: bool = False,
        rng: np.random.Generator,
        dtype: np.dtype[Any],
    ) -> None:
        if nonlinearity not in ("tanh", "relu"):
            raise ValueError(f"nonlinearity={nonlinearity!r}: expected 'tanh' or 'relu'")
        self.relu = nonlinearity == "relu"
        super().__init__(
            input_size, hidden_size, num_layers, batch_first=batch_first, rng=rng, dtype=dtype
        )

    def _layer_forward(
        self, x: Array, W_ih: Array, W_hh: Array, b: Array
    ) -> tuple[Array, dict[str, Array]]:
        T, n, _ = x.shape
        xW = x @ W_ih.T + b  # every step's input term in one product
        h = np.empty((T, n, self.hidden_size), dtype=x.dtype)
        h_prev = np.zeros((n, self.hidden_size), dtype=x.dtype)
        for t in range(T):
            z_t = xW[t] + h_prev @ W_hh.T
            h[t] = h_prev = np.maximum(z_t, 0) if self.relu else np.tanh(z_t)
        return h, {"x": x, "h": h}

    def _layer_backward(
        self,
        dh_out: Array,
        cache: dict[str, Array],
        W_hh: Array,
        dh_T: Array | None,
        dc_T: Array | None,
    ) -> Array:
        h = cache["h"]
        dZ = np.empty_like(h)
        delta = np.zeros_like(h[0]) if dh_T is None else dh_T  # gradient along h from t+1
        for t in reversed(range(len(h))):
            dL_dh = dh_out[t] + delta
            dZ[t] = dL_dh * ((h[t] > 0) if self.relu else (1 - h[t] ** 2))
            delta = dZ[t] @ W_hh
        return dZ


class LSTM(_Recurrent):
    r"""Long short-term memory, as ``torch.nn.LSTM(input_size, hidden_size, num_layers)``."""

    n_gates = 4

    def _layer_forward(
        self, x: Array, W_ih: Array, W_hh: Array, b: Array
    ) -> tuple[Array, dict[str, Array]]:
        T, n, _ = x.shape
        H = self.hidden_size
        xW = x @ W_ih.T + b
        gates = np.empty((T, n, 4 * H), dtype=x.dtype)  # i, f, g, o after their nonlinearity
        c = np.empty((T, n, H), dtype=x.dtype)
        h = np.empty((T, n, H), dtype=x.dtype)
        h_prev = np.zeros((n, H), dtype=x.dtype)
        c_prev = np.zeros((n, H), dtype=x.dtype)
        for t in range(T):
            z_t = xW[t] + h_prev @ W_hh.T
            i, f, g, o = np.split(z_t, 4, axis=1)
            i, f, g, o = sigmoid(i), sigmoid(f), np.tanh(g), sigmoid(o)
            c[t] = c_prev = f * c_prev + i * g
            h[t] = h_prev = o * np.tanh(c_prev)
            gates[t] = np.concatenate([i, f, g, o], axis=1)
        return h, {"x": x, "h": h, "c": c, "gates": gates}

    def _layer_backward(
        self,
        dh_out: Array,
        cache: dict[str, Array],
        W_hh: Array,
        dh_T: Array | None,
        dc_T: Array | None,
    ) -> Array:
        c, gates = cache["c"], cache["gates"]
        dZ = np.empty_like(gates)
        delta_h = np.zeros_like(c[0]) if dh_T is None else dh_T  # along h, from t+1
        delta_c = np.zeros_like(c[0]) if dc_T is None else dc_T  # along c, from t+1
        for t in reversed(range(len(c))):
            i, f, g, o = np.split(gates[t], 4, axis=1)
            c_prev = c[t - 1] if t > 0 else np.zeros_like(c[0])
            tanh_c = np.tanh(c[t])
            dL_dh = dh_out[t] + delta_h
            dL_dc = delta_c + dL_dh * o * (1 - tanh_c**2)
            dZ[t] = np.concatenate(
                [
                    dL_dc * g * i * (1 - i),  # input gate
                    dL_dc * c_prev * f * (1 - f),  # forget gate
                    dL_dc * i * (1 - g**2),  # candidate
                    dL_dh * tanh_c * o * (1 - o),  # output gate
                ],
                axis=1,
            )
            delta_c = dL_dc * f
            delta_h = dZ[t] @ W_hh
        return dZ
