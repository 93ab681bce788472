//! Shape changes: Reshape, Flatten, Squeeze, Unsqueeze (tosa.reshape), Transpose and Identity.
//! They work in ONNX layout, so an NHWC input is transposed back first. Reshape, Squeeze,
//! Unsqueeze and Identity are folded on constants (shape computations).

use super::{Import, OpSupport};
use crate::importer::{Importer, Val};
use crate::shape_fold::Folding;
use crate::tensor::Const;
use crate::ImportError;

pub(super) const OPS: &[OpSupport] = &[
    OpSupport {
        op: "Flatten",
        opsets: "1–21",
        attributes: "axis",
        notes: "",
        import: Import::Lower(flatten),
    },
    OpSupport {
        op: "Identity",
        opsets: "1–21",
        attributes: "",
        notes: "",
        import: Import::FoldOrLower(fold_identity, identity),
    },
    OpSupport {
        op: "Reshape",
        opsets: "5–21",
        attributes: "0 and −1 in the target",
        notes: "constant target (computed shapes are folded first)",
        import: Import::FoldOrLower(fold_reshape, reshape),
    },
    OpSupport {
        op: "Squeeze",
        opsets: "1–21",
        attributes: "axes (attribute before 13, input after)",
        notes: "",
        import: Import::FoldOrLower(fold_squeeze, squeeze),
    },
    OpSupport {
        op: "Transpose",
        opsets: "1–21",
        attributes: "perm",
        notes: "",
        import: Import::Lower(transpose),
    },
    OpSupport {
        op: "Unsqueeze",
        opsets: "1–21",
        attributes: "axes (attribute before 13, input after)",
        notes: "",
        import: Import::FoldOrLower(fold_unsqueeze, unsqueeze),
    },
];

fn identity(imp: &mut Importer) -> Result<Vec<Val>, ImportError> {
    Ok(vec![imp.input(0)?])
}

fn fold_identity(c: &Folding) -> Result<Const, ImportError> {
    c.get(0)
}

fn transpose(imp: &mut Importer) -> Result<Vec<Val>, ImportError> {
    let x = imp.input(0)?;
    let x = imp.plain(x);
    let rank = imp.shape(x).len();
    let default: Vec<i64> = (0..rank as i64).rev().collect();
    let perm = imp.ints("perm", &default);
    let mut seen = vec![false; rank];
    if perm.len() != rank
        || perm
            .iter()
            .any(|&p| p < 0 || p as usize >= rank || std::mem::replace(&mut seen[p as usize], true))
    {
        return Err(imp.err(format!(
            "perm {perm:?} is not a permutation of {rank} dimensions"
        )));
    }
    let r = imp.transpose(x, &perm.iter().map(|&p| p as i32).collect::<Vec<_>>());
    Ok(vec![Val { id: r, nhwc: false }])
}

/// Input 0 in ONNX layout reshaped to `target`.
fn reshaped(imp: &mut Importer, x: Val, target: &[i64]) -> Vec<Val> {
    let x = imp.plain(x);
    let r = imp.reshape(x, target);
    vec![Val { id: r, nhwc: false }]
}

fn flatten(imp: &mut Importer) -> Result<Vec<Val>, ImportError> {
    let x = imp.input(0)?;
    let x = imp.plain(x);
    let s = imp.shape(x);
    let axis = imp.int("axis", 1);
    let axis = if axis < 0 {
        axis + s.len() as i64
    } else {
        axis
    };
    if axis < 0 || axis > s.len() as i64 {
        return Err(imp.err(format!("axis {axis} is out of range for rank {}", s.len())));
    }
    let outer: i64 = s[..axis as usize].iter().product();
    let inner: i64 = s[axis as usize..].iter().product();
    let r = imp.reshape(x, &[outer, inner]);
    Ok(vec![Val { id: r, nhwc: false }])
}

fn reshape(imp: &mut Importer) -> Result<Vec<Val>, ImportError> {
    let x = imp.input(0)?;
    let x = imp.plain(x);
    let shape = imp.konst(1)?.ints();
    let target = reshape_target(imp, &imp.shape(x), &shape)?;
    let r = imp.reshape(x, &target);
    Ok(vec![Val { id: r, nhwc: false }])
}

