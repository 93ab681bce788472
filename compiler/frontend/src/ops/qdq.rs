//! Already-quantized models (QDQ ONNX): QuantizeLinear and DequantizeLinear. Their scales and
//! zero points are honoured, not recalibrated; at the graph level every tensor stays float and
//! the grids become attributes that `nibble-quantize` reads:
//!
//! - `DequantizeLinear` of constant integers (weights, biases) folds into a float constant; a
//!   weight's grid is remembered ([`WeightGrid`]) and written on the layer that reads it
//!   ([`attach_weight_grid`]: `nibble.weight_scales`, and `nibble.weight_bits` = 4 for 4-bit
//!   weights), so the layer's integer weights are exactly the model's.
//! - `QuantizeLinear` of a run-time tensor puts its grid on the op computing the tensor
//!   (`nibble.scale`, `nibble.zero_point`; on the function for the model input), looking
//!   through data movement, which keeps its input's grid at the quant level. The quantized
//!   tensor is the same graph value, remembered with its grid ([`ActGrid`]) — clamped at 0
//!   and the grid's top when the grid starts at 0 (`saturate_at_zero`: quantizers drop the
//!   ReLU / ReLU6 such a grid computes).
//! - `DequantizeLinear` of a quantized tensor checks that it reads the grid the tensor was
//!   quantized to, and is that value.
//! - `QuantizeLinear` of a constant (float weights fake-quantized by a QAT export) gives its
//!   integers, which a `DequantizeLinear` then reads as above.
//!
//! A uint8 grid (zero point z) is the int8 grid of zero point z − 128: the same real values.

use super::{Import, OpSupport};
use crate::importer::{Importer, Val};
use crate::tensor::{grid_type, Const};
use crate::ImportError;
use nibble_graph::{attrs, tosa};
use nibble_ir::{Attr, Elem, Type, ValueId};

pub(super) const OPS: &[OpSupport] = &[
    OpSupport {
        op: "DequantizeLinear",
        opsets: "10–21",
        attributes: "axis (block_size 0)",
        notes: "of constants (int8, uint8, int16, uint16, int32, int4, uint4; per tensor or per axis): folded, a weight keeps its grid; of a QuantizeLinear's output: its grid is checked",
        import: Import::Own(dequantize),
    },
    OpSupport {
        op: "QuantizeLinear",
        opsets: "10–21",
        attributes: "axis, saturate, output_dtype (block_size 0)",
        notes: "of activations: int8/uint8 per tensor, the tensor's grid at the quant level (no calibration); of constants: folded to integers",
        import: Import::Own(quantize),
    },
    OpSupport {
        op: "QGemm",
        opsets: "com.microsoft 1",
        attributes: "as Gemm",
        notes: "onnxruntime's contrib op: imported as DequantizeLinear → Gemm (→ QuantizeLinear when y_scale is given) with its scales",
        import: Import::Expanded,
    },
    OpSupport {
        op: "QLinearConv",
        opsets: "10–21",
        attributes: "as Conv",
        notes: "onnxruntime's QOperator form: imported as DequantizeLinear → Conv → QuantizeLinear with its scales (bias at x_scale·w_scale)",
        import: Import::Expanded,
    },
    OpSupport {
        op: "QLinearMatMul",
        opsets: "10–21",
        attributes: "",
        notes: "onnxruntime's QOperator form: imported as DequantizeLinear → MatMul → QuantizeLinear with its scales",
        import: Import::Expanded,
    },
    OpSupport {
        op: "ConvInteger",
        opsets: "10–21",
        attributes: "as Conv",
        notes: "in onnxruntime's dynamic pattern (DynamicQuantizeLinear → ConvInteger → Cast → Mul by x_scale·w_scale): a Conv whose weights keep their grid; its input gets a static grid",
        import: Import::Expanded,
    },
    OpSupport {
        op: "MatMulInteger",
        opsets: "10–21",
        attributes: "",
        notes: "in onnxruntime's dynamic pattern, as ConvInteger: a MatMul whose weights keep their grid",
        import: Import::Expanded,
    },
    OpSupport {
        op: "DynamicQuantizeLinear",
        opsets: "11–21",
        attributes: "",
        notes: "read by ConvInteger / MatMulInteger in onnxruntime's dynamic pattern: the activation gets a static grid (calibrated on --calib, else data-free) instead of one computed at run time",
        import: Import::Expanded,
    },
];

