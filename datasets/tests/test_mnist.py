"""load_mnist with generated files: where it looks, what it verifies, when it downloads.

`fake_mnist` (see conftest) patches the pinned sums and sizes to five-image
files and isolates the environment; `http_mirror` is a local HTTP server.
"""

from pathlib import Path

import numpy as np
import pytest

from fromscratch.datasets import DatasetError, load_mnist, mnist, mnist_search_dirs

TRAIN_FILES = ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz")


def assert_loads(split: str, fake_mnist, **kwargs: object) -> None:
    X, y = load_mnist(split, **kwargs)  # type: ignore[arg-type]
    images, labels = fake_mnist.arrays[split]
    np.testing.assert_array_equal(X, images.reshape(len(images), -1) / np.float32(255))
    np.testing.assert_array_equal(y, labels)
    assert X.dtype == np.float32
    assert y.dtype == np.int64


@pytest.mark.parametrize("split", ["train", "test"])
def test_loads_from_root(fake_mnist, tmp_path: Path, split: str) -> None:
    assert_loads(split, fake_mnist, root=fake_mnist.write(tmp_path / "data"), download=False)


def test_unknown_split_is_a_value_error(fake_mnist) -> None:
    with pytest.raises(ValueError, match=r"split must be one of \('train', 'test'\), got 'val'"):
        load_mnist("val")  # type: ignore[arg-type]


