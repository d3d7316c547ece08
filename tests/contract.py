"""The machinery of the contract sweep (tests/test_api_contract.py).

A *recipe* gives one valid call of a public callable::

    @recipe("nncourse.numpy_nn.Linear")
    def _():
        return Call(3, 2, bias=True)

A method's recipe passes the instance first. A recipe function may take one argument, ``tmp``: a fresh
folder under pytest's ``tmp_path`` (every file a recipe or the sweep writes goes there, never the repo).

The sweep binds the call to the callable's signature, then replaces one parameter at a time (also the
ones left at their default) with the hostile values of its *kind*. The kind is inferred from the
parameter's name and default (``KIND_BY_NAME``, ``infer_kind``) or given by the recipe:
``Call(..., kinds={"callback": "skip: any callable"})``. ``Call(..., extra={"param": [values]})`` adds
values a generic kind does not know (a model where its parameters are expected, ...).

Each perturbed call ends in one outcome:

=========  ==================================================================================
clear      a CourseError (or the documented DivergenceError / WorkerError) naming the parameter
vague      such an error whose message does not name the parameter
raw        any other exception
silent     the call returned
hang       no answer within ``TIME_LIMIT`` seconds
=========  ==================================================================================

``contract_allowlist.RULES`` says which non-clear outcomes are legitimate, by parameter class.
"""

import importlib
import inspect
import math
import os
import pkgutil
import re
import signal
import tempfile
from dataclasses import dataclass, field

import numpy as np

KINDS = ("bool", "count", "rate", "path", "array", "text", "seed", "dtype", "object", "skip")
TIME_LIMIT = 10.0  # seconds per call

_RECIPES = {}  # dotted name -> recipe function


class Call:
    """One valid call: positional and keyword arguments, plus ``kinds`` overrides and ``extra`` values."""

    def __init__(self, *args, kinds=None, extra=None, **kwargs):
        self.args = args
        self.kwargs = kwargs
        self.kinds = dict(kinds or {})
        self.extra = dict(extra or {})
        for name, kind in self.kinds.items():
            base = kind.split(":")[0].strip()
            if base not in KINDS:
                raise ValueError(f"recipe kinds[{name!r}] = {kind!r}: not one of {KINDS}")
            if base == "skip" and ":" not in kind:
                raise ValueError(f"recipe kinds[{name!r}] = 'skip' needs a reason: 'skip: why'")


_GENERIC = set()  # names registered by a family loop: a specific recipe may replace them


def recipe(name, *, generic=False):
    """Register the decorated function as the valid call of the public callable ``name``.

    ``generic=True`` marks a recipe made by a loop over a family (layers, losses): a later specific
    recipe for the same name replaces it. Two specific recipes for one name are an error."""
    def register(function):
        if name in _RECIPES and not (generic or name in _GENERIC):
            raise ValueError(f"two recipes for {name}")
        if generic and name in _RECIPES:
            return function
        if generic:
            _GENERIC.add(name)
        else:
            _GENERIC.discard(name)
        _RECIPES[name] = function
        return function
    return register


def recipes():
    return dict(_RECIPES)


# ------------------------------------------------------------------ kinds

