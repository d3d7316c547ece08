"""The exercise and solution notebooks of chapters 1-6, the check command line, and make_exercises.

* The stored outputs of every solution notebook show each of its checks passing, in order, and those
  of every exercise notebook show each check "not implemented yet", with no cell error. nbval
  (``pytest --nbval exercises solutions``) proves that the stored outputs are what a fresh run prints,
  so together the two prove it for a fresh run, with each notebook executed once.
* ``python -m nncourse.checks`` on the solution and exercise notebooks of two chapters (the command
  line end to end: the summary lines and the exit status, 0 and 1).
* On an exercise notebook with a wrong answer and a broken cell: the failure, its hint and the cell
  error are reported.
* ``tools/make_exercises.py --check``: exercises/ is what the solutions generate; and the stub rules.

"""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = ["01_perceptron", "02_forward_pass", "03_loss_functions", "04_backpropagation", "05_optimizers",
             "06_mnist", "07_cnn", "08_sequences", "09_attention", "10_transformer", "11_generalization",
             "12_deep_networks", "13_autograd", "14_tokenization", "15_scaling", "16_modern_blocks",
             "18_finetuning", "19_quantization", "20_encoders"]
CHECKS = {
    "01_perceptron": ["step", "perceptron_update", "train_perceptron", "trained_gates", "is_separable", "n_separable"],
    "02_forward_pass": ["dense_forward", "sigmoid", "sigmoid_derivative", "relu", "softmax", "parameter_counts",
                        "torch_models", "mlp_forward"],
    "03_loss_functions": ["mse", "binary_cross_entropy", "cross_entropy", "cross_entropy_grad", "fixed_model"],
    "04_backpropagation": ["dense_backward", "sigmoid_backward", "relu_backward", "numerical_gradient",
                           "gradient_check", "hand_gradient"],
    "05_optimizers": ["sgd_momentum_step", "adam_step", "bowl_gradient", "race", "divergence"],
    "06_mnist": ["predict_proba", "build_mlp", "train_loop", "lr_results", "count_parameters", "n_parameters"],
    "07_cnn": ["output_size", "conv2d_forward", "maxpool_backward", "im2col", "conv_backward_weight"],
    "08_sequences": ["bigram_nll", "rnn_step", "rnn_bptt", "temperature_probs", "lstm_cell"],
    "09_attention": ["kernel_weights", "attention", "causal_mask", "softmax_backward", "split_merge_heads",
                     "mha_parameters"],
    "10_transformer": ["layer_norm_forward", "layer_norm_backward", "causal_attention_head", "gpt_parameter_count",
                       "top_k_probabilities", "residual_backward"],
    "11_generalization": ["dropout_forward", "dropout_backward", "l2_gradient", "should_stop", "best_epoch",
                          "shift_image"],
    "12_deep_networks": ["init_std", "batchnorm_forward", "running_stats_update", "batchnorm_backward",
                         "residual_block_backward"],
    "13_autograd": ["add_backward", "mul_backward", "tanh_backward", "topological_sort", "exp_op"],
    "14_tokenization": ["count_pairs", "merge", "encode", "decode", "bits_per_byte"],
    "15_scaling": ["train_step", "sharded_gradient", "accumulate_gradients", "adam_memory_bytes",
                   "checkpoint_round_trip"],
    "16_modern_blocks": ["rms_norm", "rotate", "interleaved_to_halves", "kv_cache_bytes", "cached_attention_step"],
    "18_finetuning": ["lora_forward", "lora_grad_B", "lora_trainable_parameters", "merge_lora_weight",
                      "label_scores"],
    "19_quantization": ["quantize_int8", "q8_0_block", "q4_1_block", "relative_error", "bytes_per_parameter"],
    "20_encoders": ["wordpiece", "mean_pool", "cosine_similarity", "bidirectional_mask", "recall_at_k"],
}


