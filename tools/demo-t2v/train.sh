#!/usr/bin/env bash
# Trains the text-to-video demo model from scratch and exports it to Models/demo-t2v: checks the
# PyTorch Latte T2V-skip against the golden fixture, trains the tokenizer and the temporal VAE,
# encodes the clips, trains the T5 encoder and the transformer together, exports.
# Deterministic for a given seed, thread count (2) and CPU; every stage resumes or is skipped when its
# output exists (train_t2v.py continues from WORK/t2v.pt). See README.md.
#   PYTHON=/path/to/venv/bin/python tools/demo-t2v/train.sh
set -euo pipefail
cd "$(dirname "$0")"
PY=${PYTHON:-python3}
WORK=${WORK:-work}
OUT=${OUT:-../../Models/demo-t2v}
mkdir -p "$WORK"
start=$(date +%s)
"$PY" verify_fixture.py
[ -f "$WORK/tokenizer/spiece.model" ] || "$PY" train_tokenizer.py --work "$WORK" 2>&1 | tee "$WORK/train_tokenizer.log"
[ -f "$WORK/vae/config.json" ] || "$PY" train_vae.py --work "$WORK" 2>&1 | tee "$WORK/train_vae.log"
"$PY" train_t2v.py --work "$WORK" 2>&1 | tee -a "$WORK/train_t2v.log"
"$PY" export.py --work "$WORK" --out "$OUT"
echo "train.sh: done in $(( $(date +%s) - start )) s; weights in $OUT"