_NAME_RULES = [  # (regex on the parameter name, kind); the first match wins
    (r"^(seed|rng|generator)$|_seed$", "seed"),
    (r"^dtype$|_dtype$", "dtype"),
    (r"^(path|root|folder|directory|file|filename|out|output_path)$|_(path|dir|file|folder|root)$|^file",
     "path"),
    (r"^(text|texts|corpus|prompt|string|word|words|name_text)$|_text$", "text"),
    (r"^(x|X|y|Y|input|inputs|target|targets|grad_output|grad|logits|ids|tokens|images|labels|data|values|"
     r"query|key|value|mask|probs|scores|weights?|array|a|b|predictions|y_true|y_pred|truth|preds|"
     r"features|points|sample|batch|seq|sequence|gradient|upstream)$|_(ids|tokens|images|labels|logits|mask|"
     r"array|grad|batch|seq)$", "array"),
    (r"^(lr|eps|momentum|temperature|weight_decay|p|alpha|beta1|beta2|gamma|rho|dampening|lr_decay|scale|"
     r"noise|std|mean|factor|threshold|tol|atol|rtol|max_norm|clip|clip_norm|min_lr|max_lr|eta_min|"
     r"initial_accumulator_value|negative_slope|margin|smoothing|label_smoothing|start_factor|"
     r"end_factor|delta|min_delta|fraction|ratio|frac|pct_start|gain|radius|spread|learning_rate|"
     r"high|low|width_scale)$|_(rate|ratio|scale|std|fraction|lr|eps|norm|factor)$", "rate"),
    (r"^(n|k|steps|epochs|heads|depth|hidden|width|size|length|every|patience|stride|padding|dilation|"
     r"kernel_size|block_size|context|top_k|layers|workers|world_size|rank|step_size|warmup|T_max|"
     r"total_steps|max_steps|count|dim|axis|classes|digits|limit|verbose|ignore_index|batch|chunks|"
     r"vocab|period|frames|digit|shift|max_shift|groups|index|start|stop|accumulation_steps)$"
     r"|_(size|features|channels|len|length|steps|epochs|layers|heads|dim|tokens_count|count|every|"
     r"workers|classes|points|samples|index|step|merges|iters|width|batches|per_class)$"
     r"|^(n|num|max|min)_", "count"),
]


def infer_kind(parameter):
    """The kind of an ``inspect.Parameter``, from its name, then its default; None when unknown."""
    name = parameter.name
    for pattern, kind in _NAME_RULES:
        if re.search(pattern, name):
            return kind
    default = parameter.default
    if default is inspect.Parameter.empty or default is None:
        return None
    if isinstance(default, (bool, np.bool_)):
        return "bool"
    if isinstance(default, int):
        return "count"
    if isinstance(default, float):
        return "rate"
    if isinstance(default, str):
        return "text"
    return None


def kind_of(parameter, call):
    if parameter.name in call.kinds:
        return call.kinds[parameter.name]
    if parameter.name.startswith("_"):
        return "skip: a private parameter (the engine's own bookkeeping), not part of the public call"
    default = parameter.default
    if isinstance(default, (bool, np.bool_)):
        return "bool"
    return infer_kind(parameter)


# ------------------------------------------------------------------ hostile values


@dataclass
class Hostile:
    label: str
    value: object = None
    make: object = None  # a function of the case folder, for paths
    legit_if_created: bool = False  # a path: returning is fine when the call created the file there


def _ragged():
    return [[1.0, 2.0], [3.0]]


def _torch_variants(valid):
    import torch
    out = []
    if valid.is_floating_point() and valid.numel():
        bad = valid.detach().clone()
        bad.view(-1)[0] = float("nan")
        out.append(Hostile("tensor with NaN", bad))
        out.append(Hostile("int tensor", valid.detach().to(torch.int64)))
    elif valid.numel():
        out.append(Hostile("float tensor", valid.detach().to(torch.float32) + 0.5))
    if valid.ndim >= 1:
        out.append(Hostile("empty tensor", valid[:0]))
    out.append(Hostile("tensor of wrong ndim", valid.unsqueeze(0)))
    out.append(Hostile("ragged list", _ragged()))
    return out