def cli(*notebooks: Path | str, **extra_env: str) -> subprocess.CompletedProcess:
    env = dict(os.environ, OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1", MKL_NUM_THREADS="1", **extra_env)
    return subprocess.run([sys.executable, "-m", "nncourse.checks", *map(str, notebooks)], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=900)


def load_make_exercises():
    spec = importlib.util.spec_from_file_location("make_exercises", ROOT / "tools" / "make_exercises.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# --------------------------------------------------------------------------------------------------
# The command line on the real notebooks
# --------------------------------------------------------------------------------------------------


#: the chapters whose notebooks the command line runs end to end (two quick ones; the others are
#: executed once, by nbval, and their stored outputs checked below)
CLI_NOTEBOOKS = ["01_perceptron", "14_tokenization"]


def stored_check_lines(path: Path) -> tuple[list[str], int]:
    """The check result lines ("✓ name: ...", "… name: ...", "✗ ...", "? ...") among the stored outputs of
    a notebook's code cells, and how many error outputs it stores."""
    nb = nbformat.read(str(path), as_version=4)
    lines, errors = [], 0
    for cell in nb.cells:
        for output in cell.get("outputs", []) if cell.cell_type == "code" else []:
            if output["output_type"] == "error":
                errors += 1
            elif output["output_type"] == "stream":
                lines += output["text"].splitlines()
            elif "text/plain" in output.get("data", {}):
                lines += output["data"]["text/plain"].splitlines()
    return [line for line in lines if line[:2] in ("✓ ", "… ", "✗ ", "? ")], errors


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_stored_outputs_show_every_check_passing_on_the_solution_and_pending_on_the_exercise(name):
    for folder, result in (("solutions", "passed ("), ("exercises", "not implemented yet")):
        lines, errors = stored_check_lines(ROOT / folder / f"{name}.ipynb")
        assert errors == 0, f"{folder}/{name}.ipynb stores a cell error"
        assert [line.split(":", 1)[0][2:] for line in lines] == CHECKS[name], (folder, lines)
        assert all(line.split(": ", 1)[1].startswith(result) for line in lines), (folder, lines)


@pytest.mark.parametrize("name", CLI_NOTEBOOKS)
def test_every_check_passes_on_the_solution_notebook(name):
    result = cli(f"solutions/{name}.ipynb")
    assert result.returncode == 0, result.stdout + result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == f"solutions/{name}.ipynb:"
    for check_name in CHECKS[name]:
        assert any(line.startswith(f"  ✓ {check_name}: passed (") for line in lines), result.stdout
    n = len(CHECKS[name])
    assert lines[-1] == f"  {n} checks: {n} passed -- all passed"
    assert "Traceback" not in result.stdout + result.stderr


@pytest.mark.parametrize("name", CLI_NOTEBOOKS)
def test_every_check_is_not_implemented_yet_on_the_exercise_notebook(name):
    result = cli(f"exercises/{name}.ipynb")
    assert result.returncode == 1, result.stdout + result.stderr
    lines = result.stdout.splitlines()
    check_lines = [line for line in lines[1:-1]]
    assert len(check_lines) == len(CHECKS[name]), result.stdout  # no cell errors, nothing else
    for line, check_name in zip(check_lines, CHECKS[name]):
        assert line.startswith(f"  … {check_name}: not implemented yet"), line
    n = len(CHECKS[name])
    assert lines[-1] == f"  {n} checks: {n} not implemented yet"


def test_command_line_reports_wrong_answers_and_broken_cells(tmp_path):
    nb = nbformat.read(str(ROOT / "exercises" / "01_perceptron.ipynb"), as_version=4)
    code_cells = [cell for cell in nb.cells if cell.cell_type == "code"]
    step_cell = next(cell for cell in code_cells if cell.source.startswith("def step("))
    step_cell.source = "def step(z):\n    return np.where(z > 0, 1.0, 0.0)\n"
    update_cell = next(cell for cell in code_cells if cell.source.startswith("def perceptron_update("))
    nb.cells.remove(update_cell)  # the learner deleted a cell: its check cannot even be called
    broken = nbformat.v4.new_code_cell("1 / 0")
    nb.cells.insert(nb.cells.index(step_cell) + 1, broken)
    train_cell = next(cell for cell in code_cells if cell.source.startswith("def train_perceptron("))
    train_cell.source = "def train_perceptron(X, y, lr=1.0, epochs=10):\n    w = nq.zeros(X.shape[1])\n"
    endless_cell = next(cell for cell in code_cells if cell.source.startswith("def is_separable("))
    endless_cell.source = "def is_separable(X, y, weights=(-1.0, 0.0, 1.0), biases=(-1.5, -0.5, 0.5, 1.5)):\n" \
                          "    while True:\n        pass\n"
    path = tmp_path / "01_perceptron.ipynb"
    nbformat.write(nb, str(path))

    result = cli(path, NNCOURSE_CHECKS_TIME_LIMIT="2")
    assert result.returncode == 1
    out = result.stdout
    assert "  ✗ step: step([-2, -0.5, 0, 0.5, 3]) should be [0, 0, 1, 1, 1], yours returns [0, 0, 0, 1, 1]" in out
    assert "    Hint: at z = 0 the perceptron fires: step(0) is 1, so use z >= 0, not z > 0." in out
    assert "  ? perceptron_update: did not run (see the cell errors below)" in out
    assert "  … trained_gates: not implemented yet" in out
    # Numbered as the learner sees the code cells: without the hidden Colab set-up cell, from 1.
    visible = [cell for cell in nb.cells
               if cell.cell_type == "code" and "remove-cell" not in cell.metadata.get("tags", [])]
    assert len(visible) == len([cell for cell in nb.cells if cell.cell_type == "code"]) - 1
    broken_number = visible.index(broken) + 1
    assert f'  ! code cell {broken_number} ("1 / 0") raised ZeroDivisionError: division by zero' in out
    assert "raised NameError: name 'perceptron_update' is not defined" in out
    # The learner's error inside a check names the cell the same way, by number and first line.
    train_number = visible.index(train_cell) + 1
    assert ("  ✗ train_perceptron: your function raised NameError: name 'nq' is not defined "
            f'(line 2 of code cell {train_number} ("def train_perceptron(X, y, lr=1.0, ep...")'
            ": w = nq.zeros(X.shape[1]))") in out
    # The endless loop is stopped by the time limit, with one line and no traceback.
    assert ("  ✗ is_separable: is_separable took longer than 2 s, so the check stopped it: look for an endless loop"
            in out)
    assert "Traceback" not in out and "nncourse/checks" not in out
    assert out.splitlines()[-1] == "  6 checks: 3 failed, 2 not implemented yet, 1 did not run"


def test_command_line_usage_errors(tmp_path):
    missing = cli(tmp_path / "missing.ipynb")
    assert missing.returncode == 2 and "cannot read the notebook" in missing.stdout
    nb = nbformat.v4.new_notebook()
    nb.cells.append(nbformat.v4.new_code_cell("print(1 + 1)"))
    nbformat.write(nb, str(tmp_path / "no_checks.ipynb"))
    no_checks = cli(tmp_path / "no_checks.ipynb")
    assert no_checks.returncode == 2 and "calls no checks" in no_checks.stdout


def test_expected_checks_are_read_from_the_code():
    from nncourse.checks.__main__ import expected_checks

    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_code_cell("%matplotlib inline\nfrom nncourse.checks import ch02 as check"),
        nbformat.v4.new_code_cell("check.softmax(softmax)\ncheck.relu(relu); check.softmax(softmax)"),
        nbformat.v4.new_code_cell("import nncourse.checks.ch03 as c3\nc3.mse(mse)\nprint(other.relu(1))"),
        nbformat.v4.new_code_cell("this is not python ("),
    ]
    assert expected_checks(nb) == [("nncourse.checks.ch02", "softmax"), ("nncourse.checks.ch02", "relu"),
                                   ("nncourse.checks.ch03", "mse")]


# --------------------------------------------------------------------------------------------------
# The notebooks themselves
# --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_solution_notebook_structure(name):
    """Gated sphinx-exercise directives, unique labels, the chapter link and the Binder link."""
    nb = nbformat.read(str(ROOT / "solutions" / f"{name}.ipynb"), as_version=4)
    markdown = [cell.source for cell in nb.cells if cell.cell_type == "markdown"]
    starts = [s for s in markdown if s.startswith("```{exercise-start}")]
    labels = [s.split(":label: ", 1)[1].split("\n", 1)[0] for s in starts]
    assert len(starts) >= 4 and len(set(labels)) == len(labels)
    assert all(label.startswith(f"ex-ch{name[:2]}-") for label in labels)
    assert all(s.rstrip().endswith("```{exercise-end}\n```") for s in starts)
    solution_starts = [s for s in markdown if s.startswith("```{solution-start}")]
    assert [s.split()[1] for s in solution_starts] == labels  # one dropdown per exercise, in order
    assert all(":class: dropdown" in s for s in solution_starts)
    assert sum(s.startswith("```{solution-end}") for s in markdown) == len(labels)
    assert f"(../chapters/{name}.ipynb)" in markdown[0]
    assert f"{{binder}}`exercises/{name}.ipynb`" in markdown[0]
    for cell in nb.cells:
        for output in cell.get("outputs", []):
            assert output["output_type"] != "error"


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_exercise_notebook_hides_the_solutions(name):
    nb = nbformat.read(str(ROOT / "exercises" / f"{name}.ipynb"), as_version=4)
    text = "\n".join(cell.source for cell in nb.cells)
    assert "SOLUTION" not in text and "{solution-" not in text and "{exercise-" not in text
    # The book's launch roles would show as raw text in Jupyter; the solution page keeps its link.
    assert "{binder}" not in text and "{colab}" not in text
    solution = nbformat.read(str(ROOT / "solutions" / f"{name}.ipynb"), as_version=4)
    solution_text = "\n".join(c.source for c in solution.cells)
    assert f"{{binder}}`exercises/{name}.ipynb`" in solution_text
    assert text.count('raise NotImplementedError("your code here")') >= 4
    solution_nb = nbformat.read(str(ROOT / "solutions" / f"{name}.ipynb"), as_version=4)
    # no line of a solution region survives in the exercise
    for cell in solution_nb.cells:
        inside = False
        for line in cell.source.splitlines():
            if "BEGIN SOLUTION" in line:
                inside = True
            elif "END SOLUTION" in line:
                inside = False
            elif inside and len(line.strip()) > 25:
                assert line not in text, line


# --------------------------------------------------------------------------------------------------
# tools/make_exercises.py
# --------------------------------------------------------------------------------------------------


def test_exercises_are_in_sync_with_solutions():
    result = subprocess.run([sys.executable, "tools/make_exercises.py", "--check", *NOTEBOOKS], cwd=ROOT,
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.count("in sync") == len(NOTEBOOKS)


def test_check_notices_an_out_of_date_exercise(tmp_path, monkeypatch):
    tool = load_make_exercises()
    (tmp_path / "solutions").mkdir()
    (tmp_path / "exercises").mkdir()
    monkeypatch.setattr(tool, "ROOT", tmp_path)
    monkeypatch.setattr(tool, "SOLUTIONS", tmp_path / "solutions")
    monkeypatch.setattr(tool, "EXERCISES", tmp_path / "exercises")
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell("def f(x):\n    # BEGIN SOLUTION\n    return 2 * x\n    # END SOLUTION")]
    nbformat.write(nb, str(tmp_path / "solutions" / "demo.ipynb"))
    assert tool.main(["--check"]) == 1  # no exercise yet
    assert tool.main([]) == 0  # writes it
    assert tool.main(["--check"]) == 0
    nb.cells[0].source = nb.cells[0].source.replace("def f(x)", "def f(x, y=1)")
    nbformat.write(nb, str(tmp_path / "solutions" / "demo.ipynb"))
    assert tool.main(["--check", "demo"]) == 1


def test_function_regions_become_not_implemented():
    tool = load_make_exercises()
    source = (
        "def f(x):\n"
        '    """Doc."""\n'
        "    # BEGIN SOLUTION\n"
        "    y = x + 1\n"
        "    return y\n"
        "    # END SOLUTION\n"
        "\n"
        "\n"
        "def g():\n"
        "    # BEGIN SOLUTION\n"
        "    pass\n"
        "    # END SOLUTION"
    )
    assert tool.stub_code(source) == (
        'def f(x):\n    """Doc."""\n    raise NotImplementedError("your code here")\n\n\n'
        'def g():\n    raise NotImplementedError("your code here")'
    )


def test_top_level_regions_keep_their_assignments_as_placeholders():
    tool = load_make_exercises()
    source = (
        "torch.manual_seed(0)\n"
        "# BEGIN SOLUTION\n"
        "n = 784 * 10 + 10\n"
        "w, b = train(X, y)\n"
        "model = nn.Sequential(\n"
        "    nn.Linear(4, 3),\n"
        ")\n"
        "count: int = 3\n"
        "print(n)\n"
        "# END SOLUTION\n"
        "check.n(n)"
    )
    assert tool.stub_code(source) == (
        "torch.manual_seed(0)\n"
        "n = ...  # your code here\n"
        "w, b = ..., ...  # your code here\n"
        "model = ...  # your code here\n"
        "count: int = ...  # your code here\n"
        "check.n(n)"
    )
    assert tool.stub_code("# BEGIN SOLUTION\nprint(1)\n# END SOLUTION") == "# your code here"


def test_markdown_answers_and_directives():
    tool = load_make_exercises()
    assert tool.stub_markdown("**1.**\n\n<!-- BEGIN SOLUTION -->\nBecause.\nReally.\n<!-- END SOLUTION -->\n") == \
        "**1.**\n\n*Your answer here.*\n"
    statement = "```{exercise-start} Title\n:label: ex-ch09-x\n```\n\nDo this.\n\n```{exercise-end}\n```"
    assert tool.strip_exercise_fences(statement) == "Do this."
    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_markdown_cell(statement),
        nbformat.v4.new_markdown_cell("```{solution-start} ex-ch09-x\n:class: dropdown\n```"),
        nbformat.v4.new_code_cell("# BEGIN SOLUTION\nanswer = 42\n# END SOLUTION", execution_count=3,
                                  outputs=[nbformat.v4.new_output("stream", text="42\n")]),
        nbformat.v4.new_markdown_cell("```{solution-end}\n```"),
        nbformat.v4.new_code_cell("check.answer(answer)"),
    ]
    exercise = tool.make_exercise(nb)
    assert [(c.cell_type, c.source) for c in exercise.cells] == [
        ("markdown", "Do this."),
        ("code", "answer = ...  # your code here"),
        ("code", "check.answer(answer)"),
    ]
    assert exercise.cells[1].outputs == [] and exercise.cells[1].execution_count is None


@pytest.mark.parametrize("source", [
    "# BEGIN SOLUTION\nx = 1\n",
    "x = 1\n# END SOLUTION",
    "# BEGIN SOLUTION\n# BEGIN SOLUTION\n# END SOLUTION\n# END SOLUTION",
    "# BEGIN SOLUTION\nx[0] = 1\n# END SOLUTION",
])
def test_malformed_markers_are_refused(source):
    tool = load_make_exercises()
    with pytest.raises(tool.SolutionMarkupError):
        tool.stub_code(source)
