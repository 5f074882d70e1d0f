r"""The :class:`Tensor`: a NumPy array that remembers how it was made.

Reverse-mode automatic differentiation in one paragraph
-------------------------------------------------------
Every operation on tensors that require gradients records a *node*: its output, the
tensors it read (its ``parents``) and a ``backward`` function. Given the gradient of the
final scalar :math:`L` with respect to the output, :math:`\bar{o} = \partial L / \partial o`
(the *upstream gradient*, or cotangent), ``backward`` returns :math:`\bar{x}_i` for each
parent by the chain rule, :math:`\bar{x}_i = \bar{o}\, \partial o / \partial x_i` written as
a vector-Jacobian product that never builds the Jacobian. :meth:`Tensor.backward` visits
the nodes in reverse topological order, so that a node runs only once every consumer of
its output has added its share into :math:`\bar{o}`:

.. math::

    \bar{x} = \sum_{o \,\in\, \text{consumers}(x)} \bar{o}\, \frac{\partial o}{\partial x}

That sum is why a tensor used twice (``b = a + a``) gets both contributions, and why
``.grad`` of a leaf *accumulates* across calls, as in PyTorch.

The walk is iterative (an explicit stack, no recursion), so a chain of 10,000 operations
is as fine as a chain of 10. The operations themselves live in :mod:`.ops`; this module
holds the tensor, the graph bookkeeping and the backward pass.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from types import TracebackType
from typing import Any, NamedTuple, TypeAlias, TypeVar

import numpy as np
from numpy.typing import DTypeLike, NDArray

Array: TypeAlias = NDArray[Any]
Backward: TypeAlias = Callable[[Array], Sequence[Array | None]]
"""``backward(dL_dout) -> (dL_dparent, ...)``; ``None`` where a parent needs no gradient."""

float32 = np.dtype(np.float32)
float64 = np.dtype(np.float64)
int64 = np.dtype(np.int64)
bool_ = np.dtype(np.bool_)

_grad_enabled = True


def is_grad_enabled() -> bool:
    """Whether new operations are being recorded (False inside :class:`no_grad`)."""
    return _grad_enabled


Fn = TypeVar("Fn", bound=Callable[..., Any])


class no_grad:
    """Context manager (or decorator) under which operations record no graph.

    Outputs computed inside have ``requires_grad=False``: inference, and the optimizer's
    parameter updates, must not grow the graph.
    """

    def __enter__(self) -> None:
        global _grad_enabled
        self._previous = _grad_enabled
        _grad_enabled = False

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        global _grad_enabled
        _grad_enabled = self._previous

    def __call__(self, function: Fn) -> Fn:
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            with no_grad():
                return function(*args, **kwargs)

        return wrapper  # type: ignore[return-value]


def _freed(dL_dout: Array) -> Sequence[Array | None]:
    raise RuntimeError(
        "Trying to backward through the graph a second time: its saved values were freed "
        "after the first backward. Specify retain_graph=True on the first call to keep them."
    )


def _as_array(data: Any, dtype: DTypeLike | None) -> Array:
    """``data`` as an ndarray, with torch's default dtypes for Python numbers.

    A NumPy array keeps its dtype; Python floats become float32 (``torch.tensor(1.0)`` is
    float32), Python ints int64, unless ``dtype`` says otherwise.
    """
    if isinstance(data, Tensor):
        data = data.data
    if dtype is not None:
        return np.array(data, dtype=dtype)
    if isinstance(data, np.ndarray | np.generic):
        return np.array(data)
    array = np.array(data)
    if array.dtype == np.float64:
        return array.astype(np.float32)
    return array


class Tensor:
    r"""An n-dimensional array with reverse-mode automatic differentiation.

    ``Tensor(data, requires_grad=False, dtype=None)`` copies ``data`` (an array, a number
    or nested lists). Arithmetic, indexing and the methods below build new tensors; when
    any input requires gradients the result records how to send gradients back, and
    :meth:`backward` fills ``.grad`` of every leaf that requires them.
    """

    __slots__ = ("_backward", "_op", "_parents", "_retains_grad", "data", "grad", "requires_grad")
    # numpy must hand `array + tensor` to Tensor.__radd__ instead of looping over the array.
    __array_ufunc__ = None

    data: Array
    grad: Tensor | None
    requires_grad: bool
    _parents: tuple[Tensor, ...]
    _backward: Backward | None
    _op: str
    _retains_grad: bool

    def __init__(self, data: Any, requires_grad: bool = False, dtype: DTypeLike | None = None):
        self.data = _as_array(data, dtype)
        self.grad = None
        self.requires_grad = False
        self._parents = ()
        self._backward = None
        self._op = ""
        self._retains_grad = False
        if requires_grad:
            self.requires_grad_(True)

    @classmethod
    def _wrap(cls, data: Array) -> Tensor:
        """A constant tensor around ``data`` (no copy): the fast path for op outputs."""
        out = object.__new__(cls)
        out.data = data
        out.grad = None
        out.requires_grad = False
        out._parents = ()
        out._backward = None
        out._op = ""
        out._retains_grad = False
        return out

    # ------------------------------------------------------------------ graph recording

    @staticmethod
    def _make(data: Array, parents: tuple[Tensor, ...], backward: Backward, op: str) -> Tensor:
        """The output of an op: records the node only if some parent requires grad."""
        out = Tensor._wrap(data)
        if _grad_enabled:
            for parent in parents:
                if parent.requires_grad:
                    out.requires_grad = True
                    out._parents = parents
                    out._backward = backward
                    out._op = op
                    break
        return out

    def requires_grad_(self, requires_grad: bool = True) -> Tensor:
        """Set ``requires_grad`` in place (leaves only); only floating tensors can."""
        if requires_grad and self.data.dtype.kind != "f":
            raise RuntimeError(
                "Only Tensors of floating point dtype can require gradients, "
                f"got dtype {self.data.dtype}"
            )
        if not requires_grad and self._backward is not None:
            raise RuntimeError(
                "you can only change requires_grad flags of leaf variables; use detach()"
            )
        self.requires_grad = requires_grad
        return self

    def retain_grad(self) -> None:
        """Keep ``.grad`` for this non-leaf tensor too (leaves always keep theirs)."""
        if not self.requires_grad:
            raise RuntimeError("can't retain_grad on Tensor that has requires_grad=False")
        self._retains_grad = True

    @property
    def is_leaf(self) -> bool:
        """True for tensors made by the user (or not requiring grad), not by a recorded op."""
        return self._backward is None

    @property
    def grad_fn(self) -> str | None:
        """The name of the op that made this tensor, or None for a leaf."""
        return None if self._backward is None else self._op

    def _accumulate_grad(self, dL_dx: Array) -> None:
        """``.grad += dL_dx``, always into a new array: a backward function may hand one
        array to several tensors (``add`` passes its upstream gradient through to both)."""
        self.grad = Tensor._wrap(dL_dx.copy() if self.grad is None else self.grad.data + dL_dx)

    def detach(self) -> Tensor:
        """The same data (shared, no copy), cut from the graph: ``requires_grad=False``."""
        return Tensor._wrap(self.data)

    # -------------------------------------------------------------------------- backward

    def backward(self, gradient: Any = None, retain_graph: bool | None = None) -> None:
        r"""Accumulate :math:`\partial L / \partial x` into ``x.grad`` for every leaf ``x``.

        ``L`` is this tensor. Without ``gradient`` it must hold a single element (the
        implicit upstream gradient is 1); otherwise ``gradient`` is the upstream gradient
        :math:`\bar{L}`, of this tensor's shape, and the leaves receive the
        vector-Jacobian product :math:`\bar{L}\, \partial L / \partial x`. The graph's saved
        values are released afterwards unless ``retain_graph=True``.
        """
        if not self.requires_grad:
            raise RuntimeError(
                "element 0 of tensors does not require grad and does not have a grad_fn"
            )
        if gradient is None:
            if self.data.size != 1:
                raise RuntimeError(
                    f"grad can be implicitly created only for scalar outputs, got shape "
                    f"{self.shape}; pass gradient= of that shape"
                )
            seed = np.ones_like(self.data)
        else:
            seed = np.array(gradient.data if isinstance(gradient, Tensor) else gradient)
            if seed.shape != self.data.shape:
                raise RuntimeError(
                    f"Mismatch in shape: gradient has a shape of {seed.shape} and the output "
                    f"has a shape of {self.data.shape}"
                )
            seed = seed.astype(self.data.dtype, copy=False)
        _run_backward(self, seed, bool(retain_graph))

    # ----------------------------------------------------------------------- properties

    @property
    def shape(self) -> tuple[int, ...]:
        return self.data.shape

    @property
    def dtype(self) -> np.dtype[Any]:
        return self.data.dtype

    @property
    def ndim(self) -> int:
        return self.data.ndim

    def dim(self) -> int:
        return self.data.ndim

    def size(self, dim: int | None = None) -> tuple[int, ...] | int:
        """The shape, or the size of one dimension, as ``torch.Tensor.size``."""
        if dim is None:
            return self.data.shape
        return int(self.data.shape[ops.normalize_dim(dim, self.data.ndim)])

    def numel(self) -> int:
        return int(self.data.size)

    def __len__(self) -> int:
        if self.data.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return len(self.data)

    def item(self) -> Any:
        """The single element as a Python number."""
        if self.data.size != 1:
            raise RuntimeError(
                f"a Tensor with {self.data.size} elements cannot be converted to Scalar"
            )
        return self.data.item()

    def numpy(self) -> Array:
        """The underlying array (shared, no copy); refused while gradients are tracked."""
        if self.requires_grad:
            raise RuntimeError(
                "Can't call numpy() on Tensor that requires grad. Use tensor.detach().numpy()"
            )
        return self.data

    def __array__(self, dtype: DTypeLike | None = None, copy: bool | None = None) -> Array:
        """``np.asarray(tensor)``: the data, under the same rule as :meth:`numpy`."""
        data = self.numpy()
        if dtype is not None and np.dtype(dtype) != data.dtype:
            return data.astype(dtype)
        return data.copy() if copy else data

    def tolist(self) -> Any:
        return self.data.tolist()

    def __bool__(self) -> bool:
        if self.data.size != 1:
            raise RuntimeError(f"Boolean value of Tensor with {self.data.size} values is ambiguous")
        return bool(self.data)

    def __repr__(self) -> str:
        body = np.array2string(self.data, separator=", ", prefix="tensor(")
        extra = ""
        if self.data.dtype not in (float32, int64, bool_):
            extra += f", dtype={self.data.dtype}"
        if self._backward is not None:
            extra += f", grad_fn=<{self._op}>"
        elif self.requires_grad:
            extra += ", requires_grad=True"
        return f"tensor({body}{extra})"

    __hash__ = object.__hash__  # `==` is element-wise, as in torch; identity hashing stays

    # ------------------------------------------------------------- arithmetic operators

    def __add__(self, other: Any) -> Tensor:
        return ops.add(self, other)

    def __radd__(self, other: Any) -> Tensor:
        return ops.add(other, self)

    def __sub__(self, other: Any) -> Tensor:
        return ops.sub(self, other)

    def __rsub__(self, other: Any) -> Tensor:
        return ops.sub(other, self)

    def __mul__(self, other: Any) -> Tensor:
        return ops.mul(self, other)

    def __rmul__(self, other: Any) -> Tensor:
        return ops.mul(other, self)

    def __truediv__(self, other: Any) -> Tensor:
        return ops.div(self, other)

    def __rtruediv__(self, other: Any) -> Tensor:
        return ops.div(other, self)

    def __pow__(self, other: Any) -> Tensor:
        return ops.pow(self, other)

    def __rpow__(self, other: Any) -> Tensor:
        return ops.pow(other, self)

    def __matmul__(self, other: Any) -> Tensor:
        return ops.matmul(self, other)

    def __rmatmul__(self, other: Any) -> Tensor:
        return ops.matmul(other, self)

    def __neg__(self) -> Tensor:
        return ops.neg(self)

    def __getitem__(self, key: Any) -> Tensor:
        return ops.getitem(self, key)

    # Comparisons give boolean tensors and no gradient.
    def __lt__(self, other: Any) -> Tensor:
        return ops.compare(np.less, self, other)

    def __le__(self, other: Any) -> Tensor:
        return ops.compare(np.less_equal, self, other)

    def __gt__(self, other: Any) -> Tensor:
        return ops.compare(np.greater, self, other)

    def __ge__(self, other: Any) -> Tensor:
        return ops.compare(np.greater_equal, self, other)

    def __eq__(self, other: Any) -> Tensor:  # type: ignore[override]
        return ops.compare(np.equal, self, other)

    def __ne__(self, other: Any) -> Tensor:  # type: ignore[override]
        return ops.compare(np.not_equal, self, other)

    # -------------------------------------------------------------------- named methods

    def add(self, other: Any) -> Tensor:
        return ops.add(self, other)

    def sub(self, other: Any) -> Tensor:
        return ops.sub(self, other)

    def mul(self, other: Any) -> Tensor:
        return ops.mul(self, other)

    def div(self, other: Any) -> Tensor:
        return ops.div(self, other)

    def pow(self, exponent: Any) -> Tensor:
        return ops.pow(self, exponent)

    def matmul(self, other: Any) -> Tensor:
        return ops.matmul(self, other)

    def neg(self) -> Tensor:
        return ops.neg(self)

    def exp(self) -> Tensor:
        return ops.exp(self)

    def log(self) -> Tensor:
        return ops.log(self)

    def sqrt(self) -> Tensor:
        return ops.sqrt(self)

    def abs(self) -> Tensor:
        return ops.abs(self)

    def tanh(self) -> Tensor:
        return ops.tanh(self)

    def sigmoid(self) -> Tensor:
        return ops.sigmoid(self)

    def relu(self) -> Tensor:
        return ops.relu(self)

    def sum(self, dim: int | Sequence[int] | None = None, keepdim: bool = False) -> Tensor:
        return ops.sum(self, dim, keepdim)

    def mean(self, dim: int | Sequence[int] | None = None, keepdim: bool = False) -> Tensor:
        return ops.mean(self, dim, keepdim)

    def var(
        self,
        dim: int | Sequence[int] | None = None,
        *,
        correction: float = 1,
        keepdim: bool = False,
    ) -> Tensor:
        return ops.var(self, dim, correction, keepdim)

    def std(
        self,
        dim: int | Sequence[int] | None = None,
        *,
        correction: float = 1,
        keepdim: bool = False,
    ) -> Tensor:
        return ops.std(self, dim, correction, keepdim)

    def cumsum(self, dim: int) -> Tensor:
        return ops.cumsum(self, dim)

    def cumprod(self, dim: int) -> Tensor:
        return ops.cumprod(self, dim)

    def softmax(self, dim: int) -> Tensor:
        from .nn.functional import softmax

        return softmax(self, dim)

    def log_softmax(self, dim: int) -> Tensor:
        from .nn.functional import log_softmax

        return log_softmax(self, dim)

    def clamp(self, min: Any = None, max: Any = None) -> Tensor:
        return ops.clamp(self, min, max)

    clip = clamp

    def where(self, condition: Any, other: Any) -> Tensor:
        """``x.where(c, y)`` is ``where(c, x, y)``: keep ``x`` where ``c`` holds."""
        return ops.where(condition, self, other)

    def masked_fill(self, mask: Any, value: Any) -> Tensor:
        return ops.masked_fill(self, mask, value)

    def gather(self, dim: int, index: Any) -> Tensor:
        return ops.gather(self, dim, index)

    def triu(self, diagonal: int = 0) -> Tensor:
        return ops.triu(self, diagonal)

    def tril(self, diagonal: int = 0) -> Tensor:
        return ops.tril(self, diagonal)

    def max(self, dim: int | None = None, keepdim: bool = False) -> Any:
        """``max()`` is a tensor; ``max(dim)`` is ``(values, indices)``, as in torch."""
        if dim is None:
            return ops.max_all(self)
        return ops.max_dim(self, dim, keepdim)

    def argmax(self, dim: int | None = None, keepdim: bool = False) -> Tensor:
        if dim is None:
            if self.data.size == 0:
                raise RuntimeError(
                    "argmax(): Expected reduction dim to be specified for input.numel() == 0."
                )
            return Tensor._wrap(np.asarray(np.argmax(self.data), dtype=np.int64))
        return ops.max_dim(self, dim, keepdim).indices

    def split(self, split_size: int | Sequence[int], dim: int = 0) -> tuple[Tensor, ...]:
        return ops.split(self, split_size, dim)

    def chunk(self, chunks: int, dim: int = 0) -> tuple[Tensor, ...]:
        return ops.chunk(self, chunks, dim)

    def unbind(self, dim: int = 0) -> tuple[Tensor, ...]:
        return ops.unbind(self, dim)

    def reshape(self, *shape: Any) -> Tensor:
        return ops.reshape(self, _shape_arg(shape, "reshape"))

    def view(self, *shape: Any) -> Tensor:
        return ops.reshape(self, _shape_arg(shape, "view"))

    def flatten(self, start_dim: int = 0, end_dim: int = -1) -> Tensor:
        return ops.flatten(self, start_dim, end_dim)

    def unflatten(self, dim: int, sizes: Sequence[int]) -> Tensor:
        return ops.unflatten(self, dim, sizes)

    def unsqueeze(self, dim: int) -> Tensor:
        dim = ops.normalize_dim(dim, self.data.ndim + 1)
        return ops.reshape(self, (*self.data.shape[:dim], 1, *self.data.shape[dim:]))

    def transpose(self, dim0: int, dim1: int) -> Tensor:
        return ops.transpose(self, dim0, dim1)

    def permute(self, *dims: Any) -> Tensor:
        return ops.permute(self, _shape_arg(dims, "permute"))

    @property
    def T(self) -> Tensor:
        """All dimensions reversed (the matrix transpose for a 2-D tensor)."""
        return ops.permute(self, tuple(range(self.data.ndim - 1, -1, -1)))

    def float(self) -> Tensor:
        return ops.to_dtype(self, float32)

    def double(self) -> Tensor:
        return ops.to_dtype(self, float64)

    def to(self, dtype: DTypeLike) -> Tensor:
        return ops.to_dtype(self, np.dtype(dtype))


def _shape_arg(args: tuple[Any, ...], method: str) -> tuple[int, ...]:
    """``reshape(2, 3)`` and ``reshape((2, 3))`` both mean shape (2, 3), as in torch;
    ``reshape()`` with nothing is refused, as torch does (``reshape(())`` is a 0-d shape)."""
    if not args:
        raise TypeError(f"{method}() missing 1 required positional argument: the shape or dims")
    if len(args) == 1 and isinstance(args[0], Sequence | np.ndarray):
        return tuple(int(n) for n in args[0])
    return tuple(int(n) for n in args)


class MaxResult(NamedTuple):
    """What ``Tensor.max(dim)`` returns: the values and the indices where they sit."""

    values: Tensor
    indices: Tensor


# ------------------------------------------------------------------------------ the walk


def topological_order(root: Tensor) -> list[Tensor]:
    """Every tensor ``root`` depends on that requires grad, each after all its parents.

    A depth-first search with an explicit stack: each node is pushed once to be expanded
    and once more, beneath its parents, to be emitted after them (post-order). No
    recursion, so the depth of the graph is limited by memory only.
    """
    order: list[Tensor] = []
    visited: set[int] = set()
    stack: list[tuple[Tensor, bool]] = [(root, False)]
    while stack:
        node, expanded = stack.pop()
        if expanded:
            order.append(node)
            continue
        if id(node) in visited:
            continue
        visited.add(id(node))
        stack.append((node, True))
        for parent in node._parents:
            if parent.requires_grad and id(parent) not in visited:
                stack.append((parent, False))
    return order


def _run_backward(root: Tensor, seed: Array, retain_graph: bool) -> None:
    """Send ``seed`` from ``root`` back to every leaf: the chain rule, node by node.

    In reverse topological order every node comes after all the nodes that use it, so
    by its turn ``grads`` holds its whole gradient: the sum of what each consumer sent.
    Its backward function turns that into one gradient per parent, added to theirs.
    """
    grads: dict[int, Array] = {id(root): seed}  # keyed by id: a Tensor's == is elementwise
    for node in reversed(topological_order(root)):
        dL_dnode = grads.pop(id(node), None)
        if dL_dnode is None:  # no path carried gradient here (e.g. only through indices)
            continue
        if node._backward is None or node._retains_grad:
            node._accumulate_grad(dL_dnode)
        if node._backward is None:
            continue
        for parent, grad in zip(node._parents, node._backward(dL_dnode), strict=True):
            if grad is not None and parent.requires_grad:
                grad = grad.astype(parent.data.dtype, copy=False)  # float32 + float64 inputs
                grads[id(parent)] = grads[id(parent)] + grad if id(parent) in grads else grad
        if not retain_graph:
            node._backward = _freed


# The ops module builds Tensors, and Tensor's operators call the ops: the import has to
# come after the class exists.
from . import ops  # noqa: E402
