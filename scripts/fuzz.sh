#!/usr/bin/env bash
# Fuzzing: builds the harnesses and runs each over its corpus in fuzz/corpus/<harness>/.
#   scripts/fuzz.sh [RUNS]            the suite's run: seed 1, RUNS inputs per harness (default
#                                     1000000), from an empty scratch directory — the same
#                                     inputs on every machine, so a pass here is a pass in CI
#   scripts/fuzz.sh --explore SECONDS  hunting: a random seed, SECONDS per harness, scratch
#                                     finds kept between runs
#   scripts/fuzz.sh --merge           minimise the scratch finds into the repository's corpora
# Fails on the first crash, panic, sanitizer report or leak, leaving the input that caused it
# in $CARGO_TARGET_DIR/fuzz/artifacts/<harness>/ (copy it to fuzz/corpus/<harness>/regress-*
# with the fix).
#
# Rust harnesses (fuzz/fuzz_targets/*.rs): libFuzzer through `libfuzzer-sys` on stable Rust —
# rustc's SanitizerCoverage pass (-Cpasses=sancov-module) gives libFuzzer its coverage, and
# Debian's clang-22 runtime (libclang_rt.fuzzer) is the fuzzer; Rust needs no ASan (safe code),
# panics abort and count as crashes. C harness (fuzz/c/generated_npy.c): the generated
# program's .npy reader, built by clang-22 with -fsanitize=fuzzer,address,undefined.
set -euo pipefail
cd "$(dirname "$0")/.."
mode=suite
case "${1:-}" in
  --merge) mode=merge; shift ;;
  --explore) mode=explore; shift; secs=${1:?--explore needs SECONDS} ;;
esac
runs=${1:-1000000}
root=$(pwd)
target=${CARGO_TARGET_DIR:-$root/target}
out=$target/fuzz
runtime=$(ls /usr/lib/llvm-22/lib/clang/*/lib/linux/libclang_rt.fuzzer-x86_64.a | head -1)
triple=x86_64-unknown-linux-gnu

echo "fuzz: building the Rust harnesses (libfuzzer-sys, stable rustc with sancov)"
# --target keeps the coverage flags off build scripts and proc macros.
(cd fuzz && CUSTOM_LIBFUZZER_PATH=$runtime \
  RUSTFLAGS="-Cpasses=sancov-module -Cllvm-args=-sanitizer-coverage-level=4 \
    -Cllvm-args=-sanitizer-coverage-inline-8bit-counters -Cllvm-args=-sanitizer-coverage-pc-table \
    -Cllvm-args=-sanitizer-coverage-trace-compares --cfg fuzzing -Cdebug-assertions -Coverflow-checks" \
  cargo build --release --quiet --target $triple --target-dir "$out")
bins=$out/$triple/release

echo "fuzz: building the generated program's .npy reader harness (clang-22, ASan + UBSan)"
gen=$out/generated
rm -rf "$gen"
cargo run --quiet -p nibble-cli --bin nibble -- compile tests-data/mnist_cnn/model.onnx \
  --calib tests-data/mnist_cnn/calib.npy -o "$gen" --emit-main >/dev/null
clang-22 -std=c99 -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
  -I "$gen" fuzz/c/generated_npy.c $(ls "$gen"/*.c | grep -v '/main\.c$') -o "$out/generated_npy"

run() { # NAME BINARY: SECONDS of fuzzing from fuzz/corpus/NAME
  local name=$1 bin=$2 corpus=$root/fuzz/corpus/$1 scratch=$out/scratch/$1 art=$out/artifacts/$1
  mkdir -p "$scratch" "$art"
  local budget
  case $mode in
    merge) "$bin" -merge=1 "$corpus" "$scratch" 2>&1 | tail -1; return ;;
    explore) budget="-max_total_time=$secs"; echo "fuzz: $name for ${secs}s" ;;
    suite) rm -rf "$scratch"; mkdir -p "$scratch"; budget="-seed=1 -runs=$runs"
      echo "fuzz: $name, $runs inputs from seed 1" ;;
  esac
  local log=$out/$name.log
  if ! "$bin" $budget -timeout=20 -rss_limit_mb=4096 -print_final_stats=1 \
      -artifact_prefix="$art/" "$scratch" "$corpus" >"$log" 2>&1; then
    tail -40 "$log" >&2
    echo "fuzz: $name FAILED; the input is in $art/ (log: $log)" >&2
    exit 1
  fi
  grep -E '^stat::(number_of_executed_units|average_exec_per_sec)' "$log" | tr '\n' ' '
  echo
}
run onnx_import "$bins/onnx_import"
run npy_read "$bins/npy_read"
run mlir_read "$bins/mlir_read"
run generated_npy "$out/generated_npy"
echo "fuzz: no crash"
