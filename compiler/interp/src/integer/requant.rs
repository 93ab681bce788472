//! The fused requantization of the tile level: its parameters ([`Rq`], read from an op's
//! `multiplier`/`shift`/zero points/clamp and the optional PReLU, hard-swish and swish
//! epilogue attributes) and [`requant`], which maps one accumulator to its output.

use super::arith::{apply_scale, floor_shift, interpolated_sigmoid};
use crate::{invalid, InterpError};
use nibble_ir::{model, Op};

/// Requantization parameters: one multiplier/shift, or one per channel.
pub(crate) struct Rq {
    pub input_zp: i64,
    pub output_zp: i64,
    pub multiplier: Vec<i32>,
    pub shift: Vec<i32>,
    pub clamp_min: i64,
    pub clamp_max: i64,
    /// PReLU fused into the requantization.
    pub neg: Option<NegativeSide>,
    /// Hard-swish fused into the requantization.
    pub hswish: Option<HardSwish>,
    /// Swish fused into the requantization.
    pub swish: Option<Swish>,
}

/// Signed multipliers and shifts for negative accumulators (`neg_multiplier`/`neg_shift`, as
/// many as `multiplier`).
pub(crate) struct NegativeSide {
    pub multiplier: Vec<i32>,
    pub shift: Vec<i32>,
}

/// A hard-swish epilogue: `three`, `six` and `[multiplier, shift, bias]` once or per output
/// channel.
pub(crate) struct HardSwish {
    pub three: i64,
    pub six: i64,
    pub out: Vec<[i64; 3]>,
}

/// A swish epilogue: `[multiplier, shift, bias]` and the Q15 sigmoid table.
pub(crate) struct Swish {
    pub out: [i64; 3],
    pub table: Vec<i32>,
}

/// `op`'s integer list `key` as i32.
fn ints(op: &Op, key: &str) -> Result<Vec<i32>, InterpError> {
    Ok(op.int_list(key)?.iter().map(|&v| v as i32).collect())
}

/// An epilogue's `[multiplier, shift, bias]` is in range: |multiplier| < 2^24, shift in
/// [1, 62], |bias| < 2^58.
fn valid_epilogue(&[m, s, bias]: &[i64; 3]) -> bool {
    (1..=62).contains(&s) && m.abs() < 1 << 24 && bias.abs() < 1 << 58
}

impl Rq {
    /// Reads the parameters of `op`, whose multipliers and shifts come once or `channels`
    /// times (output channels, or an average pool's tap counts).
    pub(crate) fn of(op: &Op, channels: usize) -> Result<Rq, InterpError> {
        let (multiplier, shift) = (ints(op, "multiplier")?, ints(op, "shift")?);
        let neg = negative_side(op, multiplier.len())?;
        let hswish = hard_swish(op, channels)?;
        let swish = swish(op)?;
        let mut all_shifts = shift.iter().chain(neg.iter().flat_map(|n| n.shift.iter()));
        if let Some(s) = all_shifts.find(|s| !(1..=62).contains(*s)) {
            return Err(invalid(op, format!("shift {s} is outside [1, 62]")));
        }
        if multiplier.len() != shift.len()
            || (multiplier.len() != 1 && multiplier.len() != channels)
        {
            return Err(invalid(
                op,
                format!(
                    "{} multipliers and {} shifts for {channels} channels",
                    multiplier.len(),
                    shift.len()
                ),
            ));
        }
        Ok(Rq {
            input_zp: op.int("input_zp")?,
            output_zp: op.int("output_zp")?,
            multiplier,
            shift,
            clamp_min: op.int("clamp_min")?,
            clamp_max: op.int("clamp_max")?,
            neg,
            hswish,
            swish,
        })
    }
}

/// PReLU's negative-side multipliers and shifts, as many as the `n` multipliers.
fn negative_side(op: &Op, n: usize) -> Result<Option<NegativeSide>, InterpError> {
    if !op.attrs.contains_key("neg_multiplier") {
        return Ok(None);
    }
    let (nm, ns) = (ints(op, "neg_multiplier")?, ints(op, "neg_shift")?);
    if nm.len() != n || ns.len() != n {
        return Err(invalid(
            op,
            format!(
                "{} negative-side multipliers and {} shifts for {n} multipliers",
                nm.len(),
                ns.len()
            ),
        ));
    }
    Ok(Some(NegativeSide {
        multiplier: nm,
        shift: ns,
    }))
}

