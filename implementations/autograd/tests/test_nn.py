"""Modules against torch.nn: registration, names, init, state dicts, forward and backward."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import fromscratch.autograd as ag
from fromscratch.autograd import nn
from fromscratch.autograd.nn import functional as F

Tolerances = dict[str, dict[str, float]]


def mlp(dtype: type[np.floating] = np.float64, seed: int = 0) -> nn.Sequential:  # type: ignore[type-arg]
    rng = np.random.default_rng(seed)
    return nn.Sequential(
        nn.Linear(4, 6, dtype=dtype, generator=rng),
        nn.Tanh(),
        nn.Linear(6, 5, dtype=dtype, generator=rng),
        nn.Sigmoid(),
        nn.Linear(5, 3, dtype=dtype, generator=rng),
        nn.ReLU(),
    )


def torch_mlp() -> torch.nn.Sequential:
    return torch.nn.Sequential(
        torch.nn.Linear(4, 6),
        torch.nn.Tanh(),
        torch.nn.Linear(6, 5),
        torch.nn.Sigmoid(),
        torch.nn.Linear(5, 3),
        torch.nn.ReLU(),
    ).double()


def test_parameters_are_registered_in_torch_order_and_names() -> None:
    ours, theirs = mlp(), torch_mlp()
    assert [n for n, _ in ours.named_parameters()] == [n for n, _ in theirs.named_parameters()]
    assert list(ours.state_dict()) == list(theirs.state_dict())
    for (_, p), (_, p_t) in zip(ours.named_parameters(), theirs.named_parameters(), strict=True):
        assert p.shape == tuple(p_t.shape)
        assert p.requires_grad


def test_module_registers_attributes_and_submodules() -> None:
    class Net(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.scale = nn.Parameter(np.ones(2))
            self.body = nn.Linear(2, 2, generator=np.random.default_rng(0))
            self.note = "not a parameter"

        def forward(self, x: ag.Tensor) -> ag.Tensor:
            out: ag.Tensor = self.body(x * self.scale)
            return out

    net = Net()
    assert [n for n, _ in net.named_parameters()] == ["scale", "body.weight", "body.bias"]
    net.scale = nn.Parameter(np.zeros(2))
    assert len(list(net.parameters())) == 3
    assert net.train() is net
    assert net.body.training
    net.eval()
    assert not net.training
    assert not net.body.training


def test_forward_and_gradients_match_torch(tol: Tolerances) -> None:
    ours, theirs = mlp(), torch_mlp()
    theirs.load_state_dict({k: torch.tensor(v.numpy()) for k, v in ours.state_dict().items()})
    rng = np.random.default_rng(1)
    X, y = rng.normal(size=(7, 4)), rng.integers(0, 3, size=7)

    loss = F.cross_entropy(ours(ag.tensor(X)), y)
    loss.backward()
    loss_t = torch.nn.functional.cross_entropy(theirs(torch.tensor(X)), torch.tensor(y))
    loss_t.backward()

    np.testing.assert_allclose(loss.item(), loss_t.item(), **tol["network_float64"])
    for (name, p), (_, p_t) in zip(ours.named_parameters(), theirs.named_parameters(), strict=True):
        assert p.grad is not None
        assert p_t.grad is not None
        np.testing.assert_allclose(
            p.grad.numpy(), p_t.grad.numpy(), **tol["network_float64"], err_msg=name
        )
    ours.zero_grad()
    assert all(p.grad is None for p in ours.parameters())


def test_linear_init_is_torchs_uniform_and_seeded(tol: Tolerances) -> None:
    layer = nn.Linear(300, 400, generator=np.random.default_rng(0))
    bound = 1 / np.sqrt(300)
    W = layer.weight.detach().numpy()
    assert W.shape == (400, 300)
    assert W.dtype == np.float32
    assert np.abs(W).max() <= bound
    np.testing.assert_allclose(W.var(), bound**2 / 3, **tol["init_variance"])
    again = nn.Linear(300, 400, generator=np.random.default_rng(0))
    np.testing.assert_array_equal(W, again.weight.detach().numpy())
    ag.manual_seed(3)
    first = nn.Linear(3, 2).weight.detach().numpy()
    ag.manual_seed(3)
    np.testing.assert_array_equal(first, nn.Linear(3, 2).weight.detach().numpy())


def test_state_dict_round_trips_through_torch() -> None:
    ours, theirs = mlp(seed=5), torch_mlp()
    ours.load_state_dict(theirs.state_dict())  # type: ignore[arg-type]
    for k, v in ours.state_dict().items():
        np.testing.assert_array_equal(v.numpy(), theirs.state_dict()[k].numpy())


def test_load_state_dict_errors_like_torch() -> None:
    ours, theirs = mlp(), torch_mlp()
    good = {k: v.numpy().copy() for k, v in ours.state_dict().items()}
    missing = {k: v for k, v in good.items() if k != "2.bias"}
    extra = {**good, "9.weight": good["0.weight"]}
    shape = {**good, "0.weight": good["0.weight"].T.copy()}
    for state in (missing, extra, shape):
        with pytest.raises(RuntimeError):
            theirs.load_state_dict({k: torch.tensor(v) for k, v in state.items()})
        before = {k: v.numpy().copy() for k, v in ours.state_dict().items()}
        with pytest.raises(RuntimeError, match="Error"):
            ours.load_state_dict(state)
        for k, v in ours.state_dict().items():  # nothing half loaded
            np.testing.assert_array_equal(v.numpy(), before[k])
    result = ours.load_state_dict(missing, strict=False)
    assert result.missing_keys == ["2.bias"]


def test_sequential_indexing() -> None:
    net = mlp()
    assert len(net) == 6
    assert isinstance(net[0], nn.Linear)
    assert isinstance(net[1], nn.Tanh)
    assert [type(m).__name__ for m in net][:2] == ["Linear", "Tanh"]
    assert "Linear(in_features=4, out_features=6, bias=True)" in repr(net)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_losses_are_stable_at_extreme_logits(dtype: type[np.floating], tol: Tolerances) -> None:  # type: ignore[type-arg]
    z_np = np.array([[-1000.0], [1000.0], [-1000.0], [1000.0], [0.0]], dtype=dtype)
    y_np = np.array([[0.0], [1.0], [1.0], [0.0], [1.0]], dtype=dtype)
    z = ag.tensor(z_np, requires_grad=True)
    loss = F.binary_cross_entropy_with_logits(z, y_np)
    loss.backward()
    closed_form = (0 + 0 + 1000 + 1000 + np.log(2)) / 5
    np.testing.assert_allclose(
        loss.item(), closed_form, rtol=1e-6 if dtype == np.float32 else 1e-12
    )
    z_t = torch.tensor(z_np.astype(np.float64), requires_grad=True)
    torch.nn.functional.binary_cross_entropy_with_logits(
        z_t, torch.tensor(y_np.astype(np.float64))
    ).backward()
    assert z.grad is not None
    assert z_t.grad is not None
    np.testing.assert_allclose(z.grad.numpy(), z_t.grad.numpy(), rtol=1e-6, atol=1e-12)

    p = ag.tensor(z_np, requires_grad=True).sigmoid()  # exactly 0 and 1: the clamped logs
    bce = F.binary_cross_entropy(p, y_np)
    p_t = torch.sigmoid(torch.tensor(z_np.astype(np.float64)))
    expected = torch.nn.functional.binary_cross_entropy(p_t, torch.tensor(y_np.astype(np.float64)))
    np.testing.assert_allclose(bce.item(), expected.item(), rtol=1e-6)

    logits = ag.tensor(
        np.array([[1000.0, -1000.0, 0.0], [-5e4, -5e4 + 3.0, -5e4 - 1.0]], dtype=dtype)
    )
    ce = F.cross_entropy(logits, np.array([1, 0]))
    expected_ce = torch.nn.functional.cross_entropy(
        torch.tensor(logits.numpy().astype(np.float64)), torch.tensor([1, 0])
    )
    np.testing.assert_allclose(ce.item(), expected_ce.item(), rtol=1e-6)
    assert np.isfinite(F.log_softmax(logits, dim=1).numpy()).all()


def test_functional_errors() -> None:
    with pytest.raises(IndexError, match="out of bounds"):
        F.cross_entropy(ag.zeros(2, 3), np.array([0, 3]))
    with pytest.raises(ValueError, match="reduction"):
        F.mse_loss(ag.zeros(2), ag.zeros(2), reduction="avg")
