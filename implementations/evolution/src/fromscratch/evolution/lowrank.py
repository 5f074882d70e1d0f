r"""Perturbations of :math:`\theta`: dense Gaussian, or low rank in the first layer (EGGROLL).

An evolution strategy perturbs :math:`\theta` by :math:`\sigma\epsilon`. What the first
layer (``W`` of shape (h, in), 784 inputs on MNIST) sees of a perturbation is a matrix
:math:`E_W`, and the cost of a member is dominated by :math:`X E_W^\top`: n x in x h
multiply-adds per member.

**Dense** (:class:`Dense`, ``rank=None``): every entry of :math:`\epsilon` is drawn from
:math:`\mathcal N(0, 1)`.

**Low rank** (:class:`LowRank`, ``rank=r``; EGGROLL, Sarkar et al. 2025): the first
layer's block is a product of two thin Gaussian factors,

.. math::

    E_W = \frac{1}{\sqrt r}\, A B^\top, \qquad A \in \mathbb R^{h \times r},\
    B \in \mathbb R^{\text{in} \times r},\ \text{entries} \sim \mathcal N(0, 1),

and every other parameter (the biases, the later layers) stays dense Gaussian. Each entry
of :math:`E_W` still has mean 0 and variance 1, and distinct entries are uncorrelated,
:math:`\mathbb E[\operatorname{vec} E_W \operatorname{vec} E_W^\top] = I`: to first
order in :math:`\sigma` the ES estimate has the same expectation as with dense noise (a
positive multiple of the gradient). What changes is the cost. The member's first layer is

.. math::

    X E_W^\top = \frac{1}{\sqrt r} (X B) A^\top,

and :math:`X B` for *all* members is one matrix product (n, in) x (in, Q r): a member
costs n x in x r multiply-adds instead of n x in x h, a factor h / r fewer, and needs
r (h + in) random numbers instead of h x in. The saving buys a larger population.

Both kinds store Q perturbations as a matrix ``F`` (Q, width), one row each, drawn from
the noise table; for :class:`LowRank` a row is :math:`(\operatorname{vec} A,
\operatorname{vec} B, \epsilon_{\text{rest}})`.
"""

from __future__ import annotations

import math

import numpy as np

from fromscratch.boundary.types import Array

from .mlp import shared_input_layer
from .parameters import Layout


class Dense:
    """Dense Gaussian perturbations: a row of ``F`` is :math:`\\epsilon` itself, (d,)."""

    def __init__(self, sizes: tuple[int, ...]) -> None:
        self.layout = Layout(sizes)
        self.first = Layout(sizes[:2])
        self.width = self.layout.size

    def first_layer(self, X: Array, F: Array, sigma: float) -> Array:
        """:math:`\\sigma (X E_{W,i}^\\top + e_{b,i})` for every perturbation: (Q, n, h)."""
        ((E_W, e_b),) = self.first.layers(F[:, : self.first.size])
        z = shared_input_layer(X, E_W, e_b)
        z *= sigma
        return z

    def rest(self, F: Array) -> Array:
        """The perturbations of every parameter after the first layer, (Q, d - first)."""
        return F[:, self.first.size :]

    def combine(self, w: Array, F: Array) -> Array:
        r""":math:`\sum_i w_i \epsilon_i`, (d,)."""
        g: Array = w @ F
        return g

    def expand(self, F: Array) -> Array:
        """The perturbations :math:`\\epsilon_i` as rows of θ's layout, (Q, d)."""
        return F


class LowRank:
    r"""First-layer perturbations :math:`A B^\top / \sqrt r`; the rest dense.

    A row of ``F`` is ``(A.ravel(), B.ravel(), rest)`` with A (h, r), B (in, r), and
    ``rest`` the dense perturbation of :math:`b^{(1)}` and every later layer.
    """

    def __init__(self, sizes: tuple[int, ...], rank: int) -> None:
        self.layout = Layout(sizes)
        n_in, h = sizes[0], sizes[1]
        self.h, self.n_in, self.rank = h, n_in, rank
        self.W_size = h * n_in  # the first layer's weights: the start of theta
        self.A_stop = h * rank
        self.B_stop = self.A_stop + n_in * rank
        self.width = self.B_stop + self.layout.size - self.W_size
        self.first_size = self.W_size + h  # W and b of the first layer

    def factors(self, F: Array) -> tuple[Array, Array, Array]:
        """Views ``A`` (Q, h, r), ``B`` (Q, in, r) and ``rest`` (Q, d - h in) of ``F``."""
        Q, r = len(F), self.rank
        A = F[:, : self.A_stop].reshape(Q, self.h, r)
        B = F[:, self.A_stop : self.B_stop].reshape(Q, self.n_in, r)
        return A, B, F[:, self.B_stop :]

    def first_layer(self, X: Array, F: Array, sigma: float) -> Array:
        r""":math:`\sigma\big((X B_i) A_i^\top / \sqrt r + e_{b,i}\big)` for every
        perturbation: (Q, n, h).

        :math:`X B_i` of every member is one product, (n, in) x (in, Q r).
        """
        A, B, rest = self.factors(F)
        Q, r = len(F), self.rank
        XB = X @ B.transpose(1, 0, 2).reshape(self.n_in, Q * r)  # (n, Q r): one GEMM
        XB = XB.reshape(len(X), Q, r).transpose(1, 0, 2)  # (Q, n, r)
        XB *= sigma / math.sqrt(r)  # scale the thin factor, not the (Q, n, h) result
        # einsum: faster than a batched matmul whose inner dimension is r = 1 or 2.
        z: Array = np.einsum("qnr,qhr->qnh", XB, A)  # (Q, n, h)
        z += sigma * rest[:, None, : self.h]  # the first layer's bias perturbation e_b
        return z

    def rest(self, F: Array) -> Array:
        """The perturbations of every parameter after the first layer, (Q, d - first)."""
        return F[:, self.B_stop + self.h :]

    def combine(self, w: Array, F: Array) -> Array:
        r""":math:`\sum_i w_i \epsilon_i` in θ's layout, (d,).

        The first layer's part is :math:`\frac{1}{\sqrt r}\sum_i w_i A_i B_i^\top`, one
        product (h, Q r) x (Q r, in); the rest is a weighted sum of rows.
        """
        A, B, rest = self.factors(F)
        Q, r = len(F), self.rank
        wA = (A * w[:, None, None]).transpose(1, 0, 2).reshape(self.h, Q * r)
        G_W = wA @ B.transpose(0, 2, 1).reshape(Q * r, self.n_in) / math.sqrt(r)  # (h, in)
        return np.concatenate([G_W.ravel(), w @ rest]).astype(F.dtype, copy=False)

    def expand(self, F: Array) -> Array:
        """The perturbations :math:`\\epsilon_i` as rows of θ's layout, (Q, d): for tests."""
        A, B, rest = self.factors(F)
        E_W = np.matmul(A, B.transpose(0, 2, 1)) / math.sqrt(self.rank)  # (Q, h, in)
        return np.concatenate([E_W.reshape(len(F), -1), rest], axis=1)


Perturbations = Dense | LowRank


def perturbations(sizes: tuple[int, ...], rank: int | None) -> Perturbations:
    """Dense Gaussian perturbations, or rank-``rank`` ones in the first layer."""
    return Dense(sizes) if rank is None else LowRank(sizes, rank)
