r"""``SequenceNetwork``: a character model built from matrix's modules, trained by BPTT.

``layers`` are the protocol's spec strings (``docs/protocol.md``, *Sequence models*)::

    SequenceNetwork(["Embedding(65, 128)", "LSTM(128, 256, batch_first=True)", "Linear(256, 65)"])

``X`` is (n, T) token ids and ``y`` (n, T) the token after each one. The modules run in
order, exactly as for the MLP: forward through the list, backward through it in reverse,
each module storing its parameters' gradients beside them, then one optimizer step:

.. math::

    a = \text{Embedding}(X) \;(n, T, d) \to h = \text{LSTM}(a) \;(n, T, H)
    \to z = h W^\top + b \;(n, T, V)

The loss is the mean cross-entropy over all n·T positions: the (n, T, V) logits are seen
as n·T rows of V, so the MLP's softmax cross-entropy applies unchanged, and its gradient
:math:`(\text{softmax}(z) - Y)/(nT)` flows back into the Linear, then into the LSTM's
backward through time (:mod:`~fromscratch.matrix.recurrent`), then into the Embedding.
A ``Linear`` entry acts on the last axis, the same layer at every time step:
:class:`EveryStep` hands it the n·T rows as one batch.

The rest (the constructor's checks, ``fit`` with the shared loop and optimizers,
``loss``, ``predict``, ``sample``, the state dict) is the boundary's
:class:`~fromscratch.boundary.sequence.SequenceModel`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Protocol

import numpy as np
from numpy.typing import NDArray

from fromscratch.boundary.optim import Parameter
from fromscratch.boundary.sequence import SequenceModel
from fromscratch.boundary.spec import LayerSpec, bind
from fromscratch.boundary.tokens import Tokens
from fromscratch.boundary.types import Array

from .embedding import Embedding
from .layers import Linear
from .losses import cross_entropy
from .recurrent import LSTM, RNN

SUPPORTED_LAYERS = frozenset({"Embedding", "RNN", "LSTM", "Linear"})


class SequenceModule(Protocol):
    def forward(self, a: Any) -> Array: ...
    def backward(self, dL_dout: Array) -> Array | None: ...


class EveryStep:
    """A ``Linear`` applied at every time step: (n, T, in) -> (n, T, out).

    Its n·T positions are n·T rows of one batch, so the linear layer's own forward and
    backward (and their derivation) apply as they are; only the shapes are folded.
    """

    def __init__(self, layer: Linear) -> None:
        self.layer = layer
        self.params = layer.params  # torch's names -> the attributes of the layer inside

    def forward(self, a: Array) -> Array:
        n, T, width = a.shape
        return self.layer.forward(a.reshape(n * T, width)).reshape(n, T, -1)

    def backward(self, dL_dz: Array) -> Array | None:
        n, T, width = dL_dz.shape
        dL_da = self.layer.backward(dL_dz.reshape(n * T, width))
        return None if dL_da is None else dL_da.reshape(n, T, -1)


class SequenceNetwork(SequenceModel):
    """A next-token model: the spec's modules in ``nn.Sequential`` order, trained by BPTT.

    The constructor, ``fit``, ``loss``, ``predict``, ``sample`` and the state dict are the
    boundary's (:class:`~fromscratch.boundary.sequence.SequenceModel`); here is the math.
    """

    supported_layers = SUPPORTED_LAYERS

    # ------------------------------------------------------- forward, backward, update

    def forward(self, X: Tokens) -> Array:
        """Run the modules in order; return the logits z, (n, T, V)."""
        a: Any = X
        for module in self.modules:
            a = module.forward(a)
        z: Array = a
        return z

    def backward(self, X: Tokens, y: Tokens) -> float:
        """Forward, loss over all n·T positions, then back through the modules in reverse
        (backprop through time inside each recurrent one). Returns the loss."""
        z = self.forward(X)
        n, T, V = z.shape
        L, dL_dz = cross_entropy(z.reshape(n * T, V), y.reshape(n * T))
        dL_dout: Array | None = dL_dz.reshape(n, T, V)
        for module in reversed(self.modules):
            assert dL_dout is not None  # only the Embedding, first, returns None
            dL_dout = module.backward(dL_dout)
        return L

    def mean_loss(self, X: Tokens, y: Tokens) -> float:
        """The loss alone: the n·T positions as rows of the MLP's cross-entropy."""
        L, _ = cross_entropy(self.forward(X).reshape(y.size, -1), y.reshape(-1))
        return L

    def named_parameters(self) -> list[tuple[str, Parameter]]:
        """``("1.weight_ih_l0", handle)``...: entry i of the spec is module i; each handle
        reads the parameter and the gradient stored beside it."""
        return [
            (f"{i}.{torch_name}", p)
            for i, module in enumerate(self.modules)
            for torch_name, p in parameters(module)
        ]

    # ------------------------------------------------------------------- construction

    def build(self, rng: np.random.Generator) -> None:
        """One module per spec entry, its parameters drawn from ``rng`` in turn."""
        self.modules: list[SequenceModule] = [
            build(spec, f"layers[{i}]", rng, self.dtype) for i, spec in enumerate(self.specs)
        ]


