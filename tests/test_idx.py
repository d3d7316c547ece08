"""The IDX reader: round trips, every type byte, and clear errors for damaged files."""

import gzip

import numpy as np
import pytest

from nncourse.data import IDX_TYPES, parse_idx, read_idx, write_idx
from nncourse.errors import DataError


def test_header_of_a_byte_image_file_is_magic_then_big_endian_sizes(tmp_path):
    images = np.arange(2 * 3 * 4, dtype=np.uint8).reshape(2, 3, 4)
    path = write_idx(tmp_path / "images-idx3-ubyte", images)
    raw = path.read_bytes()
    assert raw[:4] == bytes([0, 0, 0x08, 3])  # two zeros, type "unsigned byte", 3 dimensions
    assert raw[4:16] == (2).to_bytes(4, "big") + (3).to_bytes(4, "big") + (4).to_bytes(4, "big")
    assert raw[16:] == images.tobytes()
    np.testing.assert_array_equal(read_idx(path), images)


@pytest.mark.parametrize("dtype", [np.uint8, np.int8, np.int16, np.int32, np.float32, np.float64])
def test_every_idx_type_round_trips_gzipped_and_plain(tmp_path, dtype):
    array = (np.arange(-6, 6).reshape(3, 4) * 3).astype(dtype) if np.dtype(dtype).kind != "u" else \
        np.arange(12, dtype=dtype).reshape(3, 4)
    for name in ("data.idx", "data.idx.gz"):
        loaded = read_idx(write_idx(tmp_path / name, array))
        assert loaded.dtype == np.dtype(dtype).newbyteorder("=")
        np.testing.assert_array_equal(loaded, array)
        assert loaded.flags.writeable


def test_multi_byte_numbers_are_stored_big_endian(tmp_path):
    path = write_idx(tmp_path / "ints", np.array([1, 256], dtype=np.int32))
    assert path.read_bytes()[8:] == b"\x00\x00\x00\x01\x00\x00\x01\x00"


def test_gzip_is_recognised_by_content_not_by_name(tmp_path):
    labels = np.array([3, 1, 4, 1, 5], dtype=np.uint8)
    path = write_idx(tmp_path / "labels-without-suffix", labels, compress=True)
    assert path.read_bytes()[:2] == b"\x1f\x8b"
    np.testing.assert_array_equal(read_idx(path), labels)


def test_wrong_magic_number_is_reported(tmp_path):
    path = tmp_path / "not-idx"
    path.write_bytes(b"PK\x03\x04" + bytes(20))
    with pytest.raises(DataError, match="wrong magic number"):
        read_idx(path)


def test_gzipped_bytes_given_to_the_parser_get_a_hint():
    data = gzip.compress(bytes([0, 0, 8, 1, 0, 0, 0, 1, 7]))
    with pytest.raises(DataError, match="gzipped"):
        parse_idx(data)


def test_unknown_type_byte_is_reported():
    with pytest.raises(DataError, match="type byte 0x07"):
        parse_idx(bytes([0, 0, 0x07, 1, 0, 0, 0, 1, 9]))
    assert 0x07 not in IDX_TYPES


def test_truncated_data_is_reported_with_the_expected_size(tmp_path):
    path = write_idx(tmp_path / "images", np.zeros((5, 4, 4), dtype=np.uint8))
    path.write_bytes(path.read_bytes()[:-10])
    with pytest.raises(DataError, match="truncated data"):
        read_idx(path)


def test_truncated_header_and_tiny_files_are_reported():
    with pytest.raises(DataError, match="truncated header"):
        parse_idx(bytes([0, 0, 8, 3, 0, 0, 0, 1]))
    with pytest.raises(DataError, match="too short"):
        parse_idx(b"\x00\x00")


def test_extra_bytes_after_the_data_are_reported():
    with pytest.raises(DataError, match="unexpected bytes"):
        parse_idx(bytes([0, 0, 8, 1, 0, 0, 0, 2, 1, 2, 3]))


def test_truncated_gzip_stream_is_reported(tmp_path):
    path = write_idx(tmp_path / "images.gz", np.arange(4000, dtype=np.int32))
    path.write_bytes(path.read_bytes()[:-30])
    with pytest.raises(DataError, match="gzip"):
        read_idx(path)


def test_missing_file_is_a_data_error(tmp_path):
    with pytest.raises(DataError, match="not found"):
        read_idx(tmp_path / "nothing-here")
