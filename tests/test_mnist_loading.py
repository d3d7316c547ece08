"""MNIST loading: tiny fake files written by the tests, and the genuine offline sample when available.

No test touches the network: the mirrors are replaced by a file:// folder in tmp_path. The tests that
need the genuine digits use the folder named by NNCOURSE_MNIST_SAMPLE (CI sets it).
"""

import os
import time
from pathlib import Path

import numpy as np
import pytest

import nncourse
from nncourse.data import download, load_mnist, mnist_raw_folder, read_idx, torch_mnist, write_idx
from nncourse.data.download import md5sum
from nncourse.data.mnist import ALL_FILES, default_data_root
from nncourse.errors import DataError

from fake_mnist import write_fake_mnist

SAMPLE = os.environ.get("NNCOURSE_MNIST_SAMPLE")
needs_sample = pytest.mark.skipif(not SAMPLE, reason="NNCOURSE_MNIST_SAMPLE is not set: no genuine MNIST "
                                                     "test-set files to compare against (CI sets it)")


@pytest.fixture
def offline(tmp_path, monkeypatch):
    """No sample, no real mirrors: a local mirror folder (empty until a test fills it)."""
    monkeypatch.delenv("NNCOURSE_MNIST_SAMPLE", raising=False)
    mirror = tmp_path / "mirror"
    mirror.mkdir()
    monkeypatch.setattr(download, "MNIST_MIRRORS", (mirror.as_uri() + "/",))
    return mirror


@pytest.fixture
def fake_mirror(offline, monkeypatch):
    """The local mirror holds four fake files, and their md5 values replace torchvision's."""
    arrays, md5 = write_fake_mnist(offline)
    monkeypatch.setattr(download, "MNIST_MD5", md5)
    return arrays


def test_files_are_downloaded_into_torchvisions_layout_and_loaded(tmp_path, fake_mirror, capsys):
    data = load_mnist(tmp_path / "data", quiet=True)
    raw = tmp_path / "data" / "MNIST" / "raw"
    assert raw == mnist_raw_folder(tmp_path / "data")
    assert sorted(p.name for p in raw.iterdir()) == sorted(ALL_FILES)
    assert data.source == "full"
    assert data.X_train.shape == (6, 784) and data.X_test.shape == (4, 784)
    assert data.X_train.dtype == np.float32 and data.y_train.dtype == np.int64
    expected = fake_mirror["train-images-idx3-ubyte.gz"].reshape(6, -1) / 255
    np.testing.assert_allclose(data.X_train, expected, rtol=1e-6)
    np.testing.assert_array_equal(data.y_test, fake_mirror["t10k-labels-idx1-ubyte.gz"])
    assert "6 train / 4 test" in capsys.readouterr().out


def test_flatten_normalize_and_dtype_options(tmp_path, fake_mirror):
    raw = load_mnist(tmp_path, flatten=False, normalize=False, quiet=True)
    assert raw.X_train.shape == (6, 28, 28) and raw.X_train.dtype == np.uint8
    np.testing.assert_array_equal(raw.X_test, fake_mirror["t10k-images-idx3-ubyte.gz"])
    doubles = load_mnist(tmp_path, dtype=np.float64, quiet=True)
    assert doubles.X_train.dtype == np.float64
    assert 0.0 <= doubles.X_train.min() and doubles.X_train.max() <= 1.0
    np.testing.assert_allclose(doubles.X_train * 255, raw.X_train.reshape(6, -1))


def test_a_partial_file_on_disk_is_detected_and_fetched_again(tmp_path, fake_mirror, offline, capsys):
    raw = mnist_raw_folder(tmp_path)
    raw.mkdir(parents=True)
    for name in ALL_FILES:
        (raw / name).write_bytes((offline / name).read_bytes())
    (raw / "train-images-idx3-ubyte.gz").write_bytes((offline / "train-images-idx3-ubyte.gz").read_bytes()[:100])
    data = load_mnist(tmp_path, flatten=False, normalize=False, quiet=True)
    assert "downloading it again" in capsys.readouterr().out
    np.testing.assert_array_equal(data.X_train, fake_mirror["train-images-idx3-ubyte.gz"])
    assert md5sum(raw / "train-images-idx3-ubyte.gz") == download.MNIST_MD5["train-images-idx3-ubyte.gz"]


def test_without_files_network_or_sample_the_error_explains_three_fixes(tmp_path, offline):
    with pytest.raises(DataError) as caught:
        load_mnist(tmp_path / "data", quiet=True)
    message = str(caught.value)
    raw = str(tmp_path / "data" / "MNIST" / "raw")
    assert f"missing or damaged in {raw}" in message
    for name in ALL_FILES:
        assert f"{name}: missing" in message
    assert "The download failed" in message
    assert "Connect to the internet" in message
    assert "by hand" in message and f"into {raw}/" in message
    assert "NNCOURSE_MNIST_SAMPLE" in message and "8,000 train / 2,000 test" in message


