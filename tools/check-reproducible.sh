#!/usr/bin/env bash
# Do the stored notebook outputs hold on every CPU? Runs strict nbval (the options of tools/test-all.sh)
# over the notebooks once per setting of a matrix of emulated CPUs, each variable set for that one
# command only, and prints a table: setting x failing cells, then the failing cells of each setting.
#
#   OPENBLAS_CORETYPE   Haswell, SkylakeX (only when /proc/cpuinfo shows avx512f), Zen, Sandybridge:
#                       NumPy's OpenBLAS uses another CPU's GEMM kernels
#   NPY_DISABLE_CPU_FEATURES  NumPy's own SIMD loops narrowed to its baseline (the AVX2/FMA3/AVX-512
#                       dispatch targets this CPU has; the baseline cannot be disabled)
#   ATEN_CPU_CAPABILITY default (no SIMD), avx2: torch's kernels
#   threads             1 and 2 BLAS threads (OMP_NUM_THREADS, OPENBLAS_NUM_THREADS, MKL_NUM_THREADS)
# A setting this CPU cannot run is skipped, and the table says so.
#
# Usage: tools/check-reproducible.sh [--serial | --workers N] [--only NAME[,NAME...]] [--list]
#                                    [notebook.ipynb | folder ...]
#   default notebooks: chapters/ exercises/ solutions/;  default: 2 pytest-xdist workers (--dist loadfile)
#   --only   run only the named settings (see --list), e.g. --only coretype-Sandybridge,threads-2
# Results (one JUnit XML per setting, and the summary) go to $NNCOURSE_ARTIFACTS/reproducible
# (default artifacts/reproducible). Exit status: 0 when no setting has a failing cell, 1 otherwise.
set -euo pipefail
# Each setting is exactly what its name says: no BLAS kernel choice inherited from the caller
# (tools/test-all.sh runs the tests under OPENBLAS_CORETYPE=Sandybridge).
unset OPENBLAS_CORETYPE
source "$(dirname "${BASH_SOURCE[0]}")/setup.sh"   # venv, one BLAS thread, PYTHONHASHSEED=0; cd repo
cd "$OLDPWD" 2>/dev/null || true
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

workers=2
only=""
list_only=0
targets=()
while [ $# -gt 0 ]; do
  case "$1" in
    --serial) workers=0 ;;
    --workers) shift; workers="$1" ;;
    --only) shift; only="$1" ;;
    --list) list_only=1 ;;
    -h|--help) sed -n '2,21p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
    -*) echo "[reproducible] unknown option $1 (see --help)" >&2; exit 2 ;;
    *) targets+=("$1") ;;
  esac
  shift
