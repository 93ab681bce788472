//! Values known at import: Constant (its `value` tensor), Shape (shapes are static, so always a
//! constant) and Cast (on constants: shape computations).

use super::{Import, OpSupport};
use crate::importer::Importer;
use crate::shape_fold::Folding;
use crate::tensor::{tensor_data, Const};
use crate::ImportError;

pub(super) const OPS: &[OpSupport] = &[
    OpSupport {
        op: "Cast",
        opsets: "6–21",
        attributes: "to",
        notes: "on constants (shape computations), folded at import",
        import: Import::Fold(fold_cast),
    },
    OpSupport {
        op: "Constant",
        opsets: "1–21",
        attributes: "value",
        notes: "tensors of float32, int32, int64",
        import: Import::Eval(constant),
    },
    OpSupport {
        op: "Shape",
        opsets: "1–21",
        attributes: "",
        notes: "folded to a constant (shapes are static)",
        import: Import::Eval(shape),
    },
];

/// The `value` tensor, for every output.
fn constant(imp: &Importer) -> Result<Vec<Const>, ImportError> {
    let t = imp.attr("value").and_then(|a| a.t.as_ref());
    let t = t.ok_or_else(|| imp.err("only 'value' tensors are supported"))?;
    let c = tensor_data(t).map_err(|m| imp.err(m))?;
    Ok(vec![c; imp.node.output.len()])
}

/// The ONNX-layout shape of the input, run-time value or constant.
fn shape(imp: &Importer) -> Result<Vec<Const>, ImportError> {
    let name = imp
        .node
        .input
        .first()
        .ok_or_else(|| imp.err("Shape needs an input"))?;
    let dims = match (imp.vals.get(name), imp.consts.get(name)) {
        (Some(&v), _) => imp.onnx_shape(v),
        (None, Some(c)) => c.dims.clone(),
        _ => return Err(imp.err(format!("input '{name}' is not defined before this node"))),
    };
    let data: Vec<f32> = dims.iter().map(|&d| d as f32).collect();
    Ok(vec![Const {
        dims: vec![data.len() as i64],
        data,
    }])
}

/// Integer targets truncate toward zero; float targets keep the values.
fn fold_cast(c: &Folding) -> Result<Const, ImportError> {
    let x = c.get(0)?;
    let to = c.imp.int("to", 1);
    let data = if matches!(to, 2..=7 | 12 | 13) {
        x.data.iter().map(|v| v.trunc()).collect()
    } else {
        x.data
    };
    Ok(Const { dims: x.dims, data })
}
