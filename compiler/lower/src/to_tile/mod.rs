//! qnt → tile for a target: integer-only ops on plain integer tensors, with each accumulator's
//! `qnt.requant` (and a following `qnt.clamp`) fused into the producing conv/fully-connected
//! op, tile sizes chosen so a tile's working set fits the target's SRAM, and a static memory
//! plan: every result gets an `offset` into one arena (`nibble.arena_bytes`), reusing space by
//! liveness.
//!
//! Before (qnt):
//! ```mlir
//! %a = "qnt.conv2d"(%x, %w, %b) {…} -> tensor<1x28x28x32x!quant.uniform<i32:f32, …>>
//! %r = "qnt.requant"(%a) {multiplier = …, shift = …}
//! %c = "qnt.clamp"(%r) {min = 0, max = 127}
//! ```
//! After (tile):
//! ```mlir
//! %c = "tile.conv2d"(%x, %w, %b) {multiplier = …, shift = …, clamp_min = 0, clamp_max = 127,
//!                                 tile = array<i64: 7, 32>, offset = 0, …} -> tensor<1x28x28x32xi8>
//! ```

use crate::{loc, LowerError};
use nibble_ir::{Attr, Elem, Func, Op, Type, ValueId};
use nibble_qnt as qnt;
use nibble_target::Target;
use nibble_tile as tile;
use std::collections::HashMap;

fn i32_list(op: &Op, key: &str) -> Result<Vec<i32>, LowerError> {
    Ok(op.int_list(key)?.iter().map(|&v| v as i32).collect())
}

fn err(op: &Op, msg: impl Into<String>) -> LowerError {
    LowerError::Tile {
        op: op.name.clone(),
        loc: loc(op),
        msg: msg.into(),
    }
}

/// The raw data of a `qnt.const` value, if `v` is one.
fn const_data(q: &Func, v: ValueId) -> Option<&[u8]> {
    q.ops
        .iter()
        .find(|o| o.name == qnt::CONST && o.results[0] == v)
        .and_then(|o| o.dense("value").ok())
        .map(|(_, bytes)| bytes)
}

fn storage(ty: &Type) -> Type {
    ty.storage()
}

/// qnt ops whose kernels read 16-bit activations (without a zero point); every other op reads
/// 8-bit ones.
const READS_16: &[&str] = &[
    qnt::CONV2D,
    qnt::DEPTHWISE_CONV2D,
    qnt::FULLY_CONNECTED,
    qnt::REQUANT,
    qnt::CLAMP,
    qnt::ADD,
    qnt::MUL,
    qnt::LAYER_NORM,
    qnt::RESHAPE,
];
/// qnt ops that may write 16-bit activations (a conv's or fully connected layer's output is its
/// requantization's: requant, PReLU, hard-swish, swish).
const WRITES_16: &[&str] = &[
    qnt::REQUANT,
    qnt::CLAMP,
    qnt::PRELU,
    qnt::HARD_SWISH,
    qnt::SWISH,
    qnt::ADD,
    qnt::MUL,
    qnt::RESHAPE,
];

