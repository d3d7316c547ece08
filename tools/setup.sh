#!/usr/bin/env bash
# Set up everything the book and the tests need, idempotently:
#   a virtual environment in .venv with requirements.txt (the course package included, editable)
#   and the pinned packages installed without their dependencies (tools/install-no-deps.sh),
#   and, when npm (Node.js) is installed, the JavaScript the offline book serves itself (require.js,
#   the widget manager, MathJax); without npm the book loads them from CDNs.
# Sourced by build-book.sh and test-all.sh; safe to run again (quick when nothing changed).
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo"

PYTHON="${PYTHON:-python3}"
if [ ! -x .venv/bin/python ]; then
  echo "[setup] creating .venv with $($PYTHON --version)"
  "$PYTHON" -m venv .venv
fi
stamp=.venv/.requirements.sha256
want="$(cat requirements.txt pyproject.toml tools/install-no-deps.sh | sha256sum | cut -d' ' -f1)"
if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  echo "[setup] installing requirements.txt (first time: a few minutes, torch is large)"
  .venv/bin/python -m pip install -q --upgrade pip
  .venv/bin/python -m pip install -q -r requirements.txt
  PYTHON=.venv/bin/python bash tools/install-no-deps.sh
  echo "$want" > "$stamp"
fi

# The local JavaScript is optional: without Node.js the book loads the same versions from CDNs
# (_ext/offline_js.py decides by looking for node_modules/). Only the offline browser test needs it.
if [ -f package-lock.json ]; then
  lock="$(sha256sum package-lock.json | cut -d' ' -f1)"
  if [ "$(cat node_modules/.lock.sha256 2>/dev/null)" != "$lock" ]; then
    if command -v npm >/dev/null 2>&1; then
      echo "[setup] installing the book's local JavaScript (npm ci)"
      npm ci --no-audit --no-fund --loglevel=error
      echo "$lock" > node_modules/.lock.sha256
    elif [ -d node_modules ]; then
      echo "[setup] npm not found: keeping the existing node_modules/ (it may not match package-lock.json)"
    else
      echo "[setup] npm not found: the book will load its JavaScript (MathJax, widgets) from CDNs; install Node.js to serve it locally"
    fi
  fi
fi

export PATH="$repo/.venv/bin:$PATH"
# One BLAS thread: notebook outputs are then bit-for-bit what nbval expects, and timings are steadier.
export OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 MKL_NUM_THREADS=1
export PYTHONHASHSEED=0
