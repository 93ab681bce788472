// The `qnt` dialect: the quant level of nibble. Every tensor carries a quantization decision in
// its element type (`!quant.uniform<iN:f32, scale[:zero_point]>`); ops compute on the stored
// integers. Semantics: docs/dialects/qnt.md. This file is the single definition of the dialect;
// it is loaded into every nibble MLIR context. Where IRDL can say it, it fixes attribute values
// (rounding_mode, resize's mode) and operands that share one type (clamp). The element types
// the semantics fix (i8/i16 activations, i8 weights, i32 biases and accumulators) it cannot:
// `irdl.parametric` takes only IRDL-defined types, not `!builtin.tensor`, and `irdl.is` one
// exact type; they are declared per op in dialects/qnt/types.rs (`qnt::types::SIGNATURES`),
// checked before the lowering to tile.
irdl.dialect @qnt {
  // f32 tensor -> quantized tensor: q = clamp(round_half_away(x / scale) + zp).
  irdl.operation @quantize {
    %input = irdl.base "!builtin.tensor"
    %output = irdl.base "!builtin.tensor"
    irdl.operands(input: %input)
    irdl.results(output: %output)
  }
  // quantized tensor -> f32 tensor: x = scale * (q - zp).
  irdl.operation @dequantize {
    %input = irdl.base "!builtin.tensor"
    %output = irdl.base "!builtin.tensor"
    irdl.operands(input: %input)
    irdl.results(output: %output)
  }
  // A quantized constant; `value` holds the storage integers.
  irdl.operation @const {
    %output = irdl.base "!builtin.tensor"
    %value_attr = irdl.base "#builtin.dense_int_or_fp_elements"
    irdl.results(output: %output)
    irdl.attributes {"value" = %value_attr}
  }
  // NHWC convolution of i8 input with OHWI i8 weights and i32 bias into an i32 accumulator
  // whose scale is input_scale * weight_scale.
  irdl.operation @conv2d {
    %input = irdl.base "!builtin.tensor"
    %weight = irdl.base "!builtin.tensor"
    %bias = irdl.base "!builtin.tensor"
    %output = irdl.base "!builtin.tensor"
    %pad_attr = irdl.base "#builtin.dense_array"
    %stride_attr = irdl.base "#builtin.dense_array"
    %dilation_attr = irdl.base "#builtin.dense_array"
    irdl.operands(input: %input, weight: %weight, bias: %bias)
    irdl.results(output: %output)
    irdl.attributes {"pad" = %pad_attr, "stride" = %stride_attr, "dilation" = %dilation_attr}
  }
  // NHWC depthwise convolution: weights [KH, KW, C, 1] i8, i32 bias, output channel c
  // accumulates input channel c only; accumulator scale input_scale * weight_scale[c].
  irdl.operation @depthwise_conv2d {
    %input = irdl.base "!builtin.tensor"
    %weight = irdl.base "!builtin.tensor"
    %bias = irdl.base "!builtin.tensor"
    %output = irdl.base "!builtin.tensor"
    %pad_attr = irdl.base "#builtin.dense_array"
    %stride_attr = irdl.base "#builtin.dense_array"
    %dilation_attr = irdl.base "#builtin.dense_array"
    irdl.operands(input: %input, weight: %weight, bias: %bias)
    irdl.results(output: %output)
    irdl.attributes {"pad" = %pad_attr, "stride" = %stride_attr, "dilation" = %dilation_attr}
  }
  // [N, IC] x [OC, IC]^T + bias -> [N, OC] i32 accumulator.
  irdl.operation @fully_connected {
    %input = irdl.base "!builtin.tensor"
    %weight = irdl.base "!builtin.tensor"
    %bias = irdl.base "!builtin.tensor"
    %output = irdl.base "!builtin.tensor"
    irdl.operands(input: %input, weight: %weight, bias: %bias)
    irdl.results(output: %output)
  }
  // Change of scale: out = clamp(zp_out + apply_scale(in - zp_in, multiplier, shift)).
  // multiplier/shift are normative (one integer, or an i32 array with one entry per channel of
  // the last dimension for a per-channel input); the scales in the types are informative.
  irdl.operation @requant {
    %input = irdl.base "!builtin.tensor"
    %output = irdl.base "!builtin.tensor"
    %multiplier_int = irdl.base "#builtin.integer"
    %multiplier_arr = irdl.base "#builtin.dense_array"
    %multiplier_attr = irdl.any_of(%multiplier_int, %multiplier_arr)
    %shift_int = irdl.base "#builtin.integer"
    %shift_arr = irdl.base "#builtin.dense_array"
    %shift_attr = irdl.any_of(%shift_int, %shift_arr)
    %rounding_mode_attr = irdl.is "SINGLE_ROUND"
    irdl.operands(input: %input)
    irdl.results(output: %output)
    irdl.attributes {"multiplier" = %multiplier_attr, "shift" = %shift_attr, "rounding_mode" = %rounding_mode_attr}
  }
  // Clamp stored integers to [min, max] (ReLU is clamp(zp, qmax)); the type is unchanged (one
  // constraint variable for both).
  irdl.operation @clamp {
    %tensor = irdl.base "!builtin.tensor"
    %min_attr = irdl.base "#builtin.integer"
    %max_attr = irdl.base "#builtin.integer"
    irdl.operands(input: %tensor)
    irdl.results(output: %tensor)
    irdl.attributes {"min" = %min_attr, "max" = %max_attr}
  }
  irdl.operation @max_pool2d {
    %input = irdl.base "!builtin.tensor"
    %output = irdl.base "!builtin.tensor"
    %kernel_attr = irdl.base "#builtin.dense_array"
    %stride_attr = irdl.base "#builtin.dense_array"
    %pad_attr = irdl.base "#builtin.dense_array"
    irdl.operands(input: %input)
    irdl.results(output: %output)
    irdl.attributes {"kernel" = %kernel_attr, "stride" = %stride_attr, "pad" = %pad_attr}
  }
  irdl.operation @reshape {
    %input = irdl.base "!builtin.tensor"
    %output = irdl.base "!builtin.tensor"
    irdl.operands(input: %input)
    irdl.results(output: %output)
  }
  // Elementwise lookup table on i8: out = table[in + 128]. Any unary activation (hard-swish,
  // sigmoid, tanh, GELU, …) becomes one, computed at compile time from its in/out types.
  irdl.operation @lut {
    %input = irdl.base "!builtin.tensor"
    %output = irdl.base "!builtin.tensor"
    %table_attr = irdl.base "#builtin.dense_int_or_fp_elements"
    %function_attr = irdl.base "#builtin.string"
    irdl.operands(input: %input)
    irdl.results(output: %output)
    irdl.attributes {"table" = %table_attr, "function" = %function_attr}
  }
  irdl.operation @transpose {
    %input = irdl.base "!builtin.tensor"
    %output = irdl.base "!builtin.tensor"
    %perms_attr = irdl.base "#builtin.dense_array"
    irdl.operands(input: %input)
    irdl.results(output: %output)
    irdl.attributes {"perms" = %perms_attr}
  }
  // Average pool: out = clamp(zp_out + apply_scale(sum over the window's taps inside the input
  // of (in - zp_in), multiplier[k], shift[k])), k = 0 when the arrays have one entry (every
  // window is full), else k = taps - 1 (the multiplier is scale_in / (taps * scale_out)).
  irdl.operation @avg_pool2d {
    %input = irdl.base "!builtin.tensor"
    %output = irdl.base "!builtin.tensor"
    %kernel_attr = irdl.base "#builtin.dense_array"
    %stride_attr = irdl.base "#builtin.dense_array"
    %pad_attr = irdl.base "#builtin.dense_array"
    %multiplier_attr = irdl.base "#builtin.dense_array"
    %shift_attr = irdl.base "#builtin.dense_array"
    irdl.operands(input: %input)
    irdl.results(output: %output)
    irdl.attributes {"kernel" = %kernel_attr, "stride" = %stride_attr, "pad" = %pad_attr, "multiplier" = %multiplier_attr, "shift" = %shift_attr}
  }
  // Elementwise sum with rescaling, one rounding: out = clamp(zp_out + floor(((a - zp_a) *
  // multiplier[0] + (b - zp_b) * multiplier[1] + 2^(shift-1)) / 2^shift)). Same-rank operands,
  // size-1 dimensions broadcast.
  irdl.operation @add {
    %lhs = irdl.base "!builtin.tensor"
    %rhs = irdl.base "!builtin.tensor"
    %output = irdl.base "!builtin.tensor"
    %multiplier_attr = irdl.base "#builtin.dense_array"
    %shift_attr = irdl.base "#builtin.integer"
    irdl.operands(lhs: %lhs, rhs: %rhs)
    irdl.results(output: %output)
    irdl.attributes {"multiplier" = %multiplier_attr, "shift" = %shift_attr}
  }
  // Elementwise product: out = clamp(zp_out + apply_scale((a - zp_a) * (b - zp_b), multiplier,
  // shift)); multiplier = scale_a * scale_b / scale_out. Size-1 dimensions broadcast.
  irdl.operation @mul {
    %lhs = irdl.base "!builtin.tensor"
    %rhs = irdl.base "!builtin.tensor"
    %output = irdl.base "!builtin.tensor"
    %multiplier_attr = irdl.base "#builtin.integer"
    %shift_attr = irdl.base "#builtin.integer"
    irdl.operands(lhs: %lhs, rhs: %rhs)
    irdl.results(output: %output)
    irdl.attributes {"multiplier" = %multiplier_attr, "shift" = %shift_attr}
  }
  // PReLU: d = in - zp_in (an i8 activation, or the i32 accumulator of a conv / fully connected
  // layer, zp 0); out = clamp(zp_out + apply_scale(d, d >= 0 ? pos[c] : neg[c])). Both sides
  // have one multiplier or one per channel of the last dimension; the negative side's are
  // signed (slope * scale_in / scale_out).
  irdl.operation @prelu {
    %input = irdl.base "!builtin.tensor"
    %output = irdl.base "!builtin.tensor"
    %pos_multiplier_attr = irdl.base "#builtin.dense_array"
    %pos_shift_attr = irdl.base "#builtin.dense_array"
    %neg_multiplier_attr = irdl.base "#builtin.dense_array"
    %neg_shift_attr = irdl.base "#builtin.dense_array"
    irdl.operands(input: %input)
    irdl.results(output: %output)
    irdl.attributes {"pos_multiplier" = %pos_multiplier_attr, "pos_shift" = %pos_shift_attr, "neg_multiplier" = %neg_multiplier_attr, "neg_shift" = %neg_shift_attr}
  }
  // Softmax over the last dimension in fixed point, without division: per row, e_i =
  // exp_table[in_i - max + 255] (round(2^15 exp(scale_in * d))), S = sum e_i, R = floor(2^K / S)
  // with K = 30 + bitlength(S) (a restoring division: shifts and subtractions), out_i =
  // clamp(zp_out + floor((e_i * R + 2^(K-frac_bits-1)) / 2^(K-frac_bits))); the output scale
  // is 2^-frac_bits.
  irdl.operation @softmax {
    %input = irdl.base "!builtin.tensor"
    %output = irdl.base "!builtin.tensor"
    %exp_table_attr = irdl.base "#builtin.dense_int_or_fp_elements"
    %frac_bits_attr = irdl.base "#builtin.integer"
    irdl.operands(input: %input)
    irdl.results(output: %output)
    irdl.attributes {"exp_table" = %exp_table_attr, "frac_bits" = %frac_bits_attr}
  }
  // A box of the input: out[i] = in[start + i] in every dimension; the result type gives the
  // sizes. Same quantization as the input.
  irdl.operation @slice {
    %input = irdl.base "!builtin.tensor"
    %output = irdl.base "!builtin.tensor"
    %start_attr = irdl.base "#builtin.dense_array"
    irdl.operands(input: %input)
    irdl.results(output: %output)
    irdl.attributes {"start" = %start_attr}
  }
  // Concatenation along `axis`; every input already has the result's quantization (the
  // quantizer requantizes inputs to the output scale first).
  irdl.operation @concat {
    %input = irdl.base "!builtin.tensor"
    %output = irdl.base "!builtin.tensor"
    %axis_attr = irdl.base "#builtin.integer"
    irdl.operands(inputs: variadic %input)
    irdl.results(output: %output)
    irdl.attributes {"axis" = %axis_attr}
  }
  // Batched product of two activations, lhs [B, N, K] · rhs [B, K, M], into an i32 accumulator
  // at scale_lhs * scale_rhs: acc = sum_k (lhs - zp_lhs) * (rhs - zp_rhs).
  irdl.operation @matmul {
    %lhs = irdl.base "!builtin.tensor"
    %rhs = irdl.base "!builtin.tensor"
    %output = irdl.base "!builtin.tensor"
    irdl.operands(lhs: %lhs, rhs: %rhs)
    irdl.results(output: %output)
  }
  // LayerNorm over the last dimension (N values per row) in fixed point, no division: d = in -
  // zp_in, c_i = N d_i - sum(d), r = isqrt(sum(c^2) + eps_term) (bitwise), R = floor(2^46 / r)
  // (restoring division), t_i = floor_shift(c_i R + 2^15, 16) (~ 2^30 (x - mean) / (sqrt(N)
  // std)), out_i = clamp(zp_out + floor_shift(t_i m_i + bias_i + 2^(s_i - 1), s_i)) with
  // m_i 2^-s_i = gamma_i sqrt(N) / (scale_out 2^30) (signed) and bias_i = round(beta_i /
  // scale_out 2^s_i); eps_term = round(N^3 eps / scale_in^2).
  irdl.operation @layer_norm {
    %input = irdl.base "!builtin.tensor"
    %output = irdl.base "!builtin.tensor"
    %multiplier_attr = irdl.base "#builtin.dense_array"
    %shift_attr = irdl.base "#builtin.dense_array"
    %bias_attr = irdl.base "#builtin.dense_array"
    %eps_term_attr = irdl.base "#builtin.integer"
    irdl.operands(input: %input)
    irdl.results(output: %output)
    irdl.attributes {"multiplier" = %multiplier_attr, "shift" = %shift_attr, "bias" = %bias_attr, "eps_term" = %eps_term_attr}
  }
  // Hard-swish (then a·y + b) of a conv / fully connected i32 accumulator in fixed point, one
  // rounding to the output: v = apply_scale(acc, mid_multiplier[c], mid_shift[c]) at the
  // activation's input scale s_v (|v| clamped to 2^20), t = clamp(v + three, 0, six) (3/s_v and
  // 6/s_v), out = clamp(zp_out + floor_shift(v t multiplier + bias + 2^(shift-1), shift)) with
  // multiplier 2^-shift = a s_v^2 / (6 scale_out) and bias = round(b / scale_out 2^shift);
  // multiplier, shift and bias are arrays: one entry, or one per output channel c (a hard-swish
  // rescaled per channel by cross-layer equalization: multiplier_c ∝ 1/s_c).
  irdl.operation @hard_swish {
    %input = irdl.base "!builtin.tensor"
    %output = irdl.base "!builtin.tensor"
    %mid_multiplier_attr = irdl.base "#builtin.dense_array"
    %mid_shift_attr = irdl.base "#builtin.dense_array"
    %three_attr = irdl.base "#builtin.integer"
    %six_attr = irdl.base "#builtin.integer"
    %multiplier_attr = irdl.base "#builtin.dense_array"
    %shift_attr = irdl.base "#builtin.dense_array"
    %bias_attr = irdl.base "#builtin.dense_array"
    irdl.operands(input: %input)
    irdl.results(output: %output)
    irdl.attributes {"mid_multiplier" = %mid_multiplier_attr, "mid_shift" = %mid_shift_attr, "three" = %three_attr, "six" = %six_attr, "multiplier" = %multiplier_attr, "shift" = %shift_attr, "bias" = %bias_attr}
  }
  // Swish (x sigmoid(beta x), then a·y + b) of a conv / fully connected i32 accumulator in
  // fixed point: v = clamp(apply_scale(acc, mid_multiplier[c], mid_shift[c]), ±2^20) is beta x
  // in units of 2^-12; u = clamp(v, -2^15, 2^15 - 1) + 2^15, k = u >> 8, r = u & 255, S =
  // T[k] + (((T[k+1] - T[k]) r + 128) >> 8) interpolates sigmoid_table T (257 x Q15 over
  // [-8, 8]); out = clamp(zp_out + floor_shift(v S multiplier + bias + 2^(shift-1), shift))
  // (multiplier, shift and bias: arrays of one entry).
  irdl.operation @swish {
    %input = irdl.base "!builtin.tensor"
    %output = irdl.base "!builtin.tensor"
    %mid_multiplier_attr = irdl.base "#builtin.dense_array"
    %mid_shift_attr = irdl.base "#builtin.dense_array"
    %multiplier_attr = irdl.base "#builtin.dense_array"
    %shift_attr = irdl.base "#builtin.dense_array"
    %bias_attr = irdl.base "#builtin.dense_array"
    %sigmoid_table_attr = irdl.base "#builtin.dense_int_or_fp_elements"
    irdl.operands(input: %input)
    irdl.results(output: %output)
    irdl.attributes {"mid_multiplier" = %mid_multiplier_attr, "mid_shift" = %mid_shift_attr, "multiplier" = %multiplier_attr, "shift" = %shift_attr, "bias" = %bias_attr, "sigmoid_table" = %sigmoid_table_attr}
  }
  // tosa.resize on stored integers. Per output pixel the taps (y0, y1, fy) and (x0, x1, fx)
  // follow from scale [ny, dy, nx, dx] and image_offset [oy, ox] as in tosa.resize (fractions in
  // units of ny, nx). nearest: out = in[y0][x0] (same quantization); bilinear: acc =
  // ((a - zp)(nx - fx) + (b - zp) fx)(ny - fy) + ((c - zp)(nx - fx) + (d - zp) fx) fy at scale
  // scale_in / (nx ny), out = clamp(zp_out + apply_scale(acc, multiplier, shift)).
  irdl.operation @resize {
    %input = irdl.base "!builtin.tensor"
    %output = irdl.base "!builtin.tensor"
    %nearest = irdl.is "nearest"
    %bilinear = irdl.is "bilinear"
    %mode_attr = irdl.any_of(%nearest, %bilinear)
    %scale_attr = irdl.base "#builtin.dense_array"
    %image_offset_attr = irdl.base "#builtin.dense_array"
    %multiplier_attr = irdl.base "#builtin.integer"
    %shift_attr = irdl.base "#builtin.integer"
    irdl.operands(input: %input)
    irdl.results(output: %output)
    irdl.attributes {"mode" = %mode_attr, "scale" = %scale_attr, "image_offset" = %image_offset_attr, "multiplier" = %multiplier_attr, "shift" = %shift_attr}
  }
  // NHWC transposed convolution (tosa.transpose_conv2d) of i8 input with OHWI i8 weights and
  // i32 bias into an i32 accumulator at input_scale * weight_scale: output (iy·sy + out_pad[0]
  // + ky, ix·sx + out_pad[2] + kx) accumulates (x − zpx)·w over every input pixel and tap.
  irdl.operation @transpose_conv2d {
    %input = irdl.base "!builtin.tensor"
    %weight = irdl.base "!builtin.tensor"
    %bias = irdl.base "!builtin.tensor"
    %output = irdl.base "!builtin.tensor"
    %out_pad_attr = irdl.base "#builtin.dense_array"
    %stride_attr = irdl.base "#builtin.dense_array"
    irdl.operands(input: %input, weight: %weight, bias: %bias)
    irdl.results(output: %output)
    irdl.attributes {"out_pad" = %out_pad_attr, "stride" = %stride_attr}
  }
  // Squeeze-excite gate of an i8 activation x [1,H,W,C] (zero point zp_x) in fixed point, with
  // 1×1 weights w1 [Cm,C] and w2 [C,Cm] (i8) and i32 biases b1 [Cm], b2 [C]:
  //   S_c = Σ_hw (x - zp_x); P_c = apply_scale(S_c, pool_multiplier, pool_shift) (≈ 128·mean)
  //   h_m = clamp(apply_scale(Σ_c w1[m,c]·P_c + b1[m], hidden_multiplier[m], hidden_shift[m]),
  //               0, hidden_max)
  //   or, with a hidden_table T (SiLU): v = apply_scale(…same…) in units of 2^-12, s = the
  //   interpolated T at v (as for the gate below), h_m = round_shift(v·s, hidden_out_shift)
  //   z_c = apply_scale(Σ_m w2[c,m]·h_m + b2[c], gate_multiplier[c], gate_shift[c])
  //   g_c = clamp(z_c, 0, 32768)                              (hard sigmoid; the gate in Q15)
  //   or, with a gate_table T (257 × Q15 sigmoid over [-8, 8], as qnt.swish): z_c in units of
  //   2^-12, u = clamp(z_c, -2^15, 2^15 - 1) + 2^15, g_c = T[u >> 8] + (((T[(u >> 8) + 1] -
  //   T[u >> 8])·(u & 255) + 128) >> 8)
  //   out = clamp(zp_out + apply_scale((x - zp_x)·g_c, multiplier, shift))
  // Sums in 64 bits; no intermediate tensor is rounded to 8 bits, so the op needs no ranges
  // but its input's and output's.
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
    irdl.operands(input: %input, w1: %w1, b1: %b1, w2: %w2, b2: %b2)
    irdl.results(output: %output)
    %gate_table_attr = irdl.base "#builtin.dense_array"
    %hidden_table_attr = irdl.base "#builtin.dense_array"
    %hidden_out_shift_attr = irdl.base "#builtin.integer"
    irdl.attributes {"pool_multiplier" = %pool_multiplier_attr, "pool_shift" = %pool_shift_attr, "hidden_multiplier" = %hidden_multiplier_attr, "hidden_shift" = %hidden_shift_attr, "hidden_max" = %hidden_max_attr, "hidden_table" = %hidden_table_attr, "hidden_out_shift" = %hidden_out_shift_attr, "gate_multiplier" = %gate_multiplier_attr, "gate_shift" = %gate_shift_attr, "gate_table" = %gate_table_attr, "multiplier" = %multiplier_attr, "shift" = %shift_attr}
  }
}
