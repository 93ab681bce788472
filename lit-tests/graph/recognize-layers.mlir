// RUN: %nibble opt %s --split-input-file --pass-pipeline='builtin.module(nibble-recognize-layers)' | FileCheck %s

// Decomposed layers as the importer writes them become single tosa.custom ops.
// CHECK-LABEL: func.func @layers
// CHECK-DAG: %[[HS:.*]] = tosa.custom %arg0 {domain_name = "nibble", implementation_attrs = "", operator_name = "hard_swish"}
// CHECK-DAG: %[[HS2:.*]] = tosa.custom %arg0 {domain_name = "nibble", implementation_attrs = "", operator_name = "hard_swish"}
// CHECK-DAG: %[[SIG:.*]] = tosa.custom %arg0 {domain_name = "nibble", implementation_attrs = "alpha=2e-1,beta=5e-1", operator_name = "hard_sigmoid"}
// CHECK-DAG: %[[GELU:.*]] = tosa.custom %arg0 {domain_name = "nibble", implementation_attrs = "", operator_name = "gelu"}
// CHECK-DAG: %[[LN:.*]] = tosa.custom %arg0, %{{.*}}, %{{.*}} {domain_name = "nibble", implementation_attrs = "epsilon=1e-5", operator_name = "layer_norm"}
// CHECK-NOT: tosa.erf
// CHECK-NOT: tosa.reciprocal
// CHECK: return %[[HS]], %[[HS2]], %[[SIG]], %[[GELU]], %[[LN]]
func.func @layers(%x: tensor<1x4xf32>) -> (tensor<1x4xf32>, tensor<1x4xf32>, tensor<1x4xf32>, tensor<1x4xf32>, tensor<1x4xf32>) {
  %shift = "tosa.const"() {values = dense<0> : tensor<1xi8>} : () -> tensor<1xi8>
  %three = "tosa.const"() {values = dense<3.0> : tensor<1x1xf32>} : () -> tensor<1x1xf32>
  %sixth = "tosa.const"() {values = dense<0.166666672> : tensor<1x1xf32>} : () -> tensor<1x1xf32>
  %half = "tosa.const"() {values = dense<0.5> : tensor<1x1xf32>} : () -> tensor<1x1xf32>
  %one = "tosa.const"() {values = dense<1.0> : tensor<1x1xf32>} : () -> tensor<1x1xf32>
  %fifth = "tosa.const"() {values = dense<0.2> : tensor<1x1xf32>} : () -> tensor<1x1xf32>
  %rsqrt2 = "tosa.const"() {values = dense<0.707106769> : tensor<1x1xf32>} : () -> tensor<1x1xf32>
  // hard-swish: x · clamp(x + 3, 0, 6) · ⅙
  %0 = tosa.add %x, %three : (tensor<1x4xf32>, tensor<1x1xf32>) -> tensor<1x4xf32>
  %1 = tosa.clamp %0 {min_val = 0.0 : f32, max_val = 6.0 : f32} : (tensor<1x4xf32>) -> tensor<1x4xf32>
  %2 = tosa.mul %x, %1, %shift : (tensor<1x4xf32>, tensor<1x4xf32>, tensor<1xi8>) -> tensor<1x4xf32>
  %hs = tosa.mul %2, %sixth, %shift : (tensor<1x4xf32>, tensor<1x1xf32>, tensor<1xi8>) -> tensor<1x4xf32>
  // hard-swish: x · clamp(x·⅙ + ½, 0, 1)
  %3 = tosa.mul %x, %sixth, %shift : (tensor<1x4xf32>, tensor<1x1xf32>, tensor<1xi8>) -> tensor<1x4xf32>
  %4 = tosa.add %3, %half : (tensor<1x4xf32>, tensor<1x1xf32>) -> tensor<1x4xf32>
  %5 = tosa.clamp %4 {min_val = 0.0 : f32, max_val = 1.0 : f32} : (tensor<1x4xf32>) -> tensor<1x4xf32>
  %hs2 = tosa.mul %5, %x, %shift : (tensor<1x4xf32>, tensor<1x4xf32>, tensor<1xi8>) -> tensor<1x4xf32>
  // hard-sigmoid: clamp(x·0.2 + ½, 0, 1)
  %6 = tosa.mul %x, %fifth, %shift : (tensor<1x4xf32>, tensor<1x1xf32>, tensor<1xi8>) -> tensor<1x4xf32>
  %7 = tosa.add %6, %half : (tensor<1x4xf32>, tensor<1x1xf32>) -> tensor<1x4xf32>
  %sig = tosa.clamp %7 {min_val = 0.0 : f32, max_val = 1.0 : f32} : (tensor<1x4xf32>) -> tensor<1x4xf32>
  // GELU: x · (erf(x/√2) + 1) · ½
  %8 = tosa.mul %x, %rsqrt2, %shift : (tensor<1x4xf32>, tensor<1x1xf32>, tensor<1xi8>) -> tensor<1x4xf32>
  %9 = tosa.erf %8 : (tensor<1x4xf32>) -> tensor<1x4xf32>
  %10 = tosa.add %9, %one : (tensor<1x4xf32>, tensor<1x1xf32>) -> tensor<1x4xf32>
  %11 = tosa.mul %x, %10, %shift : (tensor<1x4xf32>, tensor<1x4xf32>, tensor<1xi8>) -> tensor<1x4xf32>
  %gelu = tosa.mul %11, %half, %shift : (tensor<1x4xf32>, tensor<1x1xf32>, tensor<1xi8>) -> tensor<1x4xf32>
  // LayerNorm over the last axis (4 channels), ε = 1e-5
  %quarter = "tosa.const"() {values = dense<0.25> : tensor<1x1xf32>} : () -> tensor<1x1xf32>
  %eps = "tosa.const"() {values = dense<1.0e-5> : tensor<1x1xf32>} : () -> tensor<1x1xf32>
  %gamma = "tosa.const"() {values = dense<[[1.0, 2.0, 3.0, 4.0]]> : tensor<1x4xf32>} : () -> tensor<1x4xf32>
  %beta = "tosa.const"() {values = dense<[[0.0, 0.5, 0.0, -0.5]]> : tensor<1x4xf32>} : () -> tensor<1x4xf32>
  %12 = tosa.reduce_sum %x {axis = 1 : i32} : (tensor<1x4xf32>) -> tensor<1x1xf32>
  %13 = tosa.mul %12, %quarter, %shift : (tensor<1x1xf32>, tensor<1x1xf32>, tensor<1xi8>) -> tensor<1x1xf32>
  %14 = tosa.sub %x, %13 : (tensor<1x4xf32>, tensor<1x1xf32>) -> tensor<1x4xf32>
  %15 = tosa.mul %14, %14, %shift : (tensor<1x4xf32>, tensor<1x4xf32>, tensor<1xi8>) -> tensor<1x4xf32>
  %16 = tosa.reduce_sum %15 {axis = 1 : i32} : (tensor<1x4xf32>) -> tensor<1x1xf32>
  %17 = tosa.mul %16, %quarter, %shift : (tensor<1x1xf32>, tensor<1x1xf32>, tensor<1xi8>) -> tensor<1x1xf32>
  %18 = tosa.add %17, %eps : (tensor<1x1xf32>, tensor<1x1xf32>) -> tensor<1x1xf32>
  %19 = tosa.pow %18, %half : (tensor<1x1xf32>, tensor<1x1xf32>) -> tensor<1x1xf32>
  %20 = tosa.reciprocal %19 : (tensor<1x1xf32>) -> tensor<1x1xf32>
  %21 = tosa.mul %14, %20, %shift : (tensor<1x4xf32>, tensor<1x1xf32>, tensor<1xi8>) -> tensor<1x4xf32>
  %22 = tosa.mul %21, %gamma, %shift : (tensor<1x4xf32>, tensor<1x4xf32>, tensor<1xi8>) -> tensor<1x4xf32>
  %ln = tosa.add %22, %beta : (tensor<1x4xf32>, tensor<1x4xf32>) -> tensor<1x4xf32>
  return %hs, %hs2, %sig, %gelu, %ln : tensor<1x4xf32>, tensor<1x4xf32>, tensor<1x4xf32>, tensor<1x4xf32>, tensor<1x4xf32>
}

