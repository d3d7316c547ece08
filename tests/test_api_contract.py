"""The contract sweep: every public entry point of ``nncourse`` refuses hostile arguments clearly.

Each public callable gets one valid call from a recipe (``tests/contract_recipes*.py``); the sweep then
replaces one parameter at a time with the hostile values of its kind (``tests/contract.py``) and requires
a ``CourseError`` (or the documented ``DivergenceError`` / ``WorkerError``) whose message names the
parameter. Outcomes a rule of ``tests/contract_allowlist.py`` accepts (``dim=-1``, a NaN flowing through
an inner layer, ...) pass; anything else fails, listed all at once. See ``../shared/ROBUSTNESS.md``.

Scope (what "public" means here):

- In: each module's ``__all__`` (a package without one: the nncourse objects it imports), and the
  public methods of those classes, one name per object. ``widgets`` and ``plots`` are in: learners call
  them from the chapters with their own models and data.
- Out: ``nncourse.checks`` (its inputs are the learner's functions, which ``Tester.call`` already
  guards; tests/test_checks_*.py hold 3-8 wrong answers per check); the contributor-facing plumbing that
  only the package itself calls with arguments it has already checked at the public entry point:
  ``validation`` (the checkers themselves), ``numpy_nn.registry``, ``train.checks``, ``train.backend``,
  ``train.divergence``, ``train.progress``, ``widgets.arguments``, ``utils.publish`` and
  ``utils.unwritable_folder_message``; and the plain result records the package returns and learners
  only read (``RECORDS`` below).
- A callable whose only parameter is ``self`` (or none) has nothing to perturb and needs no recipe.
"""

import glob
import importlib
import inspect
import os
import sys
import time

import pytest

import contract
from contract_allowlist import RULES, accepted_by

HERE = os.path.dirname(__file__)

EXCLUDED_MODULES = ("nncourse.checks", "nncourse.validation", "nncourse.numpy_nn.registry",
                    "nncourse.train.checks", "nncourse.train.backend", "nncourse.train.divergence",
                    "nncourse.train.progress", "nncourse.widgets.arguments")
EXCLUDED_NAMES = {"nncourse.utils.publish", "nncourse.utils.unwritable_folder_message",
                  # documented as the unchecked fast path for layers that checked already; its checked
                  # entry points, scaled_dot_product_attention and attention_forward, are swept
                  "nncourse.numpy_nn.functional.attend"}
SLOW = {  # one valid call takes over the per-call limit; the named tests cover their arguments
    "nncourse.scaling.ddp.train_ddp": "starts worker processes; DDPConfig and train_single are swept, "
                                      "tests/test_scaling_ddp.py covers the rest",
    "nncourse.scaling.ddp.train_ddp_many": "as train_ddp",
    "nncourse.widgets.regularization_explorer": "renders every frame of the stored curves; curve_table, "
                                                "which checks its one argument, is swept",
    # chapter 17: each valid call reads the 98 MB GGUF file (seconds); tests/test_smollm2.py gives them bad
    # paths, truncated and edited files, wrong back ends and dtypes
    "nncourse.pretrained.load_smollm2": "reads SmolLM2's file; tests/test_smollm2.py covers its arguments",
    "nncourse.pretrained.read_gguf": "as load_smollm2",
    "nncourse.pretrained.smollm2_tokenizer": "as load_smollm2",
    "nncourse.pretrained.gguf_metadata": "takes read_gguf's reader of the real file",
    "nncourse.pretrained.llama_config": "as gguf_metadata",
    "nncourse.pretrained.llama_state_dict": "as gguf_metadata",
    "nncourse.pretrained.iter_llama_tensors": "as gguf_metadata",
    "nncourse.pretrained.tokenizer_from_gguf": "as gguf_metadata",
}
RECORDS = {  # result records: built by the package, read by learners
    "nncourse.data.MNIST", "nncourse.data.NameSplits", "nncourse.data.SequenceTask", "nncourse.data.Split",
    "nncourse.data.shakespeare.ShakespeareSplits", "nncourse.evaluation.Mistakes",
    "nncourse.models.TrainingLog", "nncourse.models.deep_signal.Signal", "nncourse.numpy_nn.GradcheckResult",
    "nncourse.numpy_nn.functional.AttentionCache", "nncourse.recipes.Training", "nncourse.scaling.RingAllReduce",
    "nncourse.widgets.PlaygroundResult", "nncourse.widgets.backprop.Frame", "nncourse.widgets.Control",
    "nncourse.data.genre.GenreTask",
}


# Abstract bases: they raise NotImplementedError by design; every subclass has its own recipe.
ABSTRACT = {"nncourse.numpy_nn.Module.backward", "nncourse.numpy_nn.lr_scheduler.LRScheduler",
            "nncourse.numpy_nn.lr_scheduler.LRScheduler.lr_at"}


def _load_recipes():
    for path in sorted(glob.glob(os.path.join(HERE, "contract_recipes*.py"))):
        module = os.path.splitext(os.path.basename(path))[0]
        if module not in sys.modules:
            importlib.import_module(module)
    return contract.recipes()


def _parameters(function):
    try:
        signature = inspect.signature(function)
    except (TypeError, ValueError):
        return []
    names = [p for p in signature.parameters.values() if p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)]
    if names and names[0].name in ("self", "cls"):
        names = names[1:]
    return names


def _only():
    """``CONTRACT_ONLY=nncourse.autograd,nncourse.data``: sweep only callables whose names start so."""
    return tuple(p.strip() for p in os.environ.get("CONTRACT_ONLY", "").split(",") if p.strip())


