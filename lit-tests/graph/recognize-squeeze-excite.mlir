// RUN: %nibble opt %s --pass-pipeline='builtin.module(nibble-recognize-layers)' | FileCheck %s

// A squeeze-excite gate (global average pool → 1×1 conv → ReLU → 1×1 conv → hard sigmoid →
// scale the input) becomes one op with its weights and biases as operands; the hard sigmoid's
// α and β stay parameters (here the exporter's clamp(0.2·z + 0.5, 0, 1)); a sigmoid gate after a
// ReLU6 hidden activation is one too (sigmoid=1, hidden_max=6), and so is EfficientNet's, a
// sigmoid gate after a SiLU a·sigmoid(a) (silu=1).
// Not squeeze-excite gates, left as they are: a pool that is not global (a 1×2 window), and a
// hidden activation read twice.
// CHECK-LABEL: func.func @se
// CHECK-NOT: tosa.avg_pool2d
// CHECK: %[[Y:.*]] = tosa.custom %arg0, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}} {domain_name = "nibble", implementation_attrs = "hidden_max=3.4028234663852886e38,alpha=2e-1,beta=5e-1,sigmoid=0,silu=0", operator_name = "squeeze_excite"}
// CHECK: tosa.avg_pool2d {{.*}} -> tensor<1x2x1x4xf32>
// CHECK: tosa.avg_pool2d {{.*}} -> tensor<1x1x1x4xf32>
// CHECK-NOT: squeeze_excite
// CHECK: %[[S:.*]] = tosa.custom %arg0, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}} {domain_name = "nibble", implementation_attrs = "hidden_max=6e0,alpha=1e0,beta=0e0,sigmoid=1,silu=0", operator_name = "squeeze_excite"}
// CHECK: %[[E:.*]] = tosa.custom %arg0, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}} {domain_name = "nibble", implementation_attrs = "hidden_max=inf,alpha=1e0,beta=0e0,sigmoid=1,silu=1", operator_name = "squeeze_excite"}
// CHECK-NOT: tosa.sigmoid
// CHECK: return %{{.*}}, %[[Y]], %{{.*}}, %{{.*}}, %[[S]], %[[E]]
func.func @se(%x: tensor<1x2x2x4xf32>) -> (tensor<1x2x2x4xf32>, tensor<1x2x2x4xf32>, tensor<1x2x2x4xf32>, tensor<1x1x1x2xf32>, tensor<1x2x2x4xf32>, tensor<1x2x2x4xf32>) {
  %shift = "tosa.const"() {values = dense<0> : tensor<1xi8>} : () -> tensor<1xi8>
  %zp = "tosa.const"() {values = dense<0.0> : tensor<1xf32>} : () -> tensor<1xf32>
  %w1 = "tosa.const"() {values = dense<0.5> : tensor<2x1x1x4xf32>} : () -> tensor<2x1x1x4xf32>
  %b1 = "tosa.const"() {values = dense<0.1> : tensor<2xf32>} : () -> tensor<2xf32>
  %w2 = "tosa.const"() {values = dense<1.0> : tensor<4x1x1x2xf32>} : () -> tensor<4x1x1x2xf32>
  %b2 = "tosa.const"() {values = dense<0.0> : tensor<4xf32>} : () -> tensor<4xf32>
  %fifth = "tosa.const"() {values = dense<0.2> : tensor<1x1x1x1xf32>} : () -> tensor<1x1x1x1xf32>
  %half = "tosa.const"() {values = dense<0.5> : tensor<1x1x1x1xf32>} : () -> tensor<1x1x1x1xf32>
  %p = tosa.avg_pool2d %x, %zp, %zp {acc_type = f32, kernel = array<i64: 2, 2>, pad = array<i64: 0, 0, 0, 0>, stride = array<i64: 1, 1>} : (tensor<1x2x2x4xf32>, tensor<1xf32>, tensor<1xf32>) -> tensor<1x1x1x4xf32>
  %a = tosa.conv2d %p, %w1, %b1, %zp, %zp {acc_type = f32, dilation = array<i64: 1, 1>, pad = array<i64: 0, 0, 0, 0>, stride = array<i64: 1, 1>} : (tensor<1x1x1x4xf32>, tensor<2x1x1x4xf32>, tensor<2xf32>, tensor<1xf32>, tensor<1xf32>) -> tensor<1x1x1x2xf32>
  %h = tosa.clamp %a {min_val = 0.0 : f32, max_val = 3.40282347E+38 : f32} : (tensor<1x1x1x2xf32>) -> tensor<1x1x1x2xf32>
  %z = tosa.conv2d %h, %w2, %b2, %zp, %zp {acc_type = f32, dilation = array<i64: 1, 1>, pad = array<i64: 0, 0, 0, 0>, stride = array<i64: 1, 1>} : (tensor<1x1x1x2xf32>, tensor<4x1x1x2xf32>, tensor<4xf32>, tensor<1xf32>, tensor<1xf32>) -> tensor<1x1x1x4xf32>
  %t = tosa.mul %z, %fifth, %shift : (tensor<1x1x1x4xf32>, tensor<1x1x1x1xf32>, tensor<1xi8>) -> tensor<1x1x1x4xf32>
  %u = tosa.add %t, %half : (tensor<1x1x1x4xf32>, tensor<1x1x1x1xf32>) -> tensor<1x1x1x4xf32>
  %g = tosa.clamp %u {min_val = 0.0 : f32, max_val = 1.0 : f32} : (tensor<1x1x1x4xf32>) -> tensor<1x1x1x4xf32>
  %y = tosa.mul %x, %g, %shift : (tensor<1x2x2x4xf32>, tensor<1x1x1x4xf32>, tensor<1xi8>) -> tensor<1x2x2x4xf32>
  %pl = tosa.avg_pool2d %x, %zp, %zp {acc_type = f32, kernel = array<i64: 1, 2>, pad = array<i64: 0, 0, 0, 0>, stride = array<i64: 1, 1>} : (tensor<1x2x2x4xf32>, tensor<1xf32>, tensor<1xf32>) -> tensor<1x2x1x4xf32>
  %al = tosa.conv2d %pl, %w1, %b1, %zp, %zp {acc_type = f32, dilation = array<i64: 1, 1>, pad = array<i64: 0, 0, 0, 0>, stride = array<i64: 1, 1>} : (tensor<1x2x1x4xf32>, tensor<2x1x1x4xf32>, tensor<2xf32>, tensor<1xf32>, tensor<1xf32>) -> tensor<1x2x1x2xf32>
  %hl = tosa.clamp %al {min_val = 0.0 : f32, max_val = 3.40282347E+38 : f32} : (tensor<1x2x1x2xf32>) -> tensor<1x2x1x2xf32>
  %zl = tosa.conv2d %hl, %w2, %b2, %zp, %zp {acc_type = f32, dilation = array<i64: 1, 1>, pad = array<i64: 0, 0, 0, 0>, stride = array<i64: 1, 1>} : (tensor<1x2x1x2xf32>, tensor<4x1x1x2xf32>, tensor<4xf32>, tensor<1xf32>, tensor<1xf32>) -> tensor<1x2x1x4xf32>
  %gl = tosa.clamp %zl {min_val = 0.0 : f32, max_val = 1.0 : f32} : (tensor<1x2x1x4xf32>) -> tensor<1x2x1x4xf32>
  %y_local = tosa.mul %x, %gl, %shift : (tensor<1x2x2x4xf32>, tensor<1x2x1x4xf32>, tensor<1xi8>) -> tensor<1x2x2x4xf32>
  %p2 = tosa.avg_pool2d %x, %zp, %zp {acc_type = f32, kernel = array<i64: 2, 2>, pad = array<i64: 0, 0, 0, 0>, stride = array<i64: 1, 1>} : (tensor<1x2x2x4xf32>, tensor<1xf32>, tensor<1xf32>) -> tensor<1x1x1x4xf32>
  %a2 = tosa.conv2d %p2, %w1, %b1, %zp, %zp {acc_type = f32, dilation = array<i64: 1, 1>, pad = array<i64: 0, 0, 0, 0>, stride = array<i64: 1, 1>} : (tensor<1x1x1x4xf32>, tensor<2x1x1x4xf32>, tensor<2xf32>, tensor<1xf32>, tensor<1xf32>) -> tensor<1x1x1x2xf32>
  %h2 = tosa.clamp %a2 {min_val = 0.0 : f32, max_val = 3.40282347E+38 : f32} : (tensor<1x1x1x2xf32>) -> tensor<1x1x1x2xf32>
  %z2 = tosa.conv2d %h2, %w2, %b2, %zp, %zp {acc_type = f32, dilation = array<i64: 1, 1>, pad = array<i64: 0, 0, 0, 0>, stride = array<i64: 1, 1>} : (tensor<1x1x1x2xf32>, tensor<4x1x1x2xf32>, tensor<4xf32>, tensor<1xf32>, tensor<1xf32>) -> tensor<1x1x1x4xf32>
  %g2 = tosa.clamp %z2 {min_val = 0.0 : f32, max_val = 1.0 : f32} : (tensor<1x1x1x4xf32>) -> tensor<1x1x1x4xf32>
  %y2 = tosa.mul %x, %g2, %shift : (tensor<1x2x2x4xf32>, tensor<1x1x1x4xf32>, tensor<1xi8>) -> tensor<1x2x2x4xf32>
  %ps = tosa.avg_pool2d %x, %zp, %zp {acc_type = f32, kernel = array<i64: 2, 2>, pad = array<i64: 0, 0, 0, 0>, stride = array<i64: 1, 1>} : (tensor<1x2x2x4xf32>, tensor<1xf32>, tensor<1xf32>) -> tensor<1x1x1x4xf32>
  %as = tosa.conv2d %ps, %w1, %b1, %zp, %zp {acc_type = f32, dilation = array<i64: 1, 1>, pad = array<i64: 0, 0, 0, 0>, stride = array<i64: 1, 1>} : (tensor<1x1x1x4xf32>, tensor<2x1x1x4xf32>, tensor<2xf32>, tensor<1xf32>, tensor<1xf32>) -> tensor<1x1x1x2xf32>
  %hs = tosa.clamp %as {min_val = 0.0 : f32, max_val = 6.0 : f32} : (tensor<1x1x1x2xf32>) -> tensor<1x1x1x2xf32>
  %zs = tosa.conv2d %hs, %w2, %b2, %zp, %zp {acc_type = f32, dilation = array<i64: 1, 1>, pad = array<i64: 0, 0, 0, 0>, stride = array<i64: 1, 1>} : (tensor<1x1x1x2xf32>, tensor<4x1x1x2xf32>, tensor<4xf32>, tensor<1xf32>, tensor<1xf32>) -> tensor<1x1x1x4xf32>
  %gs = tosa.sigmoid %zs : (tensor<1x1x1x4xf32>) -> tensor<1x1x1x4xf32>
  %ys = tosa.mul %gs, %x, %shift : (tensor<1x1x1x4xf32>, tensor<1x2x2x4xf32>, tensor<1xi8>) -> tensor<1x2x2x4xf32>
  %pe = tosa.avg_pool2d %x, %zp, %zp {acc_type = f32, kernel = array<i64: 2, 2>, pad = array<i64: 0, 0, 0, 0>, stride = array<i64: 1, 1>} : (tensor<1x2x2x4xf32>, tensor<1xf32>, tensor<1xf32>) -> tensor<1x1x1x4xf32>
  %ae = tosa.conv2d %pe, %w1, %b1, %zp, %zp {acc_type = f32, dilation = array<i64: 1, 1>, pad = array<i64: 0, 0, 0, 0>, stride = array<i64: 1, 1>} : (tensor<1x1x1x4xf32>, tensor<2x1x1x4xf32>, tensor<2xf32>, tensor<1xf32>, tensor<1xf32>) -> tensor<1x1x1x2xf32>
  %se = tosa.sigmoid %ae : (tensor<1x1x1x2xf32>) -> tensor<1x1x1x2xf32>
  %he = tosa.mul %ae, %se, %shift : (tensor<1x1x1x2xf32>, tensor<1x1x1x2xf32>, tensor<1xi8>) -> tensor<1x1x1x2xf32>
  %ze = tosa.conv2d %he, %w2, %b2, %zp, %zp {acc_type = f32, dilation = array<i64: 1, 1>, pad = array<i64: 0, 0, 0, 0>, stride = array<i64: 1, 1>} : (tensor<1x1x1x2xf32>, tensor<4x1x1x2xf32>, tensor<4xf32>, tensor<1xf32>, tensor<1xf32>) -> tensor<1x1x1x4xf32>
  %ge = tosa.sigmoid %ze : (tensor<1x1x1x4xf32>) -> tensor<1x1x1x4xf32>
  %ye = tosa.mul %x, %ge, %shift : (tensor<1x2x2x4xf32>, tensor<1x1x1x4xf32>, tensor<1xi8>) -> tensor<1x2x2x4xf32>
  return %y_local, %y, %y2, %h2, %ys, %ye : tensor<1x2x2x4xf32>, tensor<1x2x2x4xf32>, tensor<1x2x2x4xf32>, tensor<1x1x1x2xf32>, tensor<1x2x2x4xf32>, tensor<1x2x2x4xf32>
}
