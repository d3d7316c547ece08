#!/usr/bin/env bash
# Execute notebooks in place with the settings nbval uses (one BLAS thread, seeded), storing outputs.
# Usage: tools/execute-notebook.sh chapters/01_perceptron.ipynb [more.ipynb ...]
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/setup.sh"
cd "$OLDPWD" 2>/dev/null || true
for nb in "$@"; do
  echo "[execute] $nb"
  jupyter nbconvert --to notebook --execute --inplace --ExecutePreprocessor.timeout=600 \
    --ExecutePreprocessor.store_widget_state=True "$nb"
  # Drop the per-cell execution timestamps nbclient records: they would change on every run.
  python - "$nb" <<'PY'
import sys, nbformat
nb = nbformat.read(sys.argv[1], as_version=4)
for cell in nb.cells:
    cell.metadata.pop("execution", None)
nbformat.write(nb, sys.argv[1])
PY
done