def build(
    spec: LayerSpec, where: str, rng: np.random.Generator, dtype: np.dtype[Any]
) -> SequenceModule:
    """One module from its spec entry, with torch's argument names and defaults."""
    args = _bind(spec, where)
    if spec.name == "Embedding":
        return Embedding(args["num_embeddings"], args["embedding_dim"], rng=rng, dtype=dtype)
    if spec.name == "Linear":
        return EveryStep(Linear(args["in_features"], args["out_features"], rng, dtype))
    sizes = args["input_size"], args["hidden_size"], args["num_layers"]
    if spec.name == "LSTM":
        return LSTM(*sizes, batch_first=True, rng=rng, dtype=dtype)
    return RNN(*sizes, nonlinearity=args["nonlinearity"], batch_first=True, rng=rng, dtype=dtype)


def parameters(module: SequenceModule) -> list[tuple[str, Parameter]]:
    """The module's parameters under torch's names (``weight_ih_l0``), as handles."""
    owner: Any = module.layer if isinstance(module, EveryStep) else module
    params: dict[str, str] = getattr(module, "params", {})
    return [(torch_name, Parameter(owner, attribute)) for torch_name, attribute in params.items()]


def layer_vjp(
    spec: str,
    state: Mapping[str, NDArray[Any]],
    x: NDArray[Any],
    cotangents: Sequence[NDArray[Any]],
) -> tuple[list[Array], Array | None, dict[str, Array]]:
    """One spec entry alone, in float64, for the conformance suite: its outputs (the
    sequence, then a recurrent entry's ``h_n`` and ``c_n``), and under one cotangent per
    output the gradient of the input (None for token ids) and of each parameter."""
    entry = SequenceNetwork.parse_spec(spec, "layer")
    module = build(entry, "layer", np.random.default_rng(0), np.dtype(np.float64))
    named = parameters(module)
    for name, p in named:
        p.data[...] = state[name]
    outputs = [module.forward(x)]
    if isinstance(module, RNN | LSTM):
        outputs.append(module.h_n)
        if isinstance(module, LSTM):
            outputs.append(module.c_n)
        dL_dx: Array | None = module.backward(*cotangents)
    else:
        dL_dx = module.backward(cotangents[0])
    grads = {}
    for name, p in named:
        assert p.grad is not None
        grads[name] = p.grad
    return outputs, dL_dx, grads


# Arguments that must keep torch's default here: no bias-free, bidirectional or dropout RNNs.
_FIXED = {"bias": True, "dropout": 0.0, "bidirectional": False}


def _bind(spec: LayerSpec, where: str) -> dict[str, Any]:
    """Every argument of ``spec`` by torch's name (the boundary's
    :func:`~fromscratch.boundary.spec.bind`), those of ``_FIXED`` at their defaults."""
    args = dict(bind(spec, where).params)
    for key, value in _FIXED.items():
        if key in args and args[key] != value:
            raise ValueError(
                f"{where} = {spec}: {key}={args[key]!r} is not supported; expected {value!r}"
            )
    return args