def array_values(valid):
    """Hostile arrays shaped after the valid one: NaN inside, empty, wrong ndim, wrong dtype, ragged."""
    if type(valid).__module__.startswith("torch"):
        return _torch_variants(valid)
    if isinstance(valid, (list, tuple)) and not isinstance(valid, str):
        flat = np.asarray(valid, dtype=object).ravel() if valid else []
        numeric = len(flat) and all(isinstance(v, (int, float, np.number)) and not isinstance(v, bool)
                                    for v in flat)
        out = [Hostile("empty list", type(valid)()), Hostile("ragged list", _ragged())]
        if numeric and np.ndim(valid) == 1:
            out.insert(0, Hostile("list with NaN", type(valid)([float("nan")] + list(valid)[1:])))
            if all(isinstance(v, (int, np.integer)) for v in valid):
                out.append(Hostile("list with a fraction", type(valid)([2.5] + list(valid)[1:])))
        return out
    if not isinstance(valid, np.ndarray):
        return [Hostile("ragged list", _ragged()), Hostile("None", None)]
    out = []
    if valid.size and valid.dtype.kind == "f":
        bad = valid.copy()
        bad.flat[0] = np.nan
        out.append(Hostile("array with NaN", bad))
        out.append(Hostile("int array", valid.astype(np.int64)))
    elif valid.size and valid.dtype.kind in "iub":
        out.append(Hostile("array with NaN", np.where(np.arange(valid.size).reshape(valid.shape) == 0,
                                                      np.nan, valid.astype(np.float64))))
        out.append(Hostile("float array", valid.astype(np.float32) + 0.5))
    if valid.ndim >= 1:
        out.append(Hostile("empty", valid[:0]))
    out.append(Hostile("wrong ndim", valid[None]))
    out.append(Hostile("ragged list", _ragged()))
    return out


def _dir(folder):
    return folder


def _file_as_parent(folder):
    blocker = os.path.join(folder, "a_file")
    with open(blocker, "w") as handle:
        handle.write("not a folder")
    return os.path.join(blocker, "out.npz")


def _missing_parent(folder):
    return os.path.join(folder, "missing", "deeper", "out.npz")


HOSTILE = {
    "bool": lambda valid: [Hostile("'False'", "False"), Hostile("1", 1), Hostile("None", None)],
    "count": lambda valid: [Hostile("-1", -1), Hostile("0", 0), Hostile("2.5", 2.5), Hostile("'3'", "3"),
                            Hostile("True", True), Hostile("NaN", float("nan"))],
    "rate": lambda valid: [Hostile("NaN", float("nan")), Hostile("inf", float("inf")), Hostile("-1", -1.0),
                           Hostile("'0.1'", "0.1")],
    "path": lambda valid: [Hostile("a directory", make=_dir), Hostile("a file as parent", make=_file_as_parent),
                           Hostile("a missing parent", make=_missing_parent, legit_if_created=True)],
    "array": array_values,
    "text": lambda valid: [Hostile("''", ""), Hostile("bytes", b"abc"), Hostile("None", None)],
    "seed": lambda valid: [Hostile("'3'", "3"), Hostile("2.5", 2.5), Hostile("-1", -1)],
    "dtype": lambda valid: [Hostile("np.int32", np.int32), Hostile("'float16'", "float16")],
    "object": lambda valid: [],
    "skip": lambda valid: [],
}


# ------------------------------------------------------------------ the public API


def _is_public_class(obj):
    return inspect.isclass(obj) and not issubclass(obj, BaseException)


def public_api(package="nncourse", exclude=()):
    """{name: object} for every public callable: each module's ``__all__`` (or, for a package without one,
    the nncourse objects it imports) and the public methods of public classes, one name per object."""
    root = importlib.import_module(package)
    modules = [root] + [importlib.import_module(info.name)
                        for info in pkgutil.walk_packages(root.__path__, package + ".")
                        if not any(info.name == e or info.name.startswith(e + ".") for e in exclude)
                        and not info.name.endswith("__main__")]
    found = {}  # id -> (name, obj)

    def add(name, obj):
        key = id(obj)
        if key not in found or len(name.split(".")) < len(found[key][0].split(".")):
            found[key] = (name, obj)

    classes = {}
    for module in modules:
        names = getattr(module, "__all__", None)
        if names is None:
            names = [n for n, o in vars(module).items() if not n.startswith("_")
                     and getattr(o, "__module__", "").startswith(package)
                     and (inspect.isclass(o) or inspect.isfunction(o))]
        for name in names:
            obj = getattr(module, name)
            if not callable(obj) or (inspect.isclass(obj) and issubclass(obj, BaseException)):
                continue
            if getattr(obj, "__module__", "") and not obj.__module__.startswith(package):
                continue  # re-exported from torch or the standard library
            add(f"{module.__name__}.{name}", obj)
            if _is_public_class(obj):
                classes.setdefault(id(obj), (f"{module.__name__}.{name}", obj))
    for key, (cname, cls) in list(classes.items()):
        for klass in cls.__mro__:
            if not klass.__module__.startswith(package):
                continue
            owner = found[id(klass)][0] if id(klass) in classes else found[key][0]
            for attr, raw in vars(klass).items():
                if attr.startswith("_"):
                    continue
                function = raw.__func__ if isinstance(raw, (staticmethod, classmethod)) else raw
                if not inspect.isfunction(function):
                    continue
                if id(function) in found and id(klass) not in classes:
                    continue  # an inherited method of a private base: keep the first public class
                found[id(function)] = (f"{owner}.{attr}", function) if id(klass) in classes \
                    else found.get(id(function), (f"{owner}.{attr}", function))
    return {name: obj for name, obj in found.values()}


