#!/usr/bin/env bash
# README command 2: set up, build the book, and run every test:
#   the library and data tests, every notebook under nbval, and the built site in headless Chromium.
set -euo pipefail
# A name OpenBLAS does not know is ignored without a word (the native kernels run), so refuse it here.
case "${NNCOURSE_EXTRA_CORETYPE:-Sandybridge}" in
  none|Nehalem|Sandybridge|Haswell|SkylakeX|CooperLake|SapphireRapids|Zen|Penryn|Core2|Prescott) ;;
  *) echo "[test-all] NNCOURSE_EXTRA_CORETYPE=$NNCOURSE_EXTRA_CORETYPE is not an OpenBLAS x86 core type this" \
          "script knows: use Sandybridge (the default), Nehalem, Haswell, SkylakeX, Zen, or none for the" \
          "native kernels" >&2
     exit 2 ;;
esac
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

# Library tests, every notebook (chapters, exercises and solutions: strict nbval), and the built site,
# all in one session and each notebook executed once. Two pytest workers (pytest-xdist), one per core,
# each with one BLAS thread; --dist loadfile keeps a notebook's cells (and a test file's tests) on one
# worker, in order, and the longest files go first so that none is left running alone at the
# end. NNCOURSE_TEST_WORKERS=0 runs everything in one process.
#
# Everything runs under another CPU's BLAS kernels: a stored output that holds only on the CPU that
# wrote it (a chaotic float64 run, an epoch of divergence) fails here even on that CPU, because
# tools/execute-notebook.sh writes outputs with the native kernels (Haswell/Zen with AVX2, SkylakeX with
# AVX-512) and Sandybridge's (AVX, no FMA) differ from all of them. On a CPU without AVX2, where the
# native kernels may be Sandybridge's, Nehalem's are used. NNCOURSE_EXTRA_CORETYPE picks another one,
# "none" keeps the native kernels. The whole matrix of settings: tools/check-reproducible.sh.
workers="${NNCOURSE_TEST_WORKERS:-2}"
parallel=()
[ "$workers" != 0 ] && parallel=(-n "$workers" --dist loadfile)
extra="${NNCOURSE_EXTRA_CORETYPE:-Sandybridge}"
if [ "$extra" = Sandybridge ] && ! grep -qw avx2 /proc/cpuinfo 2>/dev/null; then extra=Nehalem; fi
kernels=()
if [ "$extra" != none ]; then
  kernels=(env OPENBLAS_CORETYPE="$extra")
  echo "[test-all] BLAS kernels: OPENBLAS_CORETYPE=$extra (another CPU's; NNCOURSE_EXTRA_CORETYPE=none keeps the native ones)"
fi
start=$(date +%s)
status=0
${kernels[@]+"${kernels[@]}"} python -m pytest "${parallel[@]}" \
  chapters/10_transformer.ipynb chapters/14_tokenization.ipynb tests/test_mnist_training.py \
  tests/test_smollm2.py chapters/17_smollm2.ipynb chapters/19_quantization.ipynb \
  tests chapters exercises solutions --nbval \
  --nbval-sanitize-with tests/nbval_sanitize.cfg --nbval-cell-timeout=600 "$@" || status=$?
echo "[test-all] tests took $(( $(date +%s) - start )) s"
exit "$status"
