//! Normalisations: BatchNormalization in its inference form (a per-channel affine that
//! `nibble-fold-batchnorm` later folds into the preceding convolution) and Softmax
//! (exp(x − max) / Σ exp(x − max)).

use super::{Import, OpSupport};
use crate::emit::f32t;
use crate::importer::{Importer, Val};
use crate::tensor::Const;
use crate::ImportError;
use nibble_graph::{attrs, tosa};
use nibble_ir::Attr;

pub(super) const OPS: &[OpSupport] = &[
    OpSupport {
        op: "BatchNormalization",
        opsets: "7–21",
        attributes: "epsilon",
        notes: "inference form: per-channel affine (scale, bias)",
        import: Import::Lower(batch_norm),
    },
    OpSupport {
        op: "Softmax",
        opsets: "1–21",
        attributes: "axis",
        notes: "opset ≥ 13 any axis; before 13 the last axis",
        import: Import::Lower(softmax),
    },
];

/// y = x·a + b, a = scale/√(var+ε), b = bias − mean·a, per channel (ONNX dimension 1).
fn batch_norm(imp: &mut Importer) -> Result<Vec<Val>, ImportError> {
    let x = imp.input(0)?;
    let (scale, bias, mean, var) = (imp.konst(1)?, imp.konst(2)?, imp.konst(3)?, imp.konst(4)?);
    let eps = imp.float("epsilon", 1e-5);
    let c = scale.data.len();
    if [&bias, &mean, &var].iter().any(|t| t.data.len() != c) {
        return Err(imp.err("scale, bias, mean and var must have one value per channel"));
    }
    let a: Vec<f32> = (0..c)
        .map(|i| scale.data[i] / (var.data[i] + eps).sqrt())
        .collect();
    let b: Vec<f32> = (0..c).map(|i| bias.data[i] - mean.data[i] * a[i]).collect();
    let rank = imp.onnx_shape(x).len();
    let mut dims = vec![1i64; rank];
    if rank > 1 {
        dims[1] = c as i64;
    }
    let ac = Const {
        dims: dims.clone(),
        data: a,
    };
    let bc = Const { dims, data: b };
    let y = imp.apply_const(tosa::MUL, x, &ac, false)?;
    let r = imp.apply_const(tosa::ADD, y, &bc, false)?;
    // The normalised output's statistics (mean β, standard deviation |γ| per channel), which
    // data-free ranges start from.
    let stats = |v: Vec<f32>| Attr::dense_f32(f32t(&[c as i64]), &v);
    if let Some(op) = imp.f.ops.iter_mut().rev().find(|o| o.results[0] == r.id) {
        op.attrs
            .insert(attrs::BN_MEAN.into(), stats(bias.data.clone()));
        op.attrs.insert(
            attrs::BN_STD.into(),
            stats(scale.data.iter().map(|g| g.abs()).collect()),
        );
    }
    Ok(vec![r])
}

/// exp(x − max) / Σ exp(x − max) along `axis` (opset ≥ 13 semantics; older opsets flatten
/// from `axis`, identical when `axis` is the last dimension).
fn softmax(imp: &mut Importer) -> Result<Vec<Val>, ImportError> {
    let x = imp.input(0)?;
    let x = imp.plain(x);
    let rank = imp.shape(x).len() as i64;
    let axis = imp.int("axis", if imp.opset >= 13 { -1 } else { 1 });
    let axis = if axis < 0 { axis + rank } else { axis };
    if axis < 0 || axis >= rank {
        return Err(imp.err(format!("axis {axis} is out of range for rank {rank}")));
    }
    if axis != rank - 1 && imp.opset < 13 {
        return Err(imp.err("Softmax before opset 13 is supported on the last axis only"));
    }
    let m = imp.reduce(tosa::REDUCE_MAX, x, axis as usize);
    let d = imp.binary(tosa::SUB, x, m)?;
    let e = imp.unary(tosa::EXP, d);
    let sum = imp.reduce(tosa::REDUCE_SUM, e, axis as usize);
    let inv = imp.unary(tosa::RECIPROCAL, sum);
    let r = imp.binary(tosa::MUL, e, inv)?;
    Ok(vec![Val { id: r, nhwc: false }])
}
