r"""``SequenceModel``: what every next-token model shares around its math.

A sequence model reads (n, T) windows of token ids ``X`` and, at every position, scores
the token that comes next, ``y`` (n, T). Its logits z are (n, T, V) for a vocabulary of
V tokens, and its loss is the mean cross-entropy over all n·T positions:

.. math::

    L = \frac{1}{nT} \sum_{i, t} \Big( \log \sum_v e^{z_{itv}} - z_{i t y_{it}} \Big)

An implementation subclasses :class:`SequenceModel` and writes only its subject:

* ``build(rng)``: the modules of ``self.specs`` (the parsed
  :class:`~fromscratch.boundary.spec.LayerSpec` of each entry), their parameters
  drawn from ``rng`` entry after entry, as torch draws them;
* ``forward(X)``: the logits z, (n, T, V), as an array;
* ``backward(X, y)``: forward, the loss and every parameter's gradient, stored where its
  optimizers read it; returns L;
* ``mean_loss(X, y)``: L alone, without gradients;
* ``named_parameters()``: ``(torch key, parameter)`` pairs in state-dict order.

Everything else is here, once: the constructor's checks and the spec's parsing, ``fit``
(the classifiers' own, :class:`~fromscratch.boundary.fit.GradientFit`, whose
``clip_grad_norm`` option recurrent nets need most), ``loss``, ``predict``, ``gradients``,
``sample``, the state dict and ``__repr__``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

import numpy as np
from numpy.typing import NDArray

from . import validation as check
from .fit import GradientFit
from .loop import shuffle_rng
from .optim import Optimizer
from .options import OPTIMIZERS
from .spec import LayerSpec, parse
from .tokens import Tokens, check_tokens, sample
from .types import DTYPES, Array

EXAMPLE = "['Embedding(65, 128)', 'LSTM(128, 256, batch_first=True)', 'Linear(256, 65)']"
SEQUENCE_WISE = frozenset({"RNN", "LSTM", "GRU", "MultiheadAttention", "TransformerEncoderLayer"})
"""Entries that read a whole sequence: here always (n, T, features), so batch_first=True."""


class SequenceModel(GradientFit):
    """The protocol for text: ``SequenceNetwork(layers, *, loss="cross_entropy", seed=0,
    dtype="float32")``.

    Parameters
    ----------
    layers
        Spec strings, one per ``nn.Sequential`` entry (``docs/protocol.md``, *Sequence
        models*): the first an ``Embedding(V, d)``, the last producing V logits, recurrent
        and attention entries with ``batch_first=True``.
    loss
        ``"cross_entropy"``, the only loss of a sequence model.
    seed
        Seeds the initial parameters (entry after entry) and, on a child stream, the
        shuffling of the windows in ``fit``.
    dtype
        ``"float32"`` or ``"float64"``.
    """

    supported_layers: ClassVar[frozenset[str]] = frozenset()
    optimizers: ClassVar[Mapping[str, type[Optimizer]]] = {
        name: OPTIMIZERS[name] for name in ("sgd", "adam")
    }
    context_size = 0
    """The longest window the model reads (a learned position table's length); 0: any."""

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
                f"layers must be a non-empty list of spec strings, got {layers!r}: e.g. {EXAMPLE}"
            )
        self.layers = list(layers)
        self.specs = [self.parse_spec(text, f"layers[{i}]") for i, text in enumerate(layers)]
        for i, spec in enumerate(self.specs):
            if spec.name in SEQUENCE_WISE and spec.kwargs.get("batch_first") is not True:
                raise ValueError(f"layers[{i}] = {spec}: sequence models need batch_first=True")
        if self.specs[0].name != "Embedding":
            raise ValueError(
                f"layers[0] = {self.specs[0]}: a sequence model opens with Embedding(V, d)"
            )
        self.build(np.random.default_rng(self.seed))
        self.vocabulary = int(self.named_parameters()[0][1].data.shape[0])  # Embedding's (V, d)
        self.shuffle_rng = shuffle_rng(self.seed)

    @classmethod
    def parse_spec(cls, text: str, where: str) -> LayerSpec:
        """One entry parsed by :func:`~fromscratch.boundary.spec.parse`; an entry this
        implementation does not build raises ValueError naming it."""
        spec = parse(text, where)
        if spec.name not in cls.supported_layers:
            package = cls.__module__.split(".")
            implementation = package[1] if package[0] == "fromscratch" else cls.__module__
            raise ValueError(
                f"{where} = {spec}: {spec.name} is not supported by {implementation}'s "
                f"{cls.__name__}; supported: {', '.join(sorted(cls.supported_layers))}"
            )
        return spec

    # ------------------------------------------------- the subject, in the subclass

    def build(self, rng: np.random.Generator) -> None:
        raise NotImplementedError

    def forward(self, X: Tokens) -> Array:
        raise NotImplementedError

    def backward(self, X: Tokens, y: Tokens) -> float:
        raise NotImplementedError

    def mean_loss(self, X: Tokens, y: Tokens) -> float:
        raise NotImplementedError

    def named_parameters(self) -> list[tuple[str, Any]]:
        raise NotImplementedError

    # ------------------------------------------------------------------------- fit

    def parameters(self) -> list[Any]:
        """What the optimizer steps: the parameters of :meth:`named_parameters`, in order."""
        return [p for _, p in self.named_parameters()]

    def check_data(self, X: object, y: object) -> tuple[Tokens, Tokens]:
        """``X`` as (n, T) ids of the vocabulary, ``y`` the same shape."""
        X = self.check_tokens(X)
        return X, self.check_tokens(y, X.shape, "y")

    # ------------------------------------------------------------------- inference

    def predict_proba(self, X: NDArray[Any]) -> Array:
        """Next-token probabilities at every position, (n, T, V): softmax of the logits."""
        z = self.forward(self.check_tokens(X))
        e = np.exp(z - z.max(axis=-1, keepdims=True))  # shifted: exp never overflows
        P: Array = e / e.sum(axis=-1, keepdims=True)
        return P

    def predict(self, X: NDArray[Any]) -> Tokens:
        """The most probable next token at every position, (n, T)."""
        tokens: Tokens = np.argmax(self.predict_proba(X), axis=-1).astype(np.int64)
        return tokens

    def loss(self, X: NDArray[Any], y: NDArray[Any], batch_size: int = 256) -> float:
        """The mean cross-entropy in nats per position, computed in batches of windows."""
        X = self.check_tokens(X)
        y = self.check_tokens(y, X.shape, "y")
        total = 0.0
        for start in range(0, len(X), batch_size):
            rows = slice(start, start + batch_size)
            total += self.mean_loss(X[rows], y[rows]) * y[rows].size
        return total / y.size

    def gradients(self, X: NDArray[Any], y: NDArray[Any]) -> tuple[float, dict[str, Array]]:
        """``(loss, dL/dθ)`` on all of X, keyed like :meth:`state_dict`; θ is unchanged."""
        X = self.check_tokens(X)
        L = self.backward(X, self.check_tokens(y, X.shape, "y"))
        grads = {}
        for key, p in self.named_parameters():
            g = self.gradient(p)
            grads[key] = np.zeros_like(p.data) if g is None else g.copy()
        return L, grads

    def sample(
        self,
        prompt: Sequence[int] | NDArray[Any],
        length: int,
        temperature: float = 0.8,
        seed: int = 0,
        context: int = 0,
    ) -> Tokens:
        """``length`` tokens, each drawn from softmax(z / temperature) at the last position
        and fed back in. The model reads the last ``context`` tokens (0: all of them, up to
        its ``context_size``) from a zero state, as it did in training."""
        self.check_tokens(np.asarray(prompt)[None], name="prompt")

        def last_logits(window: Tokens) -> Array:
            z: Array = self.forward(window)[0, -1]
            return z

        context = context or self.context_size
        return sample(
            last_logits, prompt, length, temperature=temperature, seed=seed, context=context
        )

    # -------------------------------------------------------------------- state dict

    def state_dict(self) -> dict[str, Array]:
        """Copies of the parameters under torch's keys: ``"1.weight_ih_l0"``, ..."""
        return {key: p.data.copy() for key, p in self.named_parameters()}

    def load_state_dict(self, state: Mapping[str, NDArray[Any]]) -> None:
        """Copy torch-keyed arrays in; wrong keys, shapes, dtypes or values raise ValueError."""
        named = self.named_parameters()
        arrays = check.check_state_dict(state, {k: p.data.shape for k, p in named}, self.dtype)
        for key, p in named:
            p.data[...] = arrays[key]  # in place: the optimizers hold these arrays

    # ---------------------------------------------------------------------- plumbing

    def gradient(self, p: Any) -> Array | None:
        """``p``'s gradient, read as this implementation's optimizers read it."""
        return self.optimizers["sgd"].gradient(p)

    def check_tokens(
        self, X: object, shape: tuple[int, ...] | None = None, name: str = "X"
    ) -> Tokens:
        """``X`` as (n, T) int64 ids of this model's vocabulary, else ValueError."""
        return check_tokens(X, self.vocabulary, name=name, shape=shape)

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}({self.layers!r}, seed={self.seed}, dtype={self.dtype.name!r})"
        )
