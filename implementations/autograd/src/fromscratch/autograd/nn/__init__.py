"""Neural-network building blocks, as ``torch.nn``: modules, layers and ``functional``."""

from . import functional
from .layers import Linear, ReLU, Sequential, Sigmoid, Tanh
from .module import Module, Parameter

__all__ = ["Linear", "Module", "Parameter", "ReLU", "Sequential", "Sigmoid", "Tanh", "functional"]