/// The grid a QuantizeLinear put a run-time tensor on.
#[derive(Clone, Debug)]
pub(crate) struct ActGrid {
    pub scale: f32,
    /// The zero point as the model stores it (uint8: 0–255).
    pub zero_point: i64,
    pub signed: bool,
    /// The QuantizeLinear node (for messages).
    pub by: String,
}

impl ActGrid {
    /// The zero point of the same grid in int8 storage.
    fn stored_zero_point(&self) -> i64 {
        if self.signed {
            self.zero_point
        } else {
            self.zero_point - 128
        }
    }
}

/// The grid a DequantizeLinear read a constant's integers on.
#[derive(Clone, Debug)]
pub(crate) struct WeightGrid {
    /// One scale, or one per slice along `axis`.
    pub scales: Vec<f32>,
    pub axis: Option<usize>,
    pub dims: Vec<i64>,
    pub bits: u32,
    /// Signed, zero points 0 and no value at the type's minimum (−128, −8): nibble's
    /// symmetric weight grids [−127, 127] and [−7, 7] hold it exactly.
    pub symmetric: bool,
    pub by: String,
}

/// A node's scale (input 1) and zero point (input 2) for a tensor of shape `dims`.
struct Params {
    scales: Vec<f32>,
    zero_points: Vec<i64>,
    /// The ONNX element type of the integers.
    data_type: i32,
    bits: u32,
    signed: bool,
    /// The axis of per-axis scales (None: one scale).
    axis: Option<usize>,
    /// The slice along `axis` element `i` of the tensor is in.
    inner: usize,
}

impl Params {
    fn channel(&self, i: usize) -> usize {
        match self.axis {
            None => 0,
            Some(_) => (i / self.inner) % self.scales.len(),
        }
    }
    fn limits(&self) -> (i64, i64) {
        if self.signed {
            (-(1 << (self.bits - 1)), (1 << (self.bits - 1)) - 1)
        } else {
            (0, (1 << self.bits) - 1)
        }
    }
}

/// Reads and checks the scale and zero point of the node for a tensor of shape `dims` whose
/// integers are of ONNX type `data_type` (when the zero point does not say).
fn params(imp: &Importer, dims: &[i64], data_type: i32) -> Result<Params, ImportError> {
    if imp.int("block_size", 0) != 0 {
        return Err(imp.err("blocked quantization (block_size ≠ 0) is not supported"));
    }
    let s = imp.konst(1)?;
    if let Some(v) = s.data.iter().find(|v| !(v.is_finite() && **v > 0.0)) {
        return Err(imp.err(format!("scale {v} must be finite and positive")));
    }
    let data_type = match imp.node.input.get(2).filter(|n| !n.is_empty()) {
        Some(n) => *imp
            .int_types
            .get(n)
            .ok_or_else(|| imp.err(format!("zero point '{n}' must be an integer initializer")))?,
        None => data_type,
    };
    let (bits, signed) = grid_type(data_type).filter(|&(b, _)| b <= 32).ok_or_else(|| {
        imp.err(format!("integer type {data_type} is not supported (int8, uint8, int16, uint16, int32, int4, uint4)"))
    })?;
    let n = s.data.len();
    let zero_points = match imp.konst_opt(2)? {
        Some(z) if z.data.len() != n => {
            return Err(imp.err(format!("{} zero points for {n} scales", z.data.len())))
        }
        Some(z) => z.ints(),
        None => vec![0; n],
    };
    let axis = if n == 1 {
        None
    } else {
        let rank = dims.len() as i64;
        let a = imp.int("axis", 1);
        let a = if a < 0 { a + rank } else { a };
        if !(0..rank).contains(&a) || dims[a as usize] != n as i64 {
            return Err(imp.err(format!(
                "{n} scales do not match axis {a} of shape {dims:?}"
            )));
        }
        Some(a as usize)
    };
    let inner = axis.map_or(1, |a| dims[a + 1..].iter().product::<i64>().max(1) as usize);
    let p = Params {
        scales: s.data,
        zero_points,
        data_type,
        bits,
        signed,
        axis,
        inner,
    };
    let (lo, hi) = p.limits();
    if let Some(z) = p.zero_points.iter().find(|z| !(lo..=hi).contains(*z)) {
        return Err(imp.err(format!("zero point {z} is outside [{lo}, {hi}]")));
    }
    Ok(p)
}

