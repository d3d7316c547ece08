#!/usr/bin/env bash
# README command 1: set up and build the book into _build/html (notebooks executed; cached between builds).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/setup.sh"
start=$(date +%s)
jupyter-book build . -W -n --keep-going "$@"
echo "[build-book] built _build/html/index.html in $(( $(date +%s) - start )) s"
