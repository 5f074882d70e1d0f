"""The image layers against torch.nn, in float64: names, shapes, init, train()/eval(),
BatchNorm's running statistics, and a whole LeNet forward and backward.

The ops under these layers are in the op table (``conftest.OPS``); here is what only a
layer has: its constructor, its parameters and buffers, its mode, its state over steps.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

import fromscratch.autograd as ag
from fromscratch.autograd import nn
from fromscratch.autograd.nn import functional as F

Tolerances = dict[str, dict[str, float]]


def to_torch(module: nn.Module, reference: torch.nn.Module) -> torch.nn.Module:
    """``reference`` with ``module``'s parameters and buffers copied in."""
    state = {k: torch.tensor(v.data) for k, v in module.state_dict().items()}
    reference.load_state_dict(state)
    return reference


def lenet(rng: np.random.Generator) -> nn.Sequential:
    return nn.Sequential(
        nn.Unflatten(1, (1, 12, 11)),
        nn.Conv2d(1, 4, 3, padding=1, dtype=np.float64, generator=rng),
        nn.BatchNorm2d(4, dtype=np.float64),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Conv2d(4, 6, (3, 2), stride=(1, 2), dtype=np.float64, generator=rng),
        nn.ReLU(),
        nn.AvgPool2d(2, stride=1, padding=1, count_include_pad=False),
        nn.Flatten(),
        nn.Dropout(0.0),
        nn.Linear(6 * 5 * 3, 5, dtype=np.float64, generator=rng),
    )


def torch_lenet() -> torch.nn.Sequential:
    return torch.nn.Sequential(
        torch.nn.Unflatten(1, (1, 12, 11)),
        torch.nn.Conv2d(1, 4, 3, padding=1),
        torch.nn.BatchNorm2d(4),
        torch.nn.ReLU(),
        torch.nn.MaxPool2d(2),
        torch.nn.Conv2d(4, 6, (3, 2), stride=(1, 2)),
        torch.nn.ReLU(),
        torch.nn.AvgPool2d(2, stride=1, padding=1, count_include_pad=False),
        torch.nn.Flatten(),
        torch.nn.Dropout(0.0),
        torch.nn.Linear(6 * 5 * 3, 5),
    ).double()


def test_a_lenet_has_torchs_names_shapes_forward_and_gradients(tol: Tolerances) -> None:
    ours = lenet(np.random.default_rng(0))
    theirs = to_torch(ours, torch_lenet())
    assert list(ours.state_dict()) == list(theirs.state_dict())
    for key, value in theirs.state_dict().items():
        assert ours.state_dict()[key].shape == tuple(value.shape), key
    assert [n for n, _ in ours.named_parameters()] == [n for n, _ in theirs.named_parameters()]

    rng = np.random.default_rng(1)
    X, y = rng.normal(size=(6, 132)), rng.integers(0, 5, size=6)
    loss = F.cross_entropy(ours(ag.tensor(X)), y)
    loss.backward()
    loss_t = torch.nn.functional.cross_entropy(theirs(torch.tensor(X)), torch.tensor(y))
    loss_t.backward()
    np.testing.assert_allclose(loss.item(), loss_t.item(), **tol["network_float64"])
    for (name, p), (_, p_t) in zip(ours.named_parameters(), theirs.named_parameters(), strict=True):
        assert p.grad is not None
        assert p_t.grad is not None
        np.testing.assert_allclose(
            p.grad.data, p_t.grad.numpy(), **tol["network_float64"], err_msg=name
        )


def test_conv2d_init_is_torchs_uniform_and_seeded(tol: Tolerances) -> None:
    """U(-1/sqrt(fan_in), 1/sqrt(fan_in)) with fan_in = C kH kW, for weight and bias."""
    conv = nn.Conv2d(20, 300, (5, 4), generator=np.random.default_rng(0))
    bound = 1 / np.sqrt(20 * 5 * 4)
    for p in (conv.weight, conv.bias):
        assert p is not None
        assert p.dtype == np.float32
        assert np.abs(p.data).max() <= bound
    np.testing.assert_allclose(conv.weight.data.var(), bound**2 / 3, **tol["init_variance"])
    again = nn.Conv2d(20, 300, (5, 4), generator=np.random.default_rng(0))
    np.testing.assert_array_equal(conv.weight.data, again.weight.data)
    assert nn.Conv2d(2, 3, 1, bias=False).bias is None
    assert [n for n, _ in nn.Conv2d(2, 3, 1, bias=False).named_parameters()] == ["weight"]