/// QuantizeLinear: a constant's integers, or a run-time tensor's grid.
fn quantize(imp: &mut Importer) -> Result<(), ImportError> {
    let out = imp.node.output.first().cloned().unwrap_or_default();
    // Without a zero point the type is `output_dtype` (opset 21), else uint8.
    let default_type = imp.int("output_dtype", 0);
    let default_type = if default_type == 0 {
        2
    } else {
        default_type as i32
    };
    let name = imp.node.input.first().cloned().unwrap_or_default();
    if let Some(c) = imp.consts.get(&name).cloned() {
        let p = params(imp, &c.dims, default_type)?;
        let (lo, hi) = p.limits();
        let data = c
            .data
            .iter()
            .enumerate()
            .map(|(i, &x)| {
                let k = p.channel(i);
                let q = (x / p.scales[k]).round_ties_even() as i64 + p.zero_points[k];
                q.clamp(lo, hi) as f32
            })
            .collect();
        imp.consts.insert(out.clone(), Const { dims: c.dims, data });
        imp.int_types.insert(out, p.data_type);
        return Ok(());
    }
    let x = imp.input(0)?;
    let p = params(imp, &imp.onnx_shape(x), default_type)?;
    if p.axis.is_some() {
        return Err(imp.err(
            "per-axis quantization of a run-time tensor is not supported (one scale per activation)",
        ));
    }
    if p.bits != 8 {
        return Err(imp.err(format!(
            "{}-bit activations are not supported (int8, uint8)",
            p.bits
        )));
    }
    let grid = ActGrid {
        scale: p.scales[0],
        zero_point: p.zero_points[0],
        signed: p.signed,
        by: imp.label(),
    };
    set_grid(imp, x.id, &grid)?;
    let x = saturate_at_zero(imp, x, &grid)?;
    imp.vals.insert(out.clone(), x);
    imp.qgrids.insert(out, grid);
    Ok(())
}

/// The saturation of a grid that starts at 0 as a `tosa.clamp(x, 0, top)` on the grid: the
/// ReLU or ReLU6 that quantizers drop before such a QuantizeLinear (its saturation computes
/// it) is back in the graph, for the float interpreter and for the passes that recognise and
/// fuse activations. Grids below 0 saturate only at their calibrated extremes, and so does a
/// result that is never negative (a square, a sigmoid, a mean of squares: no ReLU was
/// dropped there, and a clamp would hide the LayerNorm or softmax they are part of): no clamp.
fn saturate_at_zero(imp: &mut Importer, x: Val, grid: &ActGrid) -> Result<Val, ImportError> {
    let z = grid.stored_zero_point();
    if z != -128 {
        return Ok(x);
    }
    if nonnegative(imp, x.id, 8) {
        return Ok(x);
    }
    let top = (127 - z) as f32 * grid.scale;
    // A clamp already there within [0, top] is the saturation.
    let producer = imp.f.ops.iter().rev().find(|o| o.results.contains(&x.id));
    if let Some(op) = producer.filter(|o| o.name == tosa::CLAMP) {
        if let (Ok(lo), Ok(hi)) = (op.float("min_val"), op.float("max_val")) {
            if lo >= 0.0 && hi <= top as f64 {
                return Ok(x);
            }
        }
    }
    let id = imp.clamp(x.id, 0.0, top);
    set_grid(imp, id, grid)?;
    Ok(Val { id, nhwc: x.nhwc })
}

