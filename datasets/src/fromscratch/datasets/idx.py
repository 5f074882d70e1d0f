"""A reader for IDX, the binary format MNIST is published in.

An IDX file is a 4-byte magic number, one big-endian uint32 per dimension,
then the data in C order::

    00 00 08 03 | 00 00 EA 60 | 00 00 00 1C | 00 00 00 1C | 47,040,000 pixels
    zero  ubyte  3 dims: 60000 x 28 x 28

So images are magic 0x00000803 and labels (one dimension) 0x00000801. The
format has no checksum and no end marker, so every field is checked here: a
short download or a wrong file would otherwise parse into garbage silently.
Files may be gzip-compressed (as published) or raw; gzip is recognised by its
magic bytes 1f 8b, not by the file name.
"""

import gzip
import math
import os
import struct
import zlib
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from fromscratch.datasets.errors import DatasetError

GZIP_MAGIC = b"\x1f\x8b"
UBYTE = 0x08  # the IDX type code for unsigned bytes, the only one MNIST uses


def read_idx(path: str | os.PathLike[str], *, ndim: int) -> NDArray[np.uint8]:
    """Read an unsigned-byte IDX file with `ndim` dimensions, gzip-compressed or raw.

    Returns a read-only array whose shape is the one the header declares.
    Raises DatasetError, naming the file, if it cannot be read or decompressed,
    if the magic number is not ``00 00 08 <ndim>``, or if the data is not
    exactly as long as the dimensions say (truncated or with trailing bytes).
    """
    path = Path(path).absolute()
    try:
        raw = path.read_bytes()
    except OSError as error:
        raise DatasetError(f"{path}: cannot read the file: {error.strerror or error}") from error
    data = _gunzip(raw, path) if raw.startswith(GZIP_MAGIC) else raw
    return _parse(data, path, ndim)


def _gunzip(raw: bytes, path: Path) -> bytes:
    try:
        return gzip.decompress(raw)
    # Bad CRC or header -> BadGzipFile (an OSError), cut short -> EOFError,
    # mangled deflate data -> zlib.error.
    except (OSError, EOFError, zlib.error) as error:
        raise DatasetError(
            f"{path}: corrupt gzip stream ({error}); expected a complete gzip file"
        ) from error


def _parse(data: bytes, path: Path, ndim: int) -> NDArray[np.uint8]:
    expected_magic = f"0x0000{UBYTE:02X}{ndim:02X}"
    if len(data) < 4:
        raise DatasetError(
            f"{path}: {len(data)} bytes is too short for an IDX header; "
            f"expected the magic number {expected_magic}"
        )
    magic = f"0x{data[:4].hex().upper()}"
    if data[0] != 0 or data[1] != 0:
        raise DatasetError(
            f"{path}: bad magic number {magic}, expected {expected_magic} "
            "(an IDX file starts with two zero bytes; is this an IDX file?)"
        )
    if data[2] != UBYTE:
        raise DatasetError(
            f"{path}: IDX type code 0x{data[2]:02X} in magic number {magic}, "
            f"expected 0x{UBYTE:02X} (unsigned byte)"
        )
    if data[3] != ndim:
        raise DatasetError(
            f"{path}: IDX file has {data[3]} dimensions (magic number {magic}), "
            f"expected {ndim} (magic number {expected_magic})"
        )

    header_size = 4 + 4 * ndim
    if len(data) < header_size:
        raise DatasetError(
            f"{path}: truncated IDX header: {ndim} dimensions need a {header_size}-byte "
            f"header, found {len(data)} bytes"
        )
    shape = struct.unpack(f">{ndim}I", data[4:header_size])
    expected = math.prod(shape)
    found = len(data) - header_size
    if found < expected:
        raise DatasetError(
            f"{path}: truncated data: shape {shape} needs {expected} bytes after the "
            f"header, found {found}"
        )
    if found > expected:
        raise DatasetError(
            f"{path}: {found - expected} trailing bytes: shape {shape} needs {expected} "
            f"bytes after the header, found {found}"
        )
    return np.frombuffer(data, dtype=np.uint8, offset=header_size).reshape(shape)
