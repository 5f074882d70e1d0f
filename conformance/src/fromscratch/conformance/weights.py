"""Portable weights: one ``.safetensors`` file that every implementation and torch can load.

::

    from fromscratch.conformance import weights

    weights.save(model, "m.safetensors", activation="relu", loss="cross_entropy",
                 dataset="mnist", recipe=RECIPES["mnist"])
    loops_model = weights.load("m.safetensors", impl="loops")   # any installed implementation
    torch_model = weights.to_torch("m.safetensors")             # a plain nn.Sequential

**What is in the file.** The tensors are the model's ``state_dict()``, keyed and shaped
exactly as ``torch.nn.Sequential.state_dict()`` has them (``"0.weight"`` (out, in),
``"0.bias"``, ``"2.weight"``, ...), in the model's dtype. The ``__metadata__`` (strings
only, as the format demands; lists and dicts as JSON) holds:

==================  ===============================================================
``format``          ``"fromscratch-mlp"``
``format_version``  ``"1"``: a reader refuses any version it does not know
``layers``          the sizes, e.g. ``"[784, 256, 128, 10]"``, or the architecture spec,
                    one ``torch.nn`` call per entry (docs/protocol.md)
``activation``      ``"relu"``, ``"sigmoid"`` or ``"tanh"``
``loss``            ``"cross_entropy"``, ``"bce"`` or ``"mse"``: it decides ``predict_proba``
``dtype``           ``"float32"`` or ``"float64"``
``implementation``  the registered name of the implementation that trained it
``dataset``         what it was trained on (``""`` when not said)
``recipe``          the constructor and ``fit`` arguments it was trained with (JSON)
``versions``        Python, NumPy and the fromscratch distributions involved (JSON)
==================  ===============================================================

**How ``save`` learns the architecture.** For an MLP ``layers`` and ``dtype`` are read off
the state dict (its shapes and its one dtype), so they cannot disagree with the tensors; a
network written as a spec passes its ``layers``, and the state dict must then have exactly
the keys and shapes of that spec's ``nn.Sequential``. The
activation and the loss leave no trace in the parameters, and implementations store them
in different forms, so ``save`` takes them as required keyword arguments. The
implementation's name is looked up in the registry from the model's class unless given.

**Safety.** The file is read by :mod:`~fromscratch.conformance.safetensors_file`, which
parses JSON and raw numbers and never unpickles. A file that is truncated or damaged,
misses a tensor or has an extra one, has a wrong shape or dtype, or names an unknown
format version raises :class:`WeightsError` (a ``ValueError``), whose message starts with
the file's path and says what is wrong. Writes are atomic: a temporary file, then a rename.
"""

from __future__ import annotations

import contextlib
import json
import os
import platform
from collections.abc import Mapping
from dataclasses import dataclass, field
from importlib.metadata import PackageNotFoundError, entry_points, version
from itertools import pairwise
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

import numpy as np
from numpy.typing import NDArray

from fromscratch.conformance.registry import GROUP, Implementation, discover, select
from fromscratch.conformance.safetensors_file import SafetensorsError, read, write

FORMAT: Final = "fromscratch-mlp"
FORMAT_VERSION: Final = "1"
ACTIVATIONS: Final = ("relu", "sigmoid", "tanh")
LOSSES: Final = ("cross_entropy", "bce", "mse")
DTYPES: Final = ("float32", "float64")
REQUIRED: Final = ("layers", "activation", "loss", "dtype")

if TYPE_CHECKING:  # torch is imported only by to_torch and TorchModel: it takes seconds
    import torch


class WeightsError(ValueError):
    """A weights file that cannot be used; the message starts with the file's path."""

    def __init__(self, path: str | os.PathLike[str], problem: str) -> None:
        super().__init__(f"{path}: {problem}")
        self.path = Path(path)
        self.problem = problem


