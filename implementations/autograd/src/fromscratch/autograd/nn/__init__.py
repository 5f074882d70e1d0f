"""Neural-network building blocks, as ``torch.nn``: modules, layers and ``functional``."""

from . import functional
from .attention import MultiheadAttention
from .batchnorm import BatchNorm2d
from .convolution import Conv2d
from .dropout import Dropout
from .embedding import Embedding, PositionalEmbedding
from .layers import Flatten, Linear, ReLU, Sequential, Sigmoid, Tanh, Unflatten
from .module import Module, Parameter
from .normalization import LayerNorm
from .pooling import AvgPool2d, MaxPool2d
from .recurrent import GRU, LSTM, RNN
from .transformer import TransformerEncoderLayer

__all__ = [
    "GRU",
    "LSTM",
    "RNN",
    "AvgPool2d",
    "BatchNorm2d",
    "Conv2d",
    "Dropout",
    "Embedding",
    "Flatten",
    "LayerNorm",
    "Linear",
    "MaxPool2d",
    "Module",
    "MultiheadAttention",
    "Parameter",
    "PositionalEmbedding",
    "ReLU",
    "Sequential",
    "Sigmoid",
    "Tanh",
    "TransformerEncoderLayer",
    "Unflatten",
    "functional",
]
