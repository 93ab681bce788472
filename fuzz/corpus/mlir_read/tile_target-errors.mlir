// RUN: not %nibble opt %s --pass-pipeline='builtin.module(nibble-tile-size{target=%S/Inputs/bad-key.toml})' 2>&1 | FileCheck %s --check-prefix=KEY
// RUN: not %nibble opt %s --pass-pipeline='builtin.module(nibble-tile-size{target=%S/Inputs/bad-sram.toml})' 2>&1 | FileCheck %s --check-prefix=SRAM
// RUN: not %nibble opt %s --pass-pipeline='builtin.module(nibble-tile-size{target=%S/Inputs/bad-pow2.toml})' 2>&1 | FileCheck %s --check-prefix=POW2
// RUN: not %nibble opt %s --pass-pipeline='builtin.module(nibble-schedule{target=%S/Inputs/schema1.toml})' 2>&1 | FileCheck %s --check-prefix=V1

// Target descriptions are checked when a pass reads them: unknown keys, impossible values
// (each error names its key) and schema-1 files are refused.
// KEY: invalid target '{{.*}}bad-key.toml': TOML parse error at line 12, column 1
// KEY: unknown field `burst_bytes`, expected one of `sram_bytes`
// SRAM: invalid target '{{.*}}bad-sram.toml': memory.sram_bytes = 512: SRAM must be between 1 KiB and 1 GiB
// POW2: invalid target '{{.*}}bad-pow2.toml': requant.multiplier_bits = 32: a pow2 unit only shifts: it has no multiplier (0 bits)
// V1: invalid target '{{.*}}schema1.toml': a schema-1 description (sram_bytes, mac_rows, mac_cols, widths at the top level); write schema = 2
func.func @main(%arg0: tensor<1x4xf32>) -> tensor<1x4xf32> {
  %0 = "tile.quantize"(%arg0) {scale = 5.0e-1 : f64, zero_point = 0 : i32} : (tensor<1x4xf32>) -> tensor<1x4xi8>
  %1 = "tile.dequantize"(%0) {scale = 5.0e-1 : f64, zero_point = 0 : i32} : (tensor<1x4xi8>) -> tensor<1x4xf32>
  return %1 : tensor<1x4xf32>
}