fn fold_reshape(c: &Folding) -> Result<Const, ImportError> {
    let (x, shape) = (c.get(0)?, c.get(1)?);
    let target = reshape_target(c.imp, &x.dims, &shape.ints())?;
    Ok(Const {
        dims: target,
        data: x.data,
    })
}

/// ONNX Reshape target: 0 copies the input dimension, one −1 is inferred.
fn reshape_target(imp: &Importer, input: &[i64], shape: &[i64]) -> Result<Vec<i64>, ImportError> {
    let total: i64 = input.iter().product();
    let mut out: Vec<i64> = shape
        .iter()
        .enumerate()
        .map(|(i, &d)| {
            if d == 0 {
                input.get(i).copied().unwrap_or(0)
            } else {
                d
            }
        })
        .collect();
    let known: Vec<i64> = out.iter().copied().filter(|&d| d != -1).collect();
    let known = crate::tensor::element_count(&known).unwrap_or(0);
    match out.iter().filter(|&&d| d == -1).count() {
        0 => {}
        1 if known > 0 && total % known == 0 => {
            let inferred = total / known;
            out.iter_mut()
                .filter(|d| **d == -1)
                .for_each(|d| *d = inferred);
        }
        _ => return Err(imp.err(format!("cannot reshape {input:?} to {shape:?}"))),
    }
    if crate::tensor::element_count(&out) != Some(total) {
        return Err(imp.err(format!(
            "cannot reshape {input:?} ({total} elements) to {shape:?}"
        )));
    }
    Ok(out)
}

/// The `axes` of a run-time Squeeze/Unsqueeze: input 1 from opset 13, the attribute before.
fn axes(imp: &Importer) -> Result<Vec<i64>, ImportError> {
    Ok(if imp.opset >= 13 && imp.node.input.len() > 1 {
        imp.konst(1)?.ints()
    } else {
        imp.ints("axes", &[])
    })
}

/// `shape` without the size-1 dimensions in `axes` (every size-1 dimension when empty).
fn squeezed(shape: &[i64], axes: &[i64]) -> Vec<i64> {
    let rank = shape.len() as i64;
    let axes: Vec<i64> = axes
        .iter()
        .map(|&a| if a < 0 { a + rank } else { a })
        .collect();
    shape
        .iter()
        .enumerate()
        .filter(|(i, &d)| !(d == 1 && (axes.is_empty() || axes.contains(&(*i as i64)))))
        .map(|(_, &d)| d)
        .collect()
}

fn squeeze(imp: &mut Importer) -> Result<Vec<Val>, ImportError> {
    let x = imp.input(0)?;
    let axes = axes(imp)?;
    let target = squeezed(&imp.onnx_shape(x), &axes);
    Ok(reshaped(imp, x, &target))
}

fn fold_squeeze(c: &Folding) -> Result<Const, ImportError> {
    let x = c.get(0)?;
    let dims = squeezed(&x.dims, &c.axes(1, "axes"));
    Ok(Const { dims, data: x.data })
}

fn unsqueeze(imp: &mut Importer) -> Result<Vec<Val>, ImportError> {
    let x = imp.input(0)?;
    let axes = axes(imp)?;
    let shape = imp.onnx_shape(x);
    let rank = (shape.len() + axes.len()) as i64;
    let mut axes: Vec<i64> = axes
        .iter()
        .map(|&a| if a < 0 { a + rank } else { a })
        .collect();
    axes.sort();
    let mut t = shape;
    for a in axes {
        t.insert((a as usize).min(t.len()), 1);
    }
    Ok(reshaped(imp, x, &t))
}

fn fold_unsqueeze(c: &Folding) -> Result<Const, ImportError> {
    let x = c.get(0)?;
    let axes = c.axes(1, "axes");
    let rank = x.dims.len() as i64 + axes.len() as i64;
    let mut axes: Vec<i64> = axes
        .iter()
        .map(|&a| if a < 0 { a + rank } else { a })
        .collect();
    axes.sort();
    let mut dims = x.dims.clone();
    for a in axes {
        if a < 0 || a as usize > dims.len() {
            return Err(c.imp.err(format!("axis {a} is out of range")));
        }
        dims.insert(a as usize, 1);
    }
    Ok(Const { dims, data: x.data })
}
