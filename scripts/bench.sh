#!/usr/bin/env bash
# Latency benchmark (not a test): nibble's generated C vs onnxruntime on the same machine.
# Usage: scripts/bench.sh [MODEL_DIR] [RUNS]   MODEL_DIR has model.onnx, calib.npy, test_x.npy.
set -euo pipefail
cd "$(dirname "$0")/.."
M=${1:-tests-data/mnist_cnn}
RUNS=${2:-500}
cargo build --release -q -p nibble-cli
OUT=$(mktemp -d)
target/release/nibble compile "$M/model.onnx" --calib "$M/calib.npy" -o "$OUT" --emit-main 2>/dev/null
cc -std=c99 -O2 -Wall -Wextra -Werror "$OUT"/*.c -o "$OUT/model"
echo "model: $M (one thread, batch 1, median of $RUNS runs)"
echo "nibble int8 C (-O2):  $("$OUT/model" --bench "$RUNS" "$M/test_x.npy")"
if ort=$(python3 bench/ort_latency.py "$M/model.onnx" "$M/calib.npy" "$M/test_x.npy" "$RUNS" 2>/dev/null); then
  echo "$ort" | sed 's/^FP32 /onnxruntime FP32:      median /; s/^INT8 \([0-9.]*\)$/onnxruntime INT8 (QDQ): median \1/; s/$/ ms/; s/unavailable\(.*\) ms$/unavailable\1/'
else
  echo "onnxruntime is not installed here (pip install onnxruntime); reference figures from shared/models/README.md:"
  grep -E "^\| $(basename "$M") " ../shared/models/README.md 2>/dev/null || echo "  (no shared/models/README.md beside this checkout)"
fi
rm -rf "$OUT"
