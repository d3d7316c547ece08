"""Contract-sweep fixes for autograd, tokenizers and data (issue 27, section 4): every refusal names the
argument and says what to pass instead; legitimate values keep working."""

import numpy as np
import pytest

from nncourse.errors import ConfigError, DataError, DTypeError, NonFiniteError, ShapeError, TargetError


# ------------------------------------------------------------------ autograd
@pytest.fixture
def t():
    from nncourse.autograd import Tensor
    return Tensor(np.arange(6.0).reshape(2, 3), requires_grad=True)


@pytest.mark.parametrize("dim", [2.5, "1", True, float("nan")])
def test_softmax_dim_that_is_not_a_whole_number_is_named(t, dim):
    from nncourse.autograd import log_softmax, softmax
    for op in (softmax, log_softmax):
        with pytest.raises(ShapeError, match=r"softmax: dim must be a whole number.*write dim=-1"):
            op(t, dim=dim)


def test_axis_zero_and_numpy_integers_still_work(t):
    from nncourse.autograd import softmax
    np.testing.assert_allclose(softmax(t, dim=np.int64(0)).data.sum(axis=0), np.ones(3))
    assert t.sum(axis=0).shape == (3,)


def test_cat_names_tensors_and_dim(t):
    from nncourse.autograd import cat
    for bad in ([], None, t):
        with pytest.raises(DTypeError, match=r"cat: tensors must be a non-empty list of Tensors.*cat\(\[a, b\]"):
            cat(bad)
    with pytest.raises(ShapeError, match="cat: dim must be a whole number"):
        cat([t, t], dim="0")


def test_gather_names_dim_and_index(t):
    with pytest.raises(ShapeError, match="gather: dim must be a whole number"):
        t.gather(1.0, np.zeros((2, 1), np.int64))
    with pytest.raises(ShapeError, match="gather: index must be a rectangular array.*pad short ones"):
        t.gather(1, [[1.0, 2.0], [3.0]])
    with pytest.raises(ShapeError, match=r"gather: index of shape \(0, 1\) does not fit.*every axis but dim=1"):
        t.gather(1, np.zeros((0, 1), np.int64))
    with pytest.raises(Exception, match=r"out of range along dim=0.*check dim and the index"):
        t.gather(0, np.array([[0], [2]]))


@pytest.mark.parametrize("value", [float("nan"), float("inf"), "0.1", None])
def test_masked_fill_refuses_a_value_that_is_not_a_number_or_minus_infinity(t, value):
    with pytest.raises(DTypeError, match=r"masked_fill: value must be a number or -inf.*value=-1e9"):
        t.masked_fill(np.eye(2, 3, dtype=bool), value)


def test_masked_fill_keeps_minus_infinity_for_attention_masks(t):
    out = t.masked_fill(np.eye(2, 3, dtype=bool), float("-inf"))
    assert out.data[0, 0] == -np.inf and out.data[0, 1] == 1.0


def test_cross_entropy_names_ignore_index_and_a_ragged_target():
    from nncourse.autograd import Tensor, cross_entropy
    logits = Tensor(np.zeros((2, 3)), requires_grad=True)
    for bad in (2.5, "3", True, float("nan")):
        with pytest.raises(TargetError, match="cross_entropy: ignore_index must be a whole number.*-100"):
            cross_entropy(logits, np.array([0, 1]), ignore_index=bad)
    with pytest.raises(ShapeError, match="cross_entropy: target must be a rectangular array"):
        cross_entropy(logits, [[0, 1], [2]])
    assert cross_entropy(logits, np.array([0, 1]), ignore_index=np.int64(-100)).item() == pytest.approx(np.log(3))


def test_value_names_data_and_label_and_still_refuses_nan():
    from nncourse.autograd import Value
    for bad in (float("nan"), float("inf")):
        with pytest.raises(NonFiniteError, match=r"Value: data must be one finite number.*NaN and infinity"):
            Value(bad)
    with pytest.raises(DTypeError, match=r"Value: data must be one number.*without quotes"):
        Value("0.1")
    for bad in (b"w", None):
        with pytest.raises(DTypeError, match=r"Value: label must be a str.*label='...'"):
            Value(1.0, label=bad)
    assert Value(-1.0, label="w").data == -1.0


