// RUN: %nibble opt %s --pass-pipeline='builtin.module(nibble-fuse-activations)' | FileCheck %s
// RUN: %nibble opt %s --pass-pipeline='builtin.module(nibble-fuse-activations,nibble-quantize)' | FileCheck %s --check-prefix=QNT
// RUN: %nibble opt %s --pass-pipeline='builtin.module(nibble-quantize)' | FileCheck %s --check-prefix=UNFUSED

// Activations that alone read a layer's output are marked fused: the conv's ReLU6 and the fully
// connected layer's (matmul → reshape → bias add) PReLU. Not fused: the ReLU after an add (not a
// layer) and the ReLU of a conv whose output is also returned.
// CHECK-LABEL: func.func @main
// CHECK: tosa.conv2d
// CHECK-NEXT: tosa.clamp %{{.*}} {max_val = 6.000000e+00 : f32, min_val = 0.000000e+00 : f32, nibble.fused
// CHECK: tosa.add
// CHECK-NEXT: tosa.clamp
// CHECK-NOT: nibble.fused
// CHECK-SAME: -> tensor<1x2x2x2xf32>
// CHECK: tosa.matmul
// CHECK: tosa.custom {{.*}}nibble.fused{{.*}}operator_name = "prelu"
// CHECK: tosa.conv2d
// CHECK-NEXT: tosa.clamp
// CHECK-NOT: nibble.fused
// CHECK-SAME: -> tensor<1x2x2x2xf32>

