// RUN: not %nibble opt %s --pass-pipeline='builtin.module(nibble-plan-memory)' 2>&1 | FileCheck %s --check-prefix=PLAN
// RUN: not %nibble opt %s --pass-pipeline='builtin.module(nibble-tile-size)' 2>&1 | FileCheck %s --check-prefix=SIZE
// RUN: not %nibble opt %s --pass-pipeline='builtin.module(nibble-lower-tile,nibble-tile-size{target=%S/Inputs/no-such-target.toml})' 2>&1 | FileCheck %s --check-prefix=TARGET
// RUN: not %nibble opt %s --pass-pipeline='builtin.module(nibble-lower-tile{target=%S/Inputs/no-such-target.toml})' 2>&1 | FileCheck %s --check-prefix=TARGET

// Tile sizing and memory planning run on the tile level only: given the qnt level, they name
// the first op that is not a tile op and the pass to run first. A target that cannot be read is
// an error of the pass that reads it.
// PLAN: nibble-plan-memory: cannot schedule 'qnt.quantize' at loc({{.*}}): memory planning runs on the tile level (lower it with nibble-lower-tile first)
// SIZE: nibble-tile-size: cannot schedule 'qnt.quantize' at loc({{.*}}): tile sizing runs on the tile level (lower it with nibble-lower-tile first)
// TARGET: cannot read target '{{.*}}no-such-target.toml'
!x = tensor<1x4x4x1x!quant.uniform<i8:f32, 0.0078740157480314959>>
func.func @main(%arg0: tensor<1x4x4x1xf32>) -> tensor<1x4x4x1xf32> {
  %0 = "qnt.quantize"(%arg0) : (tensor<1x4x4x1xf32>) -> !x
  %1 = "qnt.dequantize"(%0) : (!x) -> tensor<1x4x4x1xf32>
  return %1 : tensor<1x4x4x1xf32>
}
