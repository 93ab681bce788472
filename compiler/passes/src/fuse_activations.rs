//! `nibble-fuse-activations`: decides, at the graph level, which activations are computed in the
//! epilogue of the layer before them, and marks each with `nibble.fused`.
//!
//! An activation fuses when it alone reads the output of a layer — a `tosa.conv2d`,
//! `tosa.depthwise_conv2d`, `tosa.transpose_conv2d`, or a fully connected layer (`tosa.matmul`
//! by a constant, optionally through reshapes and a constant bias add, as the importer writes
//! Gemm) — and that output is not a function result. Fusable activations: `tosa.clamp` (ReLU,
//! ReLU6, any bounds) and the `nibble` ops `clamp_channels`, `prelu`, `hard_swish`,
//! `scaled_hard_swish` and `swish`.
//!
//! The mark is a decision, not a rewrite: the function computes the same values with or without
//! it (drop it and nothing changes but the fusion). `nibble-quantize` reads it: the layer's
//! accumulator is rescaled straight to the activation's range (a clamp becomes integer bounds on
//! that output, PReLU / hard-swish / swish the fixed-point epilogue of numerics.md), so the
//! pre-activation value is never rounded to its own 8-bit grid and is no tensor of the program
//! (nothing for `nibble-choose-bits` to widen, nothing in the arena). Unmarked activations are
//! quantized as ops of their own. Where a scheme has no fused form (hard-swish and swish under
//! pow2) the quantizer leaves the activation separate.
//!
//! Before:
//! ```mlir
//! %1 = tosa.conv2d %0, %w, %b, %zp, %zp {…}
//! %2 = tosa.clamp %1 {min_val = 0.0 : f32, max_val = 6.0 : f32}
//! ```
//! After:
//! ```mlir
//! %1 = tosa.conv2d %0, %w, %b, %zp, %zp {…}
//! %2 = tosa.clamp %1 {max_val = 6.0 : f32, min_val = 0.0 : f32, nibble.fused = unit}
//! ```

use crate::{Options, PassInfo};
use nibble_graph::{attrs, tosa, Kind};
use nibble_ir::{Attr, Func, ValueId};

pub const PASS: PassInfo = PassInfo {
    name: "nibble-fuse-activations",
    summary: "Mark activations computed in the epilogue of the layer before them (nibble.fused)",
    run,
};

/// Activations a layer's epilogue can compute.
fn fusable(op: &nibble_ir::Op) -> bool {
    op.name == tosa::CLAMP
        || matches!(
            Kind::of(op),
            Some(
                Kind::ClampChannels
                    | Kind::Prelu
                    | Kind::HardSwish
                    | Kind::ScaledHardSwish
                    | Kind::Swish
            )
        )
}

/// Whether `v` is the output of a layer: a convolution, or a fully connected layer (a matmul
/// by a constant, then reshapes and a constant bias add, each read once).
fn layer_output(f: &Func, producers: &[Option<usize>], uses: &[usize], v: ValueId) -> bool {
    let op_of = |v: ValueId| producers[v].map(|i| &f.ops[i]);
    let is_const = |v: ValueId| op_of(v).is_some_and(|o| o.name == tosa::CONST);
    let Some(op) = op_of(v) else { return false };
    match op.name.as_str() {
        tosa::CONV2D | tosa::DEPTHWISE_CONV2D | tosa::TRANSPOSE_CONV2D => true,
        tosa::MATMUL => is_const(op.operands[1]),
        tosa::ADD => {
            let Some(&x) = op.operands.iter().find(|&&o| !is_const(o)) else {
                return false;
            };
            if !op.operands.iter().any(|&o| is_const(o)) {
                return false;
            }
            let mut x = x;
            let mut reshaped = false;
            while let Some(r) = op_of(x).filter(|o| o.name == tosa::RESHAPE && uses[x] == 1) {
                x = r.operands[0];
                reshaped = true;
            }
            reshaped
                && uses[x] == 1
                && op_of(x).is_some_and(|m| m.name == tosa::MATMUL && is_const(m.operands[1]))
        }
        _ => false,
    }
}

#[tracing::instrument(skip_all, name = "nibble-fuse-activations")]
fn run(f: &Func, _: &Options) -> Result<Func, String> {
    let mut f = f.clone();
    let producers = f.producers();
    let uses = f.use_counts();
    let marked: Vec<usize> = f
        .ops
        .iter()
        .enumerate()
        .filter(|(_, op)| fusable(op))
        .filter(|(_, op)| {
            let v = op.operands[0];
            uses[v] == 1 && !f.returns.contains(&v) && layer_output(&f, &producers, &uses, v)
        })
        .map(|(i, _)| i)
        .collect();
    for &i in &marked {
        f.ops[i]
            .attrs
            .insert(attrs::FUSED.into(), Attr::Raw("unit".into()));
    }
    tracing::info!(fused = marked.len(), "activations fused into their layers");
    Ok(f)
}
