"""Reading and writing the IDX format, the simple binary format the MNIST files are stored in.

An IDX file is a header followed by the numbers themselves:

* **magic number**, 4 bytes: two zero bytes, then one byte for the **type** of the numbers
  (``0x08`` = unsigned byte, see ``IDX_TYPES``), then one byte for the **number of dimensions** ``d``.
  The MNIST images start with ``00 00 08 03`` (bytes, 3 dimensions), the labels with ``00 00 08 01``.
* **sizes**, ``d`` times 4 bytes: each dimension's size as a big-endian unsigned 32-bit integer
  (most significant byte first). For the test images: 10000, 28, 28.
* **data**: ``size_1 * ... * size_d`` numbers in row-major (C) order, big-endian when wider than a byte.

The MNIST files are distributed gzipped (``.gz``); ``read_idx`` recognises gzip by its first two bytes
(``1f 8b``), whatever the file is called.
"""

import gzip
import os
import zlib
from pathlib import Path

import numpy as np

from ..errors import DataError
from ..validation import as_array, boolean, finite, text

__all__ = ["IDX_TYPES", "parse_idx", "read_idx", "write_idx", "idx_bytes"]

# Type byte -> NumPy dtype. ">" means big-endian, the byte order the format prescribes.
IDX_TYPES = {
    0x08: np.dtype("u1"),  # unsigned byte (MNIST pixels and labels)
    0x09: np.dtype("i1"),  # signed byte
    0x0B: np.dtype(">i2"),  # short (2 bytes)
    0x0C: np.dtype(">i4"),  # int (4 bytes)
    0x0D: np.dtype(">f4"),  # float (4 bytes)
    0x0E: np.dtype(">f8"),  # double (8 bytes)
}

GZIP_MAGIC = b"\x1f\x8b"


def parse_idx(data, *, name="IDX data"):
    """Parse the bytes of an (uncompressed) IDX file into a NumPy array of the stored shape.

    ``name`` only appears in error messages (use the file name). Raises ``DataError`` for a wrong
    magic number, an unknown type byte, or data that is shorter or longer than the header announces.
    The returned array is in native byte order; for byte data it is a read-only view of ``data``.
    """
    name = text(name, "name", "parse_idx")
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise DataError(f"parse_idx: data must be the bytes of an IDX file, got {type(data).__name__} "
                        f"{data!r:.40}; read them with open(path, 'rb').read(), or call read_idx(path)")
    data = memoryview(data)
    if len(data) < 4:
        raise DataError(f"{name}: the data has only {len(data)} bytes, too short for an IDX header (4-byte magic "
                        "number); the file is truncated or empty: download it again")

    # 1. The magic number: 0, 0, type byte, number of dimensions.
    zero_1, zero_2, type_code, n_dims = data[0], data[1], data[2], data[3]
    if zero_1 != 0 or zero_2 != 0:
        hint = " (it looks gzipped: decompress it first or use read_idx)" if bytes(data[:2]) == GZIP_MAGIC else ""
        raise DataError(f"{name}: wrong magic number {bytes(data[:4]).hex(' ')}; an IDX file starts with two zero "
                        f"bytes, then the type byte and the number of dimensions{hint}")
    if type_code not in IDX_TYPES:
        known = ", ".join(f"0x{code:02X}" for code in IDX_TYPES)
        raise DataError(f"{name}: unknown IDX type byte 0x{type_code:02X}; known types are {known}")
    if n_dims == 0:
        raise DataError(f"{name}: the magic number announces 0 dimensions; an IDX file needs at least one")
    dtype = IDX_TYPES[type_code]

    # 2. The sizes: one big-endian unsigned 32-bit integer per dimension.
    header_length = 4 + 4 * n_dims
    if len(data) < header_length:
        raise DataError(f"{name}: truncated header: {n_dims} dimension sizes need {header_length} bytes, "
                        f"the data has {len(data)}; the file is truncated: download it again")
    shape = tuple(int(size) for size in np.frombuffer(data, dtype=">u4", count=n_dims, offset=4))

    # 3. The data: exactly prod(shape) numbers, no more, no less.
    n_values = int(np.prod(shape, dtype=np.int64))
    expected = header_length + n_values * dtype.itemsize
    if len(data) < expected:
        raise DataError(f"{name}: truncated data: the header announces shape {shape} ({expected:,} bytes in all), "
                        f"but the file has only {len(data):,} bytes; download it again")
    if len(data) > expected:
        raise DataError(f"{name}: {len(data) - expected:,} unexpected bytes after the data of shape {shape}; "
                        "the file is corrupt")
    array = np.frombuffer(data, dtype=dtype, count=n_values, offset=header_length).reshape(shape)
    if dtype.byteorder == ">":  # wider than one byte: convert to the machine's byte order
        array = array.astype(dtype.newbyteorder("="))
    return array


