r"""``Flatten`` and ``Unflatten``: the same numbers, another shape.

A reshape moves no value and changes none, so its Jacobian is the identity:
the gradient of each output entry *is* the gradient of the input entry it came from, and
the backward pass is the inverse reshape of the upstream gradient,

.. math::

    \frac{\partial L}{\partial a} = \operatorname{reshape}\Big(\frac{\partial L}{\partial z},
    \text{shape of } a\Big).

``Unflatten(1, (C, H, W))`` turns each row of ``X`` (n, C H W) into an image (n, C, H, W),
reading the row in C order (channel, then row, then column) as torch does; ``Flatten()``
turns the (n, C, H, W) feature maps back into rows (n, C H W) for a ``Linear`` layer.
"""

from __future__ import annotations

from fromscratch.boundary.types import Array

from .layers import Module


class Flatten(Module):
    """``torch.nn.Flatten()``: every sample's dims into one, (n, ...) -> (n, features)."""

    def forward(self, a: Array) -> Array:
        self.input_shape = a.shape
        return a.reshape(len(a), -1)

    def backward(self, dL_dz: Array) -> Array:
        return dL_dz.reshape(self.input_shape)


class Unflatten(Module):
    """``torch.nn.Unflatten(1, size)``: each row into ``size``,
    ``(n, prod(size)) -> (n, *size)``."""

    def __init__(self, size: tuple[int, ...]) -> None:
        self.size = size

    def forward(self, a: Array) -> Array:
        self.input_shape = a.shape
        return a.reshape(len(a), *self.size)

    def backward(self, dL_dz: Array) -> Array:
        return dL_dz.reshape(self.input_shape)