def test_search_dirs_are_root_then_data_then_cache(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("FROMSCRATCH_DATA", str(tmp_path / "shared"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert mnist_search_dirs(tmp_path / "root") == [
        tmp_path / "root",
        tmp_path / "shared" / "mnist",
        tmp_path / "xdg" / "fromscratch" / "mnist",
    ]
    # Without the variables, only the default user cache is left.
    monkeypatch.delenv("FROMSCRATCH_DATA")
    monkeypatch.delenv("XDG_CACHE_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert mnist_search_dirs() == [tmp_path / "home" / ".cache" / "fromscratch" / "mnist"]
    # A leading ~ in root is the home directory, as in a shell.
    assert mnist_search_dirs("~/data")[0] == tmp_path / "home" / "data"


@pytest.mark.parametrize("winner", ["root", "data", "cache"])
def test_an_earlier_location_wins(
    fake_mnist, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, winner: str
) -> None:
    """The good files sit in `winner`; every later location holds garbage, never read."""
    locations = {
        "root": tmp_path / "root",
        "data": tmp_path / "shared" / "mnist",
        "cache": tmp_path / "xdg-cache" / "fromscratch" / "mnist",
    }
    monkeypatch.setenv("FROMSCRATCH_DATA", str(tmp_path / "shared"))
    order = list(locations)
    for location in order[order.index(winner) + 1 :]:
        locations[location].mkdir(parents=True)
        for name in TRAIN_FILES:
            (locations[location] / name).write_bytes(b"garbage")
    fake_mnist.write(locations[winner])
    assert_loads("train", fake_mnist, root=locations["root"], download=False)


def test_a_corrupt_file_found_first_is_refused(
    fake_mnist, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("FROMSCRATCH_DATA", str(tmp_path / "shared"))
    fake_mnist.write(tmp_path / "shared" / "mnist")
    root = fake_mnist.write(tmp_path / "root")
    bad = root / TRAIN_FILES[0]
    bad.write_bytes(b"garbage")
    expected = mnist.MNIST_SHA256[TRAIN_FILES[0]]
    with pytest.raises(DatasetError, match=f"^{bad}: sha256 mismatch: expected {expected}, found "):
        load_mnist(root=root)


def test_missing_file_without_download_says_where_to_put_it(fake_mnist, tmp_path: Path) -> None:
    with pytest.raises(DatasetError) as error:
        load_mnist(root=tmp_path / "empty", download=False)
    message = str(error.value)
    assert message.startswith(f"MNIST file {TRAIN_FILES[0]} not found. Searched, in order:\n")
    assert f"{tmp_path / 'empty'}  (root= argument)" in message
    assert f"{tmp_path / 'xdg-cache' / 'fromscratch' / 'mnist'}  (user cache)" in message
    assert "$FROMSCRATCH_DATA is not set" in message
    assert "set FROMSCRATCH_DATA to its parent, or pass load_mnist(root=" in message
    assert message.endswith("or allow download=True.")


def test_downloads_into_the_user_cache_never_the_data_dir(
    fake_mnist, http_mirror, monkeypatch, tmp_path
) -> None:
    monkeypatch.setenv("FROMSCRATCH_MNIST_MIRRORS", http_mirror.serve("mnist", fake_mnist.files))
    shared = tmp_path / "shared" / "mnist"
    shared.mkdir(parents=True)
    monkeypatch.setenv("FROMSCRATCH_DATA", str(shared.parent))
    assert_loads("train", fake_mnist)
    cache = mnist_search_dirs()[-1]
    assert sorted(p.name for p in cache.iterdir()) == sorted(TRAIN_FILES)
    assert list(shared.iterdir()) == []
    # Now cached: no network needed, and none used.
    requests = len(http_mirror.requests)
    assert_loads("train", fake_mnist, download=False)
    assert len(http_mirror.requests) == requests


def test_downloads_into_root_when_given(fake_mnist, http_mirror, monkeypatch, tmp_path) -> None:
    monkeypatch.setenv("FROMSCRATCH_MNIST_MIRRORS", http_mirror.serve("mnist", fake_mnist.files))
    root = tmp_path / "new" / "root"
    assert_loads("test", fake_mnist, root=root)
    assert sorted(p.name for p in root.iterdir()) == [
        "t10k-images-idx3-ubyte.gz",
        "t10k-labels-idx1-ubyte.gz",
    ]
    assert not mnist_search_dirs()[-1].exists()


def test_an_unusable_root_falls_back_to_the_cache(
    fake_mnist, http_mirror, monkeypatch, tmp_path
) -> None:
    monkeypatch.setenv("FROMSCRATCH_MNIST_MIRRORS", http_mirror.serve("mnist", fake_mnist.files))
    not_a_dir = tmp_path / "file"
    not_a_dir.write_bytes(b"")
    assert_loads("train", fake_mnist, root=not_a_dir / "mnist")
    assert (mnist_search_dirs()[-1] / TRAIN_FILES[0]).is_file()


def test_mirrors_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FROMSCRATCH_MNIST_MIRRORS", "http://a/mnist/, http://b/\nhttp://c")
    assert mnist.mnist_mirrors() == ("http://a/mnist/", "http://b/", "http://c")
    monkeypatch.setenv("FROMSCRATCH_MNIST_MIRRORS", " ")
    assert mnist.mnist_mirrors() == mnist.MNIST_MIRRORS


def test_failed_download_lists_mirrors_and_directories(
    fake_mnist, http_mirror, monkeypatch, tmp_path
) -> None:
    mirrors = [http_mirror.serve("empty", {}), http_mirror.serve("also-empty", {})]
    monkeypatch.setenv("FROMSCRATCH_MNIST_MIRRORS", ",".join(mirrors))
    monkeypatch.setenv("FROMSCRATCH_DATA", str(tmp_path / "shared"))
    with pytest.raises(DatasetError) as error:
        load_mnist()
    message = str(error.value)
    cache = mnist_search_dirs()[-1]
    assert message.startswith(f"{cache / TRAIN_FILES[0]}: download failed from every mirror:")
    for mirror in mirrors:
        assert f"{mirror}{TRAIN_FILES[0]}: HTTP Error 404" in message
    assert f"{tmp_path / 'shared' / 'mnist'}  ($FROMSCRATCH_DATA/mnist)" in message
    assert message.endswith("pass load_mnist(root=<the directory>).")
    assert list(cache.iterdir()) == []  # no partial or temporary file
