"""Portable weights: the safetensors reader/writer, save/load/to_torch, and every damaged file.

The pairwise portability on real MNIST rows lives in ``test_portability.py``.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch

from fromscratch.conformance import reference, safetensors_file, weights
from fromscratch.conformance.registry import Implementation, select
from fromscratch.conformance.tolerances import TOLERANCES
from fromscratch.conformance.weights import WeightsError

LAYERS = [6, 5, 4, 3]


def _model(impl: Implementation, dtype: str = "float32", loss: str = "cross_entropy") -> Any:
    layers = [*LAYERS[:-1], 1] if loss == "bce" else LAYERS
    return impl.build(layers, activation="tanh", loss=loss, seed=3, dtype=dtype)


def _X(dtype: str = "float32") -> np.ndarray:
    return np.random.default_rng(1).normal(size=(9, LAYERS[0])).astype(dtype)


@pytest.fixture
def saved(tmp_path: Path, impl: Implementation) -> Path:
    return weights.save(
        _model(impl), tmp_path / "m.safetensors", activation="tanh", loss="cross_entropy"
    )


# ---------------------------------------------------------------------------- round trips


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("loss", ["cross_entropy", "bce", "mse"])
def test_round_trip_into_the_same_implementation_and_torch(
    impl: Implementation, tmp_path: Path, dtype: str, loss: str
):
    model = _model(impl, dtype, loss)
    path = weights.save(model, tmp_path / "m.safetensors", activation="tanh", loss=loss)
    again = weights.load(path, impl=impl.name)
    for key, value in model.state_dict().items():
        assert again.state_dict()[key].dtype == np.dtype(dtype)
        np.testing.assert_array_equal(again.state_dict()[key], value)
    X = _X(dtype)
    torch_proba = weights.TorchModel.from_file(path).predict_proba(X)
    assert TOLERANCES[f"forward_{dtype}"].worst(torch_proba, model.predict_proba(X)) <= 1


def test_metadata_records_architecture_and_provenance(impl: Implementation, tmp_path: Path):
    recipe = {"model": {"layers": LAYERS}, "fit": {"epochs": 2}}
    path = weights.save(
        _model(impl),
        tmp_path / "m.safetensors",
        activation="tanh",
        loss="cross_entropy",
        dataset="mnist",
        recipe=recipe,
    )
    w = weights.read_weights(path)
    assert w.architecture == weights.Architecture(LAYERS, "tanh", "cross_entropy", "float32")
    assert (w.implementation, w.dataset, w.recipe) == (impl.name, "mnist", recipe)
    assert {"python", "numpy", "fromscratch-conformance"} <= w.versions.keys()
    _, metadata = safetensors_file.read(path)
    assert metadata["format_version"] == weights.FORMAT_VERSION


def test_to_torch_is_an_equivalent_sequential(saved: Path):
    module = weights.to_torch(saved)
    expected = reference.sequential(LAYERS, "tanh", "float32")
    assert [type(m) for m in module] == [type(m) for m in expected]
    tensors = weights.read_weights(saved).tensors
    for key, value in module.state_dict().items():
        np.testing.assert_array_equal(value.numpy(), tensors[key])


def test_default_implementation_is_the_one_that_trained_it(saved: Path, impl: Implementation):
    assert type(weights.load(saved)) is impl.factory


def test_files_are_byte_identical_for_the_same_model(impl: Implementation, tmp_path: Path):
    paths = [
        weights.save(_model(impl), tmp_path / f"{i}.safetensors", activation="tanh", loss="mse")
        for i in range(2)
    ]
    assert paths[0].read_bytes() == paths[1].read_bytes()


# ---------------------------------------------------------------------------- interop


def test_the_safetensors_package_reads_our_files(saved: Path):
    from safetensors import safe_open
    from safetensors.numpy import load_file

    ours = weights.read_weights(saved).tensors
    theirs = load_file(str(saved))
    assert theirs.keys() == ours.keys()
    for key in ours:
        np.testing.assert_array_equal(theirs[key], ours[key])
    with safe_open(str(saved), "np") as f:
        assert f.metadata()["layers"] == json.dumps(LAYERS)


def test_we_read_files_the_safetensors_package_writes(tmp_path: Path):
    from safetensors.torch import save_file

    module = reference.sequential(LAYERS, "relu", "float64")
    metadata = {
        "format": "fromscratch-mlp",
        "format_version": "1",
        "layers": json.dumps(LAYERS),
        "activation": "relu",
        "loss": "cross_entropy",
        "dtype": "float64",
    }
    path = tmp_path / "torch.safetensors"
    save_file(module.state_dict(), str(path), metadata=metadata)
    w = weights.read_weights(path)
    for key, value in module.state_dict().items():
        np.testing.assert_array_equal(w.tensors[key], value.numpy())
    X = _X("float64")
    with torch.no_grad():
        expected = torch.softmax(module(torch.from_numpy(X)), dim=1).numpy()
    np.testing.assert_allclose(weights.TorchModel.from_file(path).predict_proba(X), expected)


# ---------------------------------------------------------------------------- save errors


def test_save_refuses_unknown_activation_or_loss(impl: Implementation, tmp_path: Path):
    with pytest.raises(ValueError, match="activation 'gelu'"):
        weights.save(_model(impl), tmp_path / "m", activation="gelu", loss="mse")
    with pytest.raises(ValueError, match="loss 'nll'"):
        weights.save(_model(impl), tmp_path / "m", activation="tanh", loss="nll")
    assert not list(tmp_path.iterdir())


def test_a_failed_write_leaves_nothing_behind(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    path = tmp_path / "m.safetensors"
    path.write_bytes(b"the old file")

    def broken_fsync(fd: int) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "fsync", broken_fsync)
    with pytest.raises(OSError, match="No space"):
        safetensors_file.write(path, {"0.weight": np.ones((2, 2), np.float32)})
    assert path.read_bytes() == b"the old file"
    assert [p.name for p in tmp_path.iterdir()] == ["m.safetensors"]


# ---------------------------------------------------------------------------- damaged files


def _rewrite(path: Path, edit: Any) -> Path:
    """Rewrite a weights file with ``edit(tensors, metadata)`` applied."""
    tensors, metadata = safetensors_file.read(path)
    edit(tensors, metadata)
    safetensors_file.write(path, tensors, metadata)
    return path


def _header(path: Path) -> tuple[dict[str, Any], bytes]:
    data = path.read_bytes()
    n = int.from_bytes(data[:8], "little")
    return json.loads(data[8 : 8 + n]), data[8 + n :]


def _raw(path: Path, header: dict[str, Any], body: bytes) -> Path:
    head = json.dumps(header).encode()
    path.write_bytes(len(head).to_bytes(8, "little") + head + body)
    return path


DAMAGE = {
    "empty file": (lambda p: p.write_bytes(b"") and p, "truncated"),
    "truncated in the header": (lambda p: p.write_bytes(p.read_bytes()[:40]) and p, "truncated"),
    "truncated in the data": (lambda p: p.write_bytes(p.read_bytes()[:-5]) and p, "truncated"),
    "header not JSON": (
        lambda p: p.write_bytes((8).to_bytes(8, "little") + b"{not js}") and p,
        "not UTF-8 JSON",
    ),
    "bytes after the last tensor": (
        lambda p: p.write_bytes(p.read_bytes() + b"junk") and p,
        "4 bytes",
    ),
    "missing tensor": (
        lambda p: _rewrite(p, lambda t, m: t.pop("2.bias")),
        "missing tensor '2.bias'",
    ),
    "extra tensor": (
        lambda p: _rewrite(p, lambda t, m: t.update({"6.weight": t["0.weight"]})),
        "unexpected tensor '6.weight'",
    ),
    "wrong shape": (
        lambda p: _rewrite(p, lambda t, m: t.update({"0.weight": t["0.weight"].T.copy()})),
        r"'0.weight' has shape \(6, 5\), expected \(5, 6\)",
    ),
    "wrong dtype": (
        lambda p: _rewrite(p, lambda t, m: t.update({"0.bias": t["0.bias"].astype(np.float64)})),
        "'0.bias' has dtype float64, expected float32",
    ),
    "integer tensor": (
        lambda p: _rewrite(p, lambda t, m: t.update({"0.bias": t["0.bias"].astype(np.int32)})),
        "'0.bias' has dtype int32",
    ),
    "NaN": (
        lambda p: _rewrite(p, lambda t, m: t["2.weight"].__setitem__((0, 0), np.nan)),
        "'2.weight' holds NaN",
    ),
    "unknown format version": (
        lambda p: _rewrite(p, lambda t, m: m.update({"format_version": "99"})),
        "format version '99' is not supported",
    ),
    "not ours": (lambda p: _rewrite(p, lambda t, m: m.clear()), "not a fromscratch weights file"),
    "unknown activation": (
        lambda p: _rewrite(p, lambda t, m: m.update({"activation": "gelu"})),
        "activation 'gelu'",
    ),
    "layers not JSON": (
        lambda p: _rewrite(p, lambda t, m: m.update({"layers": "[6, 5"})),
        "layers is not valid JSON",
    ),
    "layers disagree with tensors": (
        lambda p: _rewrite(p, lambda t, m: m.update({"layers": "[6, 5, 4, 2]"})),
        r"'4.weight' has shape \(3, 4\), expected \(2, 4\)",
    ),
    "overlapping offsets": (
        lambda p: _raw(
            p,
            *(
                lambda h, b: (
                    {**h, "0.bias": {**h["0.bias"], "data_offsets": h["0.weight"]["data_offsets"]}},
                    b,
                )
            )(*_header(p)),
        ),
        "damaged",
    ),
    "unknown safetensors dtype": (
        lambda p: _raw(
            p,
            *(lambda h, b: ({**h, "0.bias": {**h["0.bias"], "dtype": "X9"}}, b))(*_header(p)),
        ),
        "dtype 'X9'",
    ),
}


@pytest.mark.parametrize("damage", list(DAMAGE), ids=list(DAMAGE))
def test_damaged_file_raises_naming_the_file_and_the_problem(tmp_path: Path, damage: str):
    # the file format does not depend on who wrote it: one implementation suffices
    impl = select(None)[0]
    path = weights.save(
        _model(impl), tmp_path / "m.safetensors", activation="tanh", loss="cross_entropy"
    )
    spoil, message = DAMAGE[damage]
    spoil(path)
    for call in (weights.read_weights, weights.load, weights.to_torch):
        with pytest.raises(WeightsError, match=message) as caught:
            call(path)
        assert str(caught.value).startswith(f"{path}: ")
        assert isinstance(caught.value, ValueError)


def test_missing_file_and_directory_raise_naming_them(tmp_path: Path):
    for path in (tmp_path / "absent.safetensors", tmp_path):
        with pytest.raises(WeightsError, match="cannot read the file") as caught:
            weights.load(path)
        assert str(path) in str(caught.value)


def test_loading_never_unpickles(tmp_path: Path):
    """A torch ``.pt`` file (a pickle) is refused as a damaged header, not executed."""
    path = tmp_path / "model.pt"
    torch.save({"0.weight": torch.ones(2, 2)}, path)
    with pytest.raises(WeightsError, match=str(path)):
        weights.load(path)
