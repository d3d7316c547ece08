"""Small fake MNIST files for the data tests (tests/test_mnist_loading.py, tests/test_bad_inputs.py)."""

import numpy as np

from nncourse.data import write_idx
from nncourse.data.download import md5sum


def write_fake_mnist(folder, n_train=6, n_test=4, seed=0):
    """Four small gzipped IDX files in MNIST's layout; returns the arrays and the md5 table for them."""
    rng = np.random.default_rng(seed)
    arrays = {
        "train-images-idx3-ubyte.gz": rng.integers(0, 256, (n_train, 28, 28), dtype=np.uint8),
        "train-labels-idx1-ubyte.gz": rng.integers(0, 10, n_train, dtype=np.uint8),
        "t10k-images-idx3-ubyte.gz": rng.integers(0, 256, (n_test, 28, 28), dtype=np.uint8),
        "t10k-labels-idx1-ubyte.gz": rng.integers(0, 10, n_test, dtype=np.uint8),
    }
    folder.mkdir(parents=True, exist_ok=True)
    md5 = {name: md5sum(write_idx(folder / name, array)) for name, array in arrays.items()}
    return arrays, md5
