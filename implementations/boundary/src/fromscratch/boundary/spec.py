r"""The architecture spec: ``layers`` as the entries of a ``torch.nn.Sequential``.

A model's ``layers`` is one of two things:

* the MLP shorthand, sizes only: ``[784, 128, 10]`` is ``Linear(784, 128), Act(),
  Linear(128, 10)`` with the model's ``activation`` between the ``Linear`` layers;
* a list of strings, each a ``torch.nn`` constructor call with literal arguments, one per
  ``nn.Sequential`` entry::

      ["Unflatten(1, (1, 28, 28))", "Conv2d(1, 6, 5, padding=2)", "ReLU()",
       "MaxPool2d(2)", "Flatten()", "Linear(1176, 10)"]

Each string is parsed with :mod:`ast` (never evaluated) into a :class:`LayerSpec`:
the name, the positional and the keyword arguments, exactly as written. :func:`bind` then
names every argument the way torch's constructor does, with torch's defaults filled in,
so an implementation reads ``spec.params["kernel_size"]`` whether the user wrote
``Conv2d(1, 6, 5)`` or ``Conv2d(1, 6, kernel_size=(5, 5))``.

The input ``X`` stays 2-D, (n, features): a network of images opens with
``Unflatten(1, (C, H, W))``, which turns each row back into a C x H x W image.
:func:`shapes` follows one sample's shape through every layer, so a spec whose sizes do
not fit together is refused at construction, naming the layer.
"""

from __future__ import annotations

import ast
import itertools
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final

# The shape of one sample, without the batch dimension: (784,), (6, 28, 28). A comment, not
# a docstring: Sphinx would try to link the source of a documented tuple[...] to builtins.
Shape = tuple[int, ...]


@dataclass(frozen=True)
class LayerSpec:
    """One ``nn.Sequential`` entry: a ``torch.nn`` class name and its constructor arguments,
    as written, plus (after :func:`bind`) every argument by name with torch's defaults."""

    name: str
    args: tuple[Any, ...] = ()
    kwargs: Mapping[str, Any] = field(default_factory=dict)
    params: Mapping[str, Any] = field(default_factory=dict, compare=False)

    def __str__(self) -> str:
        written = [repr(a) for a in self.args] + [f"{k}={v!r}" for k, v in self.kwargs.items()]
        return f"{self.name}({', '.join(written)})"


REQUIRED: Final = object()
"""Marks a constructor argument without a default."""

# torch.nn's constructor arguments, in torch's order, with torch's defaults: only the ones
# the implementations here understand. A spec that uses another one is refused by name.
SIGNATURES: Final[dict[str, tuple[tuple[str, Any], ...]]] = {
    "Linear": (("in_features", REQUIRED), ("out_features", REQUIRED), ("bias", True)),
    "ReLU": (),
    "Sigmoid": (),
    "Tanh": (),
    "Conv2d": (
        ("in_channels", REQUIRED),
        ("out_channels", REQUIRED),
        ("kernel_size", REQUIRED),
        ("stride", 1),
        ("padding", 0),
        ("bias", True),
    ),
    "MaxPool2d": (("kernel_size", REQUIRED), ("stride", None)),
    "AvgPool2d": (("kernel_size", REQUIRED), ("stride", None)),
    "Flatten": (("start_dim", 1), ("end_dim", -1)),
    "Unflatten": (("dim", REQUIRED), ("unflattened_size", REQUIRED)),
    "Dropout": (("p", 0.5),),
    "BatchNorm2d": (("num_features", REQUIRED), ("eps", 1e-5), ("momentum", 0.1)),
    "Embedding": (("num_embeddings", REQUIRED), ("embedding_dim", REQUIRED)),
    "RNN": (
        *(("input_size", REQUIRED), ("hidden_size", REQUIRED), ("num_layers", 1)),
        *(("nonlinearity", "tanh"), ("bias", True), ("batch_first", False)),
        *(("dropout", 0.0), ("bidirectional", False)),
    ),
    "LSTM": (
        *(("input_size", REQUIRED), ("hidden_size", REQUIRED), ("num_layers", 1)),
        *(("bias", True), ("batch_first", False), ("dropout", 0.0), ("bidirectional", False)),
    ),
}
PAIRS: Final = frozenset({"kernel_size", "stride", "padding"})
"""Arguments torch takes as an int or an (h, w) pair; :func:`bind` always gives the pair."""

