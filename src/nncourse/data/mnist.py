"""MNIST for both back ends, from one cache of the four original files.

Where the files live (torchvision's layout, so ``torchvision.datasets.MNIST`` finds them too)::

    <data root>/MNIST/raw/train-images-idx3-ubyte.gz   60,000 training images, 28 x 28 bytes each
    <data root>/MNIST/raw/train-labels-idx1-ubyte.gz   their labels 0..9
    <data root>/MNIST/raw/t10k-images-idx3-ubyte.gz    10,000 test images
    <data root>/MNIST/raw/t10k-labels-idx1-ubyte.gz    their labels

The data root is the ``root`` argument, else the environment variable ``NNCOURSE_DATA``, else the
``data/`` folder of the repository (when the package runs from a checkout), else ``./data``.
Missing or damaged files are downloaded (``download=True``) and checked against torchvision's md5
checksums.

**Offline sample.** When ``NNCOURSE_MNIST_SAMPLE`` names a folder holding the two test-set files,
both loaders use those 10,000 genuine digits instead: the first 8,000 for training, the last 2,000
for testing, and say so in one printed line.
"""

import gzip
import os
import shutil
import tempfile
import zlib
from collections import namedtuple
from pathlib import Path

import numpy as np

from ..errors import ConfigError, DataError, DTypeError
from ..validation import boolean, float_dtype
from ..utils import publish, unwritable_folder_message
from . import download as _download
from .idx import idx_bytes, read_idx, write_idx

__all__ = ["MNIST", "load_mnist", "torch_mnist", "default_data_root", "mnist_raw_folder", "sample_folder"]

DATA_ENV = "NNCOURSE_DATA"
SAMPLE_ENV = "NNCOURSE_MNIST_SAMPLE"

TRAIN_FILES = ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz")
TEST_FILES = ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz")
ALL_FILES = TRAIN_FILES + TEST_FILES

SAMPLE_TRAIN_SIZE = 8_000  # offline sample: the first 8,000 test digits train, the last 2,000 test
SAMPLE_CACHE_NAME = "mnist_offline_sample"  # torchvision's view of the sample, inside the data root
# The sample must be the genuine test set: torchvision's checksums of the two files, fixed at import.
SAMPLE_MD5 = {name: _download.MNIST_MD5[name] for name in TEST_FILES}

MNIST = namedtuple("MNIST", ["X_train", "y_train", "X_test", "y_test", "source"])
MNIST.__doc__ = """MNIST as NumPy arrays.

``X_train``/``X_test``: images, ``(n, 784)`` when flattened, else ``(n, 28, 28)``; float in [0, 1] when
normalised, else uint8 0..255. ``y_train``/``y_test``: int64 labels 0..9. ``source``: ``"full"``
(the 60,000 / 10,000 original split) or ``"sample"`` (the offline sample, 8,000 / 2,000).
"""


# --------------------------------------------------------------------------------------------------
# Where the files are
# --------------------------------------------------------------------------------------------------


def _checkout_root():
    """The repository folder when the package runs from a checkout (``src/nncourse/...``), else None."""
    candidate = Path(__file__).resolve().parents[3]
    if (candidate / "pyproject.toml").is_file() and (candidate / "src" / "nncourse").is_dir():
        return candidate
    return None


def default_data_root():
    """``$NNCOURSE_DATA`` if set, else ``<repository>/data`` from a checkout, else ``./data``."""
    from_env = os.environ.get(DATA_ENV)
    if from_env:
        return Path(from_env).expanduser()
    checkout = _checkout_root()
    return (checkout if checkout is not None else Path.cwd()) / "data"


def _data_root(root):
    return Path(root).expanduser() if root is not None else default_data_root()


def mnist_raw_folder(root=None):
    """The folder that holds (or will hold) the four gzipped files: ``<data root>/MNIST/raw``."""
    return _data_root(root) / "MNIST" / "raw"


def sample_folder(sample=None):
    """The offline-sample folder to use, or ``None``.

    ``sample=None`` reads ``$NNCOURSE_MNIST_SAMPLE`` (unset or empty: no sample); ``sample=False``
    ignores it; a path uses that folder.
    """
    if sample is False:
        return None
    if sample is None:
        sample = os.environ.get(SAMPLE_ENV) or None
    elif isinstance(sample, (bool, np.bool_)) or not isinstance(sample, (str, os.PathLike)) or sample == "":
        raise ConfigError(f"sample must be the offline sample's folder (a str or a Path), None (read "
                          f"${SAMPLE_ENV}) or False (no sample), got {type(sample).__name__} {sample!r:.40}")
    return Path(sample).expanduser() if sample is not None else None


# --------------------------------------------------------------------------------------------------
# Reading and checking
# --------------------------------------------------------------------------------------------------


