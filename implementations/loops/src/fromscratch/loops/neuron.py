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
       \quad (m \times n \text{, an outer product: } \texttt{np.outer(w, dL\_dz)})

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
  ``dL_dw`` and ``dL_db``); an optimizer from :mod:`~fromscratch.boundary.optim` applies it
  later, after every neuron of every layer has finished its backward step.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from fromscratch.boundary.types import Array

from .activations import Activation


class Neuron:
    r"""One neuron: :math:`z = w^\top A_{\text{prev}} + b` and :math:`a = \sigma(z)` over a batch.

    Parameters are drawn like ``torch.nn.Linear``'s defaults,
    :math:`w_c, b \sim \mathcal{U}(-1/\sqrt{m}, 1/\sqrt{m})`, weights first and then the bias,
    from the generator it is given.

    Attributes
    ----------
    w, b
        The parameters: ``w`` has shape (m,), ``b`` shape (1,).
    dL_dw, dL_db
        Their gradients, written by :meth:`backward` and read by the optimizer's step.
    activation
        :math:`\sigma`, or :data:`~fromscratch.loops.activations.IDENTITY` for an output
        neuron.
    A_prev, z, a, dL_dz
        The last batch: the inputs (m, n), and this neuron's pre-activation, output and
        error at its pre-activation, each of shape (n,).
    """

    def __init__(
        self,
        n_inputs: int,
        activation: Activation,
        rng: np.random.Generator,
        dtype: np.dtype[Any],
    ) -> None:
        bound = 1 / np.sqrt(n_inputs)
        self.w: Array = rng.uniform(-bound, bound, size=n_inputs).astype(dtype)
        self.b: Array = rng.uniform(-bound, bound, size=1).astype(dtype)
        self.dL_dw: Array = np.zeros_like(self.w)
        self.dL_db: Array = np.zeros_like(self.b)
        self.activation = activation
        self.A_prev: Array = np.empty((n_inputs, 0), dtype=dtype)
        self.z = self.a = self.dL_dz = np.empty(0, dtype=dtype)

    def forward(self, A_prev: Array) -> Array:
        r"""Return :math:`a = \sigma(z)`, :math:`z = w^\top A_{\text{prev}} + b`, shape (n,).

        ``A_prev`` is the (m, n) matrix of this neuron's inputs, one row per input. An output
        neuron returns :math:`z` itself.
        """
        self.A_prev = A_prev  # kept for the backward pass: dL/dw needs the inputs
        self.z = self.w @ A_prev + self.b  # sum_c w_c A_prev[c, i], for every sample i
        self.a = self.activation.forward(self.z)
        return self.a

    def backward(self, dL_da: Array, dL_dA_prev: Array | None) -> None:
        r"""Turn the error at this neuron's output into its gradients and its inputs' errors.

        ``dL_da`` (n,) is :math:`\partial L / \partial a`; for an output neuron, whose
        :math:`a` is :math:`z`, it is :math:`\partial L / \partial z` from the loss. Computes

        .. math::

            \frac{\partial L}{\partial z} = \frac{\partial L}{\partial a}\, \sigma'(z), \qquad
            \frac{\partial L}{\partial w} = A_{\text{prev}} \frac{\partial L}{\partial z}, \qquad
            \frac{\partial L}{\partial b} = \sum_i \frac{\partial L}{\partial z_i}

        and adds :math:`w\, (\partial L/\partial z)^\top` into ``dL_dA_prev``, the previous
        layer's error matrix (``None`` for the first layer: nothing before the data learns).
        Parameters are never changed here: that is the optimizer's job, once every neuron
        has finished.
        """
        dL_dz = dL_da * self.activation.derivative(self.z)  # sigma' at z, never at a
        # Stored beside w and b, where the optimizer's step reads them (torch's p.grad).
        self.dL_dw = self.A_prev @ dL_dz  # sum_i dL/dz_i A_prev[c, i], for every c
        self.dL_db = dL_dz.sum(keepdims=True)  # shape (1,), like b
        if dL_dA_prev is not None:
            dL_dA_prev += np.outer(self.w, dL_dz)  # w as the forward pass used it
        self.dL_dz = dL_dz
