r"""The one table of concepts, and where each implementation holds the code for each.

The site's concept pages are generated from :data:`CONCEPTS` at build time
(``docs/_ext/fromscratch_docs.py``): the math first, then one tab per installed
implementation holding the code named here, pulled from the source by qualified name,
then the note on how they differ. To add a concept (the CNN's convolution, say), add a
:class:`Concept` here; nothing else changes. To add an implementation, give it an entry
in every concept: :class:`Code` references, or :class:`NotApplicable` with the reason.
A test (``docs/test_site.py``) and the build both fail while an installed implementation
has no entry for a concept.

A reference is ``"module:qualname"``, e.g. ``"fromscratch.matrix.layers:Linear.forward"``:
names, not line numbers, so the pages follow the code as it moves.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Code:
    """One definition shown in an implementation's tab: ``"module:qualname"``."""

    ref: str

    @property
    def module(self) -> str:
        return self.ref.partition(":")[0]

    @property
    def qualname(self) -> str:
        return self.ref.partition(":")[2]


@dataclass(frozen=True)
class NotApplicable:
    """The implementation has nothing for this concept, and says why."""

    reason: str


Entry = tuple[Code, ...] | NotApplicable


@dataclass(frozen=True)
class Concept:
    """A page: ``math`` (MyST, rendered first), the code per implementation, a ``note``."""

    slug: str
    title: str
    math: str
    note: str
    code: dict[str, Entry] = field(default_factory=dict)


def code(*refs: str) -> tuple[Code, ...]:
    return tuple(Code(r) for r in refs)


READING_ORDER = ("loops", "matrix", "autograd", "evolution")
"""The order of the tabs: the one to read first, first. Others follow by name."""

GRADIENT_FREE = NotApplicable(
    "evolution never differentiates anything: it only evaluates the loss of perturbed "
    "copies of the parameters (see the evolutionary search step)."
)