def test_tensor_constructors_name_data_and_from_op_names_op():
    from nncourse.autograd import Tensor, tensor
    for make in (Tensor, tensor):
        with pytest.raises(ShapeError, match="data must be a rectangular array.*pad short ones"):
            make([[1.0, 2.0], [3.0]])
    a = Tensor(np.ones(3), requires_grad=True)
    for bad in (b"id", None):
        with pytest.raises(DTypeError, match=r"Tensor.from_op: op must be a str.*'exp'"):
            Tensor.from_op(np.ones(3), (a,), lambda g: (g,), op=bad)


def test_unbroadcast_checks_grad_and_shape_but_the_ops_do_not_pay_for_it():
    from nncourse.autograd import Tensor, unbroadcast
    g = np.ones((2, 3))
    np.testing.assert_array_equal(unbroadcast(g, (1, 3)), [[2.0, 2.0, 2.0]])
    assert unbroadcast(g, ()) == 6.0                     # a scalar's gradient: the sum of everything
    with pytest.raises(DTypeError, match=r"unbroadcast: grad must hold floating-point.*astype\(np.float64\)"):
        unbroadcast(np.ones((2, 3), np.int64), (1, 3))
    for bad in ([float("nan"), 3], [2.5, 3], [[1.0, 2.0], [3.0]], "13"):
        with pytest.raises(ShapeError, match=r"unbroadcast: shape must be a tuple of whole numbers.*x.shape"):
            unbroadcast(g, bad)
    with pytest.raises(ShapeError, match=r"grad of shape \(2, 3\) cannot be summed down to shape \(4,\)"):
        unbroadcast(g, (4,))
    a, b = Tensor(np.ones((2, 3)), requires_grad=True), Tensor(np.ones(3), requires_grad=True)
    (a * b).sum().backward()
    np.testing.assert_array_equal(b.grad, [2.0, 2.0, 2.0])


def test_autograd_linear_names_weight_and_bias_and_takes_numpy_weights():
    from nncourse.autograd.nn import Linear
    with pytest.raises(ConfigError, match=r"Linear: weight must be a 2-D array or Tensor.*rng.normal"):
        Linear(None)
    with pytest.raises(ShapeError, match=r"Linear: weight must be 2-D"):
        Linear(np.ones(3))
    with pytest.raises(ShapeError, match=r"Linear: bias must have shape \(4,\)"):
        Linear(np.ones((4, 3)), np.ones(3))
    assert Linear(np.ones((4, 3)), np.zeros(4)).weight.requires_grad


# ------------------------------------------------------------------ tokenizers
@pytest.fixture(scope="module")
def bpe():
    from nncourse.tokenizers import BPETokenizer
    return BPETokenizer.train(["hello hello world", "low lower lowest"], 260)


@pytest.mark.parametrize("bad", [2.5, "3", True, float("nan")])
def test_token_bytes_and_token_str_name_token_id(bpe, bad):
    for method in (bpe.token_bytes, bpe.token_str):
        with pytest.raises(ConfigError, match=r"token_(bytes|str): token_id: token ids must be integers.*encode"):
            method(bad)


def test_token_id_out_of_range_is_named_and_zero_is_the_byte_zero(bpe):
    with pytest.raises(ConfigError, match=r"token_bytes: token_id: token id -1 is out of range.*0..259"):
        bpe.token_bytes(-1)
    assert bpe.token_bytes(0) == b"\x00" and bpe.token_bytes(np.int64(104)) == b"h"