def test_download_false_never_downloads_and_names_damaged_files(tmp_path, fake_mirror):
    raw = mnist_raw_folder(tmp_path)
    raw.mkdir(parents=True)
    (raw / "t10k-labels-idx1-ubyte.gz").write_bytes(b"half a file")
    with pytest.raises(DataError) as caught:
        load_mnist(tmp_path, download=False)
    message = str(caught.value)
    assert "train-images-idx3-ubyte.gz: missing" in message
    assert "t10k-labels-idx1-ubyte.gz: corrupt or incomplete" in message and "md5" in message
    assert "The download failed" not in message
    assert "removed" in message
    assert sorted(p.name for p in raw.iterdir()) == []  # nothing damaged stays in the cache


def _install_files(raw, arrays, monkeypatch):
    """Write the given arrays as the four files and accept them as genuine (md5 table replaced)."""
    raw.mkdir(parents=True, exist_ok=True)
    md5 = {name: md5sum(write_idx(raw / name, array)) for name, array in arrays.items()}
    monkeypatch.setattr(download, "MNIST_MD5", md5)


def test_image_and_label_counts_must_agree(tmp_path, fake_mirror, monkeypatch):
    arrays = dict(fake_mirror)
    arrays["t10k-labels-idx1-ubyte.gz"] = np.zeros(3, dtype=np.uint8)  # 4 images, 3 labels
    _install_files(mnist_raw_folder(tmp_path), arrays, monkeypatch)
    with pytest.raises(DataError, match="count mismatch.*4 images.*3 labels"):
        load_mnist(tmp_path, download=False)


def test_a_file_with_the_wrong_magic_number_is_rejected(tmp_path, fake_mirror, monkeypatch):
    raw = mnist_raw_folder(tmp_path)
    _install_files(raw, fake_mirror, monkeypatch)
    bad = raw / "train-labels-idx1-ubyte.gz"
    bad.write_bytes(b"\x00\x01\x08\x01" + bytes(10))
    monkeypatch.setitem(download.MNIST_MD5, bad.name, md5sum(bad))
    with pytest.raises(DataError, match="wrong magic number"):
        load_mnist(tmp_path, download=False)


def test_a_truncated_file_with_a_matching_checksum_is_still_rejected(tmp_path, fake_mirror, monkeypatch):
    arrays = dict(fake_mirror)
    raw = mnist_raw_folder(tmp_path)
    _install_files(raw, arrays, monkeypatch)
    images = raw / "t10k-images-idx3-ubyte.gz"
    write_idx(images, arrays[images.name])
    import gzip
    images.write_bytes(gzip.compress(gzip.decompress(images.read_bytes())[:-50]))
    monkeypatch.setitem(download.MNIST_MD5, images.name, md5sum(images))
    with pytest.raises(DataError, match="truncated data"):
        load_mnist(tmp_path, download=False)


def test_labels_must_be_digits(tmp_path, fake_mirror, monkeypatch):
    arrays = dict(fake_mirror)
    arrays["train-labels-idx1-ubyte.gz"] = np.array([0, 1, 2, 3, 4, 12], dtype=np.uint8)
    _install_files(mnist_raw_folder(tmp_path), arrays, monkeypatch)
    with pytest.raises(DataError, match="0..9"):
        load_mnist(tmp_path, download=False)


def test_torch_loader_reads_the_same_files_after_decompressing_them(tmp_path, fake_mirror):
    pytest.importorskip("torchvision")
    numpy_data = load_mnist(tmp_path, flatten=False, normalize=False, quiet=True)
    raw = mnist_raw_folder(tmp_path)
    (raw / "t10k-images-idx3-ubyte").write_bytes(b"stale")  # a damaged decompressed copy is rewritten
    for train, X, y in ((True, numpy_data.X_train, numpy_data.y_train), (False, numpy_data.X_test, numpy_data.y_test)):
        dataset = torch_mnist(tmp_path, train=train, quiet=True)
        np.testing.assert_array_equal(dataset.data.numpy(), X)
        np.testing.assert_array_equal(dataset.targets.numpy(), y)
    assert (raw / "train-images-idx3-ubyte").is_file()


def test_the_data_root_comes_from_the_environment_or_the_checkout(monkeypatch, tmp_path):
    monkeypatch.setenv("NNCOURSE_DATA", str(tmp_path / "elsewhere"))
    assert default_data_root() == tmp_path / "elsewhere"
    assert mnist_raw_folder() == tmp_path / "elsewhere" / "MNIST" / "raw"
    monkeypatch.delenv("NNCOURSE_DATA")
    checkout = Path(nncourse.__file__).resolve().parents[2]
    if (checkout / "pyproject.toml").is_file():
        assert default_data_root() == checkout / "data"
    else:
        assert default_data_root() == Path.cwd() / "data"


