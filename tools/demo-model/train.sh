#!/usr/bin/env bash
# Trains the demo model from scratch and exports it to Models/demo: checks the PyTorch Latte-skip
# against the golden fixture, trains the VAE, encodes the clips, trains the Latte-skip, exports.
# Deterministic for a given seed and thread count (2); see README.md for the timings.
#   PYTHON=/path/to/venv/bin/python tools/demo-model/train.sh
set -euo pipefail
cd "$(dirname "$0")"
PY=${PYTHON:-python3}
WORK=${WORK:-work}
OUT=${OUT:-../../Models/demo}
mkdir -p "$WORK"
start=$(date +%s)
"$PY" verify_fixture.py
"$PY" train_vae.py --work "$WORK" 2>&1 | tee "$WORK/train_vae.log"
"$PY" train_latte.py --work "$WORK" 2>&1 | tee "$WORK/train_latte.log"
"$PY" export.py --work "$WORK" --out "$OUT"
echo "train.sh: done in $(( $(date +%s) - start )) s; weights in $OUT"
