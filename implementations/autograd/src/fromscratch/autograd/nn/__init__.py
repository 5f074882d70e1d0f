"""Neural-network building blocks, as ``torch.nn``: modules, layers and ``functional``."""

from . import functional
from .convolution import Conv2d
from .dropout import Dropout
from .layers import Flatten, Linear, ReLU, Sequential, Sigmoid, Tanh, Unflatten
from .module import Module, Parameter
from .normalization import BatchNorm2d
from .pooling import AvgPool2d, MaxPool2d

__all__ = [
    "AvgPool2d",
    "BatchNorm2d",
    "Conv2d",
    "Dropout",
    "Flatten",
    "Linear",
    "MaxPool2d",
    "Module",
    "Parameter",
    "ReLU",
    "Sequential",
    "Sigmoid",
    "Tanh",
    "Unflatten",
    "functional",
]