ACTIVATION_LAYERS: Final = {"relu": "ReLU", "sigmoid": "Sigmoid", "tanh": "Tanh"}
"""The torch module of each ``activation`` name of the MLP shorthand."""

MLP_LAYERS: Final = frozenset({"Linear", *ACTIVATION_LAYERS.values()})
"""The layers of the MLP shorthand: what a model class builds unless it says more."""


def parse(text: str, where: str = "layer") -> LayerSpec:
    """``"Conv2d(1, 6, 5, padding=2)"`` -> ``LayerSpec("Conv2d", (1, 6, 5), {"padding": 2})``.

    Only a call of a bare name with literal arguments (numbers, strings, booleans, None,
    tuples and lists of them) is accepted; anything else raises ``ValueError`` naming
    ``where`` and what was expected.
    """
    example = (
        "a torch.nn constructor call with literal arguments, e.g. 'Conv2d(1, 6, 5, padding=2)'"
    )
    if not isinstance(text, str):
        raise ValueError(f"{where} = {text!r} is not a string: expected {example}")
    try:
        node = ast.parse(text.strip(), mode="eval").body
    except SyntaxError as exc:
        raise ValueError(f"{where} = {text!r} is not valid Python: expected {example}") from exc
    if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)):
        raise ValueError(f"{where} = {text!r} is not a call of a layer name: expected {example}")
    try:
        args = tuple(_literal(a) for a in node.args)
        kwargs = {kw.arg: _literal(kw.value) for kw in node.keywords if kw.arg is not None}
    except ValueError as exc:
        raise ValueError(f"{where} = {text!r}: {exc}; expected {example}") from exc
    if len(kwargs) != len(node.keywords):
        raise ValueError(f"{where} = {text!r} uses **kwargs: expected {example}")
    return LayerSpec(node.func.id, args, kwargs)


def _literal(node: ast.expr) -> Any:
    if isinstance(node, ast.Starred):
        raise ValueError("*args is not a literal argument")
    try:
        value = ast.literal_eval(node)
    except ValueError:
        raise ValueError(f"the argument {ast.unparse(node)!r} is not a literal") from None
    return tuple(value) if isinstance(value, list) else value


def bind(spec: LayerSpec, where: str = "layer") -> LayerSpec:
    """``spec`` with ``params``: every argument by its torch name, defaults filled in,
    ``kernel_size``/``stride``/``padding`` as (h, w) pairs, a pooling ``stride`` of None
    as the kernel size. Unknown names and arguments raise ``ValueError``."""
    if spec.name not in SIGNATURES:
        raise ValueError(
            f"{where} = {spec}: unknown layer {spec.name!r}; known: {', '.join(SIGNATURES)}"
        )
    signature = SIGNATURES[spec.name]
    names = [name for name, _ in signature]
    if len(spec.args) > len(names):
        raise ValueError(
            f"{where} = {spec}: {spec.name} takes at most {len(names)} positional "
            f"arguments ({', '.join(names) or 'none'}), got {len(spec.args)}"
        )
    params: dict[str, Any] = dict(zip(names, spec.args, strict=False))
    for key, value in spec.kwargs.items():
        if key not in names:
            raise ValueError(
                f"{where} = {spec}: {spec.name} has no argument {key!r} here; "
                f"supported: {', '.join(names) or 'none'}"
            )
        if key in params:
            raise ValueError(f"{where} = {spec}: {key!r} is given twice")
        params[key] = value
    for name, default in signature:
        if name not in params:
            if default is REQUIRED:
                raise ValueError(f"{where} = {spec}: {spec.name} needs {name!r}")
            params[name] = default
    if params.get("stride", 0) is None:
        params["stride"] = params["kernel_size"]
    for name in PAIRS & params.keys():
        params[name] = _pair(params[name], f"{where} = {spec}: {name}")
    _check_values(spec, params, f"{where} = {spec}")
    return LayerSpec(spec.name, spec.args, spec.kwargs, params)