// Quantized, a fused ReLU6 is one requantization of the accumulator to the ReLU6's own range
// ([0, 6] symmetric: 6/127), then its bounds on that grid ([0, 127]); unfused, the accumulator
// is first rounded to the conv's own 8-bit grid ([-8, 8]: 8/127).
// QNT: "qnt.conv2d"
// QNT-NEXT: "qnt.requant"({{.*}}) -> tensor<1x2x2x2x!quant.uniform<i8:f32, 0.04724409448{{[0-9]*}}>>
// QNT-NEXT: "qnt.clamp"({{.*}}) {max = 127 : i64, min = 0 : i64}
// UNFUSED: "qnt.conv2d"
// UNFUSED-NEXT: "qnt.requant"({{.*}}) -> tensor<1x2x2x2x!quant.uniform<i8:f32, 0.06299212598{{[0-9]*}}>>
// UNFUSED-NEXT: "qnt.clamp"({{.*}}) {max = 95 : i64, min = 0 : i64}
// UNFUSED-NEXT: "qnt.requant"({{.*}}) -> tensor<1x2x2x2x!quant.uniform<i8:f32, 0.04724409448{{[0-9]*}}>>
func.func @main(%x: tensor<1x2x2x2xf32>) -> (tensor<1x2x2x2xf32>, tensor<1x2x2x2xf32>, tensor<1x2x2x2xf32>, tensor<1x2x2x2xf32>) attributes {nibble.arg0_min = -1.0 : f64, nibble.arg0_max = 1.0 : f64} {
  %zp = "tosa.const"() {values = dense<0.0> : tensor<1xf32>} : () -> tensor<1xf32>
  %w = "tosa.const"() {values = dense<0.5> : tensor<2x1x1x2xf32>} : () -> tensor<2x1x1x2xf32>
  %b = "tosa.const"() {values = dense<0.0> : tensor<2xf32>} : () -> tensor<2xf32>
  %c = tosa.conv2d %x, %w, %b, %zp, %zp {acc_type = f32, dilation = array<i64: 1, 1>, pad = array<i64: 0, 0, 0, 0>, stride = array<i64: 1, 1>, nibble.min = -8.0 : f64, nibble.max = 8.0 : f64} : (tensor<1x2x2x2xf32>, tensor<2x1x1x2xf32>, tensor<2xf32>, tensor<1xf32>, tensor<1xf32>) -> tensor<1x2x2x2xf32>
  %r6 = tosa.clamp %c {min_val = 0.0 : f32, max_val = 6.0 : f32, nibble.min = 0.0 : f64, nibble.max = 6.0 : f64} : (tensor<1x2x2x2xf32>) -> tensor<1x2x2x2xf32>
  %s = tosa.add %r6, %x {nibble.min = -1.0 : f64, nibble.max = 7.0 : f64} : (tensor<1x2x2x2xf32>, tensor<1x2x2x2xf32>) -> tensor<1x2x2x2xf32>
  %rs = tosa.clamp %s {min_val = 0.0 : f32, max_val = 3.40282347E+38 : f32, nibble.min = 0.0 : f64, nibble.max = 7.0 : f64} : (tensor<1x2x2x2xf32>) -> tensor<1x2x2x2xf32>
  %s3 = tosa.const_shape {values = dense<[1, 4, 2]> : tensor<3xindex>} : () -> !tosa.shape<3>
  %s4 = tosa.const_shape {values = dense<[1, 2, 2, 2]> : tensor<4xindex>} : () -> !tosa.shape<4>
  %x3 = tosa.reshape %x, %s3 {nibble.min = -1.0 : f64, nibble.max = 1.0 : f64} : (tensor<1x2x2x2xf32>, !tosa.shape<3>) -> tensor<1x4x2xf32>
  %m = "tosa.const"() {values = dense<0.25> : tensor<1x2x2xf32>} : () -> tensor<1x2x2xf32>
  %mm = tosa.matmul %x3, %m, %zp, %zp {nibble.min = -1.0 : f64, nibble.max = 1.0 : f64} : (tensor<1x4x2xf32>, tensor<1x2x2xf32>, tensor<1xf32>, tensor<1xf32>) -> tensor<1x4x2xf32>
  %mr = tosa.reshape %mm, %s4 {nibble.min = -1.0 : f64, nibble.max = 1.0 : f64} : (tensor<1x4x2xf32>, !tosa.shape<4>) -> tensor<1x2x2x2xf32>
  %fb = "tosa.const"() {values = dense<0.1> : tensor<1x1x1x2xf32>} : () -> tensor<1x1x1x2xf32>
  %fc = tosa.add %mr, %fb {nibble.min = -1.0 : f64, nibble.max = 1.0 : f64} : (tensor<1x2x2x2xf32>, tensor<1x1x1x2xf32>) -> tensor<1x2x2x2xf32>
  %slope = "tosa.const"() {values = dense<0.25> : tensor<1x1x1x2xf32>} : () -> tensor<1x1x1x2xf32>
  %p = tosa.custom %fc, %slope {domain_name = "nibble", implementation_attrs = "", operator_name = "prelu", nibble.min = -0.25 : f64, nibble.max = 1.0 : f64} : (tensor<1x2x2x2xf32>, tensor<1x1x1x2xf32>) -> tensor<1x2x2x2xf32>
  %c2 = tosa.conv2d %x, %w, %b, %zp, %zp {acc_type = f32, dilation = array<i64: 1, 1>, pad = array<i64: 0, 0, 0, 0>, stride = array<i64: 1, 1>, nibble.min = -8.0 : f64, nibble.max = 8.0 : f64} : (tensor<1x2x2x2xf32>, tensor<2x1x1x2xf32>, tensor<2xf32>, tensor<1xf32>, tensor<1xf32>) -> tensor<1x2x2x2xf32>
  %r2 = tosa.clamp %c2 {min_val = 0.0 : f32, max_val = 3.40282347E+38 : f32, nibble.min = 0.0 : f64, nibble.max = 8.0 : f64} : (tensor<1x2x2x2xf32>) -> tensor<1x2x2x2xf32>
  return %rs, %p, %r2, %c2 : tensor<1x2x2x2xf32>, tensor<1x2x2x2xf32>, tensor<1x2x2x2xf32>, tensor<1x2x2x2xf32>
}