def test_layers_take_torchs_constructor_arguments(tol: Tolerances) -> None:
    """The same keyword arguments torch's constructors take, with torch's meaning."""
    x = np.random.default_rng(2).normal(size=(2, 3, 9, 8))
    pairs: list[tuple[nn.Module, torch.nn.Module]] = [
        (
            nn.MaxPool2d(kernel_size=3, stride=2, padding=1, dilation=1),
            torch.nn.MaxPool2d(3, 2, 1, 1),
        ),
        (
            nn.AvgPool2d(kernel_size=3, stride=1, padding=1, divisor_override=2),
            torch.nn.AvgPool2d(3, 1, 1, divisor_override=2),
        ),
        (nn.Flatten(start_dim=2), torch.nn.Flatten(start_dim=2)),
        (nn.Unflatten(dim=3, unflattened_size=(2, 4)), torch.nn.Unflatten(3, (2, 4))),
    ]
    for ours, theirs in pairs:
        expected = theirs(torch.tensor(x)).numpy()
        np.testing.assert_allclose(ours(ag.tensor(x)).data, expected, **tol["vs_torch"])


def assert_batch_norm_matches_torch(
    ours: nn.Module, theirs: torch.nn.Module, tol: Tolerances, steps: int = 4
) -> None:
    """Several training steps (forward, backward, an SGD update of gamma and beta): the
    outputs, gradients and running statistics after each; then the outputs in eval mode."""
    close = tol["network_float64"]
    rng = np.random.default_rng(3)
    for step in range(steps):
        x = rng.normal(loc=step - 1.0, scale=1 + step, size=(5, 3, 4, 3))
        g = rng.uniform(0.5, 2.0, size=x.shape) * rng.choice([-1.0, 1.0], size=x.shape)
        x_ours, x_theirs = ag.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
        y, y_t = ours(x_ours), theirs(x_theirs)
        y.backward(ag.tensor(g))
        y_t.backward(torch.tensor(g))
        np.testing.assert_allclose(y.data, y_t.detach().numpy(), **close)
        np.testing.assert_allclose(x_ours.grad.data, x_theirs.grad.numpy(), **close)
        for p, p_t in zip(ours.parameters(), theirs.parameters(), strict=True):
            np.testing.assert_allclose(p.grad.data, p_t.grad.numpy(), **close)
            p.data -= 0.1 * p.grad.data  # a step, so gamma and beta move away from 1 and 0
            p.grad = None
            with torch.no_grad():
                p_t -= 0.1 * p_t.grad
                p_t.grad = None
        for key, buffer in theirs.state_dict().items():
            np.testing.assert_allclose(
                ours.state_dict()[key].data, buffer.numpy(), **close, err_msg=key
            )
    ours.eval()
    theirs.eval()
    x = rng.normal(size=(2, 3, 4, 3))
    expected = theirs(torch.tensor(x)).detach().numpy()
    np.testing.assert_allclose(ours(ag.tensor(x)).data, expected, **close)


@pytest.mark.parametrize("momentum", [0.1, 0.7, None])
def test_batch_norm_trains_and_evaluates_like_torch(
    momentum: float | None, tol: Tolerances
) -> None:
    ours = nn.BatchNorm2d(3, momentum=momentum, dtype=np.float64)
    assert_batch_norm_matches_torch(ours, torch.nn.BatchNorm2d(3, momentum=momentum).double(), tol)
    assert int(ours.state_dict()["num_batches_tracked"].data) == 4  # eval counted nothing


class ConstantStatistics(nn.BatchNorm2d):
    """A planted bug: the batch mean and variance treated as constants in the backward
    (the evaluation-mode gradient, in training). Forward and running statistics stay right."""

    def forward(self, x: ag.Tensor) -> ag.Tensor:
        mu, var = x.data.mean(axis=(0, 2, 3)), x.data.var(axis=(0, 2, 3))
        out = F.batch_norm(x, ag.tensor(mu), ag.tensor(var), self.weight, self.bias, eps=self.eps)
        with ag.no_grad():
            super().forward(x)  # the running statistics, as they should be
        return out


