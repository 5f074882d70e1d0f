"""``Module``: the container that finds its parameters by itself, as ``torch.nn.Module``.

Assigning a :class:`Parameter` or another :class:`Module` to an attribute registers it
(``__setattr__`` keeps them in ordered dicts), so ``parameters()``, ``state_dict()`` and
``zero_grad()`` can walk the tree without the subclass listing anything; state that is
not learned but belongs to the model (BatchNorm's running statistics) is registered with
:meth:`~Module.register_buffer` and saved beside the parameters. Names are dotted
paths through that tree: the weight of the first layer of a ``Sequential`` is
``"0.weight"``, exactly the key torch uses, so state dicts move between the two.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterator, Mapping
from typing import Any, NamedTuple

import numpy as np
from numpy.typing import DTypeLike

from ..tensor import Tensor


class Parameter(Tensor):
    """A tensor that is a module's learnable parameter: ``requires_grad`` by default."""

    __slots__ = ()

    def __init__(self, data: Any, requires_grad: bool = True, dtype: DTypeLike | None = None):
        super().__init__(data, requires_grad=requires_grad, dtype=dtype)

    def __repr__(self) -> str:
        return f"Parameter containing:\n{super().__repr__()}"


class IncompatibleKeys(NamedTuple):
    """What ``load_state_dict(strict=False)`` could not match, as torch reports it."""

    missing_keys: list[str]
    unexpected_keys: list[str]