/// Why value `v` of a qnt function could not be stored in 16 bits, if it could not (whatever
/// its width now): the op writing it or one reading it has no 16-bit kernel, it is a model
/// input or output, a layer norm reading it has more than 1024 channels, or a convolution or
/// fully connected layer reading it could overflow its int32 accumulator with 16-bit inputs
/// (the bias is checked as it is now: a 16-bit input's smaller scale makes it larger).
pub fn wide_problem(q: &Func, v: ValueId) -> Option<String> {
    let list = |l: &[&str]| l.join(", ");
    match q.ops.iter().find(|o| o.results.contains(&v)) {
        Some(w) if WRITES_16.contains(&w.name.as_str()) => {}
        Some(w) => {
            return Some(format!(
                "it is written by '{}'{}; only {} (and the convolutions and fully connected layers they requantize) write 16 bits",
                w.name,
                loc(w),
                list(WRITES_16)
            ))
        }
        None => return Some("the model input is 8-bit".into()),
    }
    // The values holding v's data: v and its reshapes (which alias it), transitively.
    let mut same = vec![v];
    let mut k = 0;
    while k < same.len() {
        let u = same[k];
        same.extend(
            q.ops
                .iter()
                .filter(|o| o.name == qnt::RESHAPE && o.operands.contains(&u))
                .map(|o| o.results[0]),
        );
        k += 1;
    }
    if same.iter().any(|u| q.returns.contains(u)) {
        return Some("model outputs are 8-bit".into());
    }
    for (op, v) in same.iter().flat_map(|&u| {
        q.ops
            .iter()
            .filter(move |o| o.operands.contains(&u))
            .map(move |o| (o, u))
    }) {
        if !READS_16.contains(&op.name.as_str()) {
            return Some(format!(
                "'{}'{} reads it; only {} read 16 bits",
                op.name,
                loc(op),
                list(READS_16)
            ));
        }
        let layer = matches!(
            op.name.as_str(),
            qnt::CONV2D | qnt::DEPTHWISE_CONV2D | qnt::FULLY_CONNECTED
        );
        if layer && op.operands[0] == v {
            if let Some((c, b, sw)) = layer_overflow(q, op, 32768) {
                return Some(format!("'{}'{} reads it and could overflow its int32 accumulator with 16-bit inputs (output channel {c}: |bias| {b} + Σ|w| {sw} × 32768 ≥ 2^31)", op.name, loc(op)));
            }
        }
        if op.name == qnt::LAYER_NORM && *q.ty(v).shape().unwrap_or(&[]).last().unwrap_or(&1) > 1024
        {
            return Some(format!(
                "'{}'{} reads it over more than 1024 channels (its fixed-point variance would overflow)",
                op.name,
                loc(op)
            ));
        }
    }
    None
}

/// Checks every 16-bit activation: zero point 0, and no [`wide_problem`].
fn check_widths(q: &Func) -> Result<(), LowerError> {
    for op in &q.ops {
        for &v in &op.results {
            let Some(t) = q.ty(v).quant().filter(|t| t.bits == 16) else {
                continue;
            };
            if t.zero_point != 0 {
                return Err(err(
                    op,
                    format!(
                        "its result is 16-bit with zero point {}: 16-bit activations are symmetric",
                        t.zero_point
                    ),
                ));
            }
            if let Some(why) = wide_problem(q, v) {
                return Err(err(op, format!("its result cannot be 16-bit: {why}")));
            }
        }
    }
    Ok(())
}

/// Whether the conv / depthwise / fully connected `op` can overflow its int32 accumulator with
/// inputs of magnitude up to `x_max`: the first such (channel, |bias|, Σ|w|).
fn layer_overflow(q: &Func, op: &Op, x_max: i64) -> Option<(usize, i64, i64)> {
    let w: Vec<i8> = const_data(q, op.operands[1])?
        .iter()
        .map(|&b| b as i8)
        .collect();
    let b = nibble_ir::model::dense_i32(const_data(q, op.operands[2])?);
    let oc = b.len().max(1);
    if op.name == qnt::DEPTHWISE_CONV2D {
        may_overflow(&w, &b, x_max, |j| j % oc)
    } else {
        let per = (w.len() / oc).max(1);
        may_overflow(&w, &b, x_max, |j| j / per)
    }
}

/// The first channel that can overflow: (channel, |bias|, Σ|w|).
fn may_overflow(
    w: &[i8],
    bias: &[i32],
    x_max: i64,
    channel: impl Fn(usize) -> usize,
) -> Option<(usize, i64, i64)> {
    let mut sums = vec![0i64; bias.len().max(1)];
    for (j, &v) in w.iter().enumerate() {
        let c = channel(j).min(sums.len() - 1);
        sums[c] += (v as i64).abs();
    }
    sums.iter().enumerate().find_map(|(c, &s)| {
        let b = bias.get(c).map_or(0, |&b| (b as i64).abs());
        (s * x_max + b >= 1i64 << 31).then_some((c, b, s))
    })
}