# --------------------------------------------------------------------------------------------------
# The offline sample
# --------------------------------------------------------------------------------------------------


def test_a_sample_folder_without_the_right_files_is_rejected(tmp_path, monkeypatch):
    write_fake_mnist(tmp_path / "fake-sample")  # right names, wrong checksums
    monkeypatch.setenv("NNCOURSE_MNIST_SAMPLE", str(tmp_path / "fake-sample"))
    with pytest.raises(DataError, match="NNCOURSE_MNIST_SAMPLE.*\n.*corrupt or incomplete"):
        load_mnist(tmp_path / "data")
    monkeypatch.setenv("NNCOURSE_MNIST_SAMPLE", str(tmp_path / "nowhere"))
    with pytest.raises(DataError, match="t10k-images-idx3-ubyte.gz: missing"):
        load_mnist(tmp_path / "data")


@needs_sample
def test_the_sample_gives_8000_train_and_2000_test_digits_and_says_so(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("NNCOURSE_MNIST_SAMPLE", SAMPLE)
    start = time.perf_counter()
    data = load_mnist(tmp_path / "data")
    elapsed = time.perf_counter() - start
    out = capsys.readouterr().out
    line = "MNIST: offline sample: 8,000 train / 2,000 test (the genuine MNIST test set, from $NNCOURSE_MNIST_SAMPLE)"
    assert line in out.splitlines()
    assert "offline sample" in out and "8,000 train / 2,000 test" in out
    assert data.source == "sample"
    assert data.X_train.shape == (8000, 784) and data.X_test.shape == (2000, 784)
    assert data.y_train.shape == (8000,) and data.y_test.shape == (2000,)
    assert data.X_train.dtype == np.float32 and data.X_train.min() == 0.0 and data.X_train.max() == 1.0
    assert set(np.unique(data.y_train)) == set(range(10))
    assert elapsed < 1.0, f"loading the sample took {elapsed:.2f} s"
    assert not (tmp_path / "data").exists()  # the NumPy loader writes nothing


@needs_sample
def test_the_sample_split_is_the_first_8000_then_the_last_2000(tmp_path, monkeypatch):
    monkeypatch.setenv("NNCOURSE_MNIST_SAMPLE", SAMPLE)
    images = read_idx(Path(SAMPLE) / "t10k-images-idx3-ubyte.gz")
    labels = read_idx(Path(SAMPLE) / "t10k-labels-idx1-ubyte.gz")
    data = load_mnist(tmp_path, flatten=False, normalize=False)
    np.testing.assert_array_equal(data.X_train, images[:8000])
    np.testing.assert_array_equal(data.X_test, images[8000:])
    np.testing.assert_array_equal(np.concatenate([data.y_train, data.y_test]), labels)


@needs_sample
def test_numpy_and_torchvision_loaders_agree_pixel_for_pixel_on_the_sample(tmp_path, monkeypatch, capsys):
    pytest.importorskip("torchvision")
    monkeypatch.setenv("NNCOURSE_MNIST_SAMPLE", SAMPLE)
    before = sorted(os.listdir(SAMPLE))
    numpy_data = load_mnist(tmp_path, flatten=False, normalize=False)
    train = torch_mnist(tmp_path, train=True)
    test = torch_mnist(tmp_path, train=False)
    assert len(train) == 8000 and len(test) == 2000
    np.testing.assert_array_equal(train.data.numpy(), numpy_data.X_train)
    np.testing.assert_array_equal(train.targets.numpy(), numpy_data.y_train)
    np.testing.assert_array_equal(test.data.numpy(), numpy_data.X_test)
    np.testing.assert_array_equal(test.targets.numpy(), numpy_data.y_test)
    image, label = train[3]  # items work as torchvision's usually do (PIL image, int label)
    np.testing.assert_array_equal(np.asarray(image), numpy_data.X_train[3])
    assert label == numpy_data.y_train[3]
    assert capsys.readouterr().out.count("offline sample") == 3
    assert sorted(os.listdir(SAMPLE)) == before  # nothing written into the sample folder
    assert (tmp_path / "mnist_offline_sample" / "MNIST" / "raw" / "train-images-idx3-ubyte").is_file()


@needs_sample
def test_the_sample_overrides_the_full_files_and_sample_false_ignores_it(tmp_path, fake_mirror, monkeypatch):
    monkeypatch.setenv("NNCOURSE_MNIST_SAMPLE", SAMPLE)
    assert load_mnist(tmp_path, quiet=True).source == "sample"
    assert load_mnist(tmp_path, sample=False, quiet=True).source == "full"
