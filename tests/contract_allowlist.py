"""The contract sweep's allowlist: outcomes other than a clear course error that are legitimate.

Rules go by parameter class, never by function, and each says why. A rule sees one ``contract.Case``
(callable, parameter, kind, label of the hostile value, outcome, and ``meta``: the valid value, the
hostile value, the default, the result). Keep this list short (about 40 rules at most); a new rule
needs a reason a reviewer can check.
"""

INNER_LAYER_PREFIXES = ("nncourse.numpy_nn.", "nncourse.torch_nn.", "nncourse.autograd.",
                        # chapter 12's residual block (torchvision's BasicBlock) is a building block that lives
                        # beside its model; the ResNet around it is the boundary that checks for NaN
                        "nncourse.models.BasicBlock.", "nncourse.models.torch.BasicBlock.")
LOSS_NAMES = ("Loss.", "cross_entropy")
INNER_FUNCTIONS = ("nncourse.numpy_nn.functional.", "nncourse.numpy_nn.scaled_dot_product_attention",
                   "nncourse.numpy_nn.im2col", "nncourse.numpy_nn.col2im",
                   # chapter 13's engine: its functional ops and the backward helper of every elementwise op
                   "nncourse.autograd.embedding", "nncourse.autograd.unbroadcast")


def _inner_layer_method(case):
    """forward/backward of a building block (not a loss, not a complete model), or a functional op;
    ``Parameter.accumulate_grad`` too: every backward calls it, once per parameter."""
    name = case.callable
    return (name.startswith(INNER_LAYER_PREFIXES) and not any(word in name for word in LOSS_NAMES)
            and name.rsplit(".", 1)[-1] in ("forward", "backward", "fast_forward", "step", "accumulate_grad")) \
        or name.startswith(INNER_FUNCTIONS)


# Part IV's blocks that act on the last axis (or element by element) and so take any leading dimensions,
# as torch.nn.RMSNorm, torch.nn.SiLU, a Linear-based SwiGLU and Hugging Face's apply_rotary_pos_emb do
LAST_AXIS_OPS = ("nncourse.numpy_nn.RMSNorm.forward", "nncourse.numpy_nn.SiLU.forward",
                 "nncourse.numpy_nn.SwiGLU.forward", "nncourse.numpy_nn.SwiGLU.step",
                 "nncourse.numpy_nn.functional.rotary", "nncourse.numpy_nn.functional.rotary_backward",
                 "nncourse.numpy_nn.functional.rotate_half", "nncourse.numpy_nn.LoRALinear.fast_forward",
                 "nncourse.quantization.quantize",
                 # element by element, per position, or a lookup per index: torch's take any leading shape too
                 "nncourse.numpy_nn.LayerNorm.forward", "nncourse.numpy_nn.Dropout.forward",
                 "nncourse.numpy_nn.Identity.forward", "nncourse.numpy_nn.Embedding.forward",
                 "nncourse.numpy_nn.Flatten.forward", "nncourse.torch_nn.Step.forward")

# constructors and methods that store an array as it is (torch's Parameter and register_buffer do too)
HOLDERS = ("nncourse.numpy_nn.Parameter", "nncourse.numpy_nn.Module.register_buffer")


# torch's own names: a layer's forward argument is "input" in torch's documentation and in our messages;
# an optimizer's ``params`` are "parameters"; backward's one array is named by the method ("X.backward
# expects ..."); ``y_pred_or_logits`` is "predictions" or "logits".
ALIASES = {"x": ("input",), "z": ("input",), "X": ("input", "inputs"), "input": ("input",),
           "inputs": ("input",), "idx": ("input", "token"), "tokens": ("input", "token"),
           "params": ("parameter",), "parameters": ("parameter",),
           "grad_output": ("backward",), "grad_logits": ("backward",),
           "output": ("prediction", "input", "logits"), "y_pred_or_logits": ("prediction", "logits"),
           "y_pred_or_scores": ("prediction", "scores"), "probs_or_logits": ("probabilities", "logits"),
           "y_pred": ("prediction",), "y_true": ("label",)}


def _names_alias(case):
    from contract import names_parameter
    return any(names_parameter(case.detail, alias) for alias in ALIASES.get(case.parameter, ()))