/// Lowers a qnt-level function to the tile level for `target`.
pub fn to_tile(q: &Func, target: &Target) -> Result<Func, LowerError> {
    Ok(to_tile_mapped(q, target)?.0)
}

/// [`to_tile`], also returning which tile value holds each qnt value that survives lowering
/// (a requant or clamp fused into its producer maps only through the fused op's result).
pub fn to_tile_mapped(
    q: &Func,
    target: &Target,
) -> Result<(Func, HashMap<ValueId, ValueId>), LowerError> {
    check_widths(q)?;
    let mut f = Func::new(&q.name);
    f.attrs = q.attrs.clone();
    f.attrs
        .insert("nibble.target".into(), Attr::Str(target.name.clone()));
    let arg = f.add_arg(q.ty(q.args[0]).clone());
    let mut map: HashMap<ValueId, ValueId> = HashMap::new();
    map.insert(q.args[0], arg);
    let uses = q.use_counts();
    let users = |v: ValueId| -> Vec<usize> {
        q.ops
            .iter()
            .enumerate()
            .filter(|(_, o)| o.operands.contains(&v))
            .map(|(i, _)| i)
            .collect()
    };
    let mut done = vec![false; q.ops.len()];
    for (i, op) in q.ops.iter().enumerate() {
        if done[i] {
            continue;
        }
        let start = f.ops.len();
        let input = |k: usize| {
            map.get(&op.operands[k])
                .copied()
                .ok_or_else(|| err(op, format!("operand {k} is undefined")))
        };
        let shape = |v: ValueId| q.ty(v).shape().unwrap_or(&[]).to_vec();
        let mut result = op.results[0];
        let out = match op.name.as_str() {
            qnt::QUANTIZE => {
                let t = q
                    .ty(op.results[0])
                    .quant()
                    .ok_or_else(|| err(op, "result must be quantized"))?;
                tile::quantize(
                    &mut f,
                    input(0)?,
                    storage(q.ty(op.results[0])),
                    t.scale,
                    t.zero_point,
                )
            }
            qnt::DEQUANTIZE => {
                let t = q
                    .ty(op.operands[0])
                    .quant()
                    .ok_or_else(|| err(op, "operand must be quantized"))?;
                tile::dequantize(
                    &mut f,
                    input(0)?,
                    q.ty(op.results[0]).clone(),
                    t.scale,
                    t.zero_point,
                )
            }
            qnt::CONST => {
                let (ty, bytes) = op.dense("value")?;
                tile::constant(
                    &mut f,
                    storage(q.ty(op.results[0])),
                    Attr::Dense(ty.clone(), bytes.to_vec()),
                )
            }
            qnt::CONV2D | qnt::DEPTHWISE_CONV2D | qnt::FULLY_CONNECTED | qnt::TRANSPOSE_CONV2D => {
                // The accumulator must feed exactly one requant or PReLU (optionally followed by
                // a clamp).
                let acc = op.results[0];
                let rq_i = match users(acc)[..] {
                    [r] if matches!(
                        q.ops[r].name.as_str(),
                        qnt::REQUANT | qnt::PRELU | qnt::HARD_SWISH | qnt::SWISH
                    ) && uses[acc] == 1 =>
                    {
                        r
                    }
                    _ => return Err(err(
                        op,
                        "its i32 accumulator must be used by exactly one qnt.requant, qnt.prelu, qnt.hard_swish or qnt.swish",
                    )),
                };
                let rq_op = &q.ops[rq_i];
                done[rq_i] = true;
                result = rq_op.results[0];
                let out_q = q
                    .ty(result)
                    .quant()
                    .ok_or_else(|| err(rq_op, "result must be quantized"))?;
                let in_q = q
                    .ty(op.operands[0])
                    .quant()
                    .ok_or_else(|| err(op, "input must be quantized"))?;
                let mut rq = match rq_op.name.as_str() {
                    qnt::PRELU => prelu_requant(rq_op, in_q.zero_point, out_q)?,
                    qnt::HARD_SWISH => {
                        let mut rq =
                            requant_params(rq_op, in_q, out_q, "mid_multiplier", "mid_shift")?;
                        let mut h = vec![rq_op.int("three")?, rq_op.int("six")?];
                        h.extend(epilogue_out(rq_op)?.concat());
                        rq.hswish = Some(h);
                        rq
                    }
                    qnt::SWISH => {
                        let mut rq =
                            requant_params(rq_op, in_q, out_q, "mid_multiplier", "mid_shift")?;
                        let (_, table) = rq_op.dense("sigmoid_table")?;
                        let out = match epilogue_out(rq_op)?[..] {
                            [out] => out,
                            _ => return Err(err(rq_op, "swish takes one output multiplier")),
                        };
                        rq.swish = Some((out, nibble_ir::model::dense_i32(table)));
                        rq
                    }
                    _ => requant_params(rq_op, in_q, out_q, "multiplier", "shift")?,
                };
                if let [c] = users(result)[..] {
                    if q.ops[c].name == qnt::CLAMP && uses[result] == 1 {
                        rq.clamp_min = rq.clamp_min.max(q.ops[c].int("min")?);
                        rq.clamp_max = rq.clamp_max.min(q.ops[c].int("max")?);
                        done[c] = true;
                        result = q.ops[c].results[0];
                    }
                }
                let (x, w, b) = (input(0)?, input(1)?, input(2)?);
                let out_ty = storage(q.ty(result));
                let ws = shape(op.operands[1]);
                // The C kernels accumulate in int32 and gather at most 16384 taps per output.
                let k: i64 = if op.name == qnt::DEPTHWISE_CONV2D {
                    ws[0] * ws[1]
                } else {
                    ws[1..].iter().product()
                };
                if k > 16384 {
                    return Err(err(op, format!("a reduction over {k} taps exceeds the runtime's 16384-tap patch; split the layer")));
                }
                // The C kernels accumulate in int32: |bias| + Σ|w|·max|x - zp| must fit.
                let x_max = if in_q.bits == 16 { 32768 } else { 255 };
                let overflow = layer_overflow(q, op, x_max);
                if let Some((c, b, sw)) = overflow {
                    return Err(err(op, format!("its int32 accumulator may overflow: output channel {c} has |bias| {b} + Σ|w| {sw} × {x_max} ≥ 2^31{}", if in_q.bits == 16 { " (its input is 16-bit: keep that tensor at 8 bits)" } else { "; split the layer" })));
                }
                if op.name == qnt::TRANSPOSE_CONV2D {
                    tile::transpose_conv2d(
                        &mut f,
                        x,
                        w,
                        b,
                        out_ty,
                        &op.ints("out_pad")?,
                        &op.ints("stride")?,
                        rq,
                    )
                } else if op.name == qnt::DEPTHWISE_CONV2D {
                    let os = shape(acc);
                    let (p, st, d) = (op.ints("pad")?, op.ints("stride")?, op.ints("dilation")?);
                    tile::depthwise_conv2d(&mut f, x, w, b, out_ty, &p, &st, &d, rq, [os[1], os[3]])
                } else if op.name == qnt::CONV2D {
                    let (xs, os) = (shape(op.operands[0]), shape(acc));
                    let t = conv_tile(target, &xs, &ws, &os, &op.ints("stride")?);
                    tile::conv2d(
                        &mut f,
                        x,
                        w,
                        b,
                        out_ty,
                        &op.ints("pad")?,
                        &op.ints("stride")?,
                        &op.ints("dilation")?,
                        rq,
                        t,
                    )
                } else {
                    let t = fc_tile(target, ws[1], ws[0]);
                    tile::fully_connected(&mut f, x, w, b, out_ty, rq, t)
                }
            }
            qnt::REQUANT => {
                let (iq, oq) = quant_io(q, op, 0)?;
                let rq = requant_params(op, iq, oq, "multiplier", "shift")?;
                tile::requant(&mut f, input(0)?, storage(q.ty(op.results[0])), rq)
            }
            qnt::LUT => {
                if q.ty(op.operands[0]).quant().map(|t| t.bits) != Some(8) {
                    return Err(err(op, "lookup tables need an 8-bit input"));
                }
                let (ty, bytes) = op.dense("table")?;
                tile::lut(
                    &mut f,
                    input(0)?,
                    storage(q.ty(op.results[0])),
                    Attr::Dense(ty.clone(), bytes.to_vec()),
                )
            }
            qnt::CLAMP => tile::clamp(&mut f, input(0)?, op.int("min")?, op.int("max")?),
            qnt::MAX_POOL2D => tile::max_pool2d(
                &mut f,
                input(0)?,
                storage(q.ty(op.results[0])),
                &op.ints("kernel")?,
                &op.ints("stride")?,
                &op.ints("pad")?,
            ),
            qnt::TRANSPOSE => tile::transpose(
                &mut f,
                input(0)?,
                storage(q.ty(op.results[0])),
                &op.ints("perms")?
                    .iter()
                    .map(|&p| p as i32)
                    .collect::<Vec<_>>(),
            ),
            qnt::RESHAPE => tile::reshape(&mut f, input(0)?, storage(q.ty(op.results[0]))),
            qnt::AVG_POOL2D => {
                let (iq, oq) = quant_io(q, op, 0)?;
                let rq = requant_params(op, iq, oq, "multiplier", "shift")?;
                tile::avg_pool2d(
                    &mut f,
                    input(0)?,
                    storage(q.ty(op.results[0])),
                    &op.ints("kernel")?,
                    &op.ints("stride")?,
                    &op.ints("pad")?,
                    rq,
                )
            }
            qnt::ADD | qnt::MUL => {
                let (aq, oq) = quant_io(q, op, 0)?;
                let (bq, _) = quant_io(q, op, 1)?;
                let p = tile::Binary {
                    input_zp: [aq.zero_point, bq.zero_point],
                    output_zp: oq.zero_point,
                    clamp_min: oq.qmin(),
                    clamp_max: oq.qmax(),
                };
                let (a, b, ty) = (input(0)?, input(1)?, storage(q.ty(op.results[0])));
                let shift = op.int("shift")? as i32;
                if op.name == qnt::ADD {
                    tile::add(&mut f, a, b, ty, p, &i32_list(op, "multiplier")?, shift)
                } else {
                    tile::mul(&mut f, a, b, ty, p, op.int("multiplier")? as i32, shift)
                }
            }
            qnt::PRELU => {
                // A standalone requantization with negative-side multipliers.
                let (iq, oq) = quant_io(q, op, 0)?;
                let rq = prelu_requant(op, iq.zero_point, oq)?;
                tile::requant(&mut f, input(0)?, storage(q.ty(op.results[0])), rq)
            }
            qnt::SOFTMAX => {
                let (_, oq) = quant_io(q, op, 0)?;
                let (ty, bytes) = op.dense("exp_table")?;
                tile::softmax(
                    &mut f,
                    input(0)?,
                    storage(q.ty(op.results[0])),
                    Attr::Dense(ty.clone(), bytes.to_vec()),
                    op.int("frac_bits")?,
                    oq.zero_point,
                    (oq.qmin(), oq.qmax()),
                )
            }
            qnt::SLICE => tile::slice(
                &mut f,
                input(0)?,
                storage(q.ty(op.results[0])),
                &op.ints("start")?,
            ),
            qnt::CONCAT => {
                let inputs = (0..op.operands.len())
                    .map(input)
                    .collect::<Result<Vec<_>, _>>()?;
                tile::concat(
                    &mut f,
                    &inputs,
                    storage(q.ty(op.results[0])),
                    op.int("axis")?,
                )
            }
            qnt::MATMUL => {
                // The accumulator must feed exactly one requant, fused into the product.
                let acc = op.results[0];
                let rq_i = match users(acc)[..] {
                    [r] if q.ops[r].name == qnt::REQUANT && uses[acc] == 1 => r,
                    _ => {
                        return Err(err(
                            op,
                            "its i32 accumulator must be used by exactly one qnt.requant",
                        ))
                    }
                };
                done[rq_i] = true;
                result = q.ops[rq_i].results[0];
                let (aq, _) = quant_io(q, op, 0)?;
                let (bq, _) = quant_io(q, op, 1)?;
                let (_, oq) = quant_io(q, &q.ops[rq_i], 0)?;
                let k = shape(op.operands[0])[2];
                if k * 255 * 255 >= 1i64 << 31 {
                    return Err(err(
                        op,
                        format!("a reduction over {k} products may overflow the int32 accumulator"),
                    ));
                }
                let rq = requant_params(&q.ops[rq_i], aq, oq, "multiplier", "shift")?;
                tile::matmul(
                    &mut f,
                    input(0)?,
                    input(1)?,
                    storage(q.ty(result)),
                    rq,
                    bq.zero_point,
                )
            }
            qnt::LAYER_NORM => {
                let (iq, oq) = quant_io(q, op, 0)?;
                // Σ (c·x - Σx)² stays within 64 bits: c³·2^32 < 2^63 for 16-bit inputs.
                if iq.bits == 16 && *shape(op.operands[0]).last().unwrap_or(&1) > 1024 {
                    return Err(err(op, "a 16-bit input needs at most 1024 channels per row (the fixed-point variance would overflow)"));
                }
                let params = carried(op, &["multiplier", "shift", "bias", "eps_term"])?;
                tile::layer_norm(
                    &mut f,
                    input(0)?,
                    storage(q.ty(op.results[0])),
                    params,
                    (iq.zero_point, oq.zero_point),
                    (oq.qmin(), oq.qmax()),
                )
            }
            qnt::SQUEEZE_EXCITE => {
                let (iq, oq) = quant_io(q, op, 0)?;
                let params = carried(
                    op,
                    &[
                        "pool_multiplier",
                        "pool_shift",
                        "hidden_multiplier",
                        "hidden_shift",
                        "hidden_max",
                        "hidden_table",
                        "hidden_out_shift",
                        "gate_multiplier",
                        "gate_shift",
                        "gate_table",
                        "multiplier",
                        "shift",
                    ],
                )?;
                tile::squeeze_excite(
                    &mut f,
                    input(0)?,
                    [input(1)?, input(2)?, input(3)?, input(4)?],
                    storage(q.ty(op.results[0])),
                    params,
                    (iq.zero_point, oq.zero_point),
                    (oq.qmin(), oq.qmax()),
                )
            }
            qnt::RESIZE => {
                let (iq, oq) = quant_io(q, op, 0)?;
                let mut rq = requant_params(op, iq, oq, "multiplier", "shift")?;
                rq.multiplier = vec![op.int("multiplier")? as i32];
                rq.shift = vec![op.int("shift")? as i32];
                let mode = match op.attrs.get("mode") {
                    Some(Attr::Str(m)) if m == "nearest" || m == "bilinear" => m.clone(),
                    _ => return Err(err(op, "mode must be \"nearest\" or \"bilinear\"")),
                };
                tile::resize(
                    &mut f,
                    input(0)?,
                    storage(q.ty(op.results[0])),
                    &mode,
                    &op.ints("scale")?,
                    &op.ints("image_offset")?,
                    rq,
                )
            }
            other => return Err(err(op, format!("'{other}' has no tile-level form"))),
        };
        if op.name == qnt::REQUANT
            && q.ops[i].attrs.get("rounding_mode") != Some(&Attr::Str(qnt::SINGLE_ROUND.into()))
        {
            return Err(err(
                op,
                "only rounding_mode = \"SINGLE_ROUND\" is supported",
            ));
        }
        for o in &mut f.ops[start..] {
            o.loc = op.loc.clone();
        }
        map.insert(result, out);
    }
    for &r in &q.returns {
        f.returns.push(*map.get(&r).ok_or_else(|| LowerError::Tile {
            op: "func.return".into(),
            loc: String::new(),
            msg: "a returned value is undefined".into(),
        })?);
    }
    plan_memory(&mut f);
    Ok((f, map))
}