/// DequantizeLinear: a constant's real values, or a quantized tensor's value.
fn dequantize(imp: &mut Importer) -> Result<(), ImportError> {
    let out = imp.node.output.first().cloned().unwrap_or_default();
    let name = imp.node.input.first().cloned().unwrap_or_default();
    if let Some(c) = imp.consts.get(&name).cloned() {
        let dt = *imp.int_types.get(&name).ok_or_else(|| {
            imp.err(format!("'{name}' must hold integers (an integer initializer or a QuantizeLinear of a constant)"))
        })?;
        let p = params(imp, &c.dims, dt)?;
        if p.data_type != dt {
            return Err(imp.err(format!(
                "its zero point is of type {} but '{name}' of type {dt}",
                p.data_type
            )));
        }
        let data = (c.data.iter().enumerate())
            .map(|(i, &q)| {
                let k = p.channel(i);
                (q as i64 - p.zero_points[k]) as f32 * p.scales[k]
            })
            .collect();
        let (lo, _) = p.limits();
        let symmetric = p.signed
            && p.zero_points.iter().all(|&z| z == 0)
            && c.data.iter().all(|&q| q as i64 != lo);
        imp.wgrids.insert(
            out.clone(),
            WeightGrid {
                scales: p.scales.clone(),
                axis: p.axis,
                dims: c.dims.clone(),
                bits: p.bits,
                symmetric,
                by: imp.label(),
            },
        );
        imp.consts.insert(out, Const { dims: c.dims, data });
        return Ok(());
    }
    let Some(g) = imp.qgrids.get(&name).cloned() else {
        return Err(imp.err(match imp.vals.get(&name) {
            Some(_) => format!("'{name}' is a run-time tensor no QuantizeLinear produced (integer model inputs are not supported)"),
            None => format!("input '{name}' is not defined before this node"),
        }));
    };
    let x = imp.input(0)?;
    let dt = if g.signed { 3 } else { 2 };
    let p = params(imp, &imp.onnx_shape(x), dt)?;
    let same = p.axis.is_none()
        && p.scales[0] == g.scale
        && p.zero_points[0] == g.zero_point
        && p.signed == g.signed;
    if !same {
        return Err(imp.err(format!(
            "its grid (scale {:?}, zero point {:?}) disagrees with the one '{}' quantized '{name}' to (scale {}, zero point {})",
            p.scales, p.zero_points, g.by, g.scale, g.zero_point
        )));
    }
    imp.vals.insert(out, x);
    Ok(())
}

/// Puts `grid` on the op computing `v` (through transposes, reshapes and max pools, whose
/// result keeps their input's grid at the quant level, unless the input has another grid), or
/// on the function when `v` is the model input; refuses a second, different grid for the same
/// value.
pub(crate) fn set_grid(imp: &mut Importer, v: ValueId, grid: &ActGrid) -> Result<(), ImportError> {
    // The op holding the grid (None: the function, for the model input).
    let mut v = v;
    let holder = loop {
        if imp.f.args.contains(&v) {
            break None;
        }
        let Some(i) = imp.f.ops.iter().rposition(|o| o.results.contains(&v)) else {
            return Err(imp.err("the quantized tensor has no producer"));
        };
        let op = &imp.f.ops[i];
        // Max pooling commutes with rounding to a grid: the grid of its result is its input's.
        let through =
            [tosa::TRANSPOSE, tosa::RESHAPE, tosa::MAX_POOL2D].contains(&op.name.as_str());
        if through && !has_other_grid(imp, op.operands[0], grid) {
            v = op.operands[0];
            continue;
        }
        break Some(i);
    };
    let tensor = imp.node.input.first().cloned().unwrap_or_default();
    let (attrs, keys) = match holder {
        Some(i) => (&mut imp.f.ops[i].attrs, attrs::GRID),
        None => (
            &mut imp.f.attrs,
            [attrs::ARG0_SCALE, attrs::ARG0_ZERO_POINT],
        ),
    };
    let scale = Attr::f64(grid.scale as f64);
    let zero_point = Attr::i64(grid.stored_zero_point());
    if let (Some(s), Some(z)) = (attrs.get(keys[0]), attrs.get(keys[1])) {
        if *s != scale || *z != zero_point {
            let msg = format!(
                "'{tensor}' is already on another grid ({s:?}, {z:?}): one tensor, one grid"
            );
            return Err(imp.err(msg));
        }
    }
    attrs.insert(keys[0].into(), scale);
    attrs.insert(keys[1].into(), zero_point);
    Ok(())
}

