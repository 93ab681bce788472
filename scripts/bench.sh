#!/usr/bin/env bash
# Latency benchmark (not a test), one thread, batch 1, on this machine:
#   - nibble's float interpreter (median per sample over the test inputs),
#   - nibble's generated INT8 C built with -O2 (median of RUNS runs), where the model compiles,
#   - onnxruntime FP32 and INT8 (QDQ, per-channel S8 weights, U8 activations) when the
#     onnxruntime Python package is importable,
#   - the ratios nibble / ORT and nibble's G MAC/s against the MAC limit (MAC_LIMIT_G).
# Usage: [NIBBLE=path] [LATENCY_ONLY=1] [MAC_LIMIT_G=189] scripts/bench.sh [MODEL_DIR] [RUNS]
# MODEL_DIR has model.onnx, meta.json, calib.npy (optional), test_x.npy — e.g.
# ../shared/models/ppocr_rec.
set -euo pipefail
cd "$(dirname "$0")/.."
M=${1:-tests-data/mnist_cnn}
RUNS=${2:-500}
# NIBBLE: a nibble binary to use instead of building target/release/nibble.
if [ -z "${NIBBLE:-}" ]; then
  cargo build --release -q -p nibble-cli
  NIBBLE=target/release/nibble
fi
SHAPE=$(python3 -c "import json,sys; m=json.load(open(sys.argv[1])); print(m['input'] + '=1,' + ','.join(map(str, m['input_shape'])))" "$M/meta.json")
CALIB="$M/calib.npy"; [ -f "$CALIB" ] || CALIB="$M/test_x.npy"
OUT=$(mktemp -d)
trap 'rm -rf "$OUT"' EXIT
echo "model: $M (input $SHAPE; one thread, batch 1)"
# LATENCY_ONLY=1: skip the float interpreter and the compile-time measurements.
if [ -z "${LATENCY_ONLY:-}" ]; then
  echo "nibble float interpreter: $($NIBBLE run "$M/model.onnx" --input-shape "$SHAPE" --input "$M/test_x.npy" --out-dir "$OUT/fp32" --timing 2>&1 | sed 's/^graph interpreter: //')"
  # Compile time (import, calibration, quantization, lowering, C emission), wall clock: with the
  # default flags, and with the most accurate configuration (GPTQ rounding, 16-bit where chosen).
  SECONDS_OF() { python3 -c 'import subprocess, sys, time; t = time.time(); r = subprocess.run(sys.argv[1:], capture_output=True); print(f"{time.time() - t:.1f}" if r.returncode == 0 else "failed")' "$@"; }
  if [ -f "$M/calib.npy" ]; then
    T1=$(SECONDS_OF $NIBBLE compile "$M/model.onnx" --input-shape "$SHAPE" --calib "$CALIB" -o "$OUT/t1")
    T2=$(SECONDS_OF $NIBBLE compile "$M/model.onnx" --input-shape "$SHAPE" --calib "$CALIB" -o "$OUT/t2" --scheme asymmetric --granularity channel --ranges mse --weight-rounding gptq --bits auto)
    echo "nibble compile:           $T1 s (defaults), $T2 s (asymmetric/channel/mse + GPTQ + --bits auto), $(python3 -c "import numpy as np,sys; print(len(np.load(sys.argv[1], mmap_mode='r')))" "$CALIB") calibration inputs"
  fi
fi
NB_MS=""
if $NIBBLE compile "$M/model.onnx" --input-shape "$SHAPE" --calib "$CALIB" -o "$OUT/c" --emit-main 2>"$OUT/compile.log"; then
  cc -std=c99 -O2 -Wall -Wextra -Werror "$OUT"/c/*.c -o "$OUT/c/model"
  NB=$("$OUT/c/model" --bench "$RUNS" "$M/test_x.npy")
  NB_MS=$(echo "$NB" | sed -n 's/^median \([0-9.]*\) ms.*/\1/p')
  echo "nibble int8 C (-O2):      $NB"
else
  echo "nibble int8 C:            not available for this model yet ($(head -c 200 "$OUT/compile.log"))"
fi
FP32_MS=""; INT8_MS=""
if ort=$(python3 bench/ort_latency.py "$M/model.onnx" "$CALIB" "$M/test_x.npy" "$RUNS" 2>/dev/null); then
  echo "$ort" | sed 's/^FP32 /onnxruntime FP32:         median /; s/^INT8 \([0-9.]*\)$/onnxruntime INT8 (QDQ):   median \1/; s/\(median [0-9.]*\)$/\1 ms/'
  FP32_MS=$(echo "$ort" | sed -n 's/^FP32 \([0-9.]*\)$/\1/p')
  INT8_MS=$(echo "$ort" | sed -n 's/^INT8 \([0-9.]*\)$/\1/p')
else
  echo "onnxruntime is not installed here (pip install onnxruntime onnx); reference figures from shared/models/README.md:"
  grep -E "^\| $(basename "$M") " ../shared/models/README.md 2>/dev/null || echo "  (no shared/models/README.md beside this checkout)"
fi
# Ratios (below 1: nibble is faster), and nibble's MAC rate against the int8 MAC limit of one core
# (MAC_LIMIT_G, G int8 MAC/s: about 189 on the AVX-512 VNNI machine of issue 15; set it for
# another machine). The model's MACs are the manifest's.
if [ -n "$NB_MS" ]; then
  MACS=$(python3 -c "import json,sys; m = json.load(open(sys.argv[1])); print(m.get('totals', m)['macs'])" "$OUT/c/manifest.json" 2>/dev/null || echo "")
  python3 - "$NB_MS" "${FP32_MS:-}" "${INT8_MS:-}" "${MACS:-}" "${MAC_LIMIT_G:-189}" <<'PY'
import sys
nb, fp32, int8, macs, limit = sys.argv[1:6]
nb = float(nb)
line = []
if fp32: line.append(f"nibble / ORT FP32 = {nb / float(fp32):.2f}")
if int8: line.append(f"nibble / ORT INT8 = {nb / float(int8):.2f}")
if fp32 and int8: line.append(f"nibble / ORT best = {nb / min(float(fp32), float(int8)):.2f}")
if line: print("ratios:                   " + ", ".join(line))
if macs:
    g = int(macs) / (nb * 1e-3) / 1e9
    print(f"nibble MAC rate:          {int(macs) / 1e6:.1f} M MACs, {g:.1f} G MAC/s, {100 * g / float(limit):.1f} % of {float(limit):.0f} G MAC/s")
PY
fi