CONCEPTS: tuple[Concept, ...] = (
    Concept(
        slug="dense-forward",
        title="The dense layer, forward",
        math=r"""
A dense (fully connected) layer, `torch.nn.Linear`, maps the previous layer's
activations $a_{\text{prev}}$, one row per sample, to pre-activations

$$
z = a_{\text{prev}} W^\top + b, \qquad
z_{ij} = \sum_{c} a_{\text{prev}, ic}\, W_{jc} + b_j
$$

with $W$ of shape (out, in), one row per output unit, and $b$ of shape (out,).
A hidden layer then applies its activation, $a = \sigma(z)$; the output layer stays linear.
""",
        note=r"""
`matrix` and `autograd` compute the whole layer for the whole batch as one matrix
product. `loops` computes the inner sum once per neuron: each `Neuron` takes one dot
product over the batch and the `Layer` loops over its neurons, so a layer's outputs are
built row by row (it stores samples as columns). `evolution` evaluates a whole
population of networks at once: the members' `W` stack along a new first axis and one
batched product evaluates every member on the same batch.
""",
        code={
            "matrix": code(
                "fromscratch.matrix.layers:Linear.forward",
                "fromscratch.matrix.network:Network.forward",
            ),
            "loops": code(
                "fromscratch.loops.neuron:Neuron.forward",
                "fromscratch.loops.layer:Layer.forward",
            ),
            "autograd": code(
                "fromscratch.autograd.nn.layers:Linear.forward",
                "fromscratch.autograd.nn.functional:linear",
            ),
            "evolution": code(
                "fromscratch.evolution.mlp:shared_input_layer",
                "fromscratch.evolution.mlp:population_outputs",
            ),
        },
    ),
    Concept(
        slug="activations",
        title="Activations",
        math=r"""
A hidden layer squashes each pre-activation on its own, $a = \sigma(z)$, with

$$
\operatorname{relu}(z) = \max(z, 0), \qquad
\operatorname{sigmoid}(z) = \frac{1}{1 + e^{-z}}, \qquad
\tanh(z) = \frac{e^{z} - e^{-z}}{e^{z} + e^{-z}}
$$

Because $\sigma$ acts entry by entry, its Jacobian is diagonal and the chain rule is an
element-wise product, with the slope taken at $z$:

$$
\frac{\partial L}{\partial z} = \frac{\partial L}{\partial a} \odot \sigma'(z), \qquad
\operatorname{relu}'(z) = [z > 0], \quad
\operatorname{sigmoid}'(z) = a(1 - a), \quad
\tanh'(z) = 1 - a^2
$$

At the kink $z = 0$ relu has no derivative; every implementation picks 0, as torch does.
""",
        note=r"""
`matrix` pairs each activation with a `backward(dL_da, z, a)` that returns `dL_dz`, so a
derivative can use the output it already has ($a(1 - a)$). `loops` gives each activation
a `derivative(z)` evaluated at the pre-activation, and each neuron multiplies its own
row; each returns a new array, as the math does. `autograd` records relu as a graph node
with its backward closure, exactly like every other op. `evolution` needs the forward
functions only: nothing is differentiated.
""",
        code={
            "matrix": code(
                "fromscratch.matrix.activations:relu",
                "fromscratch.matrix.activations:relu_backward",
                "fromscratch.matrix.activations:sigmoid",
                "fromscratch.matrix.activations:sigmoid_backward",
            ),
            "loops": code(
                "fromscratch.loops.activations:relu",
                "fromscratch.loops.activations:relu_derivative",
                "fromscratch.loops.activations:sigmoid",
                "fromscratch.loops.activations:sigmoid_derivative",
            ),
            "autograd": code(
                "fromscratch.autograd.ops.unary:relu",
                "fromscratch.autograd.ops.unary:sigmoid",
            ),
            "evolution": code(
                "fromscratch.evolution.activations:relu",
                "fromscratch.evolution.activations:sigmoid",
            ),
        },
    ),
    Concept(
        slug="loss",
        title="The loss and its gradient",
        math=r"""
For $k$ classes the network's last layer gives logits $z_i$ for each sample $i$, and
the loss is the mean softmax cross-entropy, `torch.nn.CrossEntropyLoss()`:

$$
L = -\frac{1}{n} \sum_i \log \operatorname{softmax}(z_i)_{y_i}
  = \frac{1}{n} \sum_i \Big( \log \sum_c e^{z_{ic}} - z_{i, y_i} \Big)
$$

Differentiating one row's term, the softmax's Jacobian and the logarithm's $1/p$ cancel,
and what is left is "predicted minus true", with $Y$ the one-hot labels:

$$
\frac{\partial L}{\partial z} = \frac{1}{n}\big(\operatorname{softmax}(z) - Y\big)
$$

This is where backpropagation starts. (Binary cross-entropy on one logit and the mean
squared error are alongside in the same files.)
""",
        note=r"""
The three gradient-trained implementations fuse the softmax into the loss: the combined
gradient is exact and cheap, where the softmax's Jacobian alone would be a $k \times k$
matrix per sample. All subtract the row maximum before `exp`. `matrix` returns
`(L, dL_dz)` from one function; `loops` does the same on its (classes, samples) layout,
the one place where all output neurons are seen together; `autograd` makes the fused
loss one graph node with torch's signature. `evolution` computes only the loss values,
for a whole population at once, (P, n, k) logits to (P,) losses.
""",
        code={
            "matrix": code("fromscratch.matrix.losses:cross_entropy"),
            "loops": code("fromscratch.loops.losses:cross_entropy"),
            "autograd": code("fromscratch.autograd.nn.functional:cross_entropy"),
            "evolution": code("fromscratch.evolution.losses:cross_entropy"),
        },
    ),
    Concept(
        slug="dense-backward",
        title="Backward through a dense layer",
        math=r"""
Given the error at a layer's pre-activations, $\partial L / \partial z$ (one row per
sample), the chain rule through $z = a_{\text{prev}} W^\top + b$ gives

$$
\frac{\partial L}{\partial W} = \Big(\frac{\partial L}{\partial z}\Big)^{\top} a_{\text{prev}},
\qquad
\frac{\partial L}{\partial b} = \sum_{\text{rows}} \frac{\partial L}{\partial z},
\qquad
\frac{\partial L}{\partial a_{\text{prev}}} = \frac{\partial L}{\partial z}\, W
$$

and the previous layer continues with
$\partial L / \partial z_{\text{prev}} = \partial L / \partial a_{\text{prev}} \odot
\sigma'(z_{\text{prev}})$, back to the first layer.
""",
        note=r"""
`matrix` writes each of the three as one product, in one module of a list that the
network walks in reverse; the first layer skips the input gradient, which nothing needs.
`loops` does the same per neuron: its own weight gradient, then its share of the previous
layer's error, added as an outer
product; every neuron of a layer finishes before any parameter moves. `autograd` has no
layer-level backward: the closure recorded by `linear` is all of it, and
`Tensor.backward` runs the closures in reverse topological order, adding up gradients
that reach a tensor along several paths.
""",
        code={
            "matrix": code(
                "fromscratch.matrix.layers:Linear.backward",
                "fromscratch.matrix.network:Network.backward",
            ),
            "loops": code(
                "fromscratch.loops.neuron:Neuron.backward",
                "fromscratch.loops.layer:Layer.backward",
            ),
            "autograd": code(
                "fromscratch.autograd.nn.functional:linear",
                "fromscratch.autograd.tensor:topological_order",
            ),
            "evolution": GRADIENT_FREE,
        },
    ),
    Concept(
        slug="initialization",
        title="Initialization",
        math=r"""
Every implementation starts where `torch.nn.Linear` does: each weight and bias of a
layer with $n_{\text{in}}$ inputs is drawn independently from

$$
W_{jc},\ b_j \sim \mathcal{U}\Big(-\frac{1}{\sqrt{n_{\text{in}}}},\
\frac{1}{\sqrt{n_{\text{in}}}}\Big)
$$

(torch's Kaiming-uniform with $a = \sqrt 5$ reduces to exactly this bound), from a NumPy
generator seeded with `seed`, so the same seed gives the same network.
""",
        note=r"""
The bound is the same everywhere; the containers differ. `matrix` draws a layer's `W`
and then `b`. `loops` gives each neuron a weight vector `w` and a bias `b` of shape
(1,). `autograd` draws `weight` and `bias` as `Parameter`s of a `Linear`, as torch
does. `evolution` draws every layer's `W` and `b` into one flat vector $\theta$, the only
thing its search moves.
""",
        code={
            "matrix": code("fromscratch.matrix.layers:Linear.__init__"),
            "loops": code("fromscratch.loops.neuron:Neuron.__init__"),
            "autograd": code("fromscratch.autograd.nn.layers:Linear.__init__"),
            "evolution": code("fromscratch.evolution.network:Network.build"),
        },
    ),
    Concept(
        slug="optimizer-step",
        title="The optimizer step",
        math=r"""
With gradient $g_t$ (or, for evolution strategies, its estimate), learning rate $\eta$,
momentum $\mu$ and weight decay $\lambda$, one step of SGD as `torch.optim.SGD` takes it:

$$
\begin{aligned}
g_t &\leftarrow g_t + \lambda \theta_{t-1} \\
v_t &= \mu v_{t-1} + g_t \quad (v_1 = g_1) \\
\theta_t &= \theta_{t-1} - \eta\, v_t
\end{aligned}
$$

With $\mu = 0$ it is plain gradient descent, $\theta \leftarrow \theta - \eta\, g$. Adam,
in the same files, divides a running mean of $g$ by the root of a running mean of $g^2$.
""",
        note=r"""
One update rule serves every implementation, in `torch.optim`'s shape (parameter groups,
per-parameter state, `step()`), written once in `fromscratch.boundary.optim`; `step()`
reads the gradient stored beside each parameter. `matrix` hands it each layer's `W` and
`b`, `loops` each neuron's `w` and `b`, `autograd` its tensors (whose `.grad` the engine
filled, and it adds `zero_grad()`), `evolution` its one flat vector $\theta$, with the
evolution-strategies estimate stored beside it instead of an exact gradient.
""",
        code={
            "matrix": code(
                "fromscratch.matrix.network:Network.parameters",
                "fromscratch.boundary.optim:sgd_update",
            ),
            "loops": code(
                "fromscratch.loops.network:Network.parameters",
                "fromscratch.boundary.optim:sgd_update",
            ),
            "autograd": code(
                "fromscratch.autograd.optim:Optimizer.gradient",
                "fromscratch.boundary.optim:sgd_update",
            ),
            "evolution": code(
                "fromscratch.evolution.es:EvolutionStrategy.step",
                "fromscratch.boundary.optim:sgd_update",
            ),
        },
    ),
    Concept(
        slug="training-loop",
        title="The training loop",
        math=r"""
Mini-batch training: each epoch shuffles the $N$ training rows, cuts them into batches
$B$ of $b$ rows (`batch_size`), and for each batch takes one step on the batch's mean loss

$$
L_B(\theta) = \frac{1}{|B|} \sum_{i \in B} \ell(f_\theta(x_i), y_i), \qquad
\theta \leftarrow \operatorname{step}\big(\theta, \nabla_\theta L_B\big)
$$

so one epoch is $\lceil N / b \rceil$ steps. A loss that stops being
finite stops training with a `FloatingPointError` naming the epoch and batch.
""",
        note=r"""
The loop is one function shared by every implementation, `fromscratch.boundary.loop.train`
(shuffle, batch, backward, check, step, callback), which is what lets the conformance
suite train every implementation with the same recipe. What `backward` is differs:
`matrix` and `loops` run their own hand-written backprop; `autograd` is what a torch user
writes (`zero_grad`, `loss.backward()`, and `model.train()` for the batches); `evolution`
asks its strategy for one generation per batch.
""",
        code={
            "matrix": code(
                "fromscratch.matrix.network:Network.backward",
                "fromscratch.boundary.loop:train",
            ),
            "loops": code(
                "fromscratch.loops.network:Network.backward",
                "fromscratch.boundary.loop:train",
            ),
            "autograd": code(
                "fromscratch.autograd.model:Network.backward",
                "fromscratch.autograd.model:Network.train_mode",
                "fromscratch.boundary.loop:train",
            ),
            "evolution": code("fromscratch.evolution.network:Network.fit"),
        },
    ),
    Concept(
        slug="evolutionary-search",
        title="The evolutionary search step",
        math=r"""
Without any derivative of $L$, evolution strategies smooth the loss,
$J(\theta) = \mathbb E_{\epsilon \sim \mathcal N(0, I)}[L(\theta + \sigma\epsilon)]$,
whose gradient needs only values of $L$. With $Q$ antithetic pairs
$\theta \pm \sigma\epsilon_i$ and $R^\pm_i$ the centered ranks of their losses,

$$
\hat g = \frac{1}{2Q\sigma} \sum_{i=1}^{Q} \big(R^+_i - R^-_i\big)\, \epsilon_i
\;\approx\; \nabla_\theta J(\theta)
$$

and an optimizer steps against $\hat g$. The conformance suite checks that $\hat g$
points where torch's exact gradient does. A genetic algorithm and hill climbing, in the
same package, keep the best members instead of estimating a gradient.
""",
        note=r"""
Only `evolution` searches. Its whole population is evaluated in batched matrix products,
and the estimate $\hat g$ goes to the same kind of optimizer step the gradient-trained
implementations use.
""",
        code={
            "matrix": NotApplicable(
                "matrix follows the exact gradient, derived by hand (see backward through "
                "a dense layer)."
            ),
            "loops": NotApplicable(
                "loops follows the exact gradient, computed neuron by neuron (see backward "
                "through a dense layer)."
            ),
            "autograd": NotApplicable(
                "autograd follows the exact gradient that its engine computes (see backward "
                "through a dense layer)."
            ),
            "evolution": code(
                "fromscratch.evolution.es:centered_ranks",
                "fromscratch.evolution.es:es_gradient",
                "fromscratch.evolution.es:EvolutionStrategy.step",
                "fromscratch.evolution.genetic:GeneticAlgorithm.step",
                "fromscratch.evolution.hill_climb:HillClimber.step",
            ),
        },
    ),
)