/// True when `v` is non-negative by construction (looking `depth` ops up): squares, sigmoids,
/// exponentials, clamps at 0 or above, and sums, products, reciprocals, pools and data movement
/// of non-negative values; constants without negative values.
fn nonnegative(imp: &Importer, v: ValueId, depth: usize) -> bool {
    let Some(op) = imp.f.ops.iter().rev().find(|o| o.results.contains(&v)) else {
        return false;
    };
    let all = |ops: &[ValueId]| depth > 0 && ops.iter().all(|&o| nonnegative(imp, o, depth - 1));
    match op.name.as_str() {
        tosa::CONST => op
            .dense("values")
            .ok()
            .filter(|(ty, _)| ty.elem() == Some(&Elem::F32))
            .is_some_and(|(_, b)| nibble_ir::model::dense_f32(b).iter().all(|&x| x >= 0.0)),
        tosa::SIGMOID | tosa::EXP => true,
        tosa::CLAMP => op.float("min_val").is_ok_and(|lo| lo >= 0.0),
        tosa::MUL => op.operands[0] == op.operands[1] || all(&op.operands[..2]),
        tosa::POW => {
            let even = imp
                .f
                .ops
                .iter()
                .rev()
                .find(|o| o.results.contains(&op.operands[1]))
                .and_then(|o| o.dense("values").ok())
                .is_some_and(|(_, b)| {
                    nibble_ir::model::dense_f32(b)
                        .iter()
                        .all(|&e| e % 2.0 == 0.0)
                });
            even || all(&op.operands[..1])
        }
        tosa::ADD => all(&op.operands),
        tosa::REDUCE_SUM
        | tosa::REDUCE_MAX
        | tosa::RECIPROCAL
        | tosa::MAX_POOL2D
        | tosa::AVG_POOL2D
        | tosa::TRANSPOSE
        | tosa::RESHAPE
        | tosa::SLICE => all(&op.operands[..1]),
        _ => false,
    }
}

/// True when `v` (an op's result or the input) already has a grid other than `grid`.
fn has_other_grid(imp: &Importer, v: ValueId, grid: &ActGrid) -> bool {
    let (attrs, keys) = match imp.f.ops.iter().rposition(|o| o.results.contains(&v)) {
        Some(i) => (&imp.f.ops[i].attrs, attrs::GRID),
        None => (&imp.f.attrs, [attrs::ARG0_SCALE, attrs::ARG0_ZERO_POINT]),
    };
    match (attrs.get(keys[0]), attrs.get(keys[1])) {
        (Some(s), Some(z)) => {
            *s != Attr::f64(grid.scale as f64) || *z != Attr::i64(grid.stored_zero_point())
        }
        _ => false,
    }
}

/// The ops that carry a layer's weights.
const LAYERS: [&str; 4] = [
    tosa::CONV2D,
    tosa::DEPTHWISE_CONV2D,
    tosa::TRANSPOSE_CONV2D,
    tosa::MATMUL,
];