/// Requantization from `iq` to `oq` (zero points, the full output range as clamp) with the
/// multipliers and shifts `op` holds under the given attribute names.
fn requant_params(
    op: &Op,
    iq: nibble_ir::QuantType,
    oq: nibble_ir::QuantType,
    multiplier_key: &str,
    shift_key: &str,
) -> Result<tile::Requant, LowerError> {
    Ok(tile::Requant {
        input_zp: iq.zero_point,
        output_zp: oq.zero_point,
        multiplier: i32_list(op, multiplier_key)?,
        shift: i32_list(op, shift_key)?,
        clamp_min: oq.qmin(),
        clamp_max: oq.qmax(),
        neg: None,
        hswish: None,
        swish: None,
    })
}

/// The requantization of a `qnt.prelu`: its positive side as the multipliers, its negative side
/// as `neg`, one entry or the same number per channel for both.
fn prelu_requant(
    op: &Op,
    input_zp: i64,
    oq: nibble_ir::QuantType,
) -> Result<tile::Requant, LowerError> {
    let (mut pm, mut ps) = (i32_list(op, "pos_multiplier")?, i32_list(op, "pos_shift")?);
    let (mut nm, mut ns) = (i32_list(op, "neg_multiplier")?, i32_list(op, "neg_shift")?);
    let n = pm.len().max(nm.len());
    for v in [&mut pm, &mut ps, &mut nm, &mut ns] {
        if v.len() == 1 && n > 1 {
            *v = vec![v[0]; n];
        }
        if v.len() != n {
            return Err(err(
                op,
                "PReLU multipliers must have one entry or one per channel",
            ));
        }
    }
    Ok(tile::Requant {
        input_zp,
        output_zp: oq.zero_point,
        multiplier: pm,
        shift: ps,
        clamp_min: oq.qmin(),
        clamp_max: oq.qmax(),
        neg: Some((nm, ns)),
        hswish: None,
        swish: None,
    })
}

