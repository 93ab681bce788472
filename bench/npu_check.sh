#!/bin/sh
# Every shared model for every shipped target (or the ones given): compile, build the C with the
# README line, run it (the npu simulator for accelerator targets), compare its outputs with the
# integer interpreter's on model.tile.mlir bit for bit, and the simulator's total cycles with the
# manifest's static estimate. Prints one line per (model, target).
#   bench/npu_check.sh [NIBBLE] [MODELS_DIR] [TARGET...]
# env: OUT (/tmp/nibble-npu-check), SAMPLES (all test vectors)
set -eu
NIBBLE=${1:-target/debug/nibble}
MODELS=${2:-/work/shared/models}
shift 2 2>/dev/null || shift $#
TARGETS=${*:-host generic-npu npu-mcu npu-edge}
OUT=${OUT:-/tmp/nibble-npu-check}
mkdir -p "$OUT"
for dir in "$MODELS"/*/; do
    m=$(basename "$dir")
    [ -f "$dir/model.onnx" ] || continue
    shape=$(python3 -c "import json,sys; m=json.load(open(sys.argv[1])); print(m['input']+'=1,'+','.join(map(str,m['input_shape'])))" "$dir/meta.json")
    for t in $TARGETS; do
        o="$OUT/$m-$(basename "$t" .toml)"
        rm -rf "$o"
        t0=$(date +%s)
        if ! "$NIBBLE" compile "$dir/model.onnx" --input-shape "$shape" --calib "$dir/calib.npy" -o "$o" --target "$t" --emit-main 2>"$o.log"; then
            echo "$m $t: COMPILE FAILED: $(tail -1 "$o.log")"; continue
        fi
        t1=$(date +%s)
        cc -std=c99 -O2 -Wall -Wextra -Werror "$o"/*.c -o "$o/model" 2>>"$o.log" || { echo "$m $t: CC FAILED"; continue; }
        "$o/model" "$dir/test_x.npy" "$o/c" 2>"$o/sim.txt" || { echo "$m $t: RUN FAILED"; continue; }
        "$NIBBLE" run "$o/model.tile.mlir" --input "$dir/test_x.npy" --out-dir "$o/tile" >/dev/null 2>>"$o.log" ||
            { echo "$m $t: INTERPRETER FAILED: $(tail -1 "$o.log")"; continue; }
        python3 - "$o" "$m" "$t" "$((t1 - t0))" <<'PY'
import json, re, sys, glob, os
import numpy as np
o, m, t, secs = sys.argv[1:]
same = True
for f in sorted(glob.glob(os.path.join(o, "tile", "out*.npy"))):
    a = np.load(f); b = np.load(os.path.join(o, "c", os.path.basename(f)))
    same &= a.shape == b.shape and (a.view(np.uint32) == b.view(np.uint32)).all()
man = json.load(open(os.path.join(o, "manifest.json")))
sim = re.search(r"npu: total (\d+) cycles", open(os.path.join(o, "sim.txt")).read())
est = man["estimated_cycles"]
cyc = "" if sim is None else f" sim {sim.group(1)} est {est} {'==' if int(sim.group(1)) == est else '!='}"
cpu = sum(1 for l in man["layers"] if l["engine"] == "cpu")
print(f"{m} {t}: {'bit-exact' if same else 'DIFFERENT'}{cyc} sram_peak {man['sram_peak_bytes']}/{man['sram_bytes']} "
      f"cpu-layers {cpu}/{len(man['layers'])} compile {secs}s")
PY
    done
done
