"""Neural-network building blocks, as ``torch.nn``: modules, layers and ``functional``."""

from . import functional
from .attention import MultiheadAttention
from .embedding import Embedding, PositionalEmbedding
from .layers import Linear, ReLU, Sequential, Sigmoid, Tanh
from .module import Module, Parameter
from .normalization import LayerNorm
from .recurrent import GRU, LSTM, RNN
from .transformer import TransformerEncoderLayer

__all__ = [
    "GRU",
    "LSTM",
    "RNN",
    "Embedding",
    "LayerNorm",
    "Linear",
    "Module",
    "MultiheadAttention",
    "Parameter",
    "PositionalEmbedding",
    "ReLU",
    "Sequential",
    "Sigmoid",
    "Tanh",
    "TransformerEncoderLayer",
    "functional",
]
