#!/usr/bin/env bash
# The whole test suite: unit tests, IR snapshots, lit + FileCheck over `nibble opt`, and the
# end-to-end numerics (float interpreter vs onnxruntime; generated C vs integer interpreter).
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh
cargo test --workspace