def _read_images_and_labels(images_path, labels_path):
    """Read one images file and its labels file; check that they belong together."""
    images = read_idx(images_path)
    labels = read_idx(labels_path)
    if images.ndim != 3 or images.dtype != np.uint8:
        raise DataError(f"{images_path}: expected uint8 images of shape (n, rows, cols), "
                        f"got {images.dtype} of shape {images.shape}")
    if labels.ndim != 1 or labels.dtype != np.uint8:
        raise DataError(f"{labels_path}: expected uint8 labels of shape (n,), got {labels.dtype} of shape "
                        f"{labels.shape}")
    if len(images) != len(labels):
        raise DataError(f"image/label count mismatch: {images_path} holds {len(images):,} images but "
                        f"{labels_path} holds {len(labels):,} labels; one of the files is wrong")
    if labels.size and labels.max() > 9:
        raise DataError(f"{labels_path}: labels must be digits 0..9, found {int(labels.max())}")
    return images, labels.astype(np.int64)


def _check_sample(folder):
    """Verify the sample folder's two files (present, md5 right); return their paths."""
    paths = [folder / name for name in TEST_FILES]
    problems = [f"  {path.name}: {problem}" for path in paths
                if (problem := _download.file_problem(path, SAMPLE_MD5[path.name])) is not None]
    if problems:
        raise DataError(
            f"the offline sample folder {folder} (from sample=... or ${SAMPLE_ENV}) does not hold a usable MNIST "
            f"test set:\n"
            + "\n".join(problems)
            + f"\nIt must contain {TEST_FILES[0]} and {TEST_FILES[1]} (the original gzipped files). "
            f"Fix the folder, or pass sample=False (or unset {SAMPLE_ENV}) to use the full data set in "
            f"{mnist_raw_folder()}."
        )
    return paths


def _announce_sample(folder, n_train, n_test):
    # No path in the message: the same line on every machine (notebook outputs stay comparable).
    print(f"MNIST: offline sample: {n_train:,} train / {n_test:,} test "
          f"(the genuine MNIST test set, from ${SAMPLE_ENV})")


def _load_sample(folder):
    images, labels = _read_images_and_labels(*_check_sample(folder))
    split = SAMPLE_TRAIN_SIZE
    _announce_sample(folder, split, len(images) - split)
    return images[:split], labels[:split], images[split:], labels[split:]


def _writable_fix():
    return f"set {DATA_ENV} to a writable folder, or pass root=... to the loader"


def _remove_damaged(raw_folder, problems):
    """Delete the files whose checksum is wrong, so that nothing damaged stays in the cache.

    Returns the problems with ", removed" added to each deleted file's entry.
    """
    updated = {}
    for name, problem in problems.items():
        if problem != "missing":
            try:
                (raw_folder / name).unlink()
            except OSError as error:
                raise DataError(
                    f"{raw_folder / name} is {problem}, and it cannot be removed: "
                    + unwritable_folder_message(raw_folder, error, what="MNIST files", fix=_writable_fix())
                ) from None
            problem = f"{problem}; removed"
        updated[name] = problem
    return updated


def _missing_data_error(raw_folder, problems, download_error=None):
    listing = "\n".join(f"  {name}: {problem}" for name, problem in problems.items())
    tried = f"\nThe download failed:\n{download_error}\n" if download_error else "\n"
    return DataError(
        f"MNIST files are missing or damaged in {raw_folder}:\n{listing}\n{tried}"
        "Three ways to fix this:\n"
        "  1. Connect to the internet and call load_mnist() again (download=True, the default): the four files "
        "(about 11 MB) are downloaded once and shared by the NumPy and the PyTorch loader.\n"
        f"  2. Download the four files by hand from {_download.MNIST_MIRRORS[0]} "
        f"({', '.join(ALL_FILES)}) and put them, still gzipped, into {raw_folder}/ "
        f"(or set {DATA_ENV} to the folder that holds MNIST/raw/).\n"
        f"  3. Work offline on the 10,000 test digits: set the environment variable {SAMPLE_ENV} to a folder "
        f"holding {TEST_FILES[0]} and {TEST_FILES[1]} (8,000 train / 2,000 test)."
    )


