"""Data for the course: toy data sets made in code, and MNIST for both back ends.

Toy data (``toy.py``): ``truth_table``, ``blobs``, ``xor_blobs``, ``two_moons``, ``circles``,
``spirals``, ``regression_curve``, plus ``train_test_split`` and ``to_torch``.

MNIST (``mnist.py``, ``idx.py``, ``download.py``): ``load_mnist`` for NumPy arrays, ``torch_mnist`` for
``torchvision.datasets.MNIST`` over the same cached files, ``read_idx`` / ``write_idx`` for the file
format, ``download_file`` for checked, atomic downloads.

Generalization (``splits.py``, ``augmented.py``, ``torch_augment.py``): ``validation_split`` and
``balanced_subset``; ``augmented_copies`` / ``augmented_epochs`` (shifted digits for ``fit``), and
``torchvision_augmentation``, the ``transforms.v2`` twin of ``augment``.

Sequences (``sequences.py``): ``reversal_task`` and ``digit_sequences``, synthetic tasks for attention.
"""

from .toy import (
    TRUTH_TABLES,
    blobs,
    circles,
    curve,
    regression_curve,
    spirals,
    to_torch,
    train_test_split,
    truth_table,
    two_moons,
    xor_blobs,
)
from .idx import IDX_TYPES, parse_idx, read_idx, write_idx
from .download import MNIST_MD5, MNIST_MIRRORS, download_file, md5sum
from .sequences import SequenceTask, digit_sequences, reversal_task
from .mnist import MNIST, default_data_root, load_mnist, mnist_raw_folder, sample_folder, torch_mnist

from .splits import Split, balanced_subset, validation_split
from .augmented import augment_batch, augmented_copies, augmented_epochs
from .torch_augment import torchvision_augmentation

from .names import (
    END,
    NAME_FILES,
    PAD_TARGET,
    VOCAB,
    NameSplits,
    Vocabulary,
    context_windows,
    count_predictions,
    load_names,
    padded_batch,
    read_census_names,
)

__all__ = [
    "TRUTH_TABLES", "truth_table", "blobs", "xor_blobs", "two_moons", "circles", "spirals", "regression_curve",
    "curve", "train_test_split", "to_torch",
    "IDX_TYPES", "parse_idx", "read_idx", "write_idx",
    "MNIST_MD5", "MNIST_MIRRORS", "download_file", "md5sum",
    "SequenceTask", "digit_sequences", "reversal_task",
    "MNIST", "load_mnist", "torch_mnist", "default_data_root", "mnist_raw_folder", "sample_folder",
    "END", "PAD_TARGET", "NAME_FILES", "VOCAB", "Vocabulary", "NameSplits", "read_census_names", "load_names",
    "context_windows", "padded_batch", "count_predictions",
    "Split", "validation_split", "balanced_subset", "augment_batch", "augmented_copies", "augmented_epochs",
    "torchvision_augmentation",
]