RULES = [
    ("torch-name",
     "the message names the argument by torch's name for it (ALIASES): 'input' for a layer's x, "
     "'parameters' for params, 'X.backward expects' for backward's one array",
     lambda c: c.outcome == "vague" and _names_alias(c)),
    ("folder-parameter",
     "a folder parameter (root, folder, sample, *_dir) is meant to get a directory; given a file as parent "
     "or a missing folder, a course error that shows the path it looked in (not the parameter's name) is "
     "clear enough",
     lambda c: (c.parameter in ("root", "folder", "sample") or c.parameter.endswith("_dir"))
     and (c.label == "a directory" and c.outcome in ("silent", "vague") or c.outcome == "vague" and "/" in c.detail
          # a *_folder helper only computes a path (mnist_raw_folder, sample_folder) and touches no disk: the
          # loader that uses the path creates the missing folder or reports the blocked one
          or c.outcome == "silent" and c.label in ("a file as parent", "a missing parent")
          and c.callable.endswith("_folder") and type(c.meta.get("result")).__name__ in ("PosixPath", "WindowsPath"))),
    ("documented-scores",
     "evaluation's predictions may be integer scores (argmax is defined) or, when 1-D floats, class-1 "
     "probabilities thresholded at 0.5, as predicted_labels documents",
     lambda c: c.callable.startswith("nncourse.evaluation.") and c.outcome == "silent"
     and c.label in ("int array", "float array")
     and c.parameter in ("y_pred", "y_pred_or_logits", "y_pred_or_scores", "probs_or_logits", "logits")),
    ("integer-inputs-converted",
     "the perceptron computes in float64 and its chapter feeds it 0/1 truth tables, and data.curve evaluates "
     "a formula in float64: integer inputs are converted, as documented; so are the integer points "
     "(coordinates) a decision-boundary plot draws",
     lambda c: (c.callable.startswith("nncourse.models.Perceptron") or c.callable == "nncourse.data.curve"
                or c.callable == "nncourse.plots.plot_decision_boundary" and c.parameter == "X")
     and c.label == "int array" and c.outcome == "silent"),
    ("integer-pixels",
     "images may hold integer pixel values (MNIST's raw bytes 0..255): drawing them needs no conversion; "
     "a convolution kernel may hold integer weights (the Sobel and Laplacian presets of PRESET_KERNELS do)",
     lambda c: c.parameter in ("images", "image", "kernel") and c.label == "int array" and c.outcome == "silent"),
    ("none-means-default",
     "cmap=None is matplotlib's own spelling of 'the default colormap'; map_location=None is torch.load's "
     "(every tensor goes back to the device it was saved from)",
     lambda c: c.parameter in ("cmap", "map_location") and c.label == "None" and c.outcome == "silent"),
    ("any-shape",
     "ops along one axis or element by element (softmax and its backward, log-softmax, curve, the finite "
     "differences of numerical_gradient, one entry at a time) accept any number of dimensions, and a batch of "
     "zero rows (giving zero rows), as torch's do; so do an embedding lookup (indices of any shape, as "
     "torch.nn.functional.embedding) and unbroadcast (summing extra leading axes is its job)",
     lambda c: (c.label.endswith("wrong ndim") or c.label == "empty") and c.outcome == "silent"
     and c.callable.rsplit(".", 1)[-1] in ("softmax", "log_softmax", "softmax_backward", "curve",
                                            "softmax_with_temperature", "embedding", "unbroadcast",
                                            "numerical_gradient")),
    ("no-pre-tokenization",
     "pattern=None is the BPE tokenizers' documented mode without pre-tokenization (merges may cross words); "
     "the saved format stores it",
     lambda c: c.parameter == "pattern" and c.label == "None" and c.outcome == "silent"
     and ".tokenizers." in c.callable),
    ("any-leading-shape",
     "blocks that act on the last axis (RMSNorm, LayerNorm, SiLU, SwiGLU, rotary positions, a LoRA layer, "
     "GGUF's quantizer, whose blocks run along the last axis), element by element (Dropout, Identity, Step), "
     "on one index at a time (Embedding) or on the dimensions start_dim..end_dim only (Flatten) take any "
     "number of leading dimensions, as torch's, Hugging Face's and gguf's do",
     lambda c: c.label.endswith("wrong ndim") and c.outcome == "silent" and c.callable in LAST_AXIS_OPS),
    ("gguf-byte-stream",
     "GGUF's dequantizers read their blocks as one stream of bytes: any shape whose size is a whole number of "
     "blocks is the file's layout, as in gguf.quants",
     lambda c: c.label.endswith("wrong ndim") and c.outcome == "silent"
     and c.callable.startswith("nncourse.quantization.dequantize_")),
    ("negative-axis",
     "dim/axis/start_dim/end_dim = -1 counts from the end, as in NumPy and torch",
     lambda c: c.label == "-1" and c.outcome == "silent"
     and c.parameter in ("dim", "axis", "start_dim", "end_dim", "dim0", "dim1")),
    ("zero-is-a-count",
     "0 is a meaningful value for offsets and optional amounts (padding, shifts, warm-up steps, worker "
     "processes, an index, copies of augmentation, worker rank 0, zero bytes to send), for an axis (dim=0, "
     "axis=0, start_dim=0, end_dim=0: the first one; Flatten checks its dims against the input in forward, as "
     "torch's does), token id 0 (the byte 0), zero merges (bytes only) and an epoch (lr_at(base_lr, 0) is "
     "the starting rate): torch and NumPy accept it too",
     lambda c: c.label == "0" and c.outcome == "silent"
     and c.parameter in ("padding", "num_workers", "warmup", "augment", "max_shift", "dy", "dx", "index",
                         "rank", "start", "shift", "fail_at_step", "pad_target", "copies", "n_test",
                         "crash_after", "verbose", "top", "digit", "y", "label", "key_position",
                         "hidden_layers", "epoch", "compress_level", "fail_rank", "nbytes",
                         "dim", "axis", "start_dim", "end_dim", "token_id", "new_id", "n_merges")),
    ("any-ignore-index",
     "ignore_index / pad_target may be any integer, negative included (torch's default is -100)",
     lambda c: c.parameter in ("ignore_index", "pad_target") and c.label in ("-1", "0") and c.outcome == "silent"),
    ("nan-through-a-layer",
     "a NaN flowing through an inner layer is the learner's to see (torch passes it on too); NaN checks "
     "sit at the boundaries: losses, models' public forward, loaders and writers, fit",
     lambda c: _inner_layer_method(c) and "NaN" in c.label and c.outcome == "silent"),
    ("empty-batch-through-a-layer",
     "a batch of zero examples through an inner layer gives zero outputs, as in torch",
     lambda c: _inner_layer_method(c) and c.label.startswith("empty") and c.outcome == "silent"),
    ("negative-where-signed",
     "parameters that are signed by nature (a slope, a mean, a low end, an offset, a Value's number) may be "
     "negative",
     lambda c: c.label == "-1" and c.outcome == "silent"
     and c.parameter in ("negative_slope", "mean", "low", "value", "eta_min", "dy", "dx", "degrees", "scale",
                         "data")),
    ("infinite-bound",
     "an infinite bound switches a limit off, as in torch (max_norm=inf: no clipping; "
     "threshold/inf patience)",
     lambda c: c.label == "inf" and c.outcome == "silent" and c.parameter in ("max_norm", "norm_type")),
    ("empty-text-where-optional",
     "an empty title, prefix, label or caption is a legitimate choice: nothing to show",
     lambda c: c.label == "''" and c.outcome == "silent"
     and c.parameter in ("title", "prefix", "label", "footer", "help", "caption", "desc", "text")),
    ("sole-argument",
     "a callable with one argument: a message that names the callable names the argument too",
     lambda c: c.outcome == "vague" and c.meta.get("n_parameters") == 1
     and c.callable.rsplit(".", 1)[-1] in str(c.detail)),
    ("empty-like-default",
     "an optional collection whose default is empty (known_names=()) takes an empty list as the same choice: "
     "nothing extra to show",
     lambda c: c.label == "empty list" and c.outcome == "silent"
     and isinstance(c.meta.get("default"), (tuple, list, set, frozenset)) and len(c.meta["default"]) == 0),
    ("nothing-there-yet",
     "a reader documented to answer 'nothing yet' for a place that does not exist yet returns that answer for a "
     "missing folder: latest_checkpoint gives None (nothing to resume, a fresh run's folder), load_results an "
     "empty list (no rows yet); a file standing where a folder should be is still refused",
     lambda c: c.label == "a missing parent" and c.outcome == "silent" and c.kind == "path"
     and c.meta.get("result") in (None, [])),
    ("device-helpers-pass-values",
     "to_numpy and require_cpu move a tensor or check where it lives, not what it holds: NaN, integers, an "
     "empty tensor or any shape come back as they were, as tensor.cpu().numpy() does; the calls that compute "
     "(losses, fit, gradients) check the values",
     lambda c: c.parameter == "tensor" and c.callable.startswith("nncourse.scaling.") and c.outcome == "silent"
     and c.label in ("tensor with NaN", "int tensor", "empty tensor", "tensor of wrong ndim")),
    ("integer-batches",
     "a batch's x and y may hold integers (y class indices, what a classification loss wants; x token ids): "
     "chapter 15's helpers split and feed a batch as torch's DataLoader and DDP do, and the model and the loss "
     "decide what they accept (an integer x into a Linear model is refused)",
     lambda c: c.parameter in ("x", "y") and c.label in ("int array", "int tensor") and c.outcome == "silent"
     and c.callable.startswith("nncourse.scaling.")),
    ("tensor-holds-any-array",
     "an autograd Tensor is a container, like torch.tensor: its data may have any shape, be empty or hold NaN "
     "(NaN checks sit at the boundaries, and the engine's own ops build Tensors on the hot path); tensor() "
     "converts integers to float64, as its docstring says",
     lambda c: c.parameter == "data" and c.outcome == "silent" and type(c.meta.get("result")).__name__ == "Tensor"
     and type(c.meta.get("result")).__module__.startswith("nncourse.autograd")
     and c.label in ("array with NaN", "empty", "wrong ndim", "int array")),
    ("empty-token-list",
     "an empty list of token ids (or character indices) is a legitimate sequence (an empty text encodes to "
     "[]): decoding, counting and merging it give the empty result, as Hugging Face's decode([]) gives ''",
     lambda c: c.parameter in ("ids", "indices") and c.label in ("empty list", "empty") and c.outcome == "silent"
     and isinstance(c.meta.get("result"), (str, bytes, list, dict))),
    ("image-batches-with-channels",
     "images may be (N, H, W) or (N, C, H, W), as the augmentation functions document: the wrong-ndim probe "
     "adds a leading axis, which reads as one image with several channels",
     lambda c: c.parameter == "images" and c.label == "wrong ndim" and c.outcome == "silent"
     and getattr(c.meta.get("result"), "ndim", None) == 4),
    ("rows-are-selected",
     "splitting and subsetting data only pick rows: X may hold integers (MNIST's raw bytes, 0/1 tables) and "
     "train_test_split's y may be real-valued regression targets",
     lambda c: c.callable.startswith("nncourse.data.") and c.outcome == "silent"
     and (c.parameter == "X" and c.label == "int array" or c.parameter == "y" and c.label == "float array"
          and c.callable.endswith("train_test_split"))),
    ("idx-stores-any-array",
     "the IDX format stores float32/float64 numbers (type bytes 0x0D, 0x0E) and arrays of 1 to 255 dimensions: "
     "a float or a 3-D array is a legitimate IDX file",
     lambda c: c.parameter == "array" and c.callable.startswith("nncourse.data.") and c.outcome == "silent"
     and c.label in ("float array", "wrong ndim")),
    ("scalar-shape",
     "an empty shape () is a scalar's shape, as in NumPy: summing a gradient down to it is legitimate",
     lambda c: c.parameter == "shape" and c.label == "empty list" and c.outcome == "silent"),
    ("integer-targets-converted",
     "element-wise losses (MSE, L1, BCE, BCE with logits) take integer targets (0/1 labels, whole-number "
     "values) and cast them to the output's dtype: fit hands binary labels over as integers, and torch's "
     "MSELoss and L1Loss accept integer targets too",
     lambda c: c.parameter == "target" and c.label == "int array" and c.outcome == "silent"
     and c.callable.startswith("nncourse.numpy_nn.") and "Loss.forward" in c.callable),
    ("holders-keep-any-array",
     "Parameter(data) and Module.register_buffer(name, array) store the array they are given, as torch's do: "
     "any shape, empty included, integer buffers (counters such as BatchNorm's num_batches_tracked) and NaN "
     "(a diverged run's weights are still its weights; NaN checks sit at losses, models' forward, loaders, "
     "writers and fit)",
     lambda c: c.outcome == "silent" and c.callable in HOLDERS and c.parameter in ("data", "array")
     and c.label in ("array with NaN", "empty", "wrong ndim", "int array")),
]


def accepted_by(case):
    """The name of the first rule that accepts ``case``, or None."""
    for name, _reason, accepts in RULES:
        try:
            if accepts(case):
                return name
        except Exception:
            continue
    return None
