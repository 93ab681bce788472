#!/usr/bin/env bash
# Installs what nibble needs on Debian 12, only what is missing, and says what it does.
# Idempotent: a second run installs nothing.
set -euo pipefail
PKGS=(libmlir-22-dev mlir-22-tools llvm-22-dev llvm-22-tools libclang-22-dev libpolly-22-dev
      libzstd-dev libz3-dev libxml2-dev zlib1g-dev gcc python3 coinor-libcbc-dev
      gcc-aarch64-linux-gnu qemu-user clang-22 libclang-rt-22-dev chromium)
missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
else
  echo "setup: all system packages present"
fi
# onnxruntime (PyPI) runs the QDQ ONNX `nibble compile --emit onnx-qdq` writes, in a test.
if ! python3 -c 'import onnxruntime, numpy' 2>/dev/null; then
  echo "setup: installing onnxruntime==1.32.0 and numpy with pip"
  python3 -m pip --version >/dev/null 2>&1 || {
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq python3-pip >/dev/null
  }
  # Debian's own python3 is "externally managed"; the test only needs the two packages.
  $SUDO python3 -m pip install -q --break-system-packages onnxruntime==1.32.0 numpy
else
  echo "setup: onnxruntime present"
fi
for tool in lit FileCheck; do
  [ -x "/usr/lib/llvm-22/bin/$tool" ] || { echo "setup: /usr/lib/llvm-22/bin/$tool is missing" >&2; exit 1; }
done
command -v cargo >/dev/null || { echo "setup: cargo (Rust 1.85 or newer) is required; install it with rustup" >&2; exit 1; }
