"""The safetensors file format, read and written with NumPy alone: nothing is ever unpickled.

A ``.safetensors`` file is three parts, back to back::

    8 bytes      N, the header's length, an unsigned little-endian integer
    N bytes      the header: UTF-8 JSON (padded with spaces to a multiple of 8 bytes)
    the rest     the tensors' raw bytes, little-endian, C order, one after another

The header maps each tensor's name to ``{"dtype": "F32", "shape": [out, in],
"data_offsets": [begin, end]}`` (offsets into the byte buffer after the header) and may
hold ``"__metadata__"``, a flat map of strings to strings. Because the format is only
JSON plus raw numbers, a file can say nothing but "these numbers, this shape", which is
what makes it safe to open from anyone (a pickle can run code). The reader checks every
promise the header makes against the bytes that follow, so a truncated or damaged file
raises :class:`SafetensorsError` naming the file, never a wrong array.

This is the same format the ``safetensors`` package (and torch, via it) reads and
writes; the conformance tests prove the two interoperate.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Final

import numpy as np
from numpy.typing import NDArray

from fromscratch.conformance.atomic import write_bytes

DTYPES: Final[dict[str, str]] = {
    "F64": "<f8",
    "F32": "<f4",
    "F16": "<f2",
    "I64": "<i8",
    "I32": "<i4",
    "I16": "<i2",
    "I8": "i1",
    "U8": "u1",
    "BOOL": "?",
}
"""safetensors' dtype names and the little-endian NumPy dtype each stands for."""

NAMES: Final[dict[np.dtype[Any], str]] = {np.dtype(v): k for k, v in DTYPES.items()}
MAX_HEADER: Final = 100 * 1024 * 1024  # the safetensors package's own limit


class SafetensorsError(ValueError):
    """A file that is not a well-formed safetensors file; the message names the file."""

    def __init__(self, path: str | os.PathLike[str], problem: str) -> None:
        super().__init__(f"{path}: {problem}")
        self.path = Path(path)
        self.problem = problem


def write(
    path: str | os.PathLike[str],
    tensors: Mapping[str, NDArray[Any]],
    metadata: Mapping[str, str] | None = None,
) -> Path:
    """Write ``tensors`` (in the given order) and string ``metadata`` to ``path``, atomically.

    The bytes go to a temporary file in the same directory, which is then renamed onto
    ``path``: a crash leaves either the old file or the new one, never half of one.
    """
    path = Path(path)
    header: dict[str, Any] = {}
    if metadata:
        for key, value in metadata.items():
            if not isinstance(key, str) or not isinstance(value, str):
                raise TypeError(f"metadata must map str to str, got {key!r}: {value!r}")
        header["__metadata__"] = dict(metadata)
    arrays = []
    offset = 0
    for name, tensor in tensors.items():
        a = np.asarray(tensor)
        little = a.dtype.newbyteorder("<") if a.dtype.byteorder not in "<|=" else a.dtype
        if np.dtype(little.str) not in NAMES:
            raise TypeError(f"tensor {name!r}: dtype {a.dtype} has no safetensors name")
        a = np.ascontiguousarray(a, dtype=little.str)
        header[name] = {
            "dtype": NAMES[np.dtype(little.str)],
            "shape": list(a.shape),
            "data_offsets": [offset, offset + a.nbytes],
        }
        arrays.append(a)
        offset += a.nbytes
    head = json.dumps(header, separators=(",", ":")).encode()
    head += b" " * (-len(head) % 8)  # keep the tensors 8-byte aligned, as the package does

    chunks = (a.tobytes() for a in arrays)
    return write_bytes(path, len(head).to_bytes(8, "little"), head, *chunks)


