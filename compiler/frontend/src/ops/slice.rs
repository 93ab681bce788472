//! Cutting and joining tensors: Slice, Split and Pad (tosa.slice, tosa.pad) and Concat
//! (tosa.concat), in ONNX layout except a Concat of NHWC activations; Slice and Concat are
//! folded on constants, Gather is supported on constants only (shape computations).

use super::{Import, OpSupport};
use crate::emit::f32t;
use crate::importer::{Importer, Val};
use crate::shape_fold::Folding;
use crate::tensor::Const;
use crate::ImportError;
use nibble_graph::tosa;
use nibble_ir::Attr;

pub(super) const OPS: &[OpSupport] = &[
    OpSupport {
        op: "Concat",
        opsets: "4–21",
        attributes: "axis",
        notes: "activations, or constants (folded)",
        import: Import::FoldOrLower(fold_concat, concat),
    },
    OpSupport {
        op: "Gather",
        opsets: "1–21",
        attributes: "axis 0",
        notes: "on constants, folded",
        import: Import::Fold(fold_gather),
    },
    OpSupport {
        op: "Pad",
        opsets: "2–21",
        attributes: "mode constant; pads, value (attributes before opset 11, inputs after)",
        notes: "constant pads and value; no axes input",
        import: Import::Lower(pad),
    },
    OpSupport {
        op: "Slice",
        opsets: "1–21",
        attributes: "starts, ends, axes (steps 1)",
        notes: "constant bounds; data at run time or constant",
        import: Import::FoldOrLower(fold_slice, slice),
    },
    OpSupport {
        op: "Split",
        opsets: "2–21",
        attributes: "axis, split (attribute before 13, input after)",
        notes: "constant sizes, or equal parts; a tosa.slice per output",
        import: Import::Lower(split),
    },
];

/// Slice bounds: starts, ends, axes and steps (inputs from opset 10, attributes before).
type Bounds = (Vec<i64>, Vec<i64>, Option<Vec<i64>>, Option<Vec<i64>>);

/// Run-time data sliced by constant starts/ends (step 1).
fn slice(imp: &mut Importer) -> Result<Vec<Val>, ImportError> {
    let x = imp.input(0)?;
    let x = imp.plain(x);
    let shape = imp.shape(x);
    let rank = shape.len();
    let k = |imp: &Importer, i: usize| -> Result<Option<Vec<i64>>, ImportError> {
        Ok(imp.konst_opt(i)?.map(|c| c.ints()))
    };
    let (starts, ends, axes, steps): Bounds = if imp.opset >= 10 {
        (
            k(imp, 1)?.unwrap_or_default(),
            k(imp, 2)?.unwrap_or_default(),
            k(imp, 3)?,
            k(imp, 4)?,
        )
    } else {
        attribute_bounds(imp)
    };
    let axes = axes.unwrap_or_else(|| (0..starts.len() as i64).collect());
    check_lengths(imp, &starts, &ends, &axes)?;
    if steps.is_some_and(|s| s.iter().any(|&v| v != 1)) {
        return Err(imp.err("Slice with steps other than 1 is not supported"));
    }
    let mut lo = vec![0i64; rank];
    let mut size = shape.clone();
    for (i, &a) in axes.iter().enumerate() {
        let a = (if a < 0 { a + rank as i64 } else { a }) as usize;
        if a >= rank {
            return Err(imp.err(format!("axis {a} is out of range for rank {rank}")));
        }
        let d = shape[a];
        let clampi = |v: i64| (if v < 0 { v + d } else { v }).clamp(0, d);
        lo[a] = clampi(starts[i]);
        size[a] = (clampi(ends[i]) - lo[a]).max(0);
    }
    let r = imp.slice(x, &lo, &size);
    Ok(vec![Val { id: r, nhwc: false }])
}

/// Slice bounds from the attributes (before opset 10; no steps).
fn attribute_bounds(imp: &Importer) -> Bounds {
    (
        imp.ints("starts", &[]),
        imp.ints("ends", &[]),
        Some(imp.ints("axes", &[])).filter(|a| !a.is_empty()),
        None,
    )
}

/// Starts and ends give a bound per axis.
fn check_lengths(
    imp: &Importer,
    starts: &[i64],
    ends: &[i64],
    axes: &[i64],
) -> Result<(), ImportError> {
    if starts.len() < axes.len() || ends.len() < axes.len() {
        return Err(imp.err(format!(
            "starts {starts:?} and ends {ends:?} must give a bound per axis of {axes:?}"
        )));
    }
    Ok(())
}

