#!/usr/bin/env bash
# Set up everything the book and the tests need, idempotently:
#   a virtual environment in .venv with requirements.txt (the course package included, editable),
#   and the JavaScript the offline book serves itself (npm: require.js, the widget manager, MathJax).
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
want="$(cat requirements.txt pyproject.toml | sha256sum | cut -d' ' -f1)"
if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  echo "[setup] installing requirements.txt (first time: a few minutes, torch is large)"
  .venv/bin/python -m pip install -q --upgrade pip
  .venv/bin/python -m pip install -q -r requirements.txt
  echo "$want" > "$stamp"
fi

if [ -f package-lock.json ]; then
  lock="$(sha256sum package-lock.json | cut -d' ' -f1)"
  if [ "$(cat node_modules/.lock.sha256 2>/dev/null)" != "$lock" ]; then
    echo "[setup] installing the book's local JavaScript (npm ci)"
    npm ci --no-audit --no-fund --loglevel=error
    echo "$lock" > node_modules/.lock.sha256
  fi
fi

export PATH="$repo/.venv/bin:$PATH"
# One BLAS thread: notebook outputs are then bit-for-bit what nbval expects, and timings are steadier.
export OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 MKL_NUM_THREADS=1
export PYTHONHASHSEED=0