def _pair(value: Any, where: str) -> tuple[int, int]:
    if _is_int(value):
        return (value, value)
    if isinstance(value, tuple) and len(value) == 2 and all(map(_is_int, value)):
        return (value[0], value[1])
    raise ValueError(f"{where} = {value!r}: expected an int or a pair of ints")


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _check_values(spec: LayerSpec, params: dict[str, Any], where: str) -> None:
    positive = (
        *("in_features", "out_features", "in_channels", "out_channels", "num_features"),
        *("num_embeddings", "embedding_dim", "input_size", "hidden_size", "num_layers"),
    )
    for name in positive:
        if name in params and not (_is_int(params[name]) and params[name] > 0):
            raise ValueError(f"{where}: {name} must be a positive int, got {params[name]!r}")
    for name in ("kernel_size", "stride"):
        if name in params and min(params[name]) < 1:
            raise ValueError(f"{where}: {name} must be at least 1, got {params[name]}")
    if "padding" in params and min(params["padding"]) < 0:
        raise ValueError(f"{where}: padding must be at least 0, got {params['padding']}")
    if "bias" in params and not isinstance(params["bias"], bool):
        raise ValueError(f"{where}: bias must be True or False, got {params['bias']!r}")
    if spec.name == "Unflatten":
        size = params["unflattened_size"]
        if not (isinstance(size, tuple) and size and all(_is_int(s) and s > 0 for s in size)):
            raise ValueError(f"{where}: unflattened_size must be a tuple of positive ints")
    if spec.name == "Dropout" and not (
        isinstance(params["p"], int | float) and 0 <= params["p"] <= 1
    ):
        raise ValueError(f"{where}: p must be a probability in [0, 1], got {params['p']!r}")


def is_spec(layers: object) -> bool:
    """Whether ``layers`` is meant as spec strings rather than sizes: every entry a string,
    or some entry a call such as ``"Linear(16, 2)"`` (a list mixing sizes with calls goes
    to :func:`parse_layers`, which says so; ``[4, "8", 3]`` stays a list of bad sizes)."""
    if not isinstance(layers, Sequence) or isinstance(layers, str | bytes) or not layers:
        return False
    strings = [entry for entry in layers if isinstance(entry, str)]
    return len(strings) == len(layers) or any("(" in entry for entry in strings)


def is_shorthand(layers: Sequence[Any]) -> bool:
    """Whether ``layers`` is the MLP shorthand (sizes) rather than a list of spec strings."""
    return all(_is_int(size) for size in layers)


def mlp(sizes: Sequence[int], activation: str) -> list[LayerSpec]:
    """The MLP shorthand as specs: ``[4, 5, 3]`` -> ``Linear(4, 5), ReLU(), Linear(5, 3)``."""
    if activation not in ACTIVATION_LAYERS:
        raise ValueError(
            f"activation={activation!r} is not one of {', '.join(map(repr, ACTIVATION_LAYERS))}"
        )
    specs: list[LayerSpec] = []
    for i, (n_in, n_out) in enumerate(itertools.pairwise(sizes)):
        if i > 0:
            specs.append(bind(LayerSpec(ACTIVATION_LAYERS[activation])))
        specs.append(bind(LayerSpec("Linear", (n_in, n_out))))
    return specs


def dense(
    specs: Sequence[LayerSpec], first: int = 0, activation: str = "relu"
) -> tuple[tuple[int, ...], str]:
    """The MLP that ``specs[first:]`` is, as the shorthand: its sizes and its activation
    name (``activation`` when it has a single ``Linear``).

    For an implementation that builds MLPs only: the entries must be ``Linear, Act,
    Linear, ..., Linear`` with biases and one kind of activation; anything else raises
    ``ValueError`` naming the entry.
    """
    names = {layer: name for name, layer in ACTIVATION_LAYERS.items()}
    rest = specs[first:]
    expected = "Linear, then Act and Linear in turn, ending with Linear"
    sizes: list[int] = []
    kinds = set()
    for j, spec in enumerate(rest):
        where = f"layers[{first + j}] = {spec}"
        if j % 2 == 0:
            if spec.name != "Linear" or spec.params["bias"] is not True:
                raise ValueError(f"{where}: expected Linear(in, out) (with a bias): {expected}")
            if not sizes:
                sizes.append(int(spec.params["in_features"]))
            sizes.append(int(spec.params["out_features"]))
        else:
            if spec.name not in names:
                raise ValueError(
                    f"{where}: expected an activation (ReLU, Sigmoid, Tanh): {expected}"
                )
            kinds.add(spec.name)
    if len(rest) % 2 == 0:
        raise ValueError(f"layers[{len(specs) - 1}] = {specs[-1]}: {expected}")
    if len(kinds) > 1:
        raise ValueError(
            f"layers mixes the activations {sorted(kinds)}: an MLP here uses one kind "
            "between all of its Linear layers"
        )
    return tuple(sizes), names[kinds.pop()] if kinds else activation