@dataclass(frozen=True)
class Architecture:
    """What it takes to rebuild the model: the constructor arguments but the seed."""

    layers: list[Any]
    """Sizes (the MLP shorthand) or spec strings."""
    activation: str
    loss: str
    dtype: str

    def keys_and_shapes(self) -> dict[str, tuple[int, ...]]:
        """The state dict of ``nn.Sequential``: Linear ``i`` sits at index ``2 i`` of an MLP;
        a spec's keys and shapes are those of torch's module built from it."""
        if all(isinstance(entry, str) for entry in self.layers):
            import torch

            from fromscratch.conformance import reference

            with torch.random.fork_rng():  # leaves torch's global generator as it was
                state = reference.sequential(self.layers).state_dict()
            return {k: tuple(v.shape) for k, v in state.items()}
        shapes: dict[str, tuple[int, ...]] = {}
        for i, (n_in, n_out) in enumerate(pairwise(self.layers)):
            shapes[f"{2 * i}.weight"] = (n_out, n_in)
            shapes[f"{2 * i}.bias"] = (n_out,)
        return shapes


@dataclass(frozen=True)
class Weights:
    """A weights file, read and checked: its tensors, architecture and provenance."""

    path: Path
    tensors: dict[str, NDArray[np.floating[Any]]]
    architecture: Architecture
    implementation: str
    dataset: str
    recipe: dict[str, Any] = field(default_factory=dict)
    versions: dict[str, str] = field(default_factory=dict)


# ----------------------------------------------------------------------------- save


def save(
    model: Any,
    path: str | os.PathLike[str],
    *,
    activation: str,
    loss: str,
    implementation: str | None = None,
    dataset: str = "",
    recipe: Mapping[str, Any] | None = None,
    layers: list[str] | None = None,
) -> Path:
    """Write ``model``'s parameters and architecture to ``path`` (``.safetensors``), atomically.

    ``activation`` and ``loss`` are the ones the model was built with; ``layers`` and
    ``dtype`` come from its state dict. ``implementation`` defaults to the registered
    name of the model's class; ``dataset`` and ``recipe`` record how it was trained.
    Raises ``ValueError`` for an unknown activation or loss, or a state dict that is not
    an MLP's in torch layout (or holds NaN or inf). A network written as a spec passes its
    ``layers``; its state dict must be that spec's.
    """
    state = {k: np.asarray(v) for k, v in model.state_dict().items()}
    arch = _architecture_of(state, activation, loss, layers)
    bad = [k for k, v in state.items() if not np.all(np.isfinite(v))]
    if bad:
        raise ValueError(f"cannot save: tensor {bad[0]!r} holds NaN or inf")
    name = implementation or _registered_name(model)
    metadata = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "layers": json.dumps(arch.layers),
        "activation": arch.activation,
        "loss": arch.loss,
        "dtype": arch.dtype,
        "implementation": name,
        "dataset": dataset,
        "recipe": json.dumps(recipe or {}, sort_keys=True, default=str),
        "versions": json.dumps(_versions(name), sort_keys=True),
    }
    ordered = {k: state[k] for k in arch.keys_and_shapes()}
    return write(path, ordered, metadata)