done
[ ${#targets[@]} -eq 0 ] && targets=("$repo/chapters" "$repo/exercises" "$repo/solutions")

out="${NNCOURSE_ARTIFACTS:-$repo/artifacts}/reproducible"
mkdir -p "$out"

# ---------------------------------------------------------------------------------------------------
# What this CPU can run
# (NNCOURSE_CPUINFO: another cpuinfo file, for the tests of this script)
flags=" $(grep -m1 '^flags' "${NNCOURSE_CPUINFO:-/proc/cpuinfo}" | cut -d: -f2) "
has() { [[ "$flags" == *" $1 "* ]]; }

# NumPy's dispatch targets that this CPU has, beyond NumPy's baseline (which cannot be disabled):
# the AVX2 / FMA3 / AVX-512 ones. NumPy 2.x switches its loops by these target names (X86_V3 =
# AVX2+FMA3, X86_V4 / AVX512_* = AVX-512); older NumPy by the feature names, so both are listed.
npy_disable="$(python - <<'PY'
import re
from numpy._core import _multiarray_umath as m
baseline = set(m.__cpu_baseline__)
names = [k for k, on in m.__cpu_features__.items()
         if on and k not in baseline and re.match(r"(AVX2|FMA3|AVX512|X86_V[34])", k)]
print(" ".join(names))
PY
)"

# name|environment (space-separated VAR=value)|what the CPU needs ("" = nothing)
settings=(
  "coretype-Haswell|OPENBLAS_CORETYPE=Haswell|avx2 fma"
  "coretype-SkylakeX|OPENBLAS_CORETYPE=SkylakeX|avx512f"
  "coretype-Zen|OPENBLAS_CORETYPE=Zen|avx2 fma"
  "coretype-Sandybridge|OPENBLAS_CORETYPE=Sandybridge|avx"
  "numpy-simd-baseline|NPY_DISABLE_CPU_FEATURES=${npy_disable// /,}|npy"
  "aten-default|ATEN_CPU_CAPABILITY=default|"
  "aten-avx2|ATEN_CPU_CAPABILITY=avx2|avx2 fma"
  "threads-1|OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 MKL_NUM_THREADS=1|"
  "threads-2|OMP_NUM_THREADS=2 OPENBLAS_NUM_THREADS=2 MKL_NUM_THREADS=2|"
)

if [ "$list_only" = 1 ]; then
  for s in "${settings[@]}"; do IFS='|' read -r name envs _ <<<"$s"; printf '%-22s %s\n' "$name" "$envs"; done
  exit 0
fi

# ---------------------------------------------------------------------------------------------------
# Never leave a process behind: every pytest run is tracked, and on exit (or Ctrl-C) the run and all
# its descendants (xdist workers, Jupyter kernels, which start in sessions of their own) are ended.
current=""
descendants() {
  local child
  for child in $(ps -o pid= --ppid "$1" 2>/dev/null); do
    echo "$child"
    descendants "$child"
  done
}
stop_run() {
  [ -n "$current" ] || return 0
  local pids
  pids="$current $(descendants "$current")"
  kill -TERM $pids 2>/dev/null || true
  sleep 2
  kill -KILL $pids 2>/dev/null || true
  current=""
}
trap 'stop_run' EXIT
trap 'echo "[reproducible] interrupted"; stop_run; exit 130' INT TERM

parallel=()
[ "$workers" != 0 ] && parallel=(-n "$workers" --dist loadfile)

summary="$out/summary.txt"
: > "$summary.rows"
: > "$summary.cells"
any_failed=0
echo "[reproducible] notebooks: ${targets[*]}"
echo "[reproducible] pytest workers: $([ "$workers" = 0 ] && echo serial || echo "$workers") ; results in $out"
for s in "${settings[@]}"; do
  IFS='|' read -r name envs needs <<<"$s"
  if [ -n "$only" ] && [[ ",$only," != *",$name,"* ]]; then continue; fi
  skip=""
  if [ "$needs" = npy ]; then
    [ -z "$npy_disable" ] && skip="no AVX2/FMA3/AVX-512 NumPy dispatch target to disable on this CPU"
  else
    for flag in $needs; do has "$flag" || skip="this CPU has no $flag"; done
  fi
  if [ -n "$skip" ]; then
    echo "[reproducible] SKIP $name: $skip"
    printf '%-22s %s\n' "$name" "skipped: $skip" >> "$summary.rows"
    continue
  fi
  echo "[reproducible] ===== $name: $envs ====="
  if [ "$needs" = npy ]; then
    # Say which of the named targets NumPy really switched off (it ignores names it cannot disable).
    env $envs python -c "
from numpy._core import _multiarray_umath as m
named = '$npy_disable'.split()
print('[reproducible] NumPy SIMD targets disabled:', ' '.join(k for k in named if not m.__cpu_features__.get(k)) or 'none',
      '| still reported on (feature flags, whose loops NumPy 2 dispatches through those targets):',
      ' '.join(k for k in named if m.__cpu_features__.get(k)) or 'none')"
  fi
  xml="$out/$name.xml"
  rm -f "$xml"
  start=$(date +%s)
  set +e
  env $envs python -m pytest "${parallel[@]}" -p no:cacheprovider -q -rf \
    --nbval --nbval-current-env --nbval-sanitize-with "$repo/tests/nbval_sanitize.cfg" \
    --nbval-cell-timeout=600 -o junit_family=xunit1 --junitxml="$xml" "${targets[@]}" > "$out/$name.log" 2>&1 &
  current=$!
  wait "$current"
  rc=$?
  set -e
  stop_run   # anything the run left behind (normally nothing)
  secs=$(( $(date +%s) - start ))
  tail -n 1 "$out/$name.log" | sed "s/^/[reproducible] $name: /"
  # Failing cells from the JUnit XML: "notebook::Cell N" for every failure or error.
  if python - "$xml" "$name" "$rc" "$secs" "$summary" <<'PY'
import os, sys, xml.etree.ElementTree as ET
xml, name, rc, secs, summary = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4], sys.argv[5]
failed, total = [], 0
if os.path.exists(xml):
    for case in ET.parse(xml).getroot().iter("testcase"):
        total += 1
        if case.find("failure") is not None or case.find("error") is not None:
            where = case.get("file") or case.get("classname", "").replace(".", "/")
            failed.append(f"{where}::{case.get('name')}")
note = ""
if rc not in (0, 1) or not total:
    note = f" (pytest exit {rc}: see {name}.log)"
with open(summary + ".rows", "a") as f:
    f.write(f"{name:<22} {len(failed):>3} failing of {total:>4} cells, {secs:>5} s{note}\n")
with open(summary + ".cells", "a") as f:
    f.write(f"{name}:\n" + "".join(f"    {c}\n" for c in failed) if failed else f"{name}: none\n")
sys.exit(1 if failed or note else 0)
PY
  then :; else any_failed=1; fi
done

{
  echo "Failing cells per setting (strict nbval; ${targets[*]})"
  echo "setting                 failing"
  cat "$summary.rows"
  echo
  cat "$summary.cells"
} > "$summary"
rm -f "$summary.rows" "$summary.cells"
echo
cat "$summary"
exit "$any_failed"
