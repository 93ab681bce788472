//! Activation functions: Relu, PRelu, LeakyRelu, Clip and HardSigmoid as clamps and affine
//! steps; Sigmoid, Tanh and Erf as the tosa ops of the same name. Each keeps its input's layout.

use super::{Import, OpSupport};
use crate::importer::{Importer, Val};
use crate::ImportError;
use nibble_graph::tosa;

pub(super) const OPS: &[OpSupport] = &[
    OpSupport {
        op: "Clip",
        opsets: "6–21",
        attributes: "min/max (attributes before opset 11, inputs after)",
        notes: "constant bounds",
        import: Import::Lower(clip),
    },
    OpSupport {
        op: "Erf",
        opsets: "9–21",
        attributes: "",
        notes: "as tosa.erf",
        import: Import::Lower(erf),
    },
    OpSupport {
        op: "HardSigmoid",
        opsets: "6–21",
        attributes: "alpha, beta",
        notes: "clamp(alpha·x + beta, 0, 1)",
        import: Import::Lower(hard_sigmoid),
    },
    OpSupport {
        op: "LeakyRelu",
        opsets: "6–21",
        attributes: "alpha",
        notes: "max(x, 0) + alpha·min(x, 0)",
        import: Import::Lower(leaky_relu),
    },
    OpSupport {
        op: "PRelu",
        opsets: "7–21",
        attributes: "",
        notes: "slope scalar or per channel",
        import: Import::Lower(prelu),
    },
    OpSupport {
        op: "Relu",
        opsets: "6–21",
        attributes: "",
        notes: "",
        import: Import::Lower(relu),
    },
    OpSupport {
        op: "Sigmoid",
        opsets: "6–21",
        attributes: "",
        notes: "",
        import: Import::Lower(sigmoid),
    },
    OpSupport {
        op: "Tanh",
        opsets: "6–21",
        attributes: "",
        notes: "as tosa.tanh",
        import: Import::Lower(tanh),
    },
];

/// `name(x)` for a unary tosa op, in the input's layout.
fn unary(imp: &mut Importer, name: &str) -> Result<Vec<Val>, ImportError> {
    let x = imp.input(0)?;
    let r = imp.unary(name, x.id);
    Ok(vec![Val {
        id: r,
        nhwc: x.nhwc,
    }])
}

fn sigmoid(imp: &mut Importer) -> Result<Vec<Val>, ImportError> {
    unary(imp, tosa::SIGMOID)
}

fn tanh(imp: &mut Importer) -> Result<Vec<Val>, ImportError> {
    unary(imp, tosa::TANH)
}

fn erf(imp: &mut Importer) -> Result<Vec<Val>, ImportError> {
    unary(imp, tosa::ERF)
}

fn relu(imp: &mut Importer) -> Result<Vec<Val>, ImportError> {
    let x = imp.input(0)?;
    let r = imp.clamp(x.id, 0.0, f32::MAX);
    Ok(vec![Val {
        id: r,
        nhwc: x.nhwc,
    }])
}

/// max(x, 0) + slope · min(x, 0) with `slope` a constant of x's rank.
fn leaky(imp: &mut Importer, x: Val, slope: nibble_ir::ValueId) -> Result<Vec<Val>, ImportError> {
    let pos = imp.clamp(x.id, 0.0, f32::MAX);
    let neg = imp.clamp(x.id, f32::MIN, 0.0);
    let scaled = imp.binary(tosa::MUL, neg, slope)?;
    let r = imp.binary(tosa::ADD, pos, scaled)?;
    Ok(vec![Val {
        id: r,
        nhwc: x.nhwc,
    }])
}

/// Slope per channel (ONNX dimension 1) or scalar.
fn prelu(imp: &mut Importer) -> Result<Vec<Val>, ImportError> {
    let x = imp.input(0)?;
    let slope = imp.konst(1)?;
    let xs = imp.shape(x.id);
    let channels = if x.nhwc {
        xs[3]
    } else {
        xs.get(1).copied().unwrap_or(1)
    };
    let n = slope.data.len() as i64;
    if n != 1 && n != channels {
        return Err(imp.err(format!(
            "slope has {n} elements; supported: 1 or one per channel ({channels})"
        )));
    }
    let mut shape = vec![1i64; xs.len()];
    if n > 1 {
        shape[if x.nhwc { 3 } else { 1 }] = n;
    }
    let sv = imp.constant(&shape, &slope.data);
    leaky(imp, x, sv)
}

fn leaky_relu(imp: &mut Importer) -> Result<Vec<Val>, ImportError> {
    let x = imp.input(0)?;
    let alpha = imp.float("alpha", 0.01);
    let rank = imp.shape(x.id).len();
    let a = imp.constant(&vec![1; rank], &[alpha]);
    leaky(imp, x, a)
}

/// Bounds from attributes (before opset 11) or constant inputs (after); absent bounds open.
fn clip(imp: &mut Importer) -> Result<Vec<Val>, ImportError> {
    let x = imp.input(0)?;
    let bound = |imp: &Importer, i: usize, attr: &str, default: f32| -> Result<f32, ImportError> {
        if imp.opset >= 11 {
            match imp.konst_opt(i)? {
                Some(c) => c
                    .data
                    .first()
                    .copied()
                    .ok_or_else(|| imp.err("empty Clip bound")),
                None => Ok(default),
            }
        } else {
            Ok(imp.float(attr, default))
        }
    };
    let (lo, hi) = (
        bound(imp, 1, "min", f32::MIN)?,
        bound(imp, 2, "max", f32::MAX)?,
    );
    let r = imp.clamp(x.id, lo, hi);
    Ok(vec![Val {
        id: r,
        nhwc: x.nhwc,
    }])
}

/// clamp(alpha·x + beta, 0, 1)
fn hard_sigmoid(imp: &mut Importer) -> Result<Vec<Val>, ImportError> {
    let x = imp.input(0)?;
    let (alpha, beta) = (imp.float("alpha", 0.2), imp.float("beta", 0.5));
    let rank = imp.shape(x.id).len();
    let a = imp.constant(&vec![1; rank], &[alpha]);
    let b = imp.constant(&vec![1; rank], &[beta]);
    let ax = imp.binary(tosa::MUL, x.id, a)?;
    let axb = imp.binary(tosa::ADD, ax, b)?;
    let r = imp.clamp(axb, 0.0, 1.0);
    Ok(vec![Val {
        id: r,
        nhwc: x.nhwc,
    }])
}