/// The per-tensor quantized types of operand `k` and of the result of `op`.
/// The qnt op's attributes `keys`, carried to the tile op unchanged.
fn carried<'k>(op: &Op, keys: &[&'k str]) -> Result<Vec<(&'k str, Attr)>, LowerError> {
    keys.iter()
        .map(|&k| {
            op.attrs
                .get(k)
                .cloned()
                .map(|a| (k, a))
                .ok_or_else(|| err(op, format!("missing attribute '{k}'")))
        })
        .collect()
}

fn quant_io(
    q: &Func,
    op: &Op,
    k: usize,
) -> Result<(nibble_ir::QuantType, nibble_ir::QuantType), LowerError> {
    match (q.ty(op.operands[k]).quant(), q.ty(op.results[0]).quant()) {
        (Some(i), Some(o)) => Ok((i, o)),
        _ => Err(err(
            op,
            format!("operand {k} and the result must be quantized per tensor"),
        )),
    }
}

/// Output tile [rows, channels] for a conv, weights stationary: as many output channels as keep
/// their weight slice within half the SRAM (halving from all of them, not below the MAC rows,
/// and at most the runtime's 256), then as many output rows as fit the SRAM together with the
/// input rows they read and the weight slice.
fn conv_tile(t: &Target, xs: &[i64], ws: &[i64], os: &[i64], stride: &[i64]) -> [i64; 2] {
    let (oc, kh, kw, ic) = (ws[0], ws[1], ws[2], ws[3]);
    let (w_in, oh, ow) = (xs[2], os[1], os[2]);
    let sram = t.sram_bytes as i64;
    let mut tc = oc.clamp(1, 256);
    let bytes = |rows: i64, tc: i64| {
        let in_rows = (rows - 1) * stride[0] + kh;
        in_rows * w_in * ic + tc * kh * kw * ic + rows * ow * tc + tc * 4
    };
    while tc > t.mac_rows as i64 && (tc * kh * kw * ic > sram / 2 || bytes(1, tc) > sram) {
        tc = (tc / 2).max(t.mac_rows as i64);
    }
    let mut rows = oh;
    while rows > 1 && bytes(rows, tc) > sram {
        rows -= 1;
    }
    [rows, tc]
}

