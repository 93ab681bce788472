#!/usr/bin/env bash
# The whole test suite: unit tests, IR snapshots, lit + FileCheck over `nibble opt`, and the
# end-to-end numerics (float interpreter vs onnxruntime; generated C vs integer interpreter), then
# a fixed million fuzzing inputs per harness (scripts/fuzz.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh
cargo test --workspace
# Fuzzing: each harness, seed 1, a million inputs over its corpus (fuzz/corpus); a crash fails
# the suite. The same inputs on every machine: a clean local run means a clean CI run.
./scripts/fuzz.sh
