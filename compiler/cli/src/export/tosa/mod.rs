//! `--emit tosa`: the tile program as upstream TOSA 1.0, integer only (`OUT/model.tosa.mlir`).
//!
//! The function takes the quantized inputs and returns the quantized outputs (their scales and
//! zero points in the function attributes `nibble.input_scales`, `nibble.input_zero_points`,
//! `nibble.output_scales`, `nibble.output_zero_points`: `real = scale · (q − zero_point)`); every
//! op keeps its tile op's location (the ONNX node). Each tile op becomes the TOSA ops that compute
//! the same integers, bit for bit:
//!
//! - `tile.conv2d` / `tile.depthwise_conv2d` → `tosa.conv2d` / `tosa.depthwise_conv2d` (i32
//!   accumulator, the input's zero point) + the requantization below;
//!   `tile.fully_connected` → the same as a 1×1 `tosa.conv2d` between two `tosa.reshape`s;
//! - a requantization → `tosa.rescale` (`scale32`, `SINGLE_ROUND`: nibble's round half up, the
//!   same multipliers and shifts) + `tosa.clamp` where the clamp is narrower than the type;
//!   PReLU's negative side → a second `tosa.rescale` (of `−acc` when its multipliers are
//!   negative) chosen by `tosa.select` on `acc ≥ 0`;
//! - `tile.avg_pool2d` (every window full) → a depthwise `tosa.depthwise_conv2d` of ones (the
//!   window sum) + its requantization; `tile.max_pool2d` → `tosa.max_pool2d`;
//! - `tile.lut` → `tosa.table`; `tile.clamp` → `tosa.clamp`; `tile.reshape`, `tile.transpose`,
//!   `tile.slice`, `tile.concat` → their TOSA namesakes; `tile.const` → `tosa.const`;
//! - `tile.add` / `tile.mul` → 32-bit ops (`arith.rs`); `tile.softmax` → `softmax.rs`.
//!
//! Building blocks are in `build.rs`. Precondition: a host tile program (accelerator compiles
//! are lowered for the host first, by the caller) with 8-bit activations. Ops this exporter
//! cannot write with the same integers (fused hard-swish/swish, layer norm, squeeze-excite,
//! resize, transposed convolution, matmul, long softmax rows, DMA) are listed in one error. Postcondition: the module parses and verifies in MLIR (`tosa` verifiers) before it
//! is written, and upstream's `tosa-validate` accepts it under the `pro_int` profile (strict spec
//! alignment); `--tosa-to-linalg-pipeline` lowers it and the lowered program computes the tile
//! interpreter's integers (tested).

use nibble_ir::text::float_literal;
use nibble_ir::{Attr, Elem, Func, Op, Type, ValueId};
use nibble_tile as tile;
use nibble_tile::Requant;
use std::collections::HashMap;

mod arith;
mod build;
mod softmax;

/// The tile ops this exporter translates.
const SUPPORTED: &[&str] = &[
    tile::QUANTIZE,
    tile::DEQUANTIZE,
    tile::CONST,
    tile::CONV2D,
    tile::DEPTHWISE_CONV2D,
    tile::FULLY_CONNECTED,
    tile::REQUANT,
    tile::CLAMP,
    tile::MAX_POOL2D,
    tile::AVG_POOL2D,
    tile::LUT,
    tile::RESHAPE,
    tile::TRANSPOSE,
    tile::SLICE,
    tile::CONCAT,
    tile::ADD,
    tile::MUL,
    tile::SOFTMAX,
];

/// The upstream passes that check an exported module: the TOSA 1.0 integer profile, with the
/// specification's data types and attributes.
pub const VALIDATE: &str =
    "tosa-attach-target{profiles=pro_int},tosa-validate{strict-op-spec-alignment=true}";

