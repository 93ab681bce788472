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
//!   `tile.slice`, `tile.concat` → their TOSA namesakes; `tile.const` → `tosa.const`.
//!
//! Precondition: a host tile program with 8-bit activations. Ops TOSA cannot express with the
//! same integers (fused hard-swish/swish, two-operand add/mul with their 64-bit shared rounding,
//! softmax, layer norm, squeeze-excite, resize, transposed convolution, matmul, DMA) are listed in
//! one error. Postcondition: the module parses and verifies in MLIR (`tosa` verifiers) before it
//! is written, and upstream's `tosa-validate` accepts it under the `pro_int` profile (strict spec
//! alignment); `--tosa-to-linalg-pipeline` lowers it and the lowered program computes the tile
//! interpreter's integers (tested).

use nibble_ir::text::float_literal;
use nibble_ir::{Attr, Elem, Func, Op, Type, ValueId};
use nibble_tile as tile;
use nibble_tile::Requant;
use std::collections::HashMap;

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
    fn x(&self, op: &Op, k: usize) -> ValueId {
        self.map[&op.operands[k]]
    }

    fn push(
        &mut self,
        name: &str,
        operands: &[ValueId],
        ty: Type,
        attrs: Vec<(&str, Attr)>,
    ) -> ValueId {
        self.out.push(name, operands, ty, attrs)
    }

    fn constant(&mut self, ty: Type, values: Attr) -> ValueId {
        self.push("tosa.const", &[], ty, vec![("values", values)])
    }

    fn ints(&mut self, values: &[i64], bits: u32) -> ValueId {
        let ty = int(&[values.len() as i64], bits);
        let attr = dense_text(values, &ty);
        self.constant(ty, attr)
    }

    fn shape(&mut self, dims: &[i64]) -> ValueId {
        let ty = Type::Other(format!("!tosa.shape<{}>", dims.len()));
        let tensor = Type::tensor(&[dims.len() as i64], Elem::Index);
        let attr = dense_text(dims, &tensor);
        self.push("tosa.const_shape", &[], ty, vec![("values", attr)])
    }

    fn reshape(&mut self, x: ValueId, dims: &[i64]) -> ValueId {
        let elem = self.out.ty(x).elem().cloned().unwrap_or(Elem::Int(8));
        let ty = Type::tensor(dims, elem);
        let s = self.shape(dims);
        self.push("tosa.reshape", &[x, s], ty, vec![])
    }

    fn clamp(&mut self, x: ValueId, lo: i64, hi: i64) -> ValueId {
        let ty = self.out.ty(x).clone();
        let b = bits(&ty);
        let (qmin, qmax) = (-(1i64 << (b - 1)), (1i64 << (b - 1)) - 1);
        if lo <= qmin && hi >= qmax {
            return x;
        }
        let attrs = vec![
            ("min_val", Attr::Int(lo.max(qmin), format!("i{b}"))),
            ("max_val", Attr::Int(hi.min(qmax), format!("i{b}"))),
        ];
        self.push("tosa.clamp", &[x], ty, attrs)
    }

    /// `tosa.rescale` of `x` (zero point `in_zp`) to `out` (zero point `out_zp`):
    /// `out_zp + ((x − in_zp)·m + 2^(s−1)) >> s`, per channel when there are several.
    fn rescale(
        &mut self,
        x: ValueId,
        out: &Type,
        m: &[i32],
        s: &[i32],
        in_zp: i64,
        out_zp: i64,
    ) -> ValueId {
        let in_bits = bits(self.out.ty(x));
        let m: Vec<i64> = m.iter().map(|&v| v as i64).collect();
        let s: Vec<i64> = s.iter().map(|&v| v as i64).collect();
        let mv = self.ints(&m, 32);
        let sv = self.ints(&s, 8);
        let izp = self.ints(&[in_zp], in_bits);
        let ozp = self.ints(&[out_zp], bits(out));
        let attrs = vec![
            ("scale32", Attr::Bool(true)),
            (
                "rounding_mode",
                Attr::Raw("#tosa.rounding_mode<SINGLE_ROUND>".into()),
            ),
            ("per_channel", Attr::Bool(m.len() > 1)),
            ("input_unsigned", Attr::Bool(false)),
            ("output_unsigned", Attr::Bool(false)),
        ];
        self.push("tosa.rescale", &[x, mv, sv, izp, ozp], out.clone(), attrs)
    }

    /// The requantization `rq` of the i32 accumulator `acc` to `out`, its clamp included.
    fn requant(&mut self, acc: ValueId, rq: &Requant, out: &Type) -> ValueId {
        let pos = self.rescale(acc, out, &rq.multiplier, &rq.shift, 0, rq.output_zp);
        let v = match &rq.neg {
            None => pos,
            Some(neg) => {
                // acc < 0 takes the negative side; a negative multiplier scales −acc by |m|
                // (the same integers: floor((acc·m + r) / 2^s) with acc·m = (−acc)·|m|), chosen
                // per channel by a mask when the slopes have both signs.
                let acc_ty = self.out.ty(acc).clone();
                let rank = acc_ty.shape().map_or(1, |s| s.len());
                let flips: Vec<bool> = neg.multiplier.iter().map(|m| *m < 0).collect();
                let src = if flips.iter().any(|f| *f) {
                    let zero = self.ints(&[0], 32);
                    let minus =
                        self.push("tosa.negate", &[acc, zero, zero], acc_ty.clone(), vec![]);
                    if flips.iter().all(|f| *f) {
                        minus
                    } else {
                        let mut dims = vec![1; rank];
                        dims[rank - 1] = flips.len() as i64;
                        let mask_ty = int(&dims, 1);
                        let list: Vec<&str> = flips
                            .iter()
                            .map(|f| if *f { "true" } else { "false" })
                            .collect();
                        let mask = self.constant(
                            mask_ty.clone(),
                            Attr::Raw(format!(
                                "dense<{}[{}]{}> : {mask_ty}",
                                "[".repeat(rank - 1),
                                list.join(", "),
                                "]".repeat(rank - 1)
                            )),
                        );
                        self.push("tosa.select", &[mask, minus, acc], acc_ty.clone(), vec![])
                    }
                } else {
                    acc
                };
                let m: Vec<i32> = neg.multiplier.iter().map(|m| m.wrapping_abs()).collect();
                let negative = self.rescale(src, out, &m, &neg.shift, 0, rq.output_zp);
                let zero_ty = int(&vec![1; rank], 32);
                let zero =
                    self.constant(zero_ty.clone(), Attr::Raw(format!("dense<0> : {zero_ty}")));
                let cond_ty = acc_ty.with_elem(Elem::Int(1));
                let cond = self.push("tosa.greater_equal", &[acc, zero], cond_ty, vec![]);
                self.push("tosa.select", &[cond, pos, negative], out.clone(), vec![])
            }
        };
        self.clamp(v, rq.clamp_min, rq.clamp_max)
    }

    /// `tosa.conv2d` / `tosa.depthwise_conv2d` with an i32 accumulator of shape `acc_shape`.
    fn conv(
        &mut self,
        name: &str,
        xwb: [ValueId; 3],
        acc_shape: &[i64],
        input_zp: i64,
        window: &nibble_qnt::ConvWindow,
    ) -> ValueId {
        let w = self.out.ty(xwb[1]).shape().unwrap_or(&[]).to_vec();
        // OHWI weights; depthwise [KH, KW, C, M].
        let (kh, kw) = if name == "tosa.conv2d" {
            (w[1], w[2])
        } else {
            (w[0], w[1])
        };
        let extent = [
            (kh - 1) * window.dilation[0] + 1,
            (kw - 1) * window.dilation[1] + 1,
        ];
        let (x, pad) = self.fit_window(xwb[0], acc_shape, extent, window.stride, window.pad);
        let xwb = [x, xwb[1], xwb[2]];
        let window = &nibble_qnt::ConvWindow {
            pad,
            ..window.clone()
        };
        let zx = self.ints(&[input_zp], 8);
        let zw = self.ints(&[0], 8);
        let attrs = vec![
            ("acc_type", Attr::Raw("i32".into())),
            ("dilation", Attr::I64s(window.dilation.to_vec())),
            ("pad", Attr::I64s(window.pad.to_vec())),
            ("stride", Attr::I64s(window.stride.to_vec())),
        ];
        self.push(
            name,
            &[xwb[0], xwb[1], xwb[2], zx, zw],
            int(acc_shape, 32),
            attrs,
        )
    }

    /// A constant of rank `rank` with every dimension 1 (it broadcasts).
    fn splat(&mut self, value: i64, rank: usize, bits: u32) -> ValueId {
        let ty = int(&vec![1; rank], bits);
        self.constant(ty.clone(), Attr::Raw(format!("dense<{value}> : {ty}")))
    }

    /// The elementwise `name(x, y)` with its broadcast i32 result.
    fn elementwise(
        &mut self,
        name: &str,
        x: ValueId,
        y: ValueId,
        attrs: Vec<(&str, Attr)>,
    ) -> ValueId {
        let (sx, sy) = (
            self.out.ty(x).shape().unwrap_or(&[]),
            self.out.ty(y).shape().unwrap_or(&[]),
        );
        let dims: Vec<i64> = sx.iter().zip(sy).map(|(a, b)| *a.max(b)).collect();
        self.push(name, &[x, y], int(&dims, 32), attrs)
    }

    /// `x · y` in i32 (`tosa.mul` with no shift).
    fn mul(&mut self, x: ValueId, y: ValueId) -> ValueId {
        let shift = self.ints(&[0], 8);
        let (sx, sy) = (
            self.out.ty(x).shape().unwrap_or(&[]),
            self.out.ty(y).shape().unwrap_or(&[]),
        );
        let dims: Vec<i64> = sx.iter().zip(sy).map(|(a, b)| *a.max(b)).collect();
        self.push("tosa.mul", &[x, y, shift], int(&dims, 32), vec![])
    }

    /// `x − zp` in i32.
    fn centered(&mut self, x: ValueId, zp: i64) -> ValueId {
        let ty = self.out.ty(x).with_elem(Elem::Int(32));
        let rank = ty.shape().map_or(0, |s| s.len());
        let wide = self.push("tosa.cast", &[x], ty, vec![]);
        let zp = self.splat(zp, rank, 32);
        self.elementwise("tosa.sub", wide, zp, vec![])
    }

    /// `a·ma + b·mb` in i32 (the caller keeps both products within 32 bits).
    fn dot(&mut self, a: ValueId, b: ValueId, [ma, mb]: [i64; 2], out: &[i64]) -> ValueId {
        let (ca, cb) = (self.splat(ma, out.len(), 32), self.splat(mb, out.len(), 32));
        let (pa, pb) = (self.mul(a, ca), self.mul(b, cb));
        self.elementwise("tosa.add", pa, pb, vec![])
    }

    /// `clamp(zp + q, lo, hi)` of the i32 `q`, cast to `ty`.
    fn narrow(&mut self, q: ValueId, zp: i64, lo: i64, hi: i64, ty: &Type) -> ValueId {
        let rank = ty.shape().map_or(0, |s| s.len());
        let zp = self.splat(zp, rank, 32);
        let v = self.elementwise("tosa.add", q, zp, vec![]);
        // TOSA clamps i8/i16 only: i32 takes maximum and minimum.
        let (lo, hi) = (self.splat(lo, rank, 32), self.splat(hi, rank, 32));
        let v = self.elementwise("tosa.maximum", v, lo, vec![]);
        let v = self.elementwise("tosa.minimum", v, hi, vec![]);
        self.push("tosa.cast", &[v], ty.clone(), vec![])
    }

    /// TOSA wants every window to end at the padded input's end: a floor-mode window that
    /// drops trailing rows/columns gets its bottom/right padding reduced and, past that, the
    /// input sliced; a window running past the end (ceil mode) gets more bottom/right padding
    /// (skipped by max pooling as nibble skips it). `extent` is the [y, x] span of one window.
    fn fit_window(
        &mut self,
        x: ValueId,
        out: &[i64],
        extent: [i64; 2],
        stride: [i64; 2],
        pad: [i64; 4],
    ) -> (ValueId, [i64; 4]) {
        let mut dims = self.out.ty(x).shape().unwrap_or(&[]).to_vec();
        let mut pad = pad;
        let mut cut = false;
        for a in 0..2 {
            let need = (out[1 + a] - 1) * stride[a] + extent[a];
            let have = dims[1 + a] + pad[2 * a] + pad[2 * a + 1];
            let end = &mut pad[2 * a + 1];
            if have < need {
                *end += need - have;
            } else if have > need {
                let excess = have - need;
                let from_pad = excess.min(*end);
                *end -= from_pad;
                if excess > from_pad {
                    dims[1 + a] -= excess - from_pad;
                    cut = true;
                }
            }
        }
        if !cut {
            return (x, pad);
        }
        let (start, size) = (self.shape(&[0, 0, 0, 0]), self.shape(&dims));
        let ty = Type::tensor(
            &dims,
            self.out.ty(x).elem().cloned().unwrap_or(Elem::Int(8)),
        );
        (self.push("tosa.slice", &[x, start, size], ty, vec![]), pad)
    }

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
            tile::ADD => {
                let p = tile::Add::from_op(op).map_err(err)?;
                let [ma, mb] = p.multiplier[..] else {
                    return Err("needs two multipliers".into());
                };
                let a = self.centered(self.x(op, 0), p.io.input_zp[0]);
                let b = self.centered(self.x(op, 1), p.io.input_zp[1]);
                // (a·ma + b·mb + 2^(s−1)) >> s in 32 bits: m = hi·2^16 + lo, and the low sum's
                // bits below 2^16 cannot change the floor, so the result is
                // (H + (L >> 16) + 2^(s−17)) >> (s − 16) with H = a·hi_a + b·hi_b, L = a·lo_a + b·lo_b.
                let (ma, mb) = (ma as i64, mb as i64);
                let hi = self.dot(a, b, [ma >> 16, mb >> 16], &shape);
                let lo = self.dot(a, b, [ma & 0xffff, mb & 0xffff], &shape);
                let sixteen = self.splat(16, shape.len(), 32);
                let lo_hi = self.elementwise(
                    "tosa.arithmetic_right_shift",
                    lo,
                    sixteen,
                    vec![("round", Attr::Bool(false))],
                );
                let sum = self.elementwise("tosa.add", hi, lo_hi, vec![]);
                let half = self.splat(1 << (p.shift - 17), shape.len(), 32);
                let sum = self.elementwise("tosa.add", sum, half, vec![]);
                let by = self.splat(p.shift - 16, shape.len(), 32);
                let q = self.elementwise(
                    "tosa.arithmetic_right_shift",
                    sum,
                    by,
                    vec![("round", Attr::Bool(false))],
                );
                self.narrow(q, p.io.output_zp, p.io.clamp_min, p.io.clamp_max, &ty)
            }
            tile::MUL => {
                let p = tile::Mul::from_op(op).map_err(err)?;
                let a = self.centered(self.x(op, 0), p.io.input_zp[0]);
                let b = self.centered(self.x(op, 1), p.io.input_zp[1]);
                let product = self.mul(a, b);
                let y = self.rescale(
                    product,
                    &ty,
                    &[p.multiplier as i32],
                    &[p.shift as i32],
                    0,
                    p.io.output_zp,
                );
                self.clamp(y, p.io.clamp_min, p.io.clamp_max)
            }
            other => return Err(format!("{other} has no TOSA form")),
        };
        self.map.insert(r, v);
        Ok(())
    }
}
