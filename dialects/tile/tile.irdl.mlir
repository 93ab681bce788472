// The `tile` dialect: the tile level of nibble. Integer-only ops on plain integer tensors
// (i8 activations, i8 weights, i32 biases), NHWC, each carrying its explicit schedule (`tile`
// sizes for the target) and its place in the static memory plan (`offset` into the one arena).
// `multiplier`/`shift` are i32 arrays: one entry (per tensor) or one per output channel. Ops with
// requantization fields (conv2d, depthwise_conv2d, fully_connected, requant) may also carry
// `neg_multiplier`/`neg_shift` (as many entries, signed): a negative accumulator is rescaled by
// those instead — PReLU/LeakyReLU fused into the requantization. They may instead carry
// `hswish = [three, six, m, s, bias, …]` (i64; the triple once, or once per output channel c):
// hard-swish fused into the requantization, v = clamp(apply_scale(acc), ±2^20) (no zero point),
// out = clamp(zp_out + floor_shift(v · clamp(v + three, 0, six) · m_c + bias_c + 2^(s_c-1), s_c)).
// Or `swish = [m, s, bias]` (i64) with `sigmoid_table` (257 × i32): qnt.swish fused.
// Semantics: docs/dialects/tile.md. This file is the single definition of the dialect. Where
// IRDL can say it, it fixes attribute values (resize's mode) and operands that share one type
// (clamp, lut). The element types (i8/i16 activations, i8 weights, i32 biases, f32 at the host
// boundary) IRDL cannot fix on a `!builtin.tensor` (`irdl.parametric` takes only IRDL-defined
// types); they are declared per op in dialects/tile/types.rs (`tile::types::SIGNATURES`) and
// checked by tile sizing, memory planning, the interpreter and codegen.
irdl.dialect @tile {
  // Host boundary (runs in the main.c harness, the only place floats live): f32 -> i8, q = clamp(trunc(x / scale + 0.5*sign) + zero_point).
  irdl.operation @quantize {
    %input = irdl.base "!builtin.tensor"
    %output = irdl.base "!builtin.tensor"
    %scale_attr = irdl.base "#builtin.float"
    %zero_point_attr = irdl.base "#builtin.integer"
    irdl.operands(input: %input)
    irdl.results(output: %output)
    irdl.attributes {"scale" = %scale_attr, "zero_point" = %zero_point_attr}
  }
  // Host boundary: i8 -> f32, x = (float)(scale * (q - zero_point)) computed in double.
  irdl.operation @dequantize {
    %input = irdl.base "!builtin.tensor"
    %output = irdl.base "!builtin.tensor"
    %scale_attr = irdl.base "#builtin.float"
    %zero_point_attr = irdl.base "#builtin.integer"
    irdl.operands(input: %input)
    irdl.results(output: %output)
    irdl.attributes {"scale" = %scale_attr, "zero_point" = %zero_point_attr}
  }
  // Constant integer data (weights i8 OHWI / [OC,IC], biases i32).
  irdl.operation @const {
    %output = irdl.base "!builtin.tensor"
    %value_attr = irdl.base "#builtin.dense_int_or_fp_elements"
    irdl.results(output: %output)
    irdl.attributes {"value" = %value_attr}
  }
  // Integer NHWC convolution with fused requantization and clamp; computed over output tiles of tile = [rows, channels].
  irdl.operation @conv2d {
    %input = irdl.base "!builtin.tensor"
    %weight = irdl.base "!builtin.tensor"
    %bias = irdl.base "!builtin.tensor"
    %output = irdl.base "!builtin.tensor"
    %pad_attr = irdl.base "#builtin.dense_array"
    %stride_attr = irdl.base "#builtin.dense_array"
    %dilation_attr = irdl.base "#builtin.dense_array"
    %input_zp_attr = irdl.base "#builtin.integer"
    %output_zp_attr = irdl.base "#builtin.integer"
    %multiplier_attr = irdl.base "#builtin.dense_array"
    %shift_attr = irdl.base "#builtin.dense_array"
    %clamp_min_attr = irdl.base "#builtin.integer"
    %clamp_max_attr = irdl.base "#builtin.integer"
    %tile_attr = irdl.base "#builtin.dense_array"
    %offset_attr = irdl.base "#builtin.integer"
    irdl.operands(input: %input, weight: %weight, bias: %bias)
    irdl.results(output: %output)
    irdl.attributes {"pad" = %pad_attr, "stride" = %stride_attr, "dilation" = %dilation_attr, "input_zp" = %input_zp_attr, "output_zp" = %output_zp_attr, "multiplier" = %multiplier_attr, "shift" = %shift_attr, "clamp_min" = %clamp_min_attr, "clamp_max" = %clamp_max_attr, "tile" = %tile_attr, "offset" = %offset_attr}
  }
  // Integer NHWC depthwise convolution (weights [KH, KW, C, 1]) with fused requantization and clamp; tile = [rows, channels].
  irdl.operation @depthwise_conv2d {
    %input = irdl.base "!builtin.tensor"
    %weight = irdl.base "!builtin.tensor"
    %bias = irdl.base "!builtin.tensor"
    %output = irdl.base "!builtin.tensor"
    %pad_attr = irdl.base "#builtin.dense_array"
    %stride_attr = irdl.base "#builtin.dense_array"
    %dilation_attr = irdl.base "#builtin.dense_array"
    %input_zp_attr = irdl.base "#builtin.integer"
    %output_zp_attr = irdl.base "#builtin.integer"
    %multiplier_attr = irdl.base "#builtin.dense_array"
    %shift_attr = irdl.base "#builtin.dense_array"
    %clamp_min_attr = irdl.base "#builtin.integer"
    %clamp_max_attr = irdl.base "#builtin.integer"
    %tile_attr = irdl.base "#builtin.dense_array"
    %offset_attr = irdl.base "#builtin.integer"
    irdl.operands(input: %input, weight: %weight, bias: %bias)
    irdl.results(output: %output)
    irdl.attributes {"pad" = %pad_attr, "stride" = %stride_attr, "dilation" = %dilation_attr, "input_zp" = %input_zp_attr, "output_zp" = %output_zp_attr, "multiplier" = %multiplier_attr, "shift" = %shift_attr, "clamp_min" = %clamp_min_attr, "clamp_max" = %clamp_max_attr, "tile" = %tile_attr, "offset" = %offset_attr}
  }
  // Integer [N,IC] x [OC,IC]^T + bias with fused requantization and clamp; tile = [channels].
  irdl.operation @fully_connected {
    %input = irdl.base "!builtin.tensor"
    %weight = irdl.base "!builtin.tensor"
    %bias = irdl.base "!builtin.tensor"
    %output = irdl.base "!builtin.tensor"
    %input_zp_attr = irdl.base "#builtin.integer"
    %output_zp_attr = irdl.base "#builtin.integer"
    %multiplier_attr = irdl.base "#builtin.dense_array"
    %shift_attr = irdl.base "#builtin.dense_array"
    %clamp_min_attr = irdl.base "#builtin.integer"
    %clamp_max_attr = irdl.base "#builtin.integer"
    %tile_attr = irdl.base "#builtin.dense_array"
    %offset_attr = irdl.base "#builtin.integer"
    irdl.operands(input: %input, weight: %weight, bias: %bias)
    irdl.results(output: %output)
    irdl.attributes {"input_zp" = %input_zp_attr, "output_zp" = %output_zp_attr, "multiplier" = %multiplier_attr, "shift" = %shift_attr, "clamp_min" = %clamp_min_attr, "clamp_max" = %clamp_max_attr, "tile" = %tile_attr, "offset" = %offset_attr}
  }
  // Standalone requantization of i8/i32 data to i8.
  irdl.operation @requant {
    %input = irdl.base "!builtin.tensor"
    %output = irdl.base "!builtin.tensor"
    %input_zp_attr = irdl.base "#builtin.integer"
    %output_zp_attr = irdl.base "#builtin.integer"
    %multiplier_attr = irdl.base "#builtin.dense_array"
    %shift_attr = irdl.base "#builtin.dense_array"
    %clamp_min_attr = irdl.base "#builtin.integer"
    %clamp_max_attr = irdl.base "#builtin.integer"
    %offset_attr = irdl.base "#builtin.integer"
    irdl.operands(input: %input)
    irdl.results(output: %output)
    irdl.attributes {"input_zp" = %input_zp_attr, "output_zp" = %output_zp_attr, "multiplier" = %multiplier_attr, "shift" = %shift_attr, "clamp_min" = %clamp_min_attr, "clamp_max" = %clamp_max_attr, "offset" = %offset_attr}
  }
  // Standalone clamp of i8/i16 data; the type is unchanged.
  irdl.operation @clamp {
    %tensor = irdl.base "!builtin.tensor"
    %min_attr = irdl.base "#builtin.integer"
    %max_attr = irdl.base "#builtin.integer"
    %offset_attr = irdl.base "#builtin.integer"
    irdl.operands(input: %tensor)
    irdl.results(output: %tensor)
    irdl.attributes {"min" = %min_attr, "max" = %max_attr, "offset" = %offset_attr}
  }
  // Integer NHWC max pooling (padding never wins).
  irdl.operation @max_pool2d {
    %input = irdl.base "!builtin.tensor"
    %output = irdl.base "!builtin.tensor"
    %kernel_attr = irdl.base "#builtin.dense_array"
    %stride_attr = irdl.base "#builtin.dense_array"
    %pad_attr = irdl.base "#builtin.dense_array"
    %offset_attr = irdl.base "#builtin.integer"
    irdl.operands(input: %input)
    irdl.results(output: %output)
    irdl.attributes {"kernel" = %kernel_attr, "stride" = %stride_attr, "pad" = %pad_attr, "offset" = %offset_attr}
  }
  // Elementwise lookup table on i8: out = table[in + 128] (256 entries); the type is unchanged.
  irdl.operation @lut {
    %tensor = irdl.base "!builtin.tensor"
    %table_attr = irdl.base "#builtin.dense_int_or_fp_elements"
    %offset_attr = irdl.base "#builtin.integer"
    irdl.operands(input: %tensor)
    irdl.results(output: %tensor)
    irdl.attributes {"table" = %table_attr, "offset" = %offset_attr}
  }
  // Permutes dimensions into a new buffer.
  irdl.operation @transpose {
    %input = irdl.base "!builtin.tensor"
    %output = irdl.base "!builtin.tensor"
    %perms_attr = irdl.base "#builtin.dense_array"
    %offset_attr = irdl.base "#builtin.integer"
    irdl.operands(input: %input)
    irdl.results(output: %output)
    irdl.attributes {"perms" = %perms_attr, "offset" = %offset_attr}
  }
  // Reinterprets the input buffer with a new shape; no copy (the result aliases the input).
  irdl.operation @reshape {
    %input = irdl.base "!builtin.tensor"
    %output = irdl.base "!builtin.tensor"
    %offset_attr = irdl.base "#builtin.integer"
    irdl.operands(input: %input)
    irdl.results(output: %output)
    irdl.attributes {"offset" = %offset_attr}
  }
  // Integer average pool with fused requantization: multiplier/shift one entry (full windows) or one per tap count (entry taps-1).
  irdl.operation @avg_pool2d {
    %input = irdl.base "!builtin.tensor"
    %output = irdl.base "!builtin.tensor"
    %kernel_attr = irdl.base "#builtin.dense_array"
    %stride_attr = irdl.base "#builtin.dense_array"
    %pad_attr = irdl.base "#builtin.dense_array"
    %input_zp_attr = irdl.base "#builtin.integer"
    %output_zp_attr = irdl.base "#builtin.integer"
    %multiplier_attr = irdl.base "#builtin.dense_array"
    %shift_attr = irdl.base "#builtin.dense_array"
    %clamp_min_attr = irdl.base "#builtin.integer"
    %clamp_max_attr = irdl.base "#builtin.integer"
    %offset_attr = irdl.base "#builtin.integer"
    irdl.operands(input: %input)
    irdl.results(output: %output)
    irdl.attributes {"kernel" = %kernel_attr, "stride" = %stride_attr, "pad" = %pad_attr, "input_zp" = %input_zp_attr, "output_zp" = %output_zp_attr, "multiplier" = %multiplier_attr, "shift" = %shift_attr, "clamp_min" = %clamp_min_attr, "clamp_max" = %clamp_max_attr, "offset" = %offset_attr}
  }
  // Elementwise (a - input_zp[0]) * multiplier[0] + (b - input_zp[1]) * multiplier[1], one rounding shift, + output_zp, clamp; size-1 dimensions broadcast.
  irdl.operation @add {
    %lhs = irdl.base "!builtin.tensor"
    %rhs = irdl.base "!builtin.tensor"
    %output = irdl.base "!builtin.tensor"
    %input_zp_attr = irdl.base "#builtin.dense_array"
    %output_zp_attr = irdl.base "#builtin.integer"
    %multiplier_attr = irdl.base "#builtin.dense_array"
    %shift_attr = irdl.base "#builtin.integer"
    %clamp_min_attr = irdl.base "#builtin.integer"
    %clamp_max_attr = irdl.base "#builtin.integer"
    %offset_attr = irdl.base "#builtin.integer"
    irdl.operands(lhs: %lhs, rhs: %rhs)
    irdl.results(output: %output)
    irdl.attributes {"input_zp" = %input_zp_attr, "output_zp" = %output_zp_attr, "multiplier" = %multiplier_attr, "shift" = %shift_attr, "clamp_min" = %clamp_min_attr, "clamp_max" = %clamp_max_attr, "offset" = %offset_attr}
  }
  // Elementwise requant((a - input_zp[0]) * (b - input_zp[1])); size-1 dimensions broadcast.
  irdl.operation @mul {
    %lhs = irdl.base "!builtin.tensor"
    %rhs = irdl.base "!builtin.tensor"
    %output = irdl.base "!builtin.tensor"
    %input_zp_attr = irdl.base "#builtin.dense_array"
    %output_zp_attr = irdl.base "#builtin.integer"
    %multiplier_attr = irdl.base "#builtin.integer"
    %shift_attr = irdl.base "#builtin.integer"
    %clamp_min_attr = irdl.base "#builtin.integer"
    %clamp_max_attr = irdl.base "#builtin.integer"
    %offset_attr = irdl.base "#builtin.integer"
    irdl.operands(lhs: %lhs, rhs: %rhs)
    irdl.results(output: %output)
    irdl.attributes {"input_zp" = %input_zp_attr, "output_zp" = %output_zp_attr, "multiplier" = %multiplier_attr, "shift" = %shift_attr, "clamp_min" = %clamp_min_attr, "clamp_max" = %clamp_max_attr, "offset" = %offset_attr}
  }
  // Fixed-point softmax over the last dimension (see qnt.softmax).
  irdl.operation @softmax {
    %input = irdl.base "!builtin.tensor"
    %output = irdl.base "!builtin.tensor"
    %exp_table_attr = irdl.base "#builtin.dense_int_or_fp_elements"
    %frac_bits_attr = irdl.base "#builtin.integer"
    %output_zp_attr = irdl.base "#builtin.integer"
    %clamp_min_attr = irdl.base "#builtin.integer"
    %clamp_max_attr = irdl.base "#builtin.integer"
    %offset_attr = irdl.base "#builtin.integer"
    irdl.operands(input: %input)
    irdl.results(output: %output)
    irdl.attributes {"exp_table" = %exp_table_attr, "frac_bits" = %frac_bits_attr, "output_zp" = %output_zp_attr, "clamp_min" = %clamp_min_attr, "clamp_max" = %clamp_max_attr, "offset" = %offset_attr}
  }
  // Copies the box of the input starting at `start` (sizes: the result's shape).
  irdl.operation @slice {
    %input = irdl.base "!builtin.tensor"
    %output = irdl.base "!builtin.tensor"
    %start_attr = irdl.base "#builtin.dense_array"
    %offset_attr = irdl.base "#builtin.integer"
    irdl.operands(input: %input)
    irdl.results(output: %output)
    irdl.attributes {"start" = %start_attr, "offset" = %offset_attr}
  }
  // Concatenation along `axis` of inputs stored like the result (a copy per input).
  irdl.operation @concat {
    %input = irdl.base "!builtin.tensor"
    %output = irdl.base "!builtin.tensor"
    %axis_attr = irdl.base "#builtin.integer"
    %offset_attr = irdl.base "#builtin.integer"
    irdl.operands(inputs: variadic %input)
    irdl.results(output: %output)
    irdl.attributes {"axis" = %axis_attr, "offset" = %offset_attr}
  }
  // Batched activation product lhs [B,N,K] · rhs [B,K,M] with fused requantization:
  // out = clamp(zp_out + apply_scale(sum_k (lhs - input_zp) (rhs - rhs_zp))).
  irdl.operation @matmul {
    %lhs = irdl.base "!builtin.tensor"
    %rhs = irdl.base "!builtin.tensor"
    %output = irdl.base "!builtin.tensor"
    %input_zp_attr = irdl.base "#builtin.integer"
    %rhs_zp_attr = irdl.base "#builtin.integer"
    %output_zp_attr = irdl.base "#builtin.integer"
    %multiplier_attr = irdl.base "#builtin.dense_array"
    %shift_attr = irdl.base "#builtin.dense_array"
    %clamp_min_attr = irdl.base "#builtin.integer"
    %clamp_max_attr = irdl.base "#builtin.integer"
    %offset_attr = irdl.base "#builtin.integer"
    irdl.operands(lhs: %lhs, rhs: %rhs)
    irdl.results(output: %output)
    irdl.attributes {"input_zp" = %input_zp_attr, "rhs_zp" = %rhs_zp_attr, "output_zp" = %output_zp_attr, "multiplier" = %multiplier_attr, "shift" = %shift_attr, "clamp_min" = %clamp_min_attr, "clamp_max" = %clamp_max_attr, "offset" = %offset_attr}
  }
  // Fixed-point LayerNorm over the last dimension (qnt.layer_norm's arithmetic, with the zero
  // points and the clamp explicit).
  irdl.operation @layer_norm {
    %input = irdl.base "!builtin.tensor"
    %output = irdl.base "!builtin.tensor"
    %input_zp_attr = irdl.base "#builtin.integer"
    %output_zp_attr = irdl.base "#builtin.integer"
    %multiplier_attr = irdl.base "#builtin.dense_array"
    %shift_attr = irdl.base "#builtin.dense_array"
    %bias_attr = irdl.base "#builtin.dense_array"
    %eps_term_attr = irdl.base "#builtin.integer"
    %clamp_min_attr = irdl.base "#builtin.integer"
    %clamp_max_attr = irdl.base "#builtin.integer"
    %offset_attr = irdl.base "#builtin.integer"
    irdl.operands(input: %input)
    irdl.results(output: %output)
    irdl.attributes {"input_zp" = %input_zp_attr, "output_zp" = %output_zp_attr, "multiplier" = %multiplier_attr, "shift" = %shift_attr, "bias" = %bias_attr, "eps_term" = %eps_term_attr, "clamp_min" = %clamp_min_attr, "clamp_max" = %clamp_max_attr, "offset" = %offset_attr}
  }
  // qnt.resize with its requantization explicit (bilinear; nearest copies).
  irdl.operation @resize {
    %input = irdl.base "!builtin.tensor"
    %output = irdl.base "!builtin.tensor"
    %nearest = irdl.is "nearest"
    %bilinear = irdl.is "bilinear"
    %mode_attr = irdl.any_of(%nearest, %bilinear)
    %scale_attr = irdl.base "#builtin.dense_array"
    %image_offset_attr = irdl.base "#builtin.dense_array"
    %input_zp_attr = irdl.base "#builtin.integer"
    %output_zp_attr = irdl.base "#builtin.integer"
    %multiplier_attr = irdl.base "#builtin.dense_array"
    %shift_attr = irdl.base "#builtin.dense_array"
    %clamp_min_attr = irdl.base "#builtin.integer"
    %clamp_max_attr = irdl.base "#builtin.integer"
    %offset_attr = irdl.base "#builtin.integer"
    irdl.operands(input: %input)
    irdl.results(output: %output)
    irdl.attributes {"mode" = %mode_attr, "scale" = %scale_attr, "image_offset" = %image_offset_attr, "input_zp" = %input_zp_attr, "output_zp" = %output_zp_attr, "multiplier" = %multiplier_attr, "shift" = %shift_attr, "clamp_min" = %clamp_min_attr, "clamp_max" = %clamp_max_attr, "offset" = %offset_attr}
  }
  // qnt.transpose_conv2d with fused requantization and clamp (and the optional fused fields).
  irdl.operation @transpose_conv2d {
    %input = irdl.base "!builtin.tensor"
    %weight = irdl.base "!builtin.tensor"
    %bias = irdl.base "!builtin.tensor"
    %output = irdl.base "!builtin.tensor"
    %out_pad_attr = irdl.base "#builtin.dense_array"
    %stride_attr = irdl.base "#builtin.dense_array"
    %input_zp_attr = irdl.base "#builtin.integer"
    %output_zp_attr = irdl.base "#builtin.integer"
    %multiplier_attr = irdl.base "#builtin.dense_array"
    %shift_attr = irdl.base "#builtin.dense_array"
    %clamp_min_attr = irdl.base "#builtin.integer"
    %clamp_max_attr = irdl.base "#builtin.integer"
    %offset_attr = irdl.base "#builtin.integer"
    irdl.operands(input: %input, weight: %weight, bias: %bias)
    irdl.results(output: %output)
    irdl.attributes {"out_pad" = %out_pad_attr, "stride" = %stride_attr, "input_zp" = %input_zp_attr, "output_zp" = %output_zp_attr, "multiplier" = %multiplier_attr, "shift" = %shift_attr, "clamp_min" = %clamp_min_attr, "clamp_max" = %clamp_max_attr, "offset" = %offset_attr}
  }
  // qnt.squeeze_excite's arithmetic with the zero points and the clamp explicit (weights
  // w1 [Cm,C], w2 [C,Cm] i8, biases i32); the channel sums, hidden activation and gate live in
  // the kernel (64-bit sums), not in the arena.
  irdl.operation @squeeze_excite {
    %input = irdl.base "!builtin.tensor"
    %w1 = irdl.base "!builtin.tensor"
    %b1 = irdl.base "!builtin.tensor"
    %w2 = irdl.base "!builtin.tensor"
    %b2 = irdl.base "!builtin.tensor"
    %output = irdl.base "!builtin.tensor"
    %pool_multiplier_attr = irdl.base "#builtin.integer"
    %pool_shift_attr = irdl.base "#builtin.integer"
    %hidden_multiplier_attr = irdl.base "#builtin.dense_array"
    %hidden_shift_attr = irdl.base "#builtin.dense_array"
    %hidden_max_attr = irdl.base "#builtin.integer"
    %gate_multiplier_attr = irdl.base "#builtin.dense_array"
    %gate_shift_attr = irdl.base "#builtin.dense_array"
    %multiplier_attr = irdl.base "#builtin.integer"
    %shift_attr = irdl.base "#builtin.integer"
    %input_zp_attr = irdl.base "#builtin.integer"
    %output_zp_attr = irdl.base "#builtin.integer"
    %clamp_min_attr = irdl.base "#builtin.integer"
    %clamp_max_attr = irdl.base "#builtin.integer"
    %offset_attr = irdl.base "#builtin.integer"
    irdl.operands(input: %input, w1: %w1, b1: %b1, w2: %w2, b2: %b2)
    irdl.results(output: %output)
    %gate_table_attr = irdl.base "#builtin.dense_array"
    %hidden_table_attr = irdl.base "#builtin.dense_array"
    %hidden_out_shift_attr = irdl.base "#builtin.integer"
    irdl.attributes {"pool_multiplier" = %pool_multiplier_attr, "pool_shift" = %pool_shift_attr, "hidden_multiplier" = %hidden_multiplier_attr, "hidden_shift" = %hidden_shift_attr, "hidden_max" = %hidden_max_attr, "hidden_table" = %hidden_table_attr, "hidden_out_shift" = %hidden_out_shift_attr, "gate_multiplier" = %gate_multiplier_attr, "gate_shift" = %gate_shift_attr, "gate_table" = %gate_table_attr, "multiplier" = %multiplier_attr, "shift" = %shift_attr, "input_zp" = %input_zp_attr, "output_zp" = %output_zp_attr, "clamp_min" = %clamp_min_attr, "clamp_max" = %clamp_max_attr, "offset" = %offset_attr}
  }
  // Scheduled programs (npu targets, docs/dialects/tile.md "Data movement"): tensors live in
  // external memory (DRAM), compute ops run on tiles in on-chip SRAM, and these three ops move
  // data between the two. An uninitialised DRAM tensor at `offset` in the arena, filled by
  // dma_store.
  irdl.operation @alloc {
    %output = irdl.base "!builtin.tensor"
    %offset_attr = irdl.base "#builtin.integer"
    irdl.results(output: %output)
    irdl.attributes {"offset" = %offset_attr}
  }
  // Copies the box of `source` (a DRAM tensor or a constant) that starts at `start` (sizes:
  // the result's shape) into an SRAM tile at `sram_offset`.
  irdl.operation @dma_load {
    %source = irdl.base "!builtin.tensor"
    %output = irdl.base "!builtin.tensor"
    %start_attr = irdl.base "#builtin.dense_array"
    %sram_offset_attr = irdl.base "#builtin.integer"
    irdl.operands(source: %source)
    irdl.results(output: %output)
    irdl.attributes {"start" = %start_attr, "sram_offset" = %sram_offset_attr}
  }
  // `dest` with the box that starts at `start` replaced by the SRAM tile `tile` (functional:
  // the result is dest's DRAM buffer, at the same `offset`, after the copy).
  irdl.operation @dma_store {
    %tile = irdl.base "!builtin.tensor"
    %dest = irdl.base "!builtin.tensor"
    %output = irdl.base "!builtin.tensor"
    %start_attr = irdl.base "#builtin.dense_array"
    %offset_attr = irdl.base "#builtin.integer"
    irdl.operands(tile: %tile, dest: %dest)
    irdl.results(output: %output)
    irdl.attributes {"start" = %start_attr, "offset" = %offset_attr}
  }
}
