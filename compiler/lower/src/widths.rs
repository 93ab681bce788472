//! Width checks on the qnt level: which values may be stored in 16 bits (the kernels that read
//! and write them, model boundaries, layer norm's variance) and whether a conv / fully
//! connected layer's int32 accumulator can overflow for inputs of a given magnitude. The
//! conversion to the tile level refuses what they reject; `nibble-choose-bits` asks them before
//! it proposes a 16-bit tensor.

use crate::loc;
use crate::to_tile::err;
use crate::LowerError;
use nibble_ir::{Func, Op, ValueId};
use nibble_qnt as qnt;

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

/// The raw data of a `qnt.const` value, if `v` is one.
fn const_data(q: &Func, v: ValueId) -> Option<&[u8]> {
    q.ops
        .iter()
        .find(|o| o.name == qnt::CONST && o.results.first() == Some(&v))
        .and_then(|o| qnt::Const::from_op(o).ok())
        .map(|c| c.bytes)
}

/// The values holding v's data: v and its reshapes (which alias it), transitively.
fn aliases(q: &Func, v: ValueId) -> Vec<ValueId> {
    let mut same = vec![v];
    let mut k = 0;
    while k < same.len() {
        let u = same[k];
        same.extend(
            q.ops
                .iter()
                .filter(|o| o.name == qnt::RESHAPE && o.operands.contains(&u))
                .filter_map(|o| o.results.first().copied()),
        );
        k += 1;
    }
    same
}

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
    let same = aliases(q, v);
    if same.iter().any(|u| q.returns.contains(u)) {
        return Some("model outputs are 8-bit".into());
    }
    // Each reader of v or of an alias u, with the value it reads.
    let readers = same.iter().flat_map(|&u| {
        q.ops
            .iter()
            .filter(move |o| o.operands.contains(&u))
            .map(move |o| (o, u))
    });
    for (op, u) in readers {
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
        if layer && op.operands.first() == Some(&u) {
            if let Some((c, b, sw)) = layer_overflow(q, op, 32768) {
                return Some(format!("'{}'{} reads it and could overflow its int32 accumulator with 16-bit inputs (output channel {c}: |bias| {b} + Σ|w| {sw} × 32768 ≥ 2^31)", op.name, loc(op)));
            }
        }
        if op.name == qnt::LAYER_NORM && *q.ty(u).shape().unwrap_or(&[]).last().unwrap_or(&1) > 1024
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
pub fn check_widths(q: &Func) -> Result<(), LowerError> {
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
pub fn layer_overflow(q: &Func, op: &Op, x_max: i64) -> Option<(usize, i64, i64)> {
    let w: Vec<i8> = const_data(q, *op.operands.get(1)?)?
        .iter()
        .map(|&b| b as i8)
        .collect();
    let b = nibble_ir::model::dense_i32(const_data(q, *op.operands.get(2)?)?);
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