def parse_layers(layers: Sequence[Any], activation: str = "relu") -> list[LayerSpec]:
    """Bound specs for ``layers``: the shorthand expanded with ``activation``, or each string
    parsed and bound. Errors name the entry, as ``layers[3]``.

    Sizes of the shorthand are checked by the caller (at least two positive ints);
    a list of strings must be non-empty, and mixing ints with strings is refused.
    """
    if isinstance(layers, str | bytes) or not isinstance(layers, Sequence):
        raise ValueError(
            f"layers must be a list of sizes or of layer specs (strings), got {layers!r}"
        )
    if not layers:
        raise ValueError("layers is empty: expected sizes such as [784, 10] or layer specs")
    if is_shorthand(layers):
        return mlp(list(layers), activation)
    if not all(isinstance(entry, str) for entry in layers):
        raise ValueError(
            f"layers mixes sizes and other entries ({layers!r}): give either sizes "
            "[784, 128, 10] or one spec string per layer, e.g. ['Linear(784, 10)']"
        )
    return [bind(parse(text, f"layers[{i}]"), f"layers[{i}]") for i, text in enumerate(layers)]


def input_width(specs: Sequence[LayerSpec]) -> int:
    """The number of columns of ``X``: the first ``Linear``'s inputs, or C*H*W of an opening
    ``Unflatten(1, (C, H, W))``."""
    first = specs[0]
    if first.name == "Linear":
        return int(first.params["in_features"])
    if first.name == "Unflatten" and first.params["dim"] in (1, -1):
        return math.prod(first.params["unflattened_size"])
    raise ValueError(
        f"layers[0] = {first}: X is 2-D (rows, features), so the first layer must be "
        "Linear(in, out) or Unflatten(1, (C, H, W)) to make images of the rows"
    )


def shapes(specs: Sequence[LayerSpec]) -> list[Shape]:
    """One sample's shape before the first layer and after each: ``len(specs) + 1`` shapes.

    Raises ``ValueError`` naming the first layer whose input does not fit, and when the
    output is not one row of scores per sample.
    """
    shape: Shape = (input_width(specs),)
    out = [shape]
    for i, spec in enumerate(specs):
        shape = output_shape(spec, shape, f"layers[{i}] = {spec}")
        out.append(shape)
    if len(shape) != 1:
        raise ValueError(
            f"layers[{len(specs) - 1}], the last layer, gives each sample the shape {shape}: "
            "expected one score per class, shape (k,); end with Flatten() and Linear(..., k)"
        )
    return out


def output_shape(spec: LayerSpec, shape: Shape, where: str) -> Shape:
    """The shape one sample has after ``spec``, given the shape it had before."""
    p = spec.params
    if spec.name == "Linear":
        _expect(shape[-1] == p["in_features"], where, f"(..., {p['in_features']})", shape)
        return (*shape[:-1], p["out_features"])
    if spec.name in ("Conv2d", "MaxPool2d", "AvgPool2d", "BatchNorm2d"):
        channels = p.get("in_channels", p.get("num_features"))
        expected = "(C, H, W)" if channels is None else f"({channels}, H, W)"
        _expect(len(shape) == 3 and channels in (None, shape[0]), where, expected, shape)
        if spec.name == "BatchNorm2d":
            return shape
        (kh, kw), (sh, sw) = p["kernel_size"], p["stride"]
        ph, pw = p.get("padding", (0, 0))
        h, w = (shape[1] + 2 * ph - kh) // sh + 1, (shape[2] + 2 * pw - kw) // sw + 1
        if h < 1 or w < 1:
            raise ValueError(f"{where}: the kernel {kh}x{kw} is larger than the input {shape}")
        return (p.get("out_channels", shape[0]), h, w)
    if spec.name == "Flatten":
        full = (0, *shape)  # dims as torch counts them, the batch first
        start, end = (d % len(full) for d in (p["start_dim"], p["end_dim"]))
        _expect(start == 1 and end == len(full) - 1, where, "Flatten() of every sample dim", shape)
        return (math.prod(shape),)
    if spec.name == "Unflatten":
        size = p["unflattened_size"]
        dim = p["dim"] % (len(shape) + 1)
        _expect(
            dim >= 1 and shape[dim - 1] == math.prod(size), where, f"{math.prod(size)} there", shape
        )
        return (*shape[: dim - 1], *size, *shape[dim:])
    return shape  # elementwise: activations, Dropout


def _expect(ok: bool, where: str, expected: str, got: Shape) -> None:
    if not ok:
        raise ValueError(f"{where}: expected each sample's shape {expected}, got {got}")
