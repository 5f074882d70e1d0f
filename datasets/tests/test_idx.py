"""The IDX parser and read_mnist: good files parse exactly, every bad one is named and explained."""

import gzip
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from numpy.typing import NDArray

from fromscratch.datasets import DatasetError, read_idx, read_mnist

Encode = Callable[[NDArray[np.uint8]], bytes]

rng = np.random.default_rng(1)
IMAGES = rng.integers(0, 256, size=(5, 28, 28), dtype=np.uint8)
LABELS = np.array([0, 9, 3, 3, 7], dtype=np.uint8)


def write(path: Path, content: bytes, *, gz: bool = False) -> Path:
    path.write_bytes(gzip.compress(content) if gz else content)
    return path


@pytest.mark.parametrize("gz", [True, False])
def test_reads_gzip_and_raw_exactly(tmp_path: Path, encode_idx: Encode, gz: bool) -> None:
    images = read_idx(write(tmp_path / "images", encode_idx(IMAGES), gz=gz), ndim=3)
    labels = read_idx(write(tmp_path / "labels", encode_idx(LABELS), gz=gz), ndim=1)
    np.testing.assert_array_equal(images, IMAGES)
    np.testing.assert_array_equal(labels, LABELS)
    assert images.dtype == np.uint8
    assert labels.dtype == np.uint8


def test_gzip_is_detected_by_content_not_name(tmp_path: Path, encode_idx: Encode) -> None:
    raw_named_gz = write(tmp_path / "raw.gz", encode_idx(LABELS))
    gz_named_raw = write(tmp_path / "labels-idx1-ubyte", encode_idx(LABELS), gz=True)
    np.testing.assert_array_equal(read_idx(raw_named_gz, ndim=1), LABELS)
    np.testing.assert_array_equal(read_idx(gz_named_raw, ndim=1), LABELS)


def corrupt_header(position: int, value: int) -> Callable[[bytes], bytes]:
    return lambda data: data[:position] + bytes([value]) + data[position + 1 :]


@pytest.mark.parametrize(
    ("mangle", "message"),
    [
        (corrupt_header(0, 0x12), r"bad magic number 0x12000803, expected 0x00000803"),
        (corrupt_header(1, 0x01), r"bad magic number 0x00010803, expected 0x00000803"),
        (corrupt_header(2, 0x0D), r"type code 0x0D .*expected 0x08 \(unsigned byte\)"),
        (corrupt_header(3, 0x02), r"has 2 dimensions .*expected 3 \(magic number 0x00000803\)"),
        (lambda data: data[:3], r"3 bytes is too short for an IDX header"),
        (lambda data: data[:10], r"truncated IDX header: 3 dimensions need a 16-byte header"),
        (
            lambda data: data[:-1],
            r"truncated data: shape \(5, 28, 28\) needs 3920 bytes .*found 3919",
        ),
        (lambda data: data + b"\0\0", r"2 trailing bytes: shape \(5, 28, 28\) needs 3920 bytes"),
    ],
    ids=["magic", "magic-2nd-byte", "dtype", "ndim", "short", "header", "truncated", "trailing"],
)
@pytest.mark.parametrize("gz", [True, False])
def test_bad_idx_is_named_and_explained(
    tmp_path: Path,
    encode_idx: Encode,
    mangle: Callable[[bytes], bytes],
    message: str,
    gz: bool,
) -> None:
    path = write(tmp_path / "images.gz", mangle(encode_idx(IMAGES)), gz=gz)
    with pytest.raises(DatasetError, match=message) as error:
        read_idx(path, ndim=3)
    assert str(error.value).startswith(f"{path}: ")


@pytest.mark.parametrize(
    "mangle",
    [
        lambda gz: gz[: len(gz) // 2],  # cut short
        lambda gz: gz[:-4] + bytes(b ^ 0xFF for b in gz[-4:]),  # wrong length trailer
        lambda gz: gz[:-8] + bytes(b ^ 0xFF for b in gz[-8:-4]) + gz[-4:],  # bad CRC
        lambda gz: gz[:20] + bytes([gz[20] ^ 0xFF]) + gz[21:],  # damaged deflate data
    ],
    ids=["truncated", "length", "crc", "deflate"],
)
def test_corrupt_gzip_raises_dataset_error(
    tmp_path: Path, encode_idx: Encode, mangle: Callable[[bytes], bytes]
) -> None:
    path = tmp_path / "images.gz"
    path.write_bytes(mangle(gzip.compress(encode_idx(IMAGES))))
    with pytest.raises(DatasetError, match="corrupt gzip stream") as error:
        read_idx(path, ndim=3)
    assert str(path) in str(error.value)


def test_unreadable_file_raises_dataset_error(tmp_path: Path) -> None:
    with pytest.raises(DatasetError, match=r"missing\.gz: cannot read the file: No such file"):
        read_idx(tmp_path / "missing.gz", ndim=1)


def write_pair(
    tmp_path: Path, encode_idx: Encode, images: NDArray[np.uint8], labels: NDArray[np.uint8]
) -> tuple[Path, Path]:
    return (
        write(tmp_path / "images.gz", encode_idx(images), gz=True),
        write(tmp_path / "labels.gz", encode_idx(labels), gz=True),
    )


def test_read_mnist_scales_and_flattens(tmp_path: Path, encode_idx: Encode) -> None:
    X, y = read_mnist(*write_pair(tmp_path, encode_idx, IMAGES, LABELS), count=5)
    assert X.dtype == np.float32
    assert X.shape == (5, 784)
    assert y.dtype == np.int64
    np.testing.assert_array_equal(X, IMAGES.reshape(5, 784).astype(np.float32) / np.float32(255))
    np.testing.assert_array_equal(y, LABELS)
    assert X.flags.writeable


@pytest.mark.parametrize(
    ("images", "labels", "count", "bad_file", "message"),
    [
        (IMAGES[:, :, :27], LABELS, None, "images", r"images are 28x27, expected 28x28"),
        (
            IMAGES,
            np.array([1, 2, 10, 3, 4], np.uint8),
            None,
            "labels",
            r"label 10 at index 2 .*0\.\.9",
        ),
        (IMAGES, LABELS[:4], None, "images", r"holds 5 images but .*labels\.gz holds 4 labels"),
        (IMAGES, LABELS, 60_000, "images", r"5 images, expected 60000"),
    ],
    ids=["image-dims", "label-range", "count-mismatch", "wrong-count"],
)
def test_read_mnist_rejects_inconsistent_files(
    tmp_path: Path,
    encode_idx: Encode,
    images: NDArray[np.uint8],
    labels: NDArray[np.uint8],
    count: int | None,
    bad_file: str,
    message: str,
) -> None:
    with pytest.raises(DatasetError, match=message) as error:
        read_mnist(*write_pair(tmp_path, encode_idx, images, labels), count=count)
    assert str(error.value).startswith(f"{tmp_path / bad_file}.gz")
