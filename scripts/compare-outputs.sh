#!/usr/bin/env bash
# Behaviour check for refactors: runs two nibble binaries over the same models and flags and
# compares everything they write, byte for byte (the generated IR of every level, the C files,
# compile's messages, `nibble run` outputs of the tile level, and `nibble report` text).
# Usage: scripts/compare-outputs.sh OLD_NIBBLE NEW_NIBBLE [SHARED_MODELS_DIR]
#   e.g. git worktree add /tmp/old HEAD~1 && (cd /tmp/old && cargo build --release -p nibble-cli)
#        scripts/compare-outputs.sh /tmp/old/target/release/nibble target/release/nibble
# Exits 1 and lists the files that differ; prints "identical" otherwise.
set -uo pipefail
cd "$(dirname "$0")/.."
OLD=$(realpath "$1"); NEW=$(realpath "$2"); SHARED=${3:-../shared/models}
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT

# Cases: name | model | input shape | calibration | extra flags. Each runs with both binaries.
cases() {
  for m in mnist_cnn mtcnn_onet ppocr_cls ppocr_rec; do
    local dir="$SHARED/$m"; [ -d "$dir" ] || dir="tests-data/$m"
    local shape
    shape=$(python3 -c "import json,sys; m=json.load(open(sys.argv[1])); print(m['input'] + '=1,' + ','.join(map(str, m['input_shape'])))" "$dir/meta.json")
    echo "$m-default|$dir/model.onnx|$shape|$dir/calib.npy|"
    echo "$m-pow2|$dir/model.onnx|$shape|$dir/calib.npy|--scheme pow2 --granularity tensor"
    echo "$m-asym-mse|$dir/model.onnx|$shape|$dir/calib.npy|--scheme asymmetric --ranges mse"
    echo "$m-best|$dir/model.onnx|$shape|$dir/calib.npy|--scheme asymmetric --ranges mse --weight-rounding gptq --bits auto"
    echo "$m-equalize|$dir/model.onnx|$shape|$dir/calib.npy|--equalize --granularity tensor"
    echo "$m-datafree|$dir/model.onnx|$shape||--ranges data-free"
  done
  for f in tests-data/ops/*.onnx; do
    local n; n=$(basename "$f" .onnx)
    local calib="tests-data/ops/${n}_calib.npy"; [ -f "$calib" ] || calib="tests-data/ops/${n}_x.npy"
    echo "$n-default|$f||$calib|"
    echo "$n-tensor|$f||$calib|--granularity tensor --bias-correction"
    echo "$n-asym|$f||$calib|--scheme asymmetric --granularity tensor --ranges percentile"
  done
}

run_with() { # BIN OUTROOT
  local bin=$1 root=$2
  mkdir -p "$root"
  while IFS='|' read -r name model shape calib flags; do
    local out="$root/$name" args=()
    [ -n "$shape" ] && args+=(--input-shape "$shape")
    [ -n "$calib" ] && args+=(--calib "$calib")
    # shellcheck disable=SC2086
    "$bin" compile "$model" "${args[@]}" -o "$out" --emit-main $flags >"$root/$name.log" 2>&1
    echo "exit $?" >>"$root/$name.log"
    if [ -f "$out/model.tile.mlir" ] && [ -n "$calib" ]; then
      "$bin" run "$out/model.tile.mlir" --input "$calib" --out-dir "$out/run" >/dev/null 2>&1
    fi
  done < <(cases)
  # The report of the example model, fewer configurations.
  "$bin" report tests-data/mnist_cnn/model.onnx --calib tests-data/mnist_cnn/calib.npy \
    --eval tests-data/mnist_cnn/calib.npy --ranges minmax,mse >"$root/report.txt" 2>&1
}

run_with "$OLD" "$WORK/old" &
run_with "$NEW" "$WORK/new"
wait
# Paths in messages name the output directory: make them equal.
sed -i "s|$WORK/old|OUT|g" "$WORK"/old/*.log "$WORK"/old/report.txt
sed -i "s|$WORK/new|OUT|g" "$WORK"/new/*.log "$WORK"/new/report.txt
if diff -rq "$WORK/old" "$WORK/new"; then
  echo "identical: $(find "$WORK/new" -type f | wc -l) files"
else
  exit 1
fi
