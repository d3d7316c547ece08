#!/usr/bin/env bash
# README command 2: set up, build the book, and run every test:
#   the library and data tests, every notebook under nbval, and the built site in headless Chromium.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/setup.sh"

if [ -z "${NNCOURSE_MNIST_SAMPLE:-}" ]; then
  echo "[test-all] NNCOURSE_MNIST_SAMPLE is not set: the MNIST notebooks and tests use the full data set"
  echo "           (downloaded into data/ on first use)."
fi

# The browser tests need Chromium; install it when we can (root on Debian), as CI does.
if ! command -v chromium >/dev/null 2>&1 && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "[test-all] installing chromium and chromium-driver for the browser tests"
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver >/dev/null
fi

mkdir -p artifacts
start=$(date +%s)
jupyter-book build . -W -n --keep-going 2>&1 | tee artifacts/book-build.log
echo "[test-all] book built in $(( $(date +%s) - start )) s"

# Library tests, every notebook (chapters, exercises and solutions: strict nbval), and the built site.
# Two pytest workers (pytest-xdist), one per core, each with one BLAS thread; --dist loadfile keeps a
# notebook's cells (and a test file's tests) on one worker, in order. NNCOURSE_TEST_WORKERS=0 runs
# everything in one process.
workers="${NNCOURSE_TEST_WORKERS:-2}"
parallel=()
[ "$workers" != 0 ] && parallel=(-n "$workers" --dist loadfile)
status=0
python -m pytest "${parallel[@]}" tests chapters exercises solutions --nbval \
  --nbval-sanitize-with tests/nbval_sanitize.cfg --nbval-cell-timeout=600 "$@" || status=$?

# The chapters once more under another CPU's BLAS kernels: a stored output that holds only on the CPU
# that wrote it (a chaotic float64 run, an epoch of divergence) fails here even on that CPU. Sandybridge's
# kernels differ from both Haswell's (AVX2) and SkylakeX's (AVX-512); on a CPU without AVX2, where the
# native kernels may be Sandybridge's, Nehalem's are used. NNCOURSE_EXTRA_CORETYPE picks another one,
# "none" skips the run. The whole matrix of settings: tools/check-reproducible.sh.
extra="${NNCOURSE_EXTRA_CORETYPE:-Sandybridge}"
if [ "$extra" = Sandybridge ] && ! grep -qw avx2 /proc/cpuinfo 2>/dev/null; then extra=Nehalem; fi
if [ "$extra" != none ]; then
  echo
  echo "[test-all] ===== second run: chapters/ under OPENBLAS_CORETYPE=$extra (another CPU's BLAS kernels) ====="
  extra_start=$(date +%s)
  OPENBLAS_CORETYPE="$extra" python -m pytest "${parallel[@]}" -p no:cacheprovider -q chapters --nbval \
    --nbval-sanitize-with tests/nbval_sanitize.cfg --nbval-cell-timeout=600 || status=$?
  echo "[test-all] second run (OPENBLAS_CORETYPE=$extra) took $(( $(date +%s) - extra_start )) s"
fi
exit "$status"