@pytest.mark.parametrize(
    ("planted", "momentum"),
    [
        pytest.param(ConstantStatistics, 0.1, id="batch statistics held constant"),
        pytest.param(nn.BatchNorm2d, 0.9, id="Keras's momentum (the old value's weight)"),
    ],
)
def test_the_batch_norm_check_catches_classic_bugs(
    planted: type[nn.BatchNorm2d], momentum: float, tol: Tolerances
) -> None:
    ours = planted(3, momentum=momentum, dtype=np.float64)
    with pytest.raises(AssertionError):
        assert_batch_norm_matches_torch(ours, torch.nn.BatchNorm2d(3).double(), tol)


def test_batch_norm_buffers_are_state_not_parameters() -> None:
    bn = nn.BatchNorm2d(2)
    assert list(bn.state_dict()) == list(torch.nn.BatchNorm2d(2).state_dict())
    assert [n for n, _ in bn.named_parameters()] == ["weight", "bias"]
    assert [n for n, _ in bn.named_buffers()] == [
        "running_mean",
        "running_var",
        "num_batches_tracked",
    ]
    assert bn.state_dict()["num_batches_tracked"].dtype == np.int64
    bn.load_state_dict({**bn.state_dict(), "running_var": np.full(2, 4.0)})
    np.testing.assert_array_equal(bn.running_var.data, [4.0, 4.0])  # type: ignore[union-attr]
    plain = nn.BatchNorm2d(2, affine=False, track_running_stats=False)
    assert list(plain.state_dict()) == []
    x = np.random.default_rng(4).normal(size=(3, 2, 2, 2))
    expected = torch.nn.BatchNorm2d(2, affine=False, track_running_stats=False).double().eval()
    np.testing.assert_allclose(plain.eval()(ag.tensor(x)).data, expected(torch.tensor(x)).numpy())
    with pytest.raises(ValueError, match="expected 4D input"):
        bn(ag.zeros(3, 2))


def test_dropout_drops_like_torch_in_training_and_nothing_in_eval() -> None:
    """Torch's masks come from its own generator: the same in distribution, so compared as
    such. Each entry is 0 or x / (1 - p); the share of zeros is within 5 standard errors
    of p for both (n = 20,000)."""
    p, n = 0.3, 20_000
    x = np.random.default_rng(5).uniform(1.0, 2.0, size=n)
    layer = nn.Dropout(p, generator=np.random.default_rng(6))
    torch.manual_seed(0)
    ours, theirs = layer(ag.tensor(x)).data, torch.nn.Dropout(p)(torch.tensor(x)).numpy()
    bound = 5 * np.sqrt(p * (1 - p) / n)
    for out in (ours, theirs):
        dropped = out == 0
        assert abs(dropped.mean() - p) < bound
        np.testing.assert_allclose(out[~dropped], x[~dropped] / (1 - p))
    layer.eval()
    np.testing.assert_array_equal(layer(ag.tensor(x)).data, x)
    assert (F.dropout(ag.tensor(x), 1.0).data == 0).all()
    with pytest.raises(ValueError, match="between 0 and 1"):
        nn.Dropout(-0.1)


def test_dropout_gradient_flows_only_through_kept_entries() -> None:
    x = ag.tensor(np.ones(1000), requires_grad=True)
    y = F.dropout(x, 0.5, generator=np.random.default_rng(7))
    y.sum().backward()
    assert x.grad is not None
    np.testing.assert_array_equal(x.grad.data, y.data)  # 2 where kept, 0 where dropped


def test_max_pool_ties_send_the_gradient_to_the_first_maximum() -> None:
    """The convention spelled out: a window of equal values passes its gradient to its
    top-left entry, and a pixel that wins two overlapping windows gets both gradients."""
    x = ag.tensor(np.ones((1, 1, 2, 3)), requires_grad=True)
    F.max_pool2d(x, 2, stride=1).sum().backward()
    assert x.grad is not None
    np.testing.assert_array_equal(x.grad.data[0, 0], [[1, 1, 0], [0, 0, 0]])
    t = torch.ones((1, 1, 2, 3), dtype=torch.float64, requires_grad=True)
    torch.nn.functional.max_pool2d(t, 2, stride=1).sum().backward()
    assert t.grad is not None
    np.testing.assert_array_equal(x.grad.data, t.grad.numpy())
