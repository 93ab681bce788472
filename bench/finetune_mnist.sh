#!/usr/bin/env bash
# Quantization-aware fine-tuning of mnist_cnn against post-training quantization, per weight
# width. Split of ../shared/models/mnist_cnn (2000 labelled digits): rows 0..999 of test_x.npy
# train, rows 1000..1999 evaluate (never seen by training); calib.npy (100 unlabelled digits)
# calibrates every compile. Each model is compiled with `nibble compile` and run with the
# integer interpreter on the tile level (bit-exact with the generated C), then scored.
#
#   bench/finetune_mnist.sh [WIDTHS] [EPOCHS]      # default: "ternary 2", 5
# Needs: numpy (python3), a built nibble (NIBBLE=…, default target/debug/nibble).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
shared=${SHARED:-$root/../shared/models/mnist_cnn}
nibble=${NIBBLE:-${CARGO_TARGET_DIR:-$root/target}/debug/nibble}
widths=${1:-ternary 2}
epochs=${2:-5}
w=$(mktemp -d)
trap 'rm -rf "$w"' EXIT
python3 - "$shared" "$w" <<'PY'
import sys, numpy as np
s, w = sys.argv[1], sys.argv[2]
x = np.load(f"{s}/test_x.npy"); l = np.load(f"{s}/test_labels.npy")
np.save(f"{w}/train_x.npy", x[:1000]); np.save(f"{w}/train_l.npy", l[:1000])
np.save(f"{w}/eval_x.npy", x[1000:]); np.save(f"{w}/eval_l.npy", l[1000:])
PY
score() { # MODEL_OR_MLIR → top-1 on the evaluation rows
    rm -rf "$w/o"; "$nibble" run "$1" --input "$w/eval_x.npy" --out-dir "$w/o" >/dev/null
    "$nibble" eval "$w/o/out0.npy" --labels "$w/eval_l.npy"
}
compiled() { # MODEL WIDTH [FLAGS…] → top-1 of the integer program
    local m=$1 b=$2; shift 2
    rm -rf "$w/c"; "$nibble" compile "$m" --calib "$shared/calib.npy" --weight-bits "$b" "$@" -o "$w/c" 2>/dev/null
    score "$w/c/model.tile.mlir"
}
echo "FP32: $(score "$shared/model.onnx")"
for b in $widths; do
    echo "PTQ $b (GPTQ rounding, the default): $(compiled "$shared/model.onnx" "$b")"
    echo "PTQ $b (nearest rounding): $(compiled "$shared/model.onnx" "$b" --weight-rounding nearest)"
    start=$(date +%s)
    "$nibble" finetune "$shared/model.onnx" --data "$w/train_x.npy" --labels "$w/train_l.npy" \
        --weight-bits "$b" --epochs "$epochs" --seed 1 -o "$w/tuned.onnx" 2>&1 | tail -1
    echo "  (fine-tuning: $(( $(date +%s) - start )) s)"
    echo "QAT $b (nearest rounding): $(compiled "$w/tuned.onnx" "$b" --weight-rounding nearest)"
    echo "QAT $b (GPTQ rounding): $(compiled "$w/tuned.onnx" "$b")"
done