def resolve(name):
    """The object behind a dotted public name: attributes first (``numpy_nn.gradcheck`` is the function
    that the package exports, not the module of the same name), submodules where no attribute exists."""
    parts = name.split(".")
    obj = importlib.import_module(parts[0])
    path = parts[0]
    for attr in parts[1:]:
        path += "." + attr
        if inspect.isclass(obj):
            raw = inspect.getattr_static(obj, attr)
            obj = raw.__func__ if isinstance(raw, (staticmethod, classmethod)) else raw
        elif hasattr(obj, attr):
            obj = getattr(obj, attr)
        else:
            obj = importlib.import_module(path)
    return obj


# ------------------------------------------------------------------ running one call


class _Timeout(BaseException):
    pass


def _alarm(signum, frame):
    raise _Timeout()


def run_limited(function, limit=TIME_LIMIT):
    """(returned value, exception or None, timed_out)"""
    previous = signal.signal(signal.SIGALRM, _alarm)
    signal.setitimer(signal.ITIMER_REAL, limit)
    try:
        return function(), None, False
    except _Timeout:
        return None, None, True
    except Exception as error:
        return None, error, False
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def accepted_errors():
    from nncourse.errors import CourseError, DivergenceError
    classes = [CourseError, DivergenceError]
    try:
        from nncourse.scaling.ddp import WorkerError
        classes.append(WorkerError)
    except ImportError:  # pragma: no cover
        pass
    return tuple(classes)


def names_parameter(message, parameter):
    """``parameter`` appears as a word (a plural counts: ``model`` in "saves numpy_nn models"); file paths
    in the message are left out (``/tmp/pytest-of-root/`` does not name ``root``)."""
    message = re.sub(r"\S*[/\\]\S*", " ", message)
    return re.search(r"(?<![A-Za-z0-9_])" + re.escape(parameter) + r"s?(?![A-Za-z0-9_])", message) is not None


@dataclass
class Case:
    callable: str
    parameter: str
    kind: str
    label: str
    outcome: str          # clear vague raw silent hang
    detail: str = ""
    rule: str = ""        # the allowlist rule that accepted it
    meta: dict = field(default_factory=dict)

    def line(self):
        return f"{self.callable}({self.parameter}={self.label}) [{self.kind}]: {self.outcome}: {self.detail}"


def _short(error):
    text = " ".join(str(error).split())
    return f"{type(error).__name__}: {text[:110]}"


def build_call(function, make, folder):
    """Call the recipe (with ``tmp`` if it wants one) and bind it to ``function``'s signature."""
    call = make(folder) if _wants_tmp(make) else make()
    if not isinstance(call, Call):
        raise TypeError(f"recipe returned {type(call).__name__}, not Call")
    signature = inspect.signature(function)
    bound = signature.bind(*call.args, **call.kwargs)
    return call, signature, bound


def _wants_tmp(make):
    return sum(p.default is p.empty for p in inspect.signature(make).parameters.values()) == 1