class Module:
    """Base class of every layer and model; subclasses define ``forward``."""

    training: bool
    _parameters: dict[str, Parameter]
    _buffers: dict[str, Tensor | None]
    _modules: dict[str, Module]

    def __init__(self) -> None:
        object.__setattr__(self, "training", True)
        object.__setattr__(self, "_parameters", OrderedDict())
        object.__setattr__(self, "_buffers", OrderedDict())
        object.__setattr__(self, "_modules", OrderedDict())

    def __setattr__(self, name: str, value: Any) -> None:
        if "_parameters" not in self.__dict__:
            raise AttributeError(
                f"cannot assign {name!r} before Module.__init__() call in {type(self).__name__}"
            )
        if name in self._buffers and (value is None or isinstance(value, Tensor)):
            self._buffers[name] = value  # a buffer stays a buffer when re-assigned
            object.__setattr__(self, name, value)
            return
        # Re-assigning a name drops its old registration, whatever it was.
        self._buffers.pop(name, None)
        self._parameters.pop(name, None)
        self._modules.pop(name, None)
        if isinstance(value, Parameter):
            self._parameters[name] = value
        elif isinstance(value, Module):
            self._modules[name] = value
        object.__setattr__(self, name, value)  # plain attribute access stays fast

    def __delattr__(self, name: str) -> None:
        self._buffers.pop(name, None)
        self._parameters.pop(name, None)
        self._modules.pop(name, None)
        object.__delattr__(self, name)

    def register_buffer(self, name: str, tensor: Tensor | None) -> None:
        """Keep ``tensor`` as state of this module that is not learned: it is in
        ``state_dict()`` and ``buffers()``, never in ``parameters()``."""
        if "_buffers" not in self.__dict__:
            raise AttributeError("cannot assign buffer before Module.__init__() call")
        if tensor is not None and not isinstance(tensor, Tensor):
            raise TypeError(f"cannot assign {type(tensor).__name__} object to buffer {name!r}")
        self._parameters.pop(name, None)
        self._modules.pop(name, None)
        self._buffers[name] = tensor
        object.__setattr__(self, name, tensor)

    def forward(self, *args: Any, **kwargs: Any) -> Any:
        raise NotImplementedError(f"{type(self).__name__} must define forward()")

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self.forward(*args, **kwargs)

    # ------------------------------------------------------------------- the module tree

    def named_children(self) -> Iterator[tuple[str, Module]]:
        yield from self._modules.items()

    def children(self) -> Iterator[Module]:
        yield from self._modules.values()

    def named_modules(self, prefix: str = "") -> Iterator[tuple[str, Module]]:
        """This module and every descendant, depth first, with dotted names."""
        stack: list[tuple[str, Module]] = [(prefix, self)]
        while stack:
            name, module = stack.pop()
            yield name, module
            children = [(f"{name}.{k}" if name else k, m) for k, m in module._modules.items()]
            stack.extend(reversed(children))

    def named_parameters(self, prefix: str = "") -> Iterator[tuple[str, Parameter]]:
        """``("0.weight", W)``, ...: each module's own parameters, then its children's."""
        for module_name, module in self.named_modules(prefix):
            for name, parameter in module._parameters.items():
                yield (f"{module_name}.{name}" if module_name else name), parameter

    def parameters(self) -> Iterator[Parameter]:
        for _, parameter in self.named_parameters():
            yield parameter

    def named_buffers(self, prefix: str = "") -> Iterator[tuple[str, Tensor]]:
        """``("1.running_mean", tensor)``, ...: every buffer that is set, with dotted names."""
        for module_name, module in self.named_modules(prefix):
            for name, buffer in module._buffers.items():
                if buffer is not None:
                    yield (f"{module_name}.{name}" if module_name else name), buffer

    def buffers(self) -> Iterator[Tensor]:
        for _, buffer in self.named_buffers():
            yield buffer

    # ------------------------------------------------------------------------ modes, grads

    def train(self, mode: bool = True) -> Module:
        """Set training mode here and in every descendant (``eval()`` is ``train(False)``)."""
        for _, module in self.named_modules():
            object.__setattr__(module, "training", mode)
        return self

    def eval(self) -> Module:
        return self.train(False)

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Forget every parameter's gradient (torch's default sets them to ``None``)."""
        for parameter in self.parameters():
            if set_to_none or parameter.grad is None:
                parameter.grad = None
            else:
                parameter.grad = Tensor._wrap(np.zeros_like(parameter.data))

    # --------------------------------------------------------------------------- state

    def state_dict(self) -> OrderedDict[str, Tensor]:
        """Every parameter and buffer by dotted name, detached (sharing memory, as torch),
        each module's parameters then its buffers, in the order of the tree."""
        return OrderedDict((name, t.detach()) for name, t in self._named_state())

    def _named_state(self) -> Iterator[tuple[str, Tensor]]:
        for module_name, module in self.named_modules():
            own: list[tuple[str, Tensor | None]] = [
                *module._parameters.items(),
                *module._buffers.items(),
            ]
            for name, t in own:
                if t is not None:
                    yield (f"{module_name}.{name}" if module_name else name), t

    def load_state_dict(
        self, state_dict: Mapping[str, Any], strict: bool = True
    ) -> IncompatibleKeys:
        """Copy values into the parameters and buffers, in place; keys and shapes must match.

        Values may be tensors or arrays; they are cast to each parameter's dtype, as
        ``Tensor.copy_`` does. Nothing is written unless everything matches.
        """
        own = dict(self._named_state())
        missing = [k for k in own if k not in state_dict]
        unexpected = [k for k in state_dict if k not in own]
        errors = []
        if strict and unexpected:
            errors.append(f"Unexpected key(s) in state_dict: {', '.join(map(repr, unexpected))}.")
        if strict and missing:
            errors.append(f"Missing key(s) in state_dict: {', '.join(map(repr, missing))}.")
        arrays = {}
        for key in own.keys() & state_dict.keys():
            value = state_dict[key]
            array = np.asarray(value.data if isinstance(value, Tensor) else value)
            if array.shape != own[key].shape:
                errors.append(
                    f"size mismatch for {key}: copying a param with shape {array.shape} from "
                    f"checkpoint, the shape in current model is {own[key].shape}."
                )
            arrays[key] = array
        if errors:
            raise RuntimeError(
                f"Error(s) in loading state_dict for {type(self).__name__}:\n\t"
                + "\n\t".join(errors)
            )
        for key, array in arrays.items():
            own[key].data[...] = array
        return IncompatibleKeys(missing, unexpected)

    def __repr__(self) -> str:
        if not self._modules:
            return f"{type(self).__name__}({self.extra_repr()})"
        lines = [
            f"  ({name}): {module!r}".replace("\n", "\n  ")
            for name, module in self._modules.items()
        ]
        return f"{type(self).__name__}(\n" + "\n".join(lines) + "\n)"

    def extra_repr(self) -> str:
        return ""
