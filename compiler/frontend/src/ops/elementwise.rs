//! Elementwise arithmetic: Add, Sub, Mul and Div with numpy broadcasting (folded on constants),
//! Sum of several activations, Pow with a constant exponent, Sqrt, and Floor (constants only).

use super::{Import, OpSupport};
use crate::importer::{Importer, Val};
use crate::shape_fold::Folding;
use crate::tensor::Const;
use crate::ImportError;
use nibble_graph::tosa;

pub(super) const OPS: &[OpSupport] = &[
    OpSupport {
        op: "Add",
        opsets: "7–21",
        attributes: "numpy broadcasting",
        notes: "activation ⊕ constant or activation; constants folded",
        import: Import::FoldOrLower(fold_arith, arith),
    },
    OpSupport {
        op: "Div",
        opsets: "7–21",
        attributes: "numpy broadcasting",
        notes:
            "by a constant: multiply by its reciprocal; by an activation: reciprocal then multiply",
        import: Import::FoldOrLower(fold_arith, arith),
    },
    OpSupport {
        op: "Floor",
        opsets: "6–21",
        attributes: "",
        notes: "on constants, folded",
        import: Import::Fold(fold_floor),
    },
    OpSupport {
        op: "Mul",
        opsets: "7–21",
        attributes: "numpy broadcasting",
        notes: "",
        import: Import::FoldOrLower(fold_arith, arith),
    },
    OpSupport {
        op: "Pow",
        opsets: "7–21",
        attributes: "",
        notes: "constant exponent (2 becomes x·x)",
        import: Import::Lower(pow),
    },
    OpSupport {
        op: "Sqrt",
        opsets: "6–21",
        attributes: "",
        notes: "as pow(x, 0.5)",
        import: Import::Lower(sqrt),
    },
    OpSupport {
        op: "Sub",
        opsets: "7–21",
        attributes: "numpy broadcasting",
        notes: "",
        import: Import::FoldOrLower(fold_arith, arith),
    },
    OpSupport {
        op: "Sum",
        opsets: "8–21",
        attributes: "",
        notes: "activations of equal rank (numpy broadcasting), as a chain of tosa.add",
        import: Import::Lower(sum),
    },
];

/// Add/Sub/Mul/Div with numpy broadcasting; division by a constant becomes multiplication
/// by its reciprocal, division by an activation a reciprocal and a multiplication.
fn arith(imp: &mut Importer) -> Result<Vec<Val>, ImportError> {
    let op = imp.node.op_type();
    let name = match op {
        "Add" => tosa::ADD,
        "Sub" => tosa::SUB,
        _ => tosa::MUL,
    };
    let input_name = |i: usize| imp.node.input.get(i).cloned().unwrap_or_default();
    let (na, nb) = (input_name(0), input_name(1));
    let (ca, cb) = (imp.consts.get(&na).cloned(), imp.consts.get(&nb).cloned());
    let r = match (ca, cb) {
        (None, Some(mut c)) => {
            let x = imp.input(0)?;
            if op == "Div" {
                c.data.iter_mut().for_each(|v| *v = 1.0 / *v);
            }
            imp.apply_const(name, x, &c, false)?
        }
        (Some(c), None) => {
            let x = imp.input(1)?;
            let x = if op == "Div" {
                Val {
                    id: imp.unary(tosa::RECIPROCAL, x.id),
                    nhwc: x.nhwc,
                }
            } else {
                x
            };
            imp.apply_const(name, x, &c, true)?
        }
        _ => activations(imp, name, op == "Div")?,
    };
    Ok(vec![r])
}

/// `a name b` (`a · 1/b` when `divide`) for two activations: both NHWC when either is (then
/// both must be 4-D), lower ranks padded with leading size-1 dimensions.
fn activations(imp: &mut Importer, name: &str, divide: bool) -> Result<Val, ImportError> {
    let (a, b) = (imp.input(0)?, imp.input(1)?);
    let (mut ra, mut rb) = (imp.onnx_shape(a).len(), imp.onnx_shape(b).len());
    let (a, b) = if a.nhwc || b.nhwc {
        if ra != 4 || rb != 4 {
            return Err(imp.err("mixing 4-D and lower-rank activations is not supported"));
        }
        (
            Val {
                id: imp.nhwc(a)?,
                nhwc: true,
            },
            Val {
                id: imp.nhwc(b)?,
                nhwc: true,
            },
        )
    } else {
        (a, b)
    };
    let (mut ia, mut ib) = (a.id, b.id);
    // Equal ranks for tosa: prepend size-1 dimensions.
    while ra < rb {
        let mut s = imp.shape(ia);
        s.insert(0, 1);
        ia = imp.reshape(ia, &s);
        ra += 1;
    }
    while rb < ra {
        let mut s = imp.shape(ib);
        s.insert(0, 1);
        ib = imp.reshape(ib, &s);
        rb += 1;
    }
    if divide {
        ib = imp.unary(tosa::RECIPROCAL, ib);
    }
    let r = imp.binary(name, ia, ib)?;
    Ok(Val {
        id: r,
        nhwc: a.nhwc,
    })
}

