// The `npu` dialect: the example vendor dialect of nibble (docs/adding-a-vendor-dialect.md), the
// level between a scheduled tile program and C against the intrinsics API runtime/npu/npu.h.
// Every op is one command of the accelerator with a program-unique `id`: DMA transfers on the
// DMA engine, tile ops on the compute engine (the MAC array for conv2d / fully_connected, the
// vector unit for the rest), each engine in program order. SRAM operands and results are tiles
// at `sram_offset`; DRAM tensors live in the arena (`offset`) or are constants. A DMA starts
// after command `after` (-1: none) has finished; `dma_wait` makes the compute engine wait for a
// DMA. Tile-dialect ops left in an npu program run on the controller CPU on DRAM, after both
// engines drain. Semantics: docs/dialects/npu.md. This file is the single definition.
irdl.dialect @npu {
  // Starts copying the box of DRAM `source` at `start` (sizes: the result's shape) into SRAM at `sram_offset`.
  irdl.operation @dma_load {
    %source = irdl.base "!builtin.tensor"
    %output = irdl.base "!builtin.tensor"
    %id_attr = irdl.base "#builtin.integer"
    %after_attr = irdl.base "#builtin.integer"
    %start_attr = irdl.base "#builtin.dense_array"
    %sram_offset_attr = irdl.base "#builtin.integer"
    irdl.operands(source: %source)
    irdl.results(output: %output)
    irdl.attributes {"id" = %id_attr, "after" = %after_attr, "start" = %start_attr, "sram_offset" = %sram_offset_attr}
  }
  // Starts copying SRAM `tile` into the box of DRAM `dest` at `start`; the result is dest's buffer after the copy.
  irdl.operation @dma_store {
    %tile = irdl.base "!builtin.tensor"
    %dest = irdl.base "!builtin.tensor"
    %output = irdl.base "!builtin.tensor"
    %id_attr = irdl.base "#builtin.integer"
    %after_attr = irdl.base "#builtin.integer"
    %start_attr = irdl.base "#builtin.dense_array"
    %offset_attr = irdl.base "#builtin.integer"
    irdl.operands(tile: %tile, dest: %dest)
    irdl.results(output: %output)
    irdl.attributes {"id" = %id_attr, "after" = %after_attr, "start" = %start_attr, "offset" = %offset_attr}
  }
  // The compute engine waits until DMA command `id` has finished.
  irdl.operation @dma_wait {
    %id_attr = irdl.base "#builtin.integer"
    irdl.attributes {"id" = %id_attr}
  }
  // MAC array: NHWC conv of an SRAM input tile with OHWI weights and i32 bias tiles, fused requantization (tile.conv2d's), in `dataflow` "ws" or "os".
  irdl.operation @conv2d {
    %input = irdl.base "!builtin.tensor"
    %weight = irdl.base "!builtin.tensor"
    %bias = irdl.base "!builtin.tensor"
    %output = irdl.base "!builtin.tensor"
    %id_attr = irdl.base "#builtin.integer"
    %sram_offset_attr = irdl.base "#builtin.integer"
    %pad_attr = irdl.base "#builtin.dense_array"
    %stride_attr = irdl.base "#builtin.dense_array"
    %dilation_attr = irdl.base "#builtin.dense_array"
    %input_zp_attr = irdl.base "#builtin.integer"
    %output_zp_attr = irdl.base "#builtin.integer"
    %multiplier_attr = irdl.base "#builtin.dense_array"
    %shift_attr = irdl.base "#builtin.dense_array"
    %clamp_min_attr = irdl.base "#builtin.integer"
    %clamp_max_attr = irdl.base "#builtin.integer"
    %dataflow_attr = irdl.base "#builtin.string"
    irdl.operands(input: %input, weight: %weight, bias: %bias)
    irdl.results(output: %output)
    irdl.attributes {"id" = %id_attr, "sram_offset" = %sram_offset_attr, "pad" = %pad_attr, "stride" = %stride_attr, "dilation" = %dilation_attr, "input_zp" = %input_zp_attr, "output_zp" = %output_zp_attr, "multiplier" = %multiplier_attr, "shift" = %shift_attr, "clamp_min" = %clamp_min_attr, "clamp_max" = %clamp_max_attr, "dataflow" = %dataflow_attr}
  }
  // MAC array: [N,K] x [M,K]^T + bias with fused requantization.
  irdl.operation @fully_connected {
    %input = irdl.base "!builtin.tensor"
    %weight = irdl.base "!builtin.tensor"
    %bias = irdl.base "!builtin.tensor"
    %output = irdl.base "!builtin.tensor"
    %id_attr = irdl.base "#builtin.integer"
    %sram_offset_attr = irdl.base "#builtin.integer"
    %input_zp_attr = irdl.base "#builtin.integer"
    %output_zp_attr = irdl.base "#builtin.integer"
    %multiplier_attr = irdl.base "#builtin.dense_array"
    %shift_attr = irdl.base "#builtin.dense_array"
    %clamp_min_attr = irdl.base "#builtin.integer"
    %clamp_max_attr = irdl.base "#builtin.integer"
    %dataflow_attr = irdl.base "#builtin.string"
    irdl.operands(input: %input, weight: %weight, bias: %bias)
    irdl.results(output: %output)
    irdl.attributes {"id" = %id_attr, "sram_offset" = %sram_offset_attr, "input_zp" = %input_zp_attr, "output_zp" = %output_zp_attr, "multiplier" = %multiplier_attr, "shift" = %shift_attr, "clamp_min" = %clamp_min_attr, "clamp_max" = %clamp_max_attr, "dataflow" = %dataflow_attr}
  }
  // Vector unit: NHWC depthwise conv (weights [KH,KW,C,1]) with fused requantization.
  irdl.operation @depthwise_conv2d {
    %input = irdl.base "!builtin.tensor"
    %weight = irdl.base "!builtin.tensor"
    %bias = irdl.base "!builtin.tensor"
    %output = irdl.base "!builtin.tensor"
    %id_attr = irdl.base "#builtin.integer"
    %sram_offset_attr = irdl.base "#builtin.integer"
    %pad_attr = irdl.base "#builtin.dense_array"
    %stride_attr = irdl.base "#builtin.dense_array"
    %dilation_attr = irdl.base "#builtin.dense_array"
    %input_zp_attr = irdl.base "#builtin.integer"
    %output_zp_attr = irdl.base "#builtin.integer"
    %multiplier_attr = irdl.base "#builtin.dense_array"
    %shift_attr = irdl.base "#builtin.dense_array"
    %clamp_min_attr = irdl.base "#builtin.integer"
    %clamp_max_attr = irdl.base "#builtin.integer"
    irdl.operands(input: %input, weight: %weight, bias: %bias)
    irdl.results(output: %output)
    irdl.attributes {"id" = %id_attr, "sram_offset" = %sram_offset_attr, "pad" = %pad_attr, "stride" = %stride_attr, "dilation" = %dilation_attr, "input_zp" = %input_zp_attr, "output_zp" = %output_zp_attr, "multiplier" = %multiplier_attr, "shift" = %shift_attr, "clamp_min" = %clamp_min_attr, "clamp_max" = %clamp_max_attr}
  }
  // Vector unit: NHWC max pooling.
  irdl.operation @max_pool2d {
    %input = irdl.base "!builtin.tensor"
    %output = irdl.base "!builtin.tensor"
    %id_attr = irdl.base "#builtin.integer"
    %sram_offset_attr = irdl.base "#builtin.integer"
    %kernel_attr = irdl.base "#builtin.dense_array"
    %stride_attr = irdl.base "#builtin.dense_array"
    %pad_attr = irdl.base "#builtin.dense_array"
    irdl.operands(input: %input)
    irdl.results(output: %output)
    irdl.attributes {"id" = %id_attr, "sram_offset" = %sram_offset_attr, "kernel" = %kernel_attr, "stride" = %stride_attr, "pad" = %pad_attr}
  }
  // Vector unit: NHWC average pooling with requantization (multiplier per tap count).
  irdl.operation @avg_pool2d {
    %input = irdl.base "!builtin.tensor"
    %output = irdl.base "!builtin.tensor"
    %id_attr = irdl.base "#builtin.integer"
    %sram_offset_attr = irdl.base "#builtin.integer"
    %kernel_attr = irdl.base "#builtin.dense_array"
    %stride_attr = irdl.base "#builtin.dense_array"
    %pad_attr = irdl.base "#builtin.dense_array"
    %input_zp_attr = irdl.base "#builtin.integer"
    %output_zp_attr = irdl.base "#builtin.integer"
    %multiplier_attr = irdl.base "#builtin.dense_array"
    %shift_attr = irdl.base "#builtin.dense_array"
    %clamp_min_attr = irdl.base "#builtin.integer"
    %clamp_max_attr = irdl.base "#builtin.integer"
    irdl.operands(input: %input)
    irdl.results(output: %output)
    irdl.attributes {"id" = %id_attr, "sram_offset" = %sram_offset_attr, "kernel" = %kernel_attr, "stride" = %stride_attr, "pad" = %pad_attr, "input_zp" = %input_zp_attr, "output_zp" = %output_zp_attr, "multiplier" = %multiplier_attr, "shift" = %shift_attr, "clamp_min" = %clamp_min_attr, "clamp_max" = %clamp_max_attr}
  }
  // Vector unit: requantization of an i8/i16/i32 tile to i8 or i16.
  irdl.operation @requant {
    %input = irdl.base "!builtin.tensor"
    %output = irdl.base "!builtin.tensor"
    %id_attr = irdl.base "#builtin.integer"
    %sram_offset_attr = irdl.base "#builtin.integer"
    %input_zp_attr = irdl.base "#builtin.integer"
    %output_zp_attr = irdl.base "#builtin.integer"
    %multiplier_attr = irdl.base "#builtin.dense_array"
    %shift_attr = irdl.base "#builtin.dense_array"
    %clamp_min_attr = irdl.base "#builtin.integer"
    %clamp_max_attr = irdl.base "#builtin.integer"
    irdl.operands(input: %input)
    irdl.results(output: %output)
    irdl.attributes {"id" = %id_attr, "sram_offset" = %sram_offset_attr, "input_zp" = %input_zp_attr, "output_zp" = %output_zp_attr, "multiplier" = %multiplier_attr, "shift" = %shift_attr, "clamp_min" = %clamp_min_attr, "clamp_max" = %clamp_max_attr}
  }
  // Vector unit: clamp to [min, max].
  irdl.operation @clamp {
    %input = irdl.base "!builtin.tensor"
    %output = irdl.base "!builtin.tensor"
    %id_attr = irdl.base "#builtin.integer"
    %sram_offset_attr = irdl.base "#builtin.integer"
    %min_attr = irdl.base "#builtin.integer"
    %max_attr = irdl.base "#builtin.integer"
    irdl.operands(input: %input)
    irdl.results(output: %output)
    irdl.attributes {"id" = %id_attr, "sram_offset" = %sram_offset_attr, "min" = %min_attr, "max" = %max_attr}
  }
  // Vector unit: 256-entry lookup table, out = table[in + 128].
  irdl.operation @lut {
    %input = irdl.base "!builtin.tensor"
    %output = irdl.base "!builtin.tensor"
    %id_attr = irdl.base "#builtin.integer"
    %sram_offset_attr = irdl.base "#builtin.integer"
    %table_attr = irdl.base "#builtin.dense_int_or_fp_elements"
    irdl.operands(input: %input)
    irdl.results(output: %output)
    irdl.attributes {"id" = %id_attr, "sram_offset" = %sram_offset_attr, "table" = %table_attr}
  }
  // Vector unit: tile.add on tiles (size-1 dimensions broadcast).
  irdl.operation @add {
    %lhs = irdl.base "!builtin.tensor"
    %rhs = irdl.base "!builtin.tensor"
    %output = irdl.base "!builtin.tensor"
    %id_attr = irdl.base "#builtin.integer"
    %sram_offset_attr = irdl.base "#builtin.integer"
    %input_zp_attr = irdl.base "#builtin.dense_array"
    %output_zp_attr = irdl.base "#builtin.integer"
    %clamp_min_attr = irdl.base "#builtin.integer"
    %clamp_max_attr = irdl.base "#builtin.integer"
    %multiplier_attr = irdl.base "#builtin.dense_array"
    %shift_attr = irdl.base "#builtin.integer"
    irdl.operands(lhs: %lhs, rhs: %rhs)
    irdl.results(output: %output)
    irdl.attributes {"id" = %id_attr, "sram_offset" = %sram_offset_attr, "input_zp" = %input_zp_attr, "output_zp" = %output_zp_attr, "clamp_min" = %clamp_min_attr, "clamp_max" = %clamp_max_attr, "multiplier" = %multiplier_attr, "shift" = %shift_attr}
  }
  // Vector unit: tile.mul on tiles (size-1 dimensions broadcast).
  irdl.operation @mul {
    %lhs = irdl.base "!builtin.tensor"
    %rhs = irdl.base "!builtin.tensor"
    %output = irdl.base "!builtin.tensor"
    %id_attr = irdl.base "#builtin.integer"
    %sram_offset_attr = irdl.base "#builtin.integer"
    %input_zp_attr = irdl.base "#builtin.dense_array"
    %output_zp_attr = irdl.base "#builtin.integer"
    %clamp_min_attr = irdl.base "#builtin.integer"
    %clamp_max_attr = irdl.base "#builtin.integer"
    %multiplier_attr = irdl.base "#builtin.integer"
    %shift_attr = irdl.base "#builtin.integer"
    irdl.operands(lhs: %lhs, rhs: %rhs)
    irdl.results(output: %output)
    irdl.attributes {"id" = %id_attr, "sram_offset" = %sram_offset_attr, "input_zp" = %input_zp_attr, "output_zp" = %output_zp_attr, "clamp_min" = %clamp_min_attr, "clamp_max" = %clamp_max_attr, "multiplier" = %multiplier_attr, "shift" = %shift_attr}
  }
}
