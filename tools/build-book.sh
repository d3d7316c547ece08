#!/usr/bin/env bash
# README command 1: set up and build the book into _build/html (it shows the notebooks' stored outputs).
# Works without Node.js: the book then loads its JavaScript from CDNs (setup.sh says so in one line).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/setup.sh"
start=$(date +%s)
jupyter-book build . -W -n --keep-going "$@"
echo "[build-book] built _build/html/index.html in $(( $(date +%s) - start )) s"