def test_count_pairs_and_merge_check_ids_pair_new_id_and_weight():
    from nncourse.tokenizers import count_pairs, merge
    for bad in ([float("nan"), 2, 1], [2.5, 2], [[1.0, 2.0], [3.0]]):
        with pytest.raises(ConfigError, match=r"ids must hold whole numbers >= 0.*text.encode"):
            count_pairs(bad)
        with pytest.raises(ConfigError, match=r"merge: ids must hold whole numbers >= 0"):
            merge(bad, (1, 2), 256)
    for bad in (0, -1, 2.5, "3", True):
        with pytest.raises(ConfigError, match=r"count_pairs: weight must be a whole number >= 1"):
            count_pairs([1, 2, 1], weight=bad)
    with pytest.raises(ConfigError, match=r"merge: pair must be two token ids.*\(104, 101\)"):
        merge([1, 2], (1.5, 2), 256)
    for bad in (-1, 2.5, "3", True):
        with pytest.raises(ConfigError, match=r"merge: new_id must be a whole number >= 0"):
            merge([1, 2], (1, 2), bad)
    assert merge([], (1, 2), 256) == [] and count_pairs([]) == {}
    assert merge(np.array([1, 2, 1, 2]), (1, 2), np.int64(256)) == [256, 256]


def test_texts_tokens_and_special_tokens_are_named():
    from nncourse.tokenizers import BPETokenizer, bytes_per_token, pretokenize, train_merges, unicode_to_bytes
    with pytest.raises(ConfigError, match="train_merges: texts is empty.*str or a list of str"):
        train_merges([], 2)
    assert train_merges(["hello"], 0) == []
    with pytest.raises(ConfigError, match=r"training text is empty \(texts holds no characters\)"):
        BPETokenizer.train([], 258)
    with pytest.raises(ConfigError, match=r"pretokenize: text must be a str, got bytes.*decode"):
        pretokenize(b"abc")
    with pytest.raises(ConfigError, match=r"pretokenize: text must be a str, got NoneType.*'Hello world'"):
        pretokenize(None)
    with pytest.raises(ConfigError, match=r"bytes_per_token: text must be a non-empty str.*compression"):
        bytes_per_token(BPETokenizer(), "")
    for bad in ("", None):
        with pytest.raises(ConfigError, match="unicode_to_bytes: token must"):
            unicode_to_bytes(bad)
    with pytest.raises(ConfigError, match=r"special_tokens must hold non-empty strings.*<\|endoftext\|>"):
        BPETokenizer(special_tokens=[1.0])
    with pytest.raises(ConfigError, match=r"BPETokenizer: merges must be a list of pairs.*\(104, 101\)"):
        BPETokenizer("he")
    with pytest.raises(ConfigError, match=r"merge 0 must be a pair.*merges must be a list of such pairs"):
        BPETokenizer([(1,)])


def test_windows_name_ids():
    from nncourse.tokenizers import consecutive_windows, random_windows
    with pytest.raises(ShapeError, match=r"the stream \(ids\) has 0 tokens.*smaller block_size"):
        consecutive_windows(np.arange(0), 8)
    with pytest.raises(ShapeError, match="random_windows: ids must be a rectangular array"):
        random_windows([[1, 2], [3]], 2, 8)


# ------------------------------------------------------------------ data
def test_augmentation_refuses_nan_and_empty_batches_and_keeps_the_blank_shift():
    from nncourse.data.augment import random_rotation, shift_images
    images = np.ones((2, 8, 8), np.float32)
    bad = images.copy()
    bad[0, 0, 0] = np.nan
    with pytest.raises(NonFiniteError, match="random_rotation: the images contains 1 NaN"):
        random_rotation(bad, 5.0, seed=0)
    with pytest.raises(ShapeError, match=r"shift_images: images holds no images.*at least one"):
        shift_images(images[:0], 1, 1)
    assert not shift_images(images, 9, 0).any()        # chapter 11's check: a shift past the frame is blank
    assert shift_images(images[None], 1, 0).shape == (1, 2, 8, 8)    # (N, C, H, W)