def invoke(function, signature, bound, parameter=None, value=None):
    arguments = dict(bound.arguments)
    if parameter is not None:
        arguments[parameter] = value
    args, kwargs = [], {}
    for name, p in signature.parameters.items():
        if name not in arguments:
            continue
        if p.kind == p.VAR_POSITIONAL:
            args.extend(arguments[name])
        elif p.kind == p.VAR_KEYWORD:
            kwargs.update(arguments[name])
        elif p.kind in (p.POSITIONAL_ONLY,) or (p.kind == p.POSITIONAL_OR_KEYWORD and not kwargs
                                                   and _all_before_given(signature, arguments, name)):
            args.append(arguments[name])
        else:
            kwargs[name] = arguments[name]
    return function(*args, **kwargs)


def _all_before_given(signature, arguments, name):
    for other in signature.parameters:
        if other == name:
            return True
        if other not in arguments:
            return False
    return True


def sweep_one(name, function, make, tmp_root, errors=None):
    """All the cases of one callable: (cases, parameters {name: kind}, problem or None)."""
    errors = errors or accepted_errors()
    folder = tempfile.mkdtemp(dir=tmp_root)
    try:
        call, signature, bound = build_call(function, make, folder)
    except Exception as error:
        return [], {}, f"recipe does not bind: {_short(error)}"
    result, error, timed_out = run_limited(lambda: invoke(function, signature, bound))
    if timed_out or error is not None:
        return [], {}, "valid call failed: " + ("timed out" if timed_out else _short(error))
    parameters = {}
    cases = []
    n_parameters = len(signature.parameters) - (1 if "." in name and name.split(".")[-2][:1].isupper() else 0)
    is_method = "." in name and inspect.isfunction(function) and name.split(".")[-2][:1].isupper()
    for index, (pname, p) in enumerate(signature.parameters.items()):
        if p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD) or (is_method and index == 0):
            continue
        kind = kind_of(p, call)
        parameters[pname] = kind
        if kind is None:
            continue
        valid = bound.arguments.get(pname, p.default)
        values = list(HOSTILE[kind.split(":")[0]](valid)) + [Hostile(f"extra {v!r}"[:40], v)
                                                            for v in call.extra.get(pname, [])]
        for hostile in values:
            if hostile.make is None and _same(hostile.value, p.default):
                continue  # the default is legal by definition
            case_folder = tempfile.mkdtemp(dir=tmp_root)
            try:
                _, _, fresh = build_call(function, make, case_folder)
            except Exception as error:
                return cases, parameters, f"recipe failed on its second call: {_short(error)}"
            value = hostile.make(case_folder) if hostile.make else hostile.value
            result, error, timed_out = run_limited(lambda: invoke(function, signature, fresh, pname, value))
            meta = {"n_parameters": n_parameters, "valid": valid, "value": value, "default": p.default,
                    "result": result, "function": function}
            if timed_out:
                case = Case(name, pname, kind, hostile.label, "hang", f"no answer in {TIME_LIMIT:.0f} s", meta=meta)
            elif error is None:
                if hostile.legit_if_created and os.path.exists(value):
                    continue  # a writer that creates its folder: correct
                case = Case(name, pname, kind, hostile.label, "silent", f"returned {_describe(result)}", meta=meta)
            elif isinstance(error, errors):
                outcome = "clear" if names_parameter(str(error), pname) else "vague"
                case = Case(name, pname, kind, hostile.label, outcome, _short(error), meta=meta)
            else:
                case = Case(name, pname, kind, hostile.label, "raw", _short(error), meta=meta)
            cases.append(case)
    return cases, parameters, None


def _same(a, b):
    if a is inspect.Parameter.empty:
        return False
    if a is None or b is None:
        return a is b
    try:
        if type(a) is not type(b):
            return False
        if isinstance(a, float) and math.isnan(a):
            return isinstance(b, float) and math.isnan(b)
        return bool(a == b)
    except Exception:
        return False


def _describe(result):
    if isinstance(result, np.ndarray):
        return f"array{result.shape} {result.dtype}"
    text = repr(result)
    return (type(result).__name__ + " " + text)[:60]
