r"""The neuron: a weight per input, a bias, a weighted sum and an activation.

What a neuron computes
----------------------
A neuron with :math:`m` inputs :math:`a_1, \dots, a_m` holds a **weight vector**
:math:`w \in \mathbb{R}^m`, one weight per input, and a **bias** :math:`b \in \mathbb{R}`.
It multiplies each input by its weight, adds the products and the bias, and passes the
result, the **pre-activation** :math:`z`, through its activation function :math:`\sigma`:

.. math::

    z = \sum_{c=1}^{m} w_c\, a_c + b = w \cdot a + b, \qquad a_{\text{out}} = \sigma(z)

The weights say how much each input matters and with which sign; the bias shifts the
point at which the neuron "fires", whatever the inputs are. An output neuron has no
activation: its :math:`z` goes straight into the loss.

A batch at once
---------------
For a batch of :math:`n` samples the neuron does the same for each sample. Its inputs
arrive as a matrix :math:`A` of shape :math:`(m, n)`, **one row per input and one column
per sample** (row :math:`c` is input :math:`c`'s value for every sample), so one dot
product per neuron covers the whole batch:

.. math::

    z_i = \sum_c w_c A_{ci} + b \quad (i = 1, \dots, n)
    \qquad\Longleftrightarrow\qquad
    z = w^\top A + b \in \mathbb{R}^n

That is the only vectorization in this package: across the samples of a batch, inside
one neuron. Neurons never compute together; a layer loops over them.

How the error flows back through one neuron
-------------------------------------------
Backpropagation hands the neuron :math:`\partial L / \partial a_{\text{out}}`, one number per
sample: how much the loss would change if this neuron's output changed. The chain rule
then gives, in order:

1. **Through the activation**, evaluated at the neuron's own pre-activation :math:`z`:

   .. math::

       \frac{\partial L}{\partial z_i} = \frac{\partial L}{\partial a_{\text{out}, i}}\,
       \sigma'(z_i)

2. **Its weights and bias.** :math:`z_i` depends on :math:`w_c` through :math:`A_{ci}`
   and on :math:`b` with slope 1, and every sample contributes:

   .. math::

       \frac{\partial L}{\partial w_c} = \sum_i \frac{\partial L}{\partial z_i} A_{ci}
       \;\Longleftrightarrow\;
       \frac{\partial L}{\partial w} = A\, \frac{\partial L}{\partial z} \in \mathbb{R}^m,
       \qquad
       \frac{\partial L}{\partial b} = \sum_i \frac{\partial L}{\partial z_i}

3. **Back to its inputs.** :math:`z_i` depends on input :math:`c` with slope :math:`w_c`, so
   the neuron sends :math:`w_c\, \partial L / \partial z_i` back to input :math:`c` of sample
   :math:`i`. An input feeds *every* neuron of the layer, so its total error is the sum of
   what all of them send back; each neuron **adds** its share:

   .. math::

       \frac{\partial L}{\partial A_{ci}} \mathrel{+}= w_c \frac{\partial L}{\partial z_i}
       \;\Longleftrightarrow\;
       \frac{\partial L}{\partial A} \mathrel{+}= w \Big(\frac{\partial L}{\partial z}\Big)^\top
       \quad (m \times n \text{, an outer product})

Three classic bugs, and why this code cannot have them
------------------------------------------------------
* **The derivative at the wrong point.** Step 1 needs :math:`\sigma'(z)`, the slope where
  the neuron evaluated :math:`\sigma`. Writing ``derivative(a_out)`` computes
  :math:`\sigma'(\sigma(z))` instead; see :mod:`~fromscratch.loops.activations`. Here the
  activation's ``derivative`` only ever receives ``self.z``.
* **Sending back error through updated weights.** Step 3 needs the weights the forward
  pass used. A neuron that updates :math:`w` first and then sends
  :math:`w_{\text{new}}\, \partial L / \partial z` back hands the previous layer the
  gradient of a network that never ran. Here :meth:`Neuron.backward` never changes ``w``.
* **Updating inside backward.** When the update is folded into the backward step, the
  gradient is never seen whole: it cannot be compared with torch, with finite differences,
  or handed to another optimizer. Here ``backward`` only *stores* the gradient (in
  ``dL_dw`` and ``dL_db``); an optimizer from :mod:`~fromscratch.loops.optim` applies it
  later, after every neuron of every layer has finished its backward step.

Storage
-------
The weights and the bias live side by side in one vector
:math:`\theta = (w_1, \dots, w_m, b)`, and their gradients likewise in ``grad``
:math:`= (\partial L/\partial w, \partial L/\partial b)`; ``w``, ``b``, ``dL_dw`` and
``dL_db`` are views into them. It changes nothing in the math, and lets an optimizer
update a whole neuron in one step.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray

from .activations import Activation

Array = NDArray[np.floating[Any]]


class Neuron:
    r"""One neuron: :math:`z = w^\top A + b` and :math:`a_{\text{out}} = \sigma(z)` over a batch.

    Parameters are drawn like ``torch.nn.Linear``'s defaults,
    :math:`w_c, b \sim \mathcal{U}(-1/\sqrt{m}, 1/\sqrt{m})`, weights first and then the bias,
    from the generator it is given.

    Attributes
    ----------
    theta, w, b
        The parameters: ``theta`` is ``(w_1, ..., w_m, b)``; ``w`` (m,) and ``b`` (1,) are
        views into it.
    grad, dL_dw, dL_db
        :math:`\partial L/\partial\theta` and its two views, written by :meth:`backward`.
    activation
        :math:`\sigma`, or ``None`` for a linear output neuron.
    z, a, dL_da, dL_dz
        This neuron's vectors over the batch, shape (n,): its pre-activation, its output,
        the error arriving at its output and at its pre-activation. They are rows of its
        layer's matrices (see :class:`~fromscratch.loops.layer.Layer`), so the next layer
        reads all of them as one input matrix without any copying.
    """

    def __init__(
        self,
        n_inputs: int,
        activation: Activation | None,
        rng: np.random.Generator,
        dtype: np.dtype[Any],
    ) -> None:
        bound = 1 / np.sqrt(n_inputs)
        self.theta: Array = np.empty(n_inputs + 1, dtype=dtype)
        self.theta[:n_inputs] = rng.uniform(-bound, bound, size=n_inputs)
        self.theta[n_inputs] = rng.uniform(-bound, bound)
        self.w: Array = self.theta[:n_inputs]
        self.b: Array = self.theta[n_inputs:]

        self.grad: Array = np.zeros_like(self.theta)
        self.dL_dw: Array = self.grad[:n_inputs]
        self.dL_db: Array = self.grad[n_inputs:]

        self.activation = activation
        # Until the layer binds them to its rows (Layer.bind), the batch vectors are empty.
        empty = np.empty(0, dtype=dtype)
        self.z: Array = empty
        self.a: Array = empty
        self.dL_da: Array = empty
        self.dL_dz: Array = empty
        # w as an (m, 1) column and dL/dz as a (1, n) row: their matrix product is the
        # outer product w (dL/dz)^T of step 3, which BLAS computes into a buffer directly.
        self._w_column: Array = self.w[:, np.newaxis]
        self._dL_dz_row: Array = empty[np.newaxis, :]

    def bind(self, z: Array, a: Array, dL_da: Array, dL_dz: Array) -> None:
        """Use these (n,) vectors, rows of the layer's matrices, for the next batches."""
        self.z, self.a, self.dL_da, self.dL_dz = z, a, dL_da, dL_dz
        self._dL_dz_row = dL_dz[np.newaxis, :]

    def forward(self, A_prev: Array) -> None:
        r"""Fill ``z`` :math:`= w^\top A_{\text{prev}} + b` and ``a`` :math:`= \sigma(z)`.

        ``A_prev`` is the (m, n) matrix of this neuron's inputs, one row per input.
        """
        z = self.z
        np.dot(self.w, A_prev, out=z)  # sum_c w_c A_prev[c, i], for every sample i at once
        z += self.b
        if self.activation is not None:
            self.activation.forward(z, self.a)
        # An output neuron's a *is* its z (the layer binds both to the same row).

    def backward(self, A_prev: Array, dL_dA_prev: Array | None, outer: Array) -> None:
        r"""Turn the error at this neuron's output into its gradients and its inputs' errors.

        Reads ``dL_da`` (a hidden neuron) or ``dL_dz`` (an output neuron, whose error the
        loss wrote there). Writes

        .. math::

            \frac{\partial L}{\partial z} = \frac{\partial L}{\partial a}\, \sigma'(z), \qquad
            \frac{\partial L}{\partial w} = A_{\text{prev}} \frac{\partial L}{\partial z}, \qquad
            \frac{\partial L}{\partial b} = \sum_i \frac{\partial L}{\partial z_i}

        and adds :math:`w\, (\partial L/\partial z)^\top` into ``dL_dA_prev``, the
        previous layer's error matrix (``None`` for the first layer: nothing before the
        data learns). ``outer`` is an (m, n) scratch buffer for that outer product.
        Parameters are never changed here: that is the optimizer's job, once every neuron
        has finished.
        """
        dL_dz = self.dL_dz
        if self.activation is not None:
            # The slope of sigma at z, where the forward pass evaluated it (never at a).
            np.multiply(self.dL_da, self.activation.derivative(self.z), out=dL_dz)
        np.dot(A_prev, dL_dz, out=self.dL_dw)  # sum_i dL/dz_i A_prev[c, i], for every c
        self.dL_db[0] = dL_dz.sum()
        if dL_dA_prev is not None:
            # w as it was in the forward pass: no update has happened yet.
            np.dot(self._w_column, self._dL_dz_row, out=outer)
            dL_dA_prev += outer