def test_augmented_sets_name_x_and_y():
    from nncourse.data import augment_batch, augmented_copies, augmented_epochs
    X = np.random.default_rng(0).random((4, 784)).astype(np.float32)
    with pytest.raises(DTypeError, match=r"augmented_copies: X must hold float images.*X.astype"):
        augmented_copies(X.astype(np.int64), np.arange(4), 1)
    with pytest.raises(ShapeError, match="augment_batch: X must be a NumPy array.*np.asarray"):
        augment_batch([[1.0, 2.0], [3.0]])
    with pytest.raises(ConfigError, match=r"augment_batch: max_shift=2 is too large for images of 4x784.*X's layout"):
        augment_batch(X[None])
    for bad in (np.arange(4) + 0.5, np.array([np.nan, 1, 2, 3])):
        with pytest.raises(TargetError, match=r"augmented_epochs: y must be a 1-D array of integer class labels"):
            augmented_epochs(X, bad, 1)


def test_splits_refuse_nan_rows_and_keep_integer_rows():
    from nncourse.data import balanced_subset, train_test_split, validation_split
    X = np.random.default_rng(0).standard_normal((20, 3))
    y = np.arange(20) % 2
    bad = X.copy()
    bad[0, 0] = np.nan
    with pytest.raises(NonFiniteError, match="validation_split: the X contains 1 NaN"):
        validation_split(bad, y)
    with pytest.raises(NonFiniteError, match="balanced_subset: the X contains 1 NaN"):
        balanced_subset(bad, y, 6)
    with pytest.raises(NonFiniteError, match="train_test_split: the y contains 10 NaN"):
        train_test_split(X, np.where(y == 0, np.nan, 1.0))
    with pytest.raises(ShapeError, match="train_test_split: X must be a rectangular array"):
        train_test_split([[1.0, 2.0], [3.0]], [0, 1])
    assert validation_split(X.astype(np.uint8), y).X_train.dtype == np.uint8


def test_toy_generators_name_their_arguments():
    from nncourse.data import blobs, circles, curve, regression_curve, spirals, truth_table
    with pytest.raises(ConfigError, match=r"blobs: separation must be a finite number >= 0.*without quotes"):
        blobs(20, separation="0.1")
    with pytest.raises(ConfigError, match="factor is the inner ring's radius"):
        circles(20, factor="0.1")
    with pytest.raises(ConfigError, match="spirals: turns must be a finite number > 0"):
        spirals(20, turns="0.1")
    for bad in ((), [[1.0, 2.0], [3.0]]):
        with pytest.raises(ConfigError, match=r"x_range must be \(low, high\)"):
            regression_curve(20, x_range=bad)
    with pytest.raises(NonFiniteError, match="curve: the x contains 1 NaN"):
        curve(np.array([np.nan, 1.0]))
    with pytest.raises(ShapeError, match=r"curve: x is empty.*np.linspace"):
        curve(np.array([]))
    for bad in ("", b"xor", None):
        with pytest.raises(ConfigError, match=r"truth_table: unknown truth table.*name must be one of.*'xor'"):
            truth_table(bad)
    assert truth_table("XOR")[1].tolist() == [0, 1, 1, 0]


def test_idx_writer_and_parser_name_their_arguments(tmp_path):
    from nncourse.data import parse_idx, read_idx, write_idx
    from nncourse.data.idx import idx_bytes
    with pytest.raises(NonFiniteError, match="idx_bytes: the array contains 1 NaN"):
        idx_bytes(np.array([np.nan, 1.0]))
    with pytest.raises(DataError, match=r"array is empty.*pass the data"):
        idx_bytes(np.zeros((0, 3), np.uint8))
    with pytest.raises(ConfigError, match=r"write_idx: compress must be True or False.*without quotes"):
        write_idx(tmp_path / "a.idx", np.zeros(3, np.uint8), compress="False")
    blocker = tmp_path / "a_file"
    blocker.write_text("x")
    with pytest.raises(DataError, match=r"cannot write .*Not a directory.*another path"):
        write_idx(blocker / "a.idx", np.zeros(3, np.uint8))
    with pytest.raises(DataError, match=r"read_idx: path .* is a folder.*a file in it"):
        read_idx(tmp_path)
    for bad in ("text", None):
        with pytest.raises(DataError, match=r"parse_idx: data must be the bytes of an IDX file.*read_idx"):
            parse_idx(bad)
    with pytest.raises(DataError, match=r"the data has only 0 bytes.*download it again"):
        parse_idx(b"")
    with pytest.raises(ConfigError, match="parse_idx: name must be a string"):
        parse_idx(idx_bytes(np.zeros(3, np.uint8)), name=None)


