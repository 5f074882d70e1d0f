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
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any, Protocol

import numpy as np
from numpy.typing import NDArray

from fromscratch.boundary import validation as check
from fromscratch.boundary.loop import shuffle_rng, train
from fromscratch.boundary.optim import Parameter, set_learning_rate
from fromscratch.boundary.options import check_fit_options, make_optimizer
from fromscratch.boundary.spec import LayerSpec, parse
from fromscratch.boundary.tokens import Tokens, check_tokens, sample
from fromscratch.boundary.types import DTYPES, Array

from .embedding import Embedding
from .layers import Linear
from .losses import cross_entropy, softmax
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


class SequenceNetwork:
    """A next-token model: the spec's modules in ``nn.Sequential`` order, trained by BPTT.

    ``layers`` opens with ``Embedding(V, d)``; recurrent entries need ``batch_first=True``.
    ``loss`` is ``"cross_entropy"``, the only loss of a sequence model. ``seed`` draws the
    initial parameters (entry after entry, each as torch draws it) and, on a child
    stream, the order of the windows in ``fit``. ``dtype`` is ``"float32"`` or
    ``"float64"``.
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

    def parameters(self) -> list[Parameter]:
        """Every parameter with the gradient stored beside it, in state-dict order."""
        return [p for _, p in self._named()]

    # ------------------------------------------------------------- construction, fit

    def __init__(
        self,
        layers: Sequence[str],
        *,
        loss: str = "cross_entropy",
        seed: int = 0,
        dtype: str = "float32",
    ) -> None:
        if loss != "cross_entropy":
            raise ValueError(f"loss={loss!r}: a sequence model's loss is 'cross_entropy'")
        self.dtype: np.dtype[Any] = np.dtype(check.check_choice("dtype", dtype, DTYPES))
        self.seed = check.check_seed(seed)
        if isinstance(layers, str) or not isinstance(layers, Sequence) or not layers:
            raise ValueError(
                f"layers must be a non-empty list of spec strings, got {layers!r}: e.g. "
                "['Embedding(65, 128)', 'LSTM(128, 256, batch_first=True)', 'Linear(256, 65)']"
            )
        self.layers = list(layers)
        rng = np.random.default_rng(self.seed)
        self.modules: list[SequenceModule] = [
            build(text, f"layers[{i}]", rng, self.dtype) for i, text in enumerate(self.layers)
        ]
        first = self.modules[0]
        if not isinstance(first, Embedding):
            raise ValueError(
                f"layers[0] = {self.layers[0]!r}: a sequence model opens with Embedding(V, d)"
            )
        self.vocabulary = len(first.W)
        self._shuffle_rng = shuffle_rng(self.seed)

    def fit(
        self,
        X: NDArray[Any],
        y: NDArray[Any],
        *,
        epochs: int,
        batch_size: int,
        learning_rate: float,
        callback: Callable[[int, Mapping[str, float]], None] | None = None,
        batch_callback: Callable[[int, int, float], object] | None = None,
        **options: Any,
    ) -> SequenceNetwork:
        """Mini-batches of windows (rows of X), each: :meth:`backward`, one optimizer step.

        The options are the MLP's (``optimizer``, ``momentum``, ``nesterov``, ``betas``,
        ``eps``, ``weight_decay``, ``schedule``, ``shuffle``); the loop is the boundary's.
        """
        epochs, batch_size, learning_rate = check.check_fit_arguments(
            epochs, batch_size, learning_rate, callback, batch_callback
        )
        config = check_fit_options(options)
        X = self._check(X)
        y = self._check(y, X.shape, "y")
        optimizer = make_optimizer(self.parameters(), learning_rate, config)
        train(
            lambda rows: self.backward(X[rows], y[rows]),
            optimizer.step,
            n_rows=len(X),
            epochs=epochs,
            batch_size=batch_size,
            learning_rate=learning_rate,
            schedule=config.schedule,
            shuffle=config.shuffle,
            rng=self._shuffle_rng,
            set_learning_rate=lambda lr: set_learning_rate(optimizer, lr),
            parameters=lambda: (p.data for p in self.parameters()),
            callback=callback,
            batch_callback=batch_callback,
        )
        return self

    # --------------------------------------------------------------------- inference

    def predict_proba(self, X: NDArray[Any]) -> Array:
        """Next-token probabilities at every position, (n, T, V)."""
        z = self.forward(self._check(X))
        n, T, V = z.shape
        return softmax(z.reshape(n * T, V)).reshape(n, T, V)

    def predict(self, X: NDArray[Any]) -> Tokens:
        """The most probable next token at every position, (n, T)."""
        labels: Tokens = np.argmax(self.predict_proba(X), axis=-1).astype(np.int64)
        return labels

    def loss(self, X: NDArray[Any], y: NDArray[Any], batch_size: int = 256) -> float:
        """The mean cross-entropy in nats per position, computed in batches of windows."""
        X = self._check(X)
        y = self._check(y, X.shape, "y")
        total = 0.0
        for start in range(0, len(X), batch_size):
            z = self.forward(X[start : start + batch_size])
            rows = y[start : start + batch_size]
            L, _ = cross_entropy(z.reshape(rows.size, -1), rows.reshape(-1))
            total += L * rows.size
        return total / y.size

    def gradients(self, X: NDArray[Any], y: NDArray[Any]) -> tuple[float, dict[str, Array]]:
        """``(loss, dL/dθ)`` on all of X, keyed like :meth:`state_dict`."""
        L = self.backward(self._check(X), self._check(y, np.shape(X), "y"))
        grads = {}
        for key, p in self._named():
            assert p.grad is not None
            grads[key] = p.grad.copy()
        return L, grads

    def sample(
        self, prompt: Tokens, length: int, temperature: float = 0.8, seed: int = 0, context: int = 0
    ) -> Tokens:
        """``length`` tokens, each drawn from softmax(z / temperature) at the last position
        and fed back in. The model reads the last `context` tokens (0: all of them) from a
        zero state, as it did in training."""

        def last_logits(window: Tokens) -> Array:
            z: Array = self.forward(window)[0, -1]
            return z

        return sample(
            last_logits, prompt, length, temperature=temperature, seed=seed, context=context
        )

    # -------------------------------------------------------------------- state dict

    def state_dict(self) -> dict[str, Array]:
        """Copies of the parameters under torch's keys: ``"1.weight_ih_l0"``, ..."""
        return {key: p.data.copy() for key, p in self._named()}

    def load_state_dict(self, state: Mapping[str, NDArray[Any]]) -> None:
        """Copy torch-keyed arrays in; wrong keys, shapes or dtypes raise ValueError."""
        named = self._named()
        arrays = check.check_state_dict(state, {k: p.data.shape for k, p in named}, self.dtype)
        for key, p in named:
            p.data[...] = arrays[key]

    # ------------------------------------------------------------------------ plumbing

    def _named(self) -> list[tuple[str, Parameter]]:
        """``("1.weight_ih_l0", handle)``...: entry i of the spec is module i."""
        return list(self._iter_named())

    def _iter_named(self) -> Iterator[tuple[str, Parameter]]:
        for i, module in enumerate(self.modules):
            for torch_name, p in parameters(module):
                yield f"{i}.{torch_name}", p

    def _check(self, X: object, shape: tuple[int, ...] | None = None, name: str = "X") -> Tokens:
        return check_tokens(X, self.vocabulary, name=name, shape=shape)

    def __repr__(self) -> str:
        return f"SequenceNetwork({self.layers!r}, seed={self.seed}, dtype={self.dtype.name!r})"