def read_idx(path):
    """Read an IDX file (gzipped or not) into a writable NumPy array; bad files raise ``DataError``."""
    path = Path(path)
    try:
        raw = path.read_bytes()
    except (FileNotFoundError, NotADirectoryError):
        raise DataError(f"read_idx: IDX file not found at path {path}; check the path (download the MNIST files with "
                        f"load_mnist(download=True))") from None
    except IsADirectoryError:
        raise DataError(f"read_idx: path {path} is a folder, not an IDX file; pass the path of a file in it")\
            from None
    if raw[:2] == GZIP_MAGIC:
        try:
            raw = gzip.decompress(raw)
        except (OSError, EOFError, zlib.error) as error:  # zlib.error: a damaged deflate block
            raise DataError(f"{path}: the gzip stream is damaged or truncated ({error}); delete the file and "
                            f"download it again") from None
    array = parse_idx(raw, name=str(path))
    return array if array.flags.writeable else array.copy()


def idx_bytes(array):
    """The bytes of an IDX file holding ``array`` (the inverse of ``parse_idx``)."""
    array = as_array(array, "array", "idx_bytes")
    for code, dtype in IDX_TYPES.items():
        if array.dtype.kind == dtype.kind and array.dtype.itemsize == dtype.itemsize:
            break
    else:
        raise DataError(f"IDX cannot store dtype {array.dtype}: array must be uint8, int8, int16, int32, float32 or "
                        f"float64; convert it with array.astype(np.uint8) (pixels) or another of these")
    if not 1 <= array.ndim <= 255:
        raise DataError(f"IDX stores arrays with 1 to 255 dimensions, got an array with {array.ndim}")
    if not array.size:
        raise DataError(f"IDX: array is empty (shape {array.shape}), a file of no numbers; pass the data to store")
    finite(array, "idx_bytes", argument="array")
    header = bytes([0, 0, code, array.ndim]) + np.asarray(array.shape, dtype=">u4").tobytes()
    return header + np.ascontiguousarray(array, dtype=dtype).tobytes()


def write_idx(path, array, *, compress=None):
    """Write ``array`` as an IDX file; gzipped when ``compress`` is True (default: when the name ends in .gz).

    The file is written to a temporary name first and then renamed, so it is either complete or absent.
    """
    path = Path(path)
    if compress is None:
        compress = path.suffix == ".gz"
    compress = boolean(compress, "compress", "write_idx")
    content = idx_bytes(array)
    if compress:
        content = gzip.compress(content, mtime=0)  # mtime=0: the same array always gives the same bytes
    temporary = path.with_name(f".{path.name}.{os.getpid()}.part")
    try:
        temporary.write_bytes(content)
        os.replace(temporary, path)
    except (PermissionError, IsADirectoryError, NotADirectoryError, FileNotFoundError) as error:
        raise DataError(f"cannot write {path}: {error.strerror or error}; check that the folder exists and is "
                        f"writable, or choose another path") from None
    finally:
        try:
            temporary.unlink(missing_ok=True)
        except OSError:     # its folder does not exist (or is a file): there is nothing to clean up
            pass
    return path