fn fold_slice(c: &Folding) -> Result<Const, ImportError> {
    let x = c.get(0)?;
    let (starts, ends, axes, steps): Bounds = if c.imp.opset >= 10 {
        (c.get(1)?.ints(), c.get(2)?.ints(), c.ints(3), c.ints(4))
    } else {
        attribute_bounds(c.imp)
    };
    let rank = x.dims.len();
    let axes = axes.unwrap_or_else(|| (0..starts.len() as i64).collect());
    let steps = steps.unwrap_or_else(|| vec![1; starts.len()]);
    check_lengths(c.imp, &starts, &ends, &axes)?;
    if steps.len() < axes.len() {
        return Err(c.imp.err("steps must give a step per axis"));
    }
    let (mut lo, mut hi) = (vec![0; rank], x.dims.clone());
    for (k, &a) in axes.iter().enumerate() {
        let a = (if a < 0 { a + rank as i64 } else { a }) as usize;
        if a >= rank {
            return Err(c
                .imp
                .err(format!("axis {a} is out of range for rank {rank}")));
        }
        let d = x.dims[a];
        let clampi = |v: i64| (if v < 0 { v + d } else { v }).clamp(0, d);
        if steps[k] != 1 {
            return Err(c.imp.err("constant Slice supports step 1 only"));
        }
        lo[a] = clampi(starts[k]);
        hi[a] = clampi(ends[k]).max(lo[a]);
    }
    let dims: Vec<i64> = (0..rank).map(|k| hi[k] - lo[k]).collect();
    let n: i64 = dims.iter().product();
    let mut data = Vec::with_capacity(n as usize);
    let mut idx = vec![0i64; rank];
    for _ in 0..n {
        let mut off = 0;
        for k in 0..rank {
            off = off * x.dims[k] + lo[k] + idx[k];
        }
        data.push(x.data[off as usize]);
        for k in (0..rank).rev() {
            idx[k] += 1;
            if idx[k] < dims[k] {
                break;
            }
            idx[k] = 0;
        }
    }
    Ok(Const { dims, data })
}

/// Concatenation of activations, in NHWC when any input is and the rank is 4.
fn concat(imp: &mut Importer) -> Result<Vec<Val>, ImportError> {
    let vals: Vec<Val> = (0..imp.node.input.len())
        .map(|i| imp.input(i))
        .collect::<Result<_, _>>()?;
    let rank = imp.onnx_shape(vals[0]).len() as i64;
    let axis = imp.int("axis", 0);
    let axis = if axis < 0 { axis + rank } else { axis };
    let nhwc = rank == 4 && vals.iter().any(|v| v.nhwc);
    let mut ids = Vec::new();
    for v in vals {
        ids.push(if nhwc { imp.nhwc(v)? } else { imp.plain(v) });
    }
    let axis = if nhwc {
        [0, 3, 1, 2][axis as usize]
    } else {
        axis as usize
    };
    let mut out = imp.shape(ids[0]);
    out[axis] = ids.iter().map(|&i| imp.shape(i)[axis]).sum();
    for &i in &ids {
        let s = imp.shape(i);
        if s.len() != out.len()
            || s.iter()
                .zip(&out)
                .enumerate()
                .any(|(k, (a, b))| k != axis && a != b)
        {
            return Err(imp.err("inputs must match in every dimension but the axis"));
        }
    }
    let r = imp.push(
        tosa::CONCAT,
        &ids,
        f32t(&out),
        vec![("axis", Attr::i32(axis as i64))],
    );
    Ok(vec![Val { id: r, nhwc }])
}

fn fold_concat(c: &Folding) -> Result<Const, ImportError> {
    let parts: Vec<Const> = c.inputs.iter().flatten().cloned().collect();
    let rank = parts.first().map(|p| p.dims.len()).unwrap_or(0) as i64;
    let axis = c.imp.int("axis", 0);
    let axis = (if axis < 0 { axis + rank } else { axis }) as usize;
    if parts.iter().any(|p| p.dims.len() as i64 != rank) || axis as i64 >= rank {
        return Err(c
            .imp
            .err("inputs must share the rank, and the axis must be within it"));
    }
    let outer: i64 = parts[0].dims[..axis].iter().product();
    let mut dims = parts[0].dims.clone();
    dims[axis] = parts.iter().map(|p| p.dims[axis]).sum();
    let mut data = Vec::new();
    for o in 0..outer as usize {
        for p in &parts {
            let chunk: i64 = p.dims[axis..].iter().product();
            data.extend_from_slice(&p.data[o * chunk as usize..][..chunk as usize]);
        }
    }
    Ok(Const { dims, data })
}