/// After a Conv, ConvTranspose, Gemm or MatMul whose weights (input 1) a DequantizeLinear
/// made: the weights' grid on the layer op(s) the node became (`first_op` on), one scale per
/// output channel (a grouped conv's convolutions take their channels' scales in order).
pub(crate) fn attach_weight_grid(imp: &mut Importer, first_op: usize) -> Result<(), ImportError> {
    let node = imp.node;
    let Some(g) = node.input.get(1).and_then(|n| imp.wgrids.get(n)).cloned() else {
        return Ok(());
    };
    let out_axis = match node.op_type() {
        "Conv" => 0,
        "ConvTranspose" => 1,
        "Gemm" if imp.int("transB", 0) != 0 => 0,
        "Gemm" | "MatMul" => g.dims.len().saturating_sub(1),
        _ => return Ok(()),
    };
    let layers: Vec<usize> = (first_op..imp.f.ops.len())
        .filter(|&i| LAYERS.contains(&imp.f.ops[i].name.as_str()))
        .collect();
    if layers.is_empty() {
        return Ok(());
    }
    if !g.symmetric || !matches!(g.bits, 4 | 8) {
        return Err(imp.err(format!(
            "its weights ('{}') are not on a symmetric signed 8- or 4-bit grid (zero point 0, no value at the type's minimum), which nibble's integer kernels use",
            g.by
        )));
    }
    let oc = g.dims.get(out_axis).copied().unwrap_or(1) as usize;
    // Gemm's alpha scales the weights, and so their grid.
    let alpha = if node.op_type() == "Gemm" {
        imp.float("alpha", 1.0).abs()
    } else {
        1.0
    };
    let scales: Vec<f32> = match g.axis {
        None => vec![g.scales[0] * alpha; oc],
        Some(a) if a == out_axis => g.scales.iter().map(|s| s * alpha).collect(),
        Some(a) => {
            return Err(imp.err(format!(
                "its weights are quantized along axis {a}; nibble's weight grids are per output channel (axis {out_axis})"
            )))
        }
    };
    if oc % layers.len() != 0 {
        return Err(imp.err("its weight grid does not split over its convolutions"));
    }
    let per = oc / layers.len();
    for (k, &i) in layers.iter().enumerate() {
        let s = &scales[k * per..(k + 1) * per];
        let ty = Type::tensor(&[per as i64], Elem::F32);
        let a = &mut imp.f.ops[i].attrs;
        a.insert(attrs::WEIGHT_SCALES.into(), Attr::dense_f32(ty, s));
        if g.bits == 4 {
            a.insert(attrs::WEIGHT_BITS.into(), Attr::Str("4".into()));
        }
    }
    Ok(())
}

/// Data movement that keeps its input's grid: on a quantized input (QOperator models pool and
/// reshape integers), its outputs are quantized to the same grid.
const KEEPS_GRID: [&str; 9] = [
    "MaxPool",
    "Reshape",
    "Flatten",
    "Transpose",
    "Squeeze",
    "Unsqueeze",
    "Identity",
    "Slice",
    "Split",
];

/// The grid of the node's quantized input, if it reads one; an op other than data movement
/// reading a quantized tensor is refused.
pub(crate) fn quantized_input(imp: &Importer) -> Result<Option<ActGrid>, ImportError> {
    let node = imp.node;
    let Some((name, g)) = node
        .input
        .iter()
        .find_map(|n| imp.qgrids.get(n).map(|g| (n, g)))
    else {
        return Ok(None);
    };
    if !KEEPS_GRID.contains(&node.op_type()) || node.input.first() != Some(name) {
        return Err(imp.err(format!(
            "it reads '{name}', a quantized tensor, directly: only DequantizeLinear and data movement ({}) may",
            KEEPS_GRID.join(", ")
        )));
    }
    Ok(Some(g.clone()))
}

/// Quantizes the node's outputs `outs` to `grid` (see [`quantized_input`]).
pub(crate) fn keep_grid(
    imp: &mut Importer,
    outs: &[(String, Val)],
    grid: &ActGrid,
) -> Result<(), ImportError> {
    for (name, v) in outs {
        set_grid(imp, v.id, grid)?;
        imp.qgrids.insert(name.clone(), grid.clone());
    }
    Ok(())
}