/// Output channels per tile for a fully connected layer: weight slice + input + output fit.
fn fc_tile(t: &Target, k: i64, m: i64) -> i64 {
    let mut tc = m;
    while tc > 1 && tc * k + k + tc * 4 > t.sram_bytes as i64 {
        tc = (tc / 2).max(1);
    }
    tc
}

/// Liveness-based arena offsets (first fit over a size-sorted interval list). A reshape aliases
/// its input; constants and host-boundary values live outside the arena.
pub fn plan_memory(f: &mut Func) {
    let n = f.ops.len();
    // The buffer each value lives in (reshape aliases its input).
    let mut root: Vec<ValueId> = (0..f.values.len()).collect();
    for op in &f.ops {
        if op.name == tile::RESHAPE {
            root[op.results[0]] = root[op.operands[0]];
        }
    }
    let in_arena = |op: &Op| {
        !matches!(
            op.name.as_str(),
            tile::CONST | tile::QUANTIZE | tile::DEQUANTIZE | tile::RESHAPE
        )
    };
    let mut first = HashMap::new();
    let mut last: HashMap<ValueId, usize> = HashMap::new();
    for (i, op) in f.ops.iter().enumerate() {
        if in_arena(op) {
            first.insert(op.results[0], i);
            last.insert(op.results[0], i);
        }
        for &o in &op.operands {
            if let Some(l) = last.get_mut(&root[o]) {
                *l = i;
            }
        }
    }
    // Outputs are copied out after the last op: what a host-boundary dequantize reads (and any
    // returned value) stays live to the end.
    let outputs = f
        .ops
        .iter()
        .filter(|o| o.name == tile::DEQUANTIZE)
        .map(|o| o.operands[0])
        .chain(f.returns.iter().copied())
        .collect::<Vec<_>>();
    for r in outputs {
        if let Some(l) = last.get_mut(&root[r]) {
            *l = n;
        }
    }
    let mut bufs: Vec<(ValueId, usize, usize, usize)> = first
        .iter()
        .map(|(&v, &s)| {
            let bytes = f.ty(v).num_elements()
                * match f.ty(v).elem() {
                    Some(Elem::Int(32)) => 4,
                    Some(Elem::Int(16)) => 2,
                    _ => 1,
                };
            (v, s, last[&v], bytes.div_ceil(16) * 16)
        })
        .collect();
    bufs.sort_by(|a, b| b.3.cmp(&a.3).then(a.1.cmp(&b.1)));
    let mut placed: Vec<(usize, usize, usize, usize)> = Vec::new(); // start, end, offset, size
    let mut offsets = HashMap::new();
    let mut total = 0;
    for (v, s, e, size) in bufs {
        let mut busy: Vec<(usize, usize)> = placed
            .iter()
            .filter(|p| !(p.1 < s || e < p.0))
            .map(|p| (p.2, p.2 + p.3))
            .collect();
        busy.sort();
        let mut off = 0;
        for (a, b) in busy {
            if off + size <= a {
                break;
            }
            off = off.max(b);
        }
        placed.push((s, e, off, size));
        offsets.insert(v, off);
        total = total.max(off + size);
    }
    for op in &mut f.ops {
        if op.attrs.contains_key("offset") {
            let off = offsets.get(&root[op.results[0]]).copied().unwrap_or(0);
            op.attrs.insert("offset".into(), Attr::i64(off as i64));
        }
    }
    f.attrs
        .insert(tile::ARENA_ATTR.into(), Attr::i64(total as i64));
}

/// The output rescaling of a fused activation (`qnt.hard_swish`, `qnt.swish`): `[multiplier,
/// shift, bias]` from its three equally long arrays, once or per output channel.
fn epilogue_out(op: &Op) -> Result<Vec<[i64; 3]>, LowerError> {
    let (m, s, b) = (
        op.int_list("multiplier")?,
        op.int_list("shift")?,
        op.int_list("bias")?,
    );
    if m.is_empty() || m.len() != s.len() || m.len() != b.len() {
        return Err(err(
            op,
            "multiplier, shift and bias must be equally long arrays",
        ));
    }
    Ok((0..m.len()).map(|c| [m[c], s[c], b[c]]).collect())
}