/// Rows of a constant picked by constant indices (axis 0).
fn fold_gather(c: &Folding) -> Result<Const, ImportError> {
    let (x, idx) = (c.get(0)?, c.get(1)?);
    if c.imp.int("axis", 0) != 0 {
        return Err(c.imp.err("constant Gather is supported on axis 0"));
    }
    let rows = x.dims.first().copied().unwrap_or(1);
    let row: i64 = x.dims.iter().skip(1).product();
    let mut data = Vec::new();
    for i in idx.ints() {
        let i = if i < 0 { i + rows } else { i };
        if i < 0 || i >= rows {
            return Err(c
                .imp
                .err(format!("index {i} is out of range for {rows} rows")));
        }
        data.extend_from_slice(&x.data[(i * row) as usize..][..row as usize]);
    }
    let dims = idx
        .dims
        .iter()
        .chain(x.dims.iter().skip(1))
        .copied()
        .collect();
    Ok(Const { dims, data })
}

/// Constant padding with pads and value from inputs (opset 11 on) or attributes (before).
fn pad(imp: &mut Importer) -> Result<Vec<Val>, ImportError> {
    let x = imp.input(0)?;
    let x = imp.plain(x);
    let shape = imp.shape(x);
    let rank = shape.len();
    let mode = imp.string("mode").unwrap_or_else(|| "constant".into());
    if mode != "constant" {
        return Err(imp.err(format!("mode '{mode}' is not supported (constant)")));
    }
    let (pads, value) = if imp.opset >= 11 {
        let pads = imp.konst(1)?.ints();
        let value = match imp.konst_opt(2)? {
            Some(v) => v.data.first().copied().unwrap_or(0.0),
            None => 0.0,
        };
        (pads, value)
    } else {
        (imp.ints("pads", &[]), imp.float("value", 0.0))
    };
    if imp.has_input(3) {
        return Err(imp.err("Pad with explicit axes is not supported"));
    }
    // Each padded length is checked below; the bound keeps its sum from overflowing.
    if pads.len() != 2 * rank || pads.iter().any(|&p| !(0..=1 << 28).contains(&p)) {
        return Err(imp.err(format!(
            "pads {pads:?} must hold {} values from 0 to 2^28",
            2 * rank
        )));
    }
    // tosa: [begin0, end0, begin1, end1, …]
    let tosa_pads: Vec<i64> = (0..rank).flat_map(|k| [pads[k], pads[rank + k]]).collect();
    let out: Vec<i64> = (0..rank)
        .map(|k| shape[k].saturating_add(pads[k] + pads[rank + k]))
        .collect();
    let ps = imp.const_shape(&tosa_pads);
    let pv = imp.constant(&[1], &[value]);
    let r = imp.push(tosa::PAD, &[x, ps, pv], f32t(&out), vec![]);
    Ok(vec![Val { id: r, nhwc: false }])
}

/// One tosa.slice per output: sizes from input 1 (opset 13 on), the `split` attribute
/// (before), or equal parts.
fn split(imp: &mut Importer) -> Result<Vec<Val>, ImportError> {
    let x = imp.input(0)?;
    let x = imp.plain(x);
    let shape = imp.shape(x);
    let rank = shape.len() as i64;
    let axis = imp.int("axis", 0);
    let axis = (if axis < 0 { axis + rank } else { axis }) as usize;
    if axis >= shape.len() {
        return Err(imp.err(format!("axis {axis} is out of range for rank {rank}")));
    }
    let n = imp.node.output.len() as i64;
    if n == 0 {
        return Err(imp.err("it has no outputs".to_string()));
    }
    let sizes: Vec<i64> = if imp.opset >= 13 && imp.has_input(1) {
        imp.konst(1)?.ints()
    } else if imp.opset < 13 && imp.attr("split").is_some() {
        imp.ints("split", &[])
    } else {
        if shape[axis] % n != 0 {
            return Err(imp.err(format!("{} does not split evenly into {n}", shape[axis])));
        }
        vec![shape[axis] / n; n as usize]
    };
    let total = sizes
        .iter()
        .try_fold(0i64, |t, &s| t.checked_add(s).filter(|_| s >= 0));
    if sizes.len() as i64 != n || total != Some(shape[axis]) {
        return Err(imp.err(format!(
            "split sizes {sizes:?} do not cover dimension {} into {n} outputs",
            shape[axis]
        )));
    }
    let mut outs = Vec::new();
    let mut start = 0;
    for size in sizes {
        let mut lo = vec![0i64; shape.len()];
        lo[axis] = start;
        let mut sz = shape.clone();
        sz[axis] = size;
        let r = imp.slice(x, &lo, &sz);
        outs.push(Val { id: r, nhwc: false });
        start += size;
    }
    Ok(outs)
}