def _ensure_full_files(raw_folder, *, download, quiet):
    """Make sure all four files are in ``raw_folder`` with the right md5; download what is missing or damaged."""
    problems = {name: problem for name in ALL_FILES
                if (problem := _download.file_problem(raw_folder / name, _download.MNIST_MD5[name])) is not None}
    if problems and download:
        # A read-only cache is not an internet problem: say so before trying any mirror.
        _download.check_writable(raw_folder, fix=_writable_fix())
    for name, problem in problems.items():
        if problem != "missing":  # worth a line even when quiet: a file on disk is being replaced
            print(f"MNIST: {name} is {problem}; " + ("downloading it again" if download else "removing it"))
    problems = _remove_damaged(raw_folder, problems)
    if problems and not download:
        raise _missing_data_error(raw_folder, problems)
    for name in list(problems):
        try:
            _download.download_file(name, raw_folder, _download.MNIST_MD5[name],
                                    mirrors=_download.MNIST_MIRRORS, quiet=quiet)
        except _download.UnwritableFolderError:
            raise
        except DataError as error:  # probably offline: do not try the remaining files one by one
            raise _missing_data_error(raw_folder, problems, download_error=error) from None
        del problems[name]
    return {name: raw_folder / name for name in ALL_FILES}


# --------------------------------------------------------------------------------------------------
# The NumPy loader
# --------------------------------------------------------------------------------------------------


def load_mnist(root=None, *, download=True, flatten=True, normalize=True, dtype=np.float32, sample=None,
               quiet=False):
    """Load MNIST as NumPy arrays: returns ``MNIST(X_train, y_train, X_test, y_test, source)``.

    ``flatten=True`` gives images as rows of 784 pixels, ``normalize=True`` scales the pixels to [0, 1]
    as ``dtype`` (float32 by default); otherwise they stay uint8 0..255. The labels are int64.

    Uses the offline sample when ``$NNCOURSE_MNIST_SAMPLE`` is set (see ``sample_folder``), else the
    four files under ``root`` (downloading them if needed and allowed). ``quiet`` hides the
    download progress bars. Problems raise ``DataError`` with a message that says how to fix them.
    """
    download, flatten, normalize, quiet = (boolean(value, name, "load_mnist") for name, value in (
        ("download", download), ("flatten", flatten), ("normalize", normalize), ("quiet", quiet)))
    if normalize and np.dtype(dtype).kind != "f":
        raise DTypeError(f"load_mnist: normalize=True scales the pixels to [0, 1], which needs a float dtype such as "
                         f"np.float32, got {np.dtype(dtype)}; for the raw bytes 0..255 pass normalize=False")
    if normalize:
        dtype = float_dtype(dtype, "load_mnist")
    folder = sample_folder(sample)
    if folder is not None:
        X_train, y_train, X_test, y_test = _load_sample(folder)
        source = "sample"
    else:
        raw_folder = mnist_raw_folder(root)
        paths = _ensure_full_files(raw_folder, download=download, quiet=quiet)
        X_train, y_train = _read_images_and_labels(paths[TRAIN_FILES[0]], paths[TRAIN_FILES[1]])
        X_test, y_test = _read_images_and_labels(paths[TEST_FILES[0]], paths[TEST_FILES[1]])
        print(f"MNIST: {len(X_train):,} train / {len(X_test):,} test from {raw_folder}")
        source = "full"
    X_train, X_test = (_prepare_images(X, flatten=flatten, normalize=normalize, dtype=dtype)
                       for X in (X_train, X_test))
    return MNIST(X_train, y_train, X_test, y_test, source)


def _prepare_images(images, *, flatten, normalize, dtype):
    if flatten:
        images = images.reshape(len(images), -1)
    if normalize:
        scaled = images.astype(dtype)  # a single new array, divided in place: no float64 copy
        scaled /= 255
        return scaled
    return images


# --------------------------------------------------------------------------------------------------
# The PyTorch loader: torchvision.datasets.MNIST over the same files
# --------------------------------------------------------------------------------------------------


def torch_mnist(root=None, train=True, *, download=True, transform=None, target_transform=None, sample=None,
                quiet=False):
    """``torchvision.datasets.MNIST`` over the same files as ``load_mnist`` (no second download).

    torchvision reads the *decompressed* files and insists on finding all four, so this function
    first makes sure the gzipped files are there (downloading as ``load_mnist`` does) and decompresses
    them next to themselves. With the offline sample it writes the 8,000 / 2,000 split as four IDX
    files into ``<data root>/mnist_offline_sample/MNIST/raw/`` (never into the sample folder) and
    points torchvision there, so both back ends see the same digits.

    ``transform`` / ``target_transform`` are passed on; without a transform, items are PIL images
    (use ``torchvision.transforms.ToTensor()`` for tensors in [0, 1]). ``dataset.data`` holds all
    images as a uint8 tensor ``(n, 28, 28)`` and ``dataset.targets`` the labels.
    """
    train, download, quiet = (boolean(value, name, "torch_mnist") for name, value in (
        ("train", train), ("download", download), ("quiet", quiet)))
    try:
        from torchvision.datasets import MNIST as TorchvisionMNIST
    except ImportError as error:
        raise ImportError("torch_mnist needs torchvision: pip install 'nncourse[torch]'") from error

    folder = sample_folder(sample)
    if folder is not None:
        torchvision_root = _sample_cache_for_torchvision(folder, _data_root(root))
    else:
        raw_folder = mnist_raw_folder(root)
        paths = _ensure_full_files(raw_folder, download=download, quiet=quiet)
        for gz_path in paths.values():
            _decompress_next_to(gz_path)
        torchvision_root = _data_root(root)
    return TorchvisionMNIST(str(torchvision_root), train=train, transform=transform,
                            target_transform=target_transform, download=False)


