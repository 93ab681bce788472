# lit configuration for nibble's IR tests: `nibble opt` + FileCheck over .mlir files.
# Run through `cargo test` (compiler/cli/tests/cli.rs), which sets NIBBLE to the built binary.
# Layout as upstream MLIR's test/: graph/, qnt/, tile/ (ops and passes of each level),
# conversion/{graph-to-qnt,qnt-to-tile}/, import/ (ONNX), opt/ (nibble opt itself); see
# docs/testing.md for --split-input-file and --verify-diagnostics.
import os
import lit.formats

config.name = "nibble"
config.test_format = lit.formats.ShTest(execute_external=True)
config.suffixes = [".mlir", ".test"]
# Files that tests read (targets, …), not tests.
config.excludes = ["Inputs"]
config.test_source_root = os.path.dirname(__file__)
config.test_exec_root = os.path.join(os.environ.get("NIBBLE_LIT_OUT", "/tmp"), "nibble-lit")

nibble = os.environ.get("NIBBLE")
if not nibble or not os.path.exists(nibble):
    lit_config.fatal("set NIBBLE to the nibble binary (cargo test does this)")
llvm_bin = os.environ.get("LLVM_BIN", "/usr/lib/llvm-22/bin")
if not os.path.exists(os.path.join(llvm_bin, "FileCheck")):
    lit_config.fatal("FileCheck not found in " + llvm_bin + " (install llvm-22-tools)")
config.environment["PATH"] = os.pathsep.join([os.path.dirname(nibble), llvm_bin, os.environ.get("PATH", "")])
config.substitutions.append(("%nibble", nibble))
config.substitutions.append(("%models", os.path.join(os.path.dirname(config.test_source_root), "tests-data")))
