#!/usr/bin/env bash
# The main job on the bundled example model (mnist_cnn): set up, build, compile to integer-only
# C, build the C with a plain C compiler, run it on the 2000 test digits, and print its accuracy
# next to the float model's (nibble's float interpreter, which matches onnxruntime FP32).
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh
cargo build --release -p nibble-cli
NIBBLE=target/release/nibble
M=tests-data/mnist_cnn
OUT=out/mnist_cnn
$NIBBLE compile $M/model.onnx --calib $M/calib.npy -o $OUT --emit-main
cc -std=c99 -O2 -Wall -Wextra -Werror $OUT/*.c -o $OUT/model
echo "running the generated program on $M/test_x.npy"
$OUT/model $M/test_x.npy $OUT/int8
echo "running the float model (nibble's float interpreter)"
$NIBBLE run $M/model.onnx --input $M/test_x.npy --out-dir $OUT/fp32
echo "float32 model: $($NIBBLE eval $OUT/fp32/out0.npy --labels $M/test_labels.npy)"
echo "int8 C (nibble): $($NIBBLE eval $OUT/int8/out0.npy --labels $M/test_labels.npy --reference $OUT/fp32/out0.npy)"