/// The hard-swish epilogue: `hswish = [three, six, then [multiplier, shift, bias] once or per
/// output channel]`.
fn hard_swish(op: &Op, channels: usize) -> Result<Option<HardSwish>, InterpError> {
    if !op.attrs.contains_key("hswish") {
        return Ok(None);
    }
    let h = op.int_list("hswish")?;
    let out: Vec<[i64; 3]> = h
        .get(2..)
        .unwrap_or(&[])
        .chunks_exact(3)
        .map(|t| [t[0], t[1], t[2]])
        .collect();
    match h[..] {
        [three, six, ref rest @ ..]
            if (0..=1 << 15).contains(&six)
                && (rest.len() == 3 || rest.len() == 3 * channels)
                && out.iter().all(valid_epilogue) =>
        {
            Ok(Some(HardSwish { three, six, out }))
        }
        _ => Err(invalid(
            op,
            "hswish needs [three, six ≤ 2^15, then |multiplier| < 2^24, shift in [1, 62], \
             |bias| < 2^58 once or per output channel]",
        )),
    }
}

/// The swish epilogue: `swish = [multiplier, shift, bias]` and a 257-entry Q15 `sigmoid_table`.
fn swish(op: &Op) -> Result<Option<Swish>, InterpError> {
    if !op.attrs.contains_key("swish") {
        return Ok(None);
    }
    let (_, bytes) = op.dense("sigmoid_table")?;
    let table = model::dense_i32(bytes);
    match op.int_list("swish")?[..] {
        [m, s, bias]
            if valid_epilogue(&[m, s, bias])
                && table.len() == 257
                && table.iter().all(|t| (0..=1 << 15).contains(t)) =>
        {
            Ok(Some(Swish {
                out: [m, s, bias],
                table,
            }))
        }
        _ => Err(invalid(
            op,
            "swish needs [|multiplier| < 2^24, shift in [1, 62], |bias| < 2^58] and a \
             257-entry Q15 sigmoid_table",
        )),
    }
}

/// `shift` as a shift amount, which must lie in [1, 62].
pub(crate) fn check_shift(op: &Op, shift: i64) -> Result<u32, InterpError> {
    if (1..=62).contains(&shift) {
        Ok(shift as u32)
    } else {
        Err(invalid(op, format!("shift {shift} is outside [1, 62]")))
    }
}

/// A fused activation's fixed-point input: the accumulator rescaled by channel `c`'s
/// multiplier/shift, no zero point, within ±2^20 (hard-swish and swish epilogues).
fn epilogue_input(acc: i64, op: &Rq, c: usize) -> i64 {
    apply_scale(acc, op.multiplier[c], op.shift[c]).clamp(-(1 << 20), 1 << 20)
}

/// Fused requantization of an accumulator of output channel `channel`, then clamp; a negative
/// accumulator uses the negative-side multipliers where there are some (PReLU).
pub(crate) fn requant(acc: i64, op: &Rq, channel: usize) -> i32 {
    let c = if op.multiplier.len() == 1 { 0 } else { channel };
    if let Some(Swish {
        out: [m, s, bias],
        table,
    }) = &op.swish
    {
        // Swish in fixed point: v = β·x in units of 2^-12, sigmoid interpolated from the table.
        let v = epilogue_input(acc, op, c);
        let sig = interpolated_sigmoid(table, v);
        let y = op.output_zp + floor_shift(v * sig * m + bias + (1i64 << (s - 1)), *s as u32);
        return y.clamp(op.clamp_min, op.clamp_max) as i32;
    }
    if let Some(HardSwish { three, six, out }) = &op.hswish {
        // Hard-swish in fixed point: v at the activation's input scale, v·clamp(v + 3, 0, 6).
        let [m, s, bias] = out[if out.len() == 1 { 0 } else { channel }];
        let v = epilogue_input(acc, op, c);
        let t = (v + three).clamp(0, *six);
        let y = op.output_zp + floor_shift(v * t * m + bias + (1i64 << (s - 1)), s as u32);
        return y.clamp(op.clamp_min, op.clamp_max) as i32;
    }
    let (m, s) = match &op.neg {
        Some(neg) if acc < 0 => (neg.multiplier[c], neg.shift[c]),
        _ => (op.multiplier[c], op.shift[c]),
    };
    let v = op.output_zp + apply_scale(acc, m, s);
    v.clamp(op.clamp_min, op.clamp_max) as i32
}