def _architecture_of(
    state: Mapping[str, NDArray[Any]], activation: str, loss: str, spec: list[str] | None = None
) -> Architecture:
    """The architecture a torch-layout state dict implies, checked for consistency."""
    if activation not in ACTIVATIONS:
        raise ValueError(f"activation {activation!r} is not one of {ACTIVATIONS}")
    if loss not in LOSSES:
        raise ValueError(f"loss {loss!r} is not one of {LOSSES}")
    if spec is not None:
        dtypes = {str(v.dtype) for v in state.values()}
        if len(dtypes) != 1 or next(iter(dtypes)) not in DTYPES:
            raise ValueError(f"parameters must share one dtype of {DTYPES}, got {sorted(dtypes)}")
        arch = Architecture(list(spec), activation, loss, dtypes.pop())
        expected = arch.keys_and_shapes()
        if {k: tuple(v.shape) for k, v in state.items()} != expected:
            raise ValueError(f"the state dict is not that of layers {spec}: expected {expected}")
        return arch
    weights = [state.get(f"{2 * i}.weight") for i in range(len(state) // 2)]
    if not weights or any(w is None or w.ndim != 2 for w in weights):
        raise ValueError(
            f"state dict keys {sorted(state)} are not an MLP's in nn.Sequential layout "
            "('0.weight', '0.bias', '2.weight', ...)"
        )
    layers = [int(weights[0].shape[1])] + [int(w.shape[0]) for w in weights]  # type: ignore[union-attr]
    dtypes = {str(v.dtype) for v in state.values()}
    if len(dtypes) != 1 or next(iter(dtypes)) not in DTYPES:
        raise ValueError(f"parameters must share one dtype of {DTYPES}, got {sorted(dtypes)}")
    arch = Architecture(layers, activation, loss, dtypes.pop())
    expected = arch.keys_and_shapes()
    actual = {k: tuple(v.shape) for k, v in state.items()}
    if actual != expected:
        raise ValueError(
            f"state dict shapes {actual} do not chain into an MLP: expected {expected}"
        )
    return arch


def _registered_name(model: Any) -> str:
    for name, impl in discover().items():
        if isinstance(impl.factory, type) and isinstance(model, impl.factory):
            return name
    return type(model).__module__


def _versions(implementation: str) -> dict[str, str]:
    found = {"python": platform.python_version(), "numpy": np.__version__}
    for dist in ("fromscratch-conformance", "fromscratch-datasets"):
        with contextlib.suppress(PackageNotFoundError):
            found[dist] = version(dist)
    for ep in entry_points(group=GROUP, name=implementation):
        if ep.dist is not None:
            found[ep.dist.name] = ep.dist.version
    return found


# ----------------------------------------------------------------------------- load


def read_weights(path: str | os.PathLike[str]) -> Weights:
    """Read and check a weights file without building any model.

    Raises :class:`WeightsError` naming the file for every problem listed in the module
    docstring.
    """
    path = Path(path)
    try:
        tensors, metadata = read(path)
    except SafetensorsError as exc:
        raise WeightsError(path, exc.problem) from exc
    if metadata.get("format") != FORMAT or "format_version" not in metadata:
        raise WeightsError(
            path,
            f"not a fromscratch weights file: its metadata has format "
            f"{metadata.get('format')!r}, expected {FORMAT!r} with a format_version",
        )
    if metadata["format_version"] != FORMAT_VERSION:
        raise WeightsError(
            path,
            f"format version {metadata['format_version']!r} is not supported "
            f"(this reader knows version {FORMAT_VERSION!r}): upgrade fromscratch-conformance",
        )
    arch = _architecture_from(path, metadata)
    _check_tensors(path, tensors, arch)
    return Weights(
        path,
        tensors,
        arch,
        implementation=metadata.get("implementation", ""),
        dataset=metadata.get("dataset", ""),
        recipe=_json_field(path, metadata, "recipe", dict) or {},
        versions=_json_field(path, metadata, "versions", dict) or {},
    )


def load(path: str | os.PathLike[str], impl: str | None = None) -> Any:
    """Rebuild the model in implementation ``impl`` (by default the one that trained it).

    Raises :class:`WeightsError` for a bad file, or when the implementation refuses the
    weights, and :class:`~fromscratch.conformance.registry.RegistryError` for an
    implementation that is not installed.
    """
    weights = read_weights(path)
    return build(weights, _implementation(weights, impl))


def build(weights: Weights, impl: Implementation) -> Any:
    """A model of ``impl`` holding ``weights``."""
    arch = weights.architecture
    try:
        model = impl.build(
            list(arch.layers), activation=arch.activation, loss=arch.loss, seed=0, dtype=arch.dtype
        )
        model.load_state_dict({k: v.copy() for k, v in weights.tensors.items()})
    except ValueError as exc:
        raise WeightsError(weights.path, f"implementation {impl.name!r} refused it: {exc}") from exc
    return model


def to_torch(path: str | os.PathLike[str]) -> torch.nn.Sequential:
    """The equivalent ``torch.nn.Sequential``, built from the file's metadata alone."""
    from fromscratch.conformance import reference

    weights = read_weights(path)
    arch = weights.architecture
    model = reference.sequential(arch.layers, arch.activation, arch.dtype)
    return reference.load(model, weights.tensors).eval()


class TorchModel:
    """A ``torch.nn.Sequential`` behind the protocol's ``predict_proba`` and ``predict``.

    ``predict_proba`` applies what the loss means (softmax, or the sigmoid pair for
    ``bce``), exactly as :mod:`~fromscratch.conformance.reference` defines it.
    """

    def __init__(self, module: torch.nn.Sequential, loss: str) -> None:
        self.module, self.loss = module, loss

    @classmethod
    def from_file(cls, path: str | os.PathLike[str]) -> TorchModel:
        return cls(to_torch(path), read_weights(path).architecture.loss)

    def predict_proba(self, X: NDArray[Any]) -> NDArray[np.floating[Any]]:
        import torch

        from fromscratch.conformance import reference

        dtype = next(self.module.parameters()).dtype
        with torch.no_grad():
            logits = self.module(torch.as_tensor(np.asarray(X), dtype=dtype))
            return reference.probabilities(self.loss, logits).numpy()

    def predict(self, X: NDArray[Any]) -> NDArray[np.int64]:
        proba: NDArray[np.floating[Any]] = self.predict_proba(X)
        labels: NDArray[np.int64] = np.argmax(proba, axis=1).astype(np.int64)
        return labels


# ----------------------------------------------------------------------------- checks


def _implementation(weights: Weights, impl: str | None) -> Implementation:
    name = impl or weights.implementation
    if not impl and name not in discover():
        raise WeightsError(
            weights.path,
            f"trained by {name!r}, which is not installed here: pass impl= one of "
            f"{', '.join(discover()) or 'none installed'}",
        )
    return select([name])[0]


def _architecture_from(path: Path, metadata: Mapping[str, str]) -> Architecture:
    missing = [k for k in REQUIRED if k not in metadata]
    if missing:
        raise WeightsError(path, f"metadata lacks {', '.join(missing)}")
    layers = _json_field(path, metadata, "layers", list)
    if layers and all(isinstance(entry, str) for entry in layers):
        arch = Architecture(layers, metadata["activation"], metadata["loss"], metadata["dtype"])
        try:
            arch.keys_and_shapes()
        except Exception as exc:  # any spec torch cannot build
            raise WeightsError(path, f"metadata layers {layers!r} do not build: {exc}") from exc
    elif (
        not layers
        or len(layers) < 2
        or not all(isinstance(n, int) and not isinstance(n, bool) and n > 0 for n in layers)
    ):
        raise WeightsError(path, f"metadata layers {metadata['layers']!r}: expected >= 2 sizes > 0")
    for key, allowed in (("activation", ACTIVATIONS), ("loss", LOSSES), ("dtype", DTYPES)):
        if metadata[key] not in allowed:
            raise WeightsError(
                path, f"metadata {key} {metadata[key]!r} is not one of {', '.join(allowed)}"
            )
    if metadata["loss"] == "bce" and layers[-1] != 1 and not isinstance(layers[-1], str):
        raise WeightsError(path, f"loss 'bce' needs 1 output, metadata layers end in {layers[-1]}")
    return Architecture(layers, metadata["activation"], metadata["loss"], metadata["dtype"])


def _json_field(path: Path, metadata: Mapping[str, str], key: str, kind: type) -> Any:
    if key not in metadata:
        return None
    try:
        value = json.loads(metadata[key])
    except json.JSONDecodeError as exc:
        raise WeightsError(path, f"metadata {key} is not valid JSON: {exc}") from exc
    if not isinstance(value, kind):
        raise WeightsError(path, f"metadata {key} must be a JSON {kind.__name__}, got {value!r}")
    return value


def _check_tensors(path: Path, tensors: Mapping[str, NDArray[Any]], arch: Architecture) -> None:
    """Exactly the tensors the architecture implies, with its shapes and dtype, all finite."""
    expected = arch.keys_and_shapes()
    where = f"layers {arch.layers}"
    missing = [k for k in expected if k not in tensors]
    if missing:
        raise WeightsError(path, f"missing tensor {', '.join(map(repr, missing))} for {where}")
    extra = [k for k in tensors if k not in expected]
    if extra:
        raise WeightsError(path, f"unexpected tensor {', '.join(map(repr, extra))} for {where}")
    for key, shape in expected.items():
        t = tensors[key]
        if t.shape != shape:
            raise WeightsError(
                path, f"tensor {key!r} has shape {t.shape}, expected {shape} for {where}"
            )
        if t.dtype != np.dtype(arch.dtype):
            raise WeightsError(
                path, f"tensor {key!r} has dtype {t.dtype}, expected {arch.dtype} (the metadata's)"
            )
        if not np.all(np.isfinite(t)):
            raise WeightsError(path, f"tensor {key!r} holds NaN or inf")