def in_scope():
    api = contract.public_api(exclude=EXCLUDED_MODULES)
    return {name: obj for name, obj in api.items()
            if name not in EXCLUDED_NAMES and name not in RECORDS and name not in ABSTRACT
            and name not in SLOW}






def run_sweep(tmp_path):
    """Sweep every public callable; returns a dict of everything the test and its summary need."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    started = time.perf_counter()
    api = in_scope()
    recipes = _load_recipes()
    by_object, problems = {}, []
    for name, make in recipes.items():
        try:
            obj = contract.resolve(name)
        except (ImportError, AttributeError) as error:
            problems.append(f"recipe {name}: no such public callable ({error})")
            continue
        by_object[id(obj)] = (name, make)
    need = {name: obj for name, obj in api.items() if _parameters(obj)}
    missing = sorted(name for name, obj in need.items() if id(obj) not in by_object)
    cases, timings, unclassified = [], {}, []
    n_params = classified = perturbed = 0
    only = _only()
    if only:  # a contributor's quick run over some modules; CI always sweeps everything
        need = {name: obj for name, obj in need.items() if name.startswith(only)}
        missing = [name for name in missing if name.startswith(only)]
    for name, obj in sorted(need.items()):
        if id(obj) not in by_object:
            continue
        if os.environ.get("CONTRACT_TRACE"):
            print(name, file=sys.stderr, flush=True)
        begun = time.perf_counter()
        found, parameters, problem = contract.sweep_one(name, obj, by_object[id(obj)][1], str(tmp_path))
        timings[name] = time.perf_counter() - begun
        plt.close("all")
        if problem:
            problems.append(f"{name}: {problem}")
            continue
        n_params += len(parameters)
        classified += sum(kind is not None for kind in parameters.values())
        perturbed += sum(kind is not None and not kind.startswith(("skip", "object")) for kind in parameters.values())
        unclassified += [f"{name}({p})" for p, kind in parameters.items() if kind is None]
        cases.extend(found)
    failures, rules_used, tally = [], {}, {}
    for case in cases:
        tally[case.outcome] = tally.get(case.outcome, 0) + 1
        if case.outcome == "clear":
            continue
        rule = accepted_by(case)
        if rule:
            case.rule = rule
            rules_used[rule] = rules_used.get(rule, 0) + 1
            continue
        failures.append(case)
    return dict(api=api, need=need, missing=missing, problems=problems, cases=cases, timings=timings,
                n_params=n_params, classified=classified, perturbed=perturbed, unclassified=unclassified,
                failures=failures, rules_used=rules_used,
                tally=tally,
                elapsed=time.perf_counter() - started)


def summary(r):
    coverage = r["classified"] / max(r["n_params"], 1)
    accepted = sum(r["rules_used"].values())
    clear = r["tally"].get("clear", 0)
    return (f"contract sweep: {len(r['api'])} entry points in scope, {len(r['need'])} with parameters, "
            f"{len(r['need']) - len(r['missing'])} with recipes; parameters {r['classified']}/{r['n_params']} "
            f"classified ({coverage:.1%}), {r['perturbed']} perturbed; {len(r['cases'])} hostile values tried: "
            f"{clear} clear, {accepted} accepted by {len(r['rules_used'])}/{len(RULES)} rules, "
            f"{len(r['failures'])} failing (raw outcomes: "
            + ", ".join(f"{k} {v}" for k, v in sorted(r["tally"].items())) + f"); {r['elapsed']:.0f} s")


@pytest.fixture
def fake_mnist_md5(tmp_path, monkeypatch):
    """The MNIST recipes write small fake files (tests/fake_mnist.py); their md5 values replace the real ones."""
    from fake_mnist import write_fake_mnist

    from nncourse.data import download
    monkeypatch.delenv("NNCOURSE_MNIST_SAMPLE", raising=False)
    _, md5 = write_fake_mnist(tmp_path / "fake_mnist")  # the recipes write the same files (same seed)
    for file_name, digest in md5.items():
        monkeypatch.setitem(download.MNIST_MD5, file_name, digest)


def test_api_contract(tmp_path, capsys, fake_mnist_md5):
    r = run_sweep(tmp_path)
    coverage = r["classified"] / max(r["n_params"], 1)
    with capsys.disabled():
        print("\n" + summary(r))
        if os.environ.get("CONTRACT_VERBOSE"):
            for name in sorted(r["timings"], key=r["timings"].get)[-12:]:
                print(f"  slowest: {name} {r['timings'][name]:.1f} s")
            for case in r["failures"]:
                print("  ", case.line())
    message = []
    if r["missing"]:
        message.append(f"{len(r['missing'])} public callables have no recipe: " + ", ".join(r["missing"]))
    if r["problems"]:
        message.append(f"{len(r['problems'])} recipes are broken:\n  " + "\n  ".join(r["problems"]))
    if coverage < 0.95 and not _only():  # a few modules alone may fall below; the whole package may not
        message.append(f"parameter coverage {coverage:.1%} < 95 %; unclassified: " + ", ".join(r["unclassified"]))
    if len(RULES) > 40 or any(len(reason) < 40 for _name, reason, _accepts in RULES):
        message.append(f"the allowlist has {len(RULES)} rules: keep it to about 40, each with a reason a reviewer "
                       "can check (tests/contract_allowlist.py)")
    if r["failures"]:
        message.append(f"{len(r['failures'])} hostile calls did not end in a clear course error:\n  "
                       + "\n  ".join(case.line() for case in r["failures"]))
    if message:
        pytest.fail("\n\n".join(message), pytrace=False)
