//! Reductions: ReduceMean (tosa.reduce_sum times 1/n) and ReduceMax (tosa.reduce_max), one
//! tosa reduction per axis.

use super::{Import, OpSupport};
use crate::importer::{Importer, Val};
use crate::ImportError;
use nibble_graph::tosa;

pub(super) const OPS: &[OpSupport] = &[
    OpSupport {
        op: "ReduceMax",
        opsets: "1–21",
        attributes: "axes (attribute before 18, input after), keepdims",
        notes: "as tosa.reduce_max",
        import: Import::Lower(reduce_max),
    },
    OpSupport {
        op: "ReduceMean",
        opsets: "1–21",
        attributes: "axes, keepdims",
        notes: "as tosa.reduce_sum and a multiplication by 1/n",
        import: Import::Lower(reduce_mean),
    },
];

fn reduce_mean(imp: &mut Importer) -> Result<Vec<Val>, ImportError> {
    Ok(vec![reduction(imp, tosa::REDUCE_SUM, true)?])
}

fn reduce_max(imp: &mut Importer) -> Result<Vec<Val>, ImportError> {
    Ok(vec![reduction(imp, tosa::REDUCE_MAX, false)?])
}

/// ReduceMean (`mean`: a sum times 1/n) or ReduceMax over `axes` (attribute, or input from
/// opset 18), one tosa reduction per axis, then `keepdims = 0` as a reshape.
fn reduction(imp: &mut Importer, name: &str, mean: bool) -> Result<Val, ImportError> {
    let x = imp.input(0)?;
    let x = imp.plain(x);
    let shape = imp.shape(x);
    let rank = shape.len() as i64;
    let axes = if imp.opset >= 18 && imp.node.input.len() > 1 {
        imp.konst(1)?.ints()
    } else {
        imp.ints("axes", &(0..rank).collect::<Vec<_>>())
    };
    let mut axes: Vec<usize> = axes
        .iter()
        .map(|&a| (if a < 0 { a + rank } else { a }) as usize)
        .collect();
    axes.sort();
    axes.dedup();
    let (mut r, mut count) = (x, 1);
    for &a in &axes {
        if a >= shape.len() {
            return Err(imp.err(format!("axis {a} is out of range for rank {rank}")));
        }
        count *= shape[a];
        r = imp.reduce(name, r, a);
    }
    if mean {
        let inv = imp.constant(&vec![1; shape.len()], &[1.0 / count as f32]);
        r = imp.binary(tosa::MUL, r, inv)?;
    }
    if imp.int("keepdims", 1) == 0 {
        let kept: Vec<i64> = imp
            .shape(r)
            .iter()
            .enumerate()
            .filter(|(i, _)| !axes.contains(i))
            .map(|(_, &d)| d)
            .collect();
        r = imp.reshape(r, &kept);
    }
    Ok(Val { id: r, nhwc: false })
}