fn fold_arith(c: &Folding) -> Result<Const, ImportError> {
    let (a, b) = (c.get(0)?, c.get(1)?);
    let f: fn(f32, f32) -> f32 = match c.imp.node.op_type() {
        "Add" => |x, y| x + y,
        "Sub" => |x, y| x - y,
        "Mul" => |x, y| x * y,
        _ => |x, y| x / y,
    };
    broadcast_const(&a, &b, f).map_err(|m| c.imp.err(m))
}

fn fold_floor(c: &Folding) -> Result<Const, ImportError> {
    let x = c.get(0)?;
    Ok(Const {
        dims: x.dims,
        data: x.data.iter().map(|v| v.floor()).collect(),
    })
}

/// The sum of activations, NHWC when any is and all are 4-D.
fn sum(imp: &mut Importer) -> Result<Vec<Val>, ImportError> {
    let vals: Vec<Val> = (0..imp.node.input.len())
        .map(|i| imp.input(i))
        .collect::<Result<_, _>>()?;
    let nhwc = vals.iter().any(|v| v.nhwc) && vals.iter().all(|v| imp.onnx_shape(*v).len() == 4);
    let mut ids = Vec::new();
    for v in &vals {
        ids.push(if nhwc { imp.nhwc(*v)? } else { imp.plain(*v) });
    }
    let Some((&first, rest)) = ids.split_first() else {
        return Err(imp.err("Sum needs at least one input"));
    };
    let mut acc = first;
    for &i in rest {
        acc = imp.binary(tosa::ADD, acc, i)?;
    }
    Ok(vec![Val { id: acc, nhwc }])
}

fn pow(imp: &mut Importer) -> Result<Vec<Val>, ImportError> {
    let x = imp.input(0)?;
    let e = imp
        .konst(1)
        .map_err(|_| imp.err("only constant exponents are supported"))?;
    if e.data.len() == 1 && e.data[0] == 2.0 {
        let r = imp.binary(tosa::MUL, x.id, x.id)?;
        return Ok(vec![Val {
            id: r,
            nhwc: x.nhwc,
        }]);
    }
    Ok(vec![imp.apply_const(tosa::POW, x, &e, false)?])
}

fn sqrt(imp: &mut Importer) -> Result<Vec<Val>, ImportError> {
    let x = imp.input(0)?;
    let half = Const {
        dims: vec![],
        data: vec![0.5],
    };
    Ok(vec![imp.apply_const(tosa::POW, x, &half, false)?])
}

/// numpy broadcasting of two constants with `op`.
fn broadcast_const(a: &Const, b: &Const, op: impl Fn(f32, f32) -> f32) -> Result<Const, String> {
    let rank = a.dims.len().max(b.dims.len());
    let pad = |d: &[i64]| -> Vec<i64> {
        std::iter::repeat_n(1, rank - d.len())
            .chain(d.iter().copied())
            .collect()
    };
    let (da, db) = (pad(&a.dims), pad(&b.dims));
    let mut out = Vec::with_capacity(rank);
    for (&x, &y) in da.iter().zip(&db) {
        if x != y && x != 1 && y != 1 {
            return Err(format!(
                "shapes {:?} and {:?} do not broadcast",
                a.dims, b.dims
            ));
        }
        out.push(x.max(y));
    }
    let strides = |d: &[i64]| {
        let mut st = vec![0i64; rank];
        let mut acc = 1;
        for k in (0..rank).rev() {
            st[k] = if d[k] == 1 { 0 } else { acc };
            acc *= d[k];
        }
        st
    };
    let (sa, sb) = (strides(&da), strides(&db));
    let n = crate::tensor::element_count(&out)
        .ok_or_else(|| format!("broadcasting {:?} and {:?} is too large", a.dims, b.dims))?;
    let mut data = Vec::with_capacity(n as usize);
    let mut idx = vec![0i64; rank];
    for _ in 0..n {
        let ia: i64 = idx.iter().zip(&sa).map(|(i, s)| i * s).sum();
        let ib: i64 = idx.iter().zip(&sb).map(|(i, s)| i * s).sum();
        data.push(op(a.data[ia as usize], b.data[ib as usize]));
        for k in (0..rank).rev() {
            idx[k] += 1;
            if idx[k] < out[k] {
                break;
            }
            idx[k] = 0;
        }
    }
    Ok(Const { dims: out, data })
}