def test_download_helpers_name_their_arguments(tmp_path):
    from nncourse.data import download_file, md5sum
    from nncourse.data.download import check_writable, file_problem, open_url
    with pytest.raises(DataError, match=r"md5sum: path .* is a folder"):
        md5sum(tmp_path)
    with pytest.raises(DataError, match="md5sum: no file at path"):
        md5sum(tmp_path / "missing" / "f.bin")
    with pytest.raises(DataError, match="file_problem: md5 must be the file's checksum, 32 hex digits"):
        file_problem(tmp_path / "f.bin", None)
    with pytest.raises(ConfigError, match="check_writable: fix must not be empty"):
        check_writable(tmp_path, fix="")
    with pytest.raises(ConfigError, match="open_url: url must be a string"):
        open_url(None)
    with pytest.raises(ConfigError, match="open_url: timeout must be a finite number > 0"):
        open_url("file:///nothing", timeout=float("nan"))
    with pytest.raises(ConfigError, match="download_file: filename must be a string"):
        download_file(None, tmp_path, "0" * 32, mirrors=["file:///x/"])
    for bad in ([], [[1.0, 2.0], [3.0]], "https://example.org/"):
        with pytest.raises(DataError, match="download_file: mirrors must be a non-empty list of base URLs"):
            download_file("f.bin", tmp_path, "0" * 32, mirrors=bad)


def test_mnist_loaders_name_sample_and_dtype(tmp_path):
    from nncourse.data import load_mnist, sample_folder
    for bad in (-1, 2.5, True, ""):
        with pytest.raises(ConfigError, match=r"sample must be the offline sample's folder.*False \(no sample\)"):
            sample_folder(bad)
    with pytest.raises(DataError, match=r"offline sample folder .* \(from sample=\.\.\. or \$NNCOURSE_MNIST_SAMPLE"):
        load_mnist(tmp_path, download=False, sample=tmp_path, quiet=True)
    with pytest.raises(DTypeError, match="load_mnist: dtype must be np.float32 or np.float64, got float16"):
        load_mnist(tmp_path, download=False, dtype="float16", sample=tmp_path, quiet=True)


def test_names_helpers_name_their_arguments():
    from nncourse.data import VOCAB, load_names, padded_batch
    for bad in (2.5, "3", True, float("nan")):
        with pytest.raises(ConfigError, match=r"padded_batch: pad_target must be a whole number.*-100"):
            padded_batch(["ada"], pad_target=bad)
    assert padded_batch(["ada", "bo"], pad_target=np.int64(-1))[1][1, -1] == -1     # NumPy integers welcome
    with pytest.raises(ConfigError, match="load_names: fractions must be three non-negative numbers"):
        load_names("female", fractions=(float("nan"), 0.1, 0.1))
    with pytest.raises(ShapeError, match=r"Vocabulary.decode: indices must be one sequence.*row by row"):
        VOCAB.decode(np.array([[1, 2, 3]]))
    with pytest.raises(ShapeError, match="Vocabulary.decode: indices must be a rectangular array"):
        VOCAB.decode([[1, 2], [3]])
    assert VOCAB.decode([]) == "" and VOCAB.decode(np.array([1, 4, 1, 0])) == "ada."


def test_to_torch_and_clean_markdown_name_their_arguments():
    from nncourse.data import to_torch
    from nncourse.data.shakespeare import clean_markdown
    with pytest.raises(ConfigError, match=r"to_torch: dtype must be a float type \(float32, float64\).*dtype=None"):
        to_torch(np.ones(2), dtype="float16")
    with pytest.raises(ConfigError, match=r"clean_markdown: markdown is empty.*read_play"):
        clean_markdown("")
