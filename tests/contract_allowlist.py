"""The contract sweep's allowlist: outcomes other than a clear course error that are legitimate.

Rules go by parameter class, never by function, and each says why. A rule sees one ``contract.Case``
(callable, parameter, kind, label of the hostile value, outcome, and ``meta``: the valid value, the
hostile value, the default, the result). Keep this list short (about 40 rules at most); a new rule
needs a reason a reviewer can check.
"""

INNER_LAYER_PREFIXES = ("nncourse.numpy_nn.", "nncourse.torch_nn.", "nncourse.autograd.")
LOSS_NAMES = ("Loss.", "cross_entropy")
INNER_FUNCTIONS = ("nncourse.numpy_nn.functional.", "nncourse.numpy_nn.scaled_dot_product_attention",
                   "nncourse.numpy_nn.im2col", "nncourse.numpy_nn.col2im")


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
     and (c.label == "a directory" and c.outcome in ("silent", "vague") or c.outcome == "vague" and "/" in c.detail)),
    ("documented-scores",
     "evaluation's predictions may be integer scores (argmax is defined) or, when 1-D floats, class-1 "
     "probabilities thresholded at 0.5, as predicted_labels documents",
     lambda c: c.callable.startswith("nncourse.evaluation.") and c.outcome == "silent"
     and c.label in ("int array", "float array")
     and c.parameter in ("y_pred", "y_pred_or_logits", "y_pred_or_scores", "probs_or_logits", "logits")),
    ("integer-inputs-converted",
     "the perceptron computes in float64 and its chapter feeds it 0/1 truth tables: integer inputs are "
     "converted, as documented",
     lambda c: c.callable.startswith("nncourse.models.Perceptron") and c.label == "int array"
     and c.outcome == "silent"),
    ("integer-pixels",
     "images may hold integer pixel values (MNIST's raw bytes 0..255): drawing them needs no conversion",
     lambda c: c.parameter in ("images", "image") and c.label == "int array" and c.outcome == "silent"),
    ("none-means-default",
     "cmap=None is matplotlib's own spelling of 'the default colormap'",
     lambda c: c.parameter == "cmap" and c.label == "None" and c.outcome == "silent"),
    ("any-shape",
     "ops along one axis or element by element (softmax and its backward, log-softmax, curve, the finite "
     "differences of numerical_gradient, one entry at a time) accept any number of dimensions, as torch's do",
     lambda c: c.label.endswith("wrong ndim") and c.outcome == "silent"
     and c.callable.rsplit(".", 1)[-1] in ("softmax", "log_softmax", "softmax_backward", "curve",
                                            "softmax_with_temperature", "numerical_gradient")),
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
     "processes, an index, copies of augmentation), for an axis (dim=0, start_dim=0, end_dim=0: the first "
     "one; Flatten checks its dims against the input in forward, as torch's does) and for an epoch "
     "(lr_at(base_lr, 0) is the starting rate): torch and NumPy accept it too",
     lambda c: c.label == "0" and c.outcome == "silent"
     and c.parameter in ("padding", "num_workers", "warmup", "augment", "max_shift", "dy", "dx", "index",
                         "rank", "start", "shift", "fail_at_step", "pad_target", "copies", "n_test",
                         "crash_after", "verbose", "top", "digit", "y", "label", "key_position",
                         "dim", "start_dim", "end_dim", "epoch")),
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
     "parameters that are signed by nature (a slope, a mean, a low end, an offset) may be negative",
     lambda c: c.label == "-1" and c.outcome == "silent"
     and c.parameter in ("negative_slope", "mean", "low", "value", "eta_min", "dy", "dx", "degrees", "scale")),
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