def read(path: str | os.PathLike[str]) -> tuple[dict[str, NDArray[Any]], dict[str, str]]:
    """``(tensors, metadata)`` from a safetensors file, tensors in the header's order.

    Raises :class:`SafetensorsError`, naming the file, when it cannot be read, is
    truncated, has a header that is not the JSON the format prescribes, or has tensors
    whose offsets overlap, leave gaps, or disagree with their dtype and shape.
    """
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise SafetensorsError(path, f"cannot read the file: {exc.strerror or exc}") from exc
    if len(data) < 8:
        raise SafetensorsError(
            path, f"truncated: {len(data)} bytes, not even the 8-byte header length"
        )
    n = int.from_bytes(data[:8], "little")
    if n > MAX_HEADER:
        raise SafetensorsError(path, f"not a safetensors file: header length {n} is implausible")
    if 8 + n > len(data):
        raise SafetensorsError(
            path, f"truncated: the header needs {n} bytes but only {len(data) - 8} follow"
        )
    try:
        header = json.loads(data[8 : 8 + n].decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise SafetensorsError(path, f"damaged header, not UTF-8 JSON: {exc}") from exc
    if not isinstance(header, dict):
        raise SafetensorsError(path, "damaged header: expected a JSON object")

    metadata = header.pop("__metadata__", {})
    if not isinstance(metadata, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in metadata.items()
    ):
        raise SafetensorsError(path, "damaged header: __metadata__ must map strings to strings")

    buffer = memoryview(data)[8 + n :]
    spans = []
    tensors: dict[str, NDArray[Any]] = {}
    for name, info in header.items():
        dtype, shape, begin, end = _entry(path, name, info)
        if not 0 <= begin <= end <= len(buffer):
            raise SafetensorsError(
                path,
                f"truncated or damaged: tensor {name!r} spans bytes [{begin}, {end}) "
                f"but the data holds {len(buffer)} bytes",
            )
        expected = math.prod(shape) * dtype.itemsize
        if end - begin != expected:
            raise SafetensorsError(
                path,
                f"damaged: tensor {name!r} has {end - begin} bytes, expected {expected} for "
                f"shape {tuple(shape)} of {info['dtype']}",
            )
        spans.append((begin, end, name))
        array = np.frombuffer(buffer[begin:end], dtype=dtype).reshape(shape)
        tensors[name] = array.astype(dtype.newbyteorder("="), copy=True)
    _check_covered(path, sorted(spans), len(buffer))
    return tensors, metadata


def _entry(path: Path, name: str, info: Any) -> tuple[np.dtype[Any], list[int], int, int]:
    """One header entry's dtype, shape and offsets, each checked for its type."""
    if not isinstance(info, dict) or set(info) != {"dtype", "shape", "data_offsets"}:
        raise SafetensorsError(
            path, f"damaged header: tensor {name!r} needs exactly dtype, shape and data_offsets"
        )
    if info["dtype"] not in DTYPES:
        raise SafetensorsError(
            path, f"tensor {name!r} has dtype {info['dtype']!r}, expected one of {list(DTYPES)}"
        )
    shape, offsets = info["shape"], info["data_offsets"]
    if not isinstance(shape, list) or not all(_is_count(d) for d in shape):
        raise SafetensorsError(path, f"damaged header: tensor {name!r} has shape {shape!r}")
    if not isinstance(offsets, list) or len(offsets) != 2 or not all(map(_is_count, offsets)):
        raise SafetensorsError(
            path, f"damaged header: tensor {name!r} has data_offsets {offsets!r}"
        )
    return np.dtype(DTYPES[info["dtype"]]), shape, offsets[0], offsets[1]


def _is_count(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def _check_covered(path: Path, spans: list[tuple[int, int, str]], size: int) -> None:
    """The tensors tile the byte buffer exactly: no overlap, no gap, nothing after."""
    position = 0
    for begin, end, name in spans:
        if begin != position:
            problem = "overlaps the tensor before it" if begin < position else "leaves a gap"
            raise SafetensorsError(path, f"damaged: tensor {name!r} {problem} in the data")
        position = end
    if position != size:
        raise SafetensorsError(
            path, f"damaged: {size - position} bytes after the last tensor belong to none"
        )