/// The TOSA function computing the integers of the host tile program `src`.
pub fn export(src: &Func) -> Result<Func, String> {
    // Every op without a TOSA form, grouped by op and reason, in program order.
    let mut groups: Vec<((String, String), Vec<String>)> = Vec::new();
    for op in &src.ops {
        if let Some(why) = why_not(src, op) {
            let key = (op.name.clone(), why);
            match groups.iter_mut().find(|(k, _)| *k == key) {
                Some((_, locs)) => locs.push(loc(op)),
                None => groups.push((key, vec![loc(op)])),
            }
        }
    }
    if !groups.is_empty() {
        let total: usize = groups.iter().map(|(_, l)| l.len()).sum();
        let lines: Vec<String> = groups
            .iter()
            .map(|((name, why), locs)| {
                let more = if locs.len() > 3 {
                    format!(" and {} more", locs.len() - 3)
                } else {
                    String::new()
                };
                format!(
                    "\n  {name} ({why}): {}{more}",
                    locs[..locs.len().min(3)].join(", ")
                )
            })
            .collect();
        return Err(format!(
            "no TOSA form in this version for {total} op(s):{}\n  exported: {}",
            lines.concat(),
            SUPPORTED.join(", ")
        ));
    }
    let mut ex = Exporter {
        src,
        out: Func::new(&src.name),
        map: HashMap::new(),
        boundary: HashMap::new(),
        inputs: Vec::new(),
    };
    for op in &src.ops {
        let first = ex.out.ops.len();
        ex.op(op)
            .map_err(|e| format!("{} at {}: {e}", op.name, loc(op)))?;
        for new in &mut ex.out.ops[first..] {
            new.loc = op.loc.clone();
        }
    }
    let mut outputs = Vec::new();
    for r in &src.returns {
        let b = ex
            .boundary
            .get(r)
            .ok_or("the program returns a value that is no tile.dequantize")?;
        outputs.push(b.clone());
        ex.out.returns.push(ex.map[r]);
    }
    let inputs = std::mem::take(&mut ex.inputs);
    let mut out = ex.out;
    for (key, list) in [("input", &inputs), ("output", &outputs)] {
        let scales: Vec<String> = list
            .iter()
            .map(|b| format!("{} : f64", float_literal(b.scale)))
            .collect();
        out.attrs.insert(
            format!("nibble.{key}_scales"),
            Attr::Raw(format!("[{}]", scales.join(", "))),
        );
        out.attrs.insert(
            format!("nibble.{key}_zero_points"),
            Attr::I64s(list.iter().map(|b| b.zero_point).collect()),
        );
    }
    Ok(out)
}

fn loc(op: &Op) -> String {
    op.loc
        .clone()
        .unwrap_or_else(|| "an unnamed location".into())
}

/// Why `op` has no TOSA form here, if it has none.
fn why_not(src: &Func, op: &Op) -> Option<String> {
    if [tile::ALLOC, tile::DMA_LOAD, tile::DMA_STORE].contains(&op.name.as_str()) {
        return Some("an accelerator's data movement: export a compile for --target host".into());
    }
    if !SUPPORTED.contains(&op.name.as_str()) {
        return Some("not exported yet".into());
    }
    let wide = op
        .operands
        .iter()
        .chain(&op.results)
        .filter(|&&v| op.name != tile::CONST && !is_accumulator(op, v))
        .any(|&v| matches!(src.ty(v).elem(), Some(Elem::Int(b)) if *b != 8));
    if wide {
        return Some("16-bit activations are not exported yet".into());
    }
    if let Ok(rq) = Requant::from_op(op) {
        if rq.hswish.is_some() || rq.swish.is_some() {
            return Some("a fused hard-swish or swish epilogue".into());
        }
    }
    if op.name == tile::ADD {
        let shift = tile::Add::from_op(op).ok()?.shift;
        if !(17..=47).contains(&shift) {
            return Some(format!(
                "shift {shift} outside the 17..=47 of the 32-bit split"
            ));
        }
    }
    if op.name == tile::SOFTMAX {
        let c = src
            .ty(op.results[0])
            .shape()
            .and_then(|s| s.last().copied())
            .unwrap_or(0);
        if let Some(why) = softmax::why_not(op, c) {
            return Some(why);
        }
    }
    if op.name == tile::MUL && tile::Mul::from_op(op).ok()?.multiplier < 0 {
        return Some("a negative multiplier".into());
    }
    if op.name == tile::AVG_POOL2D {
        let p = tile::AvgPool2d::from_op(op).ok()?;
        if p.rq.multiplier.len() != 1 {
            return Some("windows of different tap counts (padding)".into());
        }
        if p.acc_bits.is_some_and(|b| b != 32) {
            return Some("a window sum wider than 32 bits".into());
        }
    }
    None
}