// -----

// PReLU (per channel and scalar slope, as the importer writes PRelu and LeakyRelu) and softmax
// over the last axis.
// CHECK-LABEL: func.func @prelu_softmax
// CHECK-DAG: %[[P:.*]] = tosa.custom %arg0, %{{.*}} {domain_name = "nibble", implementation_attrs = "", operator_name = "prelu"} : (tensor<1x2x2x3xf32>, tensor<1x1x1x3xf32>)
// CHECK-DAG: %[[L:.*]] = tosa.custom %arg0, %{{.*}} {domain_name = "nibble", implementation_attrs = "", operator_name = "prelu"} : (tensor<1x2x2x3xf32>, tensor<1x1x1x1xf32>)
// CHECK-DAG: %[[S:.*]] = tosa.custom %arg0 {domain_name = "nibble", implementation_attrs = "", operator_name = "softmax"}
// CHECK-NOT: tosa.exp
// CHECK: return %[[P]], %[[L]], %[[S]]
func.func @prelu_softmax(%x: tensor<1x2x2x3xf32>) -> (tensor<1x2x2x3xf32>, tensor<1x2x2x3xf32>, tensor<1x2x2x3xf32>) {
  %shift = "tosa.const"() {values = dense<0> : tensor<1xi8>} : () -> tensor<1xi8>
  %slope = "tosa.const"() {values = dense<[[[[0.25, 0.5, -1.0]]]]> : tensor<1x1x1x3xf32>} : () -> tensor<1x1x1x3xf32>
  %alpha = "tosa.const"() {values = dense<0.01> : tensor<1x1x1x1xf32>} : () -> tensor<1x1x1x1xf32>
  %0 = tosa.clamp %x {min_val = 0.0 : f32, max_val = 3.40282347E+38 : f32} : (tensor<1x2x2x3xf32>) -> tensor<1x2x2x3xf32>
  %1 = tosa.clamp %x {min_val = -3.40282347E+38 : f32, max_val = 0.0 : f32} : (tensor<1x2x2x3xf32>) -> tensor<1x2x2x3xf32>
  %2 = tosa.mul %1, %slope, %shift : (tensor<1x2x2x3xf32>, tensor<1x1x1x3xf32>, tensor<1xi8>) -> tensor<1x2x2x3xf32>
  %p = tosa.add %0, %2 : (tensor<1x2x2x3xf32>, tensor<1x2x2x3xf32>) -> tensor<1x2x2x3xf32>
  %3 = tosa.clamp %x {min_val = 0.0 : f32, max_val = 3.40282347E+38 : f32} : (tensor<1x2x2x3xf32>) -> tensor<1x2x2x3xf32>
  %4 = tosa.clamp %x {min_val = -3.40282347E+38 : f32, max_val = 0.0 : f32} : (tensor<1x2x2x3xf32>) -> tensor<1x2x2x3xf32>
  %5 = tosa.mul %4, %alpha, %shift : (tensor<1x2x2x3xf32>, tensor<1x1x1x1xf32>, tensor<1xi8>) -> tensor<1x2x2x3xf32>
  %l = tosa.add %5, %3 : (tensor<1x2x2x3xf32>, tensor<1x2x2x3xf32>) -> tensor<1x2x2x3xf32>
  %6 = tosa.reduce_max %x {axis = 3 : i32} : (tensor<1x2x2x3xf32>) -> tensor<1x2x2x1xf32>
  %7 = tosa.sub %x, %6 : (tensor<1x2x2x3xf32>, tensor<1x2x2x1xf32>) -> tensor<1x2x2x3xf32>
  %8 = tosa.exp %7 : (tensor<1x2x2x3xf32>) -> tensor<1x2x2x3xf32>
  %9 = tosa.reduce_sum %8 {axis = 3 : i32} : (tensor<1x2x2x3xf32>) -> tensor<1x2x2x1xf32>
  %10 = tosa.reciprocal %9 : (tensor<1x2x2x1xf32>) -> tensor<1x2x2x1xf32>
  %s = tosa.mul %8, %10, %shift : (tensor<1x2x2x3xf32>, tensor<1x2x2x1xf32>, tensor<1xi8>) -> tensor<1x2x2x3xf32>
  return %p, %l, %s : tensor<1x2x2x3xf32>, tensor<1x2x2x3xf32>, tensor<1x2x2x3xf32>
}

