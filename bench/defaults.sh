#!/usr/bin/env bash
# Accuracy with default flags: `nibble compile MODEL --calib calib.npy -o OUT` and nothing else,
# for every model of a shared-models directory (default ../shared/models), next to FP32.
# Prints the compile time, then `nibble eval` of the integer program (the tile level, which the
# C matches bit for bit) on the model's test set: against the labels where there are any, and
# against nibble's float interpreter (decisions and SQNR per output).
#   bench/defaults.sh [MODELS_DIR] [-- EXTRA COMPILE FLAGS]
set -euo pipefail
cd "$(dirname "$0")/.."
models=${1:-../shared/models}
shift || true
[ "${1:-}" = "--" ] && shift
cargo build --quiet -p nibble-cli --bin nibble
nibble=${CARGO_TARGET_DIR:-$PWD/target}/debug/nibble
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
for dir in "$models"/*/; do
  name=$(basename "$dir")
  [ -f "$dir/model.onnx" ] && [ -f "$dir/calib.npy" ] || continue
  out=$work/$name
  start=$(date +%s.%N)
  "$nibble" compile "$dir/model.onnx" --calib "$dir/calib.npy" -o "$out" "$@" 2>"$work/$name.log" ||
    { echo "$name: compile failed"; tail -5 "$work/$name.log"; continue; }
  secs=$(echo "$(date +%s.%N) - $start" | bc)
  printf '%s: compiled in %.1f s\n' "$name" "$secs"
  grep -E '^(chose|search|  )' "$work/$name.log" || true
  shape=$(python3 -c "import numpy as np; print(','.join(map(str, np.load('$dir/calib.npy', mmap_mode='r').shape[1:])))")
  input=$(python3 -c "import json; print(json.load(open('$dir/meta.json'))['input'])")
  "$nibble" run "$dir/model.onnx" --input-shape "$input=1,$shape" --input "$dir/test_x.npy" \
    --out-dir "$work/$name.fp32" >/dev/null
  "$nibble" run "$out/model.tile.mlir" --input "$dir/test_x.npy" --out-dir "$work/$name.int" >/dev/null
  for o in "$work/$name.int"/out*.npy; do
    k=$(basename "$o")
    labels=()
    if [ "$k" = out0.npy ] && [ -f "$dir/test_labels.npy" ]; then labels=(--labels "$dir/test_labels.npy"); fi
    if [ "$k" = out0.npy ] && [ -f "$dir/test_labels.txt" ]; then
      labels=(--labels "$dir/test_labels.txt" --keys "$dir/keys.txt"); fi
    echo "  $k (FP32):"; "$nibble" eval "$work/$name.fp32/$k" "${labels[@]}" | sed 's/^/    /'
    echo "  $k (integer):"; "$nibble" eval "$o" "${labels[@]}" --reference "$work/$name.fp32/$k" | sed 's/^/    /'
  done
done