/// Whether value `v` of `op` is an i32 operand (bias) rather than an activation.
fn is_accumulator(op: &Op, v: ValueId) -> bool {
    tile::is_weight_layer(op) && op.operands.get(2) == Some(&v)
}

struct Exporter<'a> {
    src: &'a Func,
    out: Func,
    /// Each tile value's TOSA value.
    map: HashMap<ValueId, ValueId>,
    /// The boundary of each `tile.dequantize` result (the program's outputs).
    boundary: HashMap<ValueId, tile::Boundary>,
    inputs: Vec<tile::Boundary>,
}

fn int(shape: &[i64], bits: u32) -> Type {
    Type::tensor(shape, Elem::Int(bits))
}

fn bits(ty: &Type) -> u32 {
    match ty.elem() {
        Some(Elem::Int(b)) => *b,
        _ => 8,
    }
}

fn dense_text(values: &[i64], ty: &Type) -> Attr {
    let list: Vec<String> = values.iter().map(|v| v.to_string()).collect();
    Attr::Raw(format!("dense<[{}]> : {ty}", list.join(", ")))
}

impl Exporter<'_> {
    fn op(&mut self, op: &Op) -> Result<(), String> {
        let r = op.results[0];
        let ty = self.src.ty(r).clone();
        let shape = ty.shape().unwrap_or(&[]).to_vec();
        let err = |e: tile::DialectError| e.to_string();
        let v = match op.name.as_str() {
            tile::QUANTIZE => {
                self.inputs.push(tile::Boundary::from_op(op).map_err(err)?);
                self.out.add_arg(ty)
            }
            tile::DEQUANTIZE => {
                self.boundary
                    .insert(r, tile::Boundary::from_op(op).map_err(err)?);
                self.x(op, 0)
            }
            tile::CONST => {
                let value = op.attrs.get(tile::keys::VALUE).ok_or("no value")?.clone();
                self.constant(ty, value)
            }
            tile::CONV2D | tile::DEPTHWISE_CONV2D => {
                let p = tile::Conv2d::from_op(op).map_err(err)?;
                let name = if op.name == tile::CONV2D {
                    "tosa.conv2d"
                } else {
                    "tosa.depthwise_conv2d"
                };
                let xwb = [self.x(op, 0), self.x(op, 1), self.x(op, 2)];
                let acc = self.conv(name, xwb, &shape, p.rq.input_zp, &p.window);
                self.requant(acc, &p.rq, &ty)
            }
            tile::FULLY_CONNECTED => {
                let p = tile::FullyConnected::from_op(op).map_err(err)?;
                let (n, m) = (shape[0], shape[1]);
                let k = self.src.ty(op.operands[0]).shape().map_or(0, |s| s[1]);
                let x = self.reshape(self.x(op, 0), &[n, 1, 1, k]);
                let w = self.reshape(self.x(op, 1), &[m, 1, 1, k]);
                let window = nibble_qnt::ConvWindow {
                    pad: [0; 4],
                    stride: [1, 1],
                    dilation: [1, 1],
                };
                let acc = self.conv(
                    "tosa.conv2d",
                    [x, w, self.x(op, 2)],
                    &[n, 1, 1, m],
                    p.rq.input_zp,
                    &window,
                );
                let y = self.requant(acc, &p.rq, &int(&[n, 1, 1, m], 8));
                self.reshape(y, &[n, m])
            }
            tile::REQUANT => {
                let rq = Requant::from_op(op).map_err(err)?;
                let x = self.x(op, 0);
                if rq.neg.is_some() {
                    // The accumulator x − zp in i32, then the fused path.
                    let xty = self.out.ty(x).with_elem(Elem::Int(32));
                    let wide = self.push("tosa.cast", &[x], xty.clone(), vec![]);
                    let rank = shape.len();
                    let zp_ty = int(&vec![1; rank], 32);
                    let zp = self.constant(
                        zp_ty.clone(),
                        Attr::Raw(format!("dense<{}> : {zp_ty}", rq.input_zp)),
                    );
                    let acc = self.push("tosa.sub", &[wide, zp], xty, vec![]);
                    self.requant(acc, &rq, &ty)
                } else {
                    let y =
                        self.rescale(x, &ty, &rq.multiplier, &rq.shift, rq.input_zp, rq.output_zp);
                    self.clamp(y, rq.clamp_min, rq.clamp_max)
                }
            }
            tile::CLAMP => {
                let p = tile::Clamp::from_op(op).map_err(err)?;
                let x = self.x(op, 0);
                let y = self.clamp(x, p.min, p.max);
                if y == x {
                    // A clamp to the whole type: keep an op so the value has its own name.
                    self.push("tosa.identity", &[x], ty, vec![])
                } else {
                    y
                }
            }
            tile::MAX_POOL2D => {
                let w = tile::MaxPool2d::from_op(op).map_err(err)?.window;
                let (x, pad) = self.fit_window(self.x(op, 0), &shape, w.kernel, w.stride, w.pad);
                let attrs = vec![
                    ("kernel", Attr::I64s(w.kernel.to_vec())),
                    ("pad", Attr::I64s(pad.to_vec())),
                    ("stride", Attr::I64s(w.stride.to_vec())),
                ];
                self.push("tosa.max_pool2d", &[x], ty, attrs)
            }
            tile::AVG_POOL2D => {
                let p = tile::AvgPool2d::from_op(op).map_err(err)?;
                let c = shape[3];
                let [kh, kw] = p.window.kernel;
                let wty = int(&[kh, kw, c, 1], 8);
                let ones = self.constant(wty.clone(), Attr::Raw(format!("dense<1> : {wty}")));
                let bty = int(&[c], 32);
                let zeros = self.constant(bty.clone(), Attr::Raw(format!("dense<0> : {bty}")));
                let window = nibble_qnt::ConvWindow {
                    pad: p.window.pad,
                    stride: p.window.stride,
                    dilation: [1, 1],
                };
                let acc = self.conv(
                    "tosa.depthwise_conv2d",
                    [self.x(op, 0), ones, zeros],
                    &shape,
                    p.rq.input_zp,
                    &window,
                );
                self.requant(acc, &p.rq, &ty)
            }
            tile::LUT => {
                let table = tile::Lut::from_op(op).map_err(err)?.table;
                let t: Vec<i64> = table.iter().map(|&v| v as i64).collect();
                let tv = self.ints(&t, 8);
                self.push("tosa.table", &[self.x(op, 0), tv], ty, vec![])
            }
            tile::RESHAPE => self.reshape(self.x(op, 0), &shape),
            tile::TRANSPOSE => {
                let perms = tile::Transpose::from_op(op).map_err(err)?.params.perms;
                self.push(
                    "tosa.transpose",
                    &[self.x(op, 0)],
                    ty,
                    vec![("perms", Attr::I32s(perms))],
                )
            }
            tile::SLICE => {
                let start = tile::Slice::from_op(op).map_err(err)?.params.start;
                let (s, z) = (self.shape(&start), self.shape(&shape));
                self.push("tosa.slice", &[self.x(op, 0), s, z], ty, vec![])
            }
            tile::CONCAT => {
                let axis = tile::Concat::from_op(op).map_err(err)?.params.axis;
                let xs: Vec<ValueId> = (0..op.operands.len()).map(|k| self.x(op, k)).collect();
                self.push("tosa.concat", &xs, ty, vec![("axis", Attr::i32(axis))])
            }
            tile::ADD => self.add(op, &ty)?,
            tile::MUL => self.mul_op(op, &ty)?,
            tile::SOFTMAX => self.softmax(op, &ty)?,
            other => return Err(format!("{other} has no TOSA form")),
        };
        self.map.insert(r, v);
        Ok(())
    }
}