// -----

// Swish as exporters write it: x · sigmoid(x · β) (β = 1 in PP-OCRv4's neck) and x · sigmoid(x).
// CHECK-LABEL: func.func @swish
// CHECK-DAG: %[[A:.*]] = tosa.custom %arg0 {domain_name = "nibble", implementation_attrs = "beta=1.5e0", operator_name = "swish"}
// CHECK-DAG: %[[B:.*]] = tosa.custom %arg0 {domain_name = "nibble", implementation_attrs = "beta=1e0", operator_name = "swish"}
// CHECK-NOT: tosa.sigmoid
// CHECK: return %[[A]], %[[B]]
func.func @swish(%x: tensor<1x4xf32>) -> (tensor<1x4xf32>, tensor<1x4xf32>) {
  %shift = "tosa.const"() {values = dense<0> : tensor<1xi8>} : () -> tensor<1xi8>
  %beta = "tosa.const"() {values = dense<1.5> : tensor<1x1xf32>} : () -> tensor<1x1xf32>
  %0 = tosa.mul %x, %beta, %shift : (tensor<1x4xf32>, tensor<1x1xf32>, tensor<1xi8>) -> tensor<1x4xf32>
  %1 = tosa.sigmoid %0 : (tensor<1x4xf32>) -> tensor<1x4xf32>
  %a = tosa.mul %x, %1, %shift : (tensor<1x4xf32>, tensor<1x4xf32>, tensor<1xi8>) -> tensor<1x4xf32>
  %2 = tosa.sigmoid %x : (tensor<1x4xf32>) -> tensor<1x4xf32>
  %b = tosa.mul %2, %x, %shift : (tensor<1x4xf32>, tensor<1x4xf32>, tensor<1xi8>) -> tensor<1x4xf32>
  return %a, %b : tensor<1x4xf32>, tensor<1x4xf32>
}

// -----

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