def build(text: str, where: str, rng: np.random.Generator, dtype: np.dtype[Any]) -> SequenceModule:
    """One module from its spec entry, with torch's argument names and defaults."""
    spec = parse(text, where)
    if spec.name not in SUPPORTED_LAYERS:
        raise ValueError(
            f"{where} = {spec}: {spec.name} is not supported by matrix's SequenceNetwork; "
            f"supported: {', '.join(sorted(SUPPORTED_LAYERS))}"
        )
    args = _bind(spec, where)
    if spec.name == "Embedding":
        return Embedding(args["num_embeddings"], args["embedding_dim"], rng=rng, dtype=dtype)
    if spec.name == "Linear":
        return EveryStep(Linear(args["in_features"], args["out_features"], rng, dtype))
    if not args["batch_first"]:
        raise ValueError(f"{where} = {spec}: sequence models need batch_first=True")
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
    module = build(spec, "layer", np.random.default_rng(0), np.dtype(np.float64))
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


# torch's constructor arguments for the entries above, in order, with torch's defaults;
# `fixed` ones must keep their default here (no bias-free, bidirectional or dropout RNNs).
_SIGNATURES: dict[str, tuple[tuple[str, Any], ...]] = {
    "Embedding": (("num_embeddings", None), ("embedding_dim", None)),
    "Linear": (("in_features", None), ("out_features", None), ("bias", True)),
    "RNN": (
        ("input_size", None),
        ("hidden_size", None),
        ("num_layers", 1),
        ("nonlinearity", "tanh"),
        ("bias", True),
        ("batch_first", False),
        ("dropout", 0.0),
        ("bidirectional", False),
    ),
    "LSTM": (
        ("input_size", None),
        ("hidden_size", None),
        ("num_layers", 1),
        ("bias", True),
        ("batch_first", False),
        ("dropout", 0.0),
        ("bidirectional", False),
    ),
}
_FIXED = {"bias": True, "dropout": 0.0, "bidirectional": False}


def _bind(spec: LayerSpec, where: str) -> dict[str, Any]:
    """Every argument of `spec` by torch's name; sizes must be positive ints."""
    signature = _SIGNATURES[spec.name]
    names = [name for name, _ in signature]
    if len(spec.args) > len(names):
        raise ValueError(
            f"{where} = {spec}: {spec.name} takes at most {len(names)} "
            f"positional arguments ({', '.join(names)})"
        )
    args = dict(signature) | dict(zip(names, spec.args, strict=False))
    for key, value in spec.kwargs.items():
        if key not in names:
            raise ValueError(
                f"{where} = {spec}: {spec.name} has no argument {key!r} here; "
                f"supported: {', '.join(names)}"
            )
        args[key] = value
    for key, value in args.items():
        if key in _FIXED and value != _FIXED[key]:
            raise ValueError(
                f"{where} = {spec}: {key}={value!r} is not supported; expected {_FIXED[key]!r}"
            )
        if value is None or (
            key.endswith(("_size", "_features", "embeddings", "_dim", "num_layers"))
            and not _positive_int(value)
        ):
            raise ValueError(f"{where} = {spec}: {key} must be a positive int, got {value!r}")
    return args


def _positive_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value > 0