def _gzip_uncompressed_size(gz_path):
    """The size the gzip trailer records for the uncompressed data (its last 4 bytes, little-endian)."""
    with open(gz_path, "rb") as file:
        file.seek(-4, os.SEEK_END)
        return int.from_bytes(file.read(4), "little")


def _same_as_decompressed(gz_path, plain):
    """True when ``plain`` holds exactly the decompressed bytes of ``gz_path`` (compared in chunks).

    The ``.gz`` file has just been verified against its md5 checksum, so this checks the copy that
    torchvision reads just as strictly: a copy of the right size with damaged bytes is caught too.
    """
    if not plain.is_file() or plain.stat().st_size != _gzip_uncompressed_size(gz_path):
        return False
    chunk = 1 << 20
    with gzip.open(gz_path, "rb") as source, open(plain, "rb") as copy:
        while True:
            expected = source.read(chunk)
            if copy.read(len(expected) or 1) != expected:
                return False
            if not expected:
                return True


def _decompress_next_to(gz_path):
    """Write ``name`` next to ``name.gz`` unless an identical copy is already there (atomically)."""
    plain = gz_path.with_suffix("")
    try:
        if _same_as_decompressed(gz_path, plain):
            return plain
    except (OSError, EOFError, zlib.error) as error:
        raise DataError(f"{gz_path}: the gzip stream is damaged ({error}); delete the file and load again") from None
    if plain.exists():
        print(f"MNIST: {plain.name} does not match {gz_path.name}; writing it again")
    try:
        handle, temporary = tempfile.mkstemp(dir=plain.parent, prefix=f".{plain.name}.", suffix=".part")
    except OSError as error:
        raise DataError(unwritable_folder_message(plain.parent, error, what="torchvision's copies of the MNIST files",
                                                  fix=_writable_fix())) from None
    try:
        with os.fdopen(handle, "wb") as out, gzip.open(gz_path, "rb") as source:
            shutil.copyfileobj(source, out, 1 << 20)
        publish(temporary, plain)
    except (EOFError, zlib.error) as error:
        Path(temporary).unlink(missing_ok=True)
        raise DataError(f"{gz_path}: the gzip stream is damaged ({error}); delete the file and load again") from None
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return plain


def _sample_cache_for_torchvision(folder, data_root):
    """Write the sample's train/test split in torchvision's layout; return the root to give torchvision."""
    images, labels = _read_images_and_labels(*_check_sample(folder))
    split = SAMPLE_TRAIN_SIZE
    parts = {
        "train-images-idx3-ubyte": images[:split],
        "train-labels-idx1-ubyte": labels[:split].astype(np.uint8),
        "t10k-images-idx3-ubyte": images[split:],
        "t10k-labels-idx1-ubyte": labels[split:].astype(np.uint8),
    }
    # The marker names the exact source files and split; a cache with another marker is rewritten.
    marker_text = (f"first {split} / last {len(images) - split} of "
                   + ", ".join(f"{name} md5 {SAMPLE_MD5[name]}" for name in TEST_FILES) + "\n")
    for cache_root in (data_root / SAMPLE_CACHE_NAME, Path(tempfile.gettempdir()) / "nncourse" / SAMPLE_CACHE_NAME):
        raw = cache_root / "MNIST" / "raw"
        try:
            _write_sample_cache(raw, parts, marker_text)
            break
        except (OSError, DataError):  # the data root is not writable: use the temporary folder instead
            continue
    else:
        raise DataError(f"cannot write torchvision's copy of the MNIST sample to {data_root / SAMPLE_CACHE_NAME} "
                        f"or to {tempfile.gettempdir()}: {_writable_fix()}")
    _announce_sample(folder, split, len(images) - split)
    return cache_root


def _write_sample_cache(raw, parts, marker_text):
    marker = raw / "SPLIT.txt"
    # Compare the bytes, not only the sizes: a damaged copy would make torch train on other labels.
    up_to_date = marker.is_file() and marker.read_text() == marker_text and all(
        (raw / name).is_file() and (raw / name).read_bytes() == idx_bytes(array)
        for name, array in parts.items())
    if up_to_date:
        return
    raw.mkdir(parents=True, exist_ok=True)
    for name, array in parts.items():
        write_idx(raw / name, array, compress=False)
    marker.write_text(marker_text)
