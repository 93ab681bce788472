//! The fused requantization of the tile level: [`of`] reads an op's `tile::Requant` (through
//! the dialect's reader) and checks it can run (shifts in [1, 62], one multiplier or one per
//! channel, the PReLU, hard-swish and swish epilogues in range); [`requant`] maps one
//! accumulator to its output.

use super::arith::{apply_scale, floor_shift, interpolated_sigmoid};
use crate::{invalid, InterpError};
use nibble_ir::Op;
use nibble_tile::{HardSwish, Requant, Swish};

/// An epilogue's `[multiplier, shift, bias]` is in range: |multiplier| < 2^24, shift in
/// [1, 62], |bias| < 2^58.
fn valid_epilogue(&[m, s, bias]: &[i64; 3]) -> bool {
    (1..=62).contains(&s) && m.abs() < 1 << 24 && bias.abs() < 1 << 58
}

/// The requantization of `op`, whose multipliers and shifts come once or `channels` times
/// (output channels, or an average pool's tap counts), checked by [`check`].
pub(crate) fn of(op: &Op, channels: usize) -> Result<Requant, InterpError> {
    let rq = Requant::from_op(op)?;
    check(op, &rq, channels)?;
    Ok(rq)
}

/// Checks that `rq` (of `op`) can run over `channels` channels: the interpreter indexes and
/// shifts by what it holds.
pub(crate) fn check(op: &Op, rq: &Requant, channels: usize) -> Result<(), InterpError> {
    let n = rq.multiplier.len();
    if let Some(neg) = &rq.neg {
        if neg.multiplier.len() != n || neg.shift.len() != n {
            return Err(invalid(
                op,
                format!(
                    "{} negative-side multipliers and {} shifts for {n} multipliers",
                    neg.multiplier.len(),
                    neg.shift.len()
                ),
            ));
        }
    }
    if let Some(h) = &rq.hswish {
        check_hard_swish(op, h, channels)?;
    }
    if let Some(s) = &rq.swish {
        check_swish(op, s)?;
    }
    let neg_shifts = rq.neg.iter().flat_map(|n| n.shift.iter());
    if let Some(s) = rq
        .shift
        .iter()
        .chain(neg_shifts)
        .find(|s| !(1..=62).contains(*s))
    {
        return Err(invalid(op, format!("shift {s} is outside [1, 62]")));
    }
    if n != rq.shift.len() || (n != 1 && n != channels) {
        return Err(invalid(
            op,
            format!(
                "{n} multipliers and {} shifts for {channels} channels",
                rq.shift.len()
            ),
        ));
    }
    Ok(())
}

/// A hard-swish epilogue: `six` ≤ 2^15, its output rescaling in range once or per channel.
fn check_hard_swish(op: &Op, h: &HardSwish, channels: usize) -> Result<(), InterpError> {
    let count = h.out.len() == 1 || h.out.len() == channels;
    if (0..=1 << 15).contains(&h.six) && count && h.out.iter().all(valid_epilogue) {
        return Ok(());
    }
    Err(invalid(
        op,
        "hswish needs [three, six ≤ 2^15, then |multiplier| < 2^24, shift in [1, 62], \
         |bias| < 2^58 once or per output channel]",
    ))
}

/// A swish epilogue: its output rescaling in range and a 257-entry Q15 sigmoid table.
fn check_swish(op: &Op, s: &Swish) -> Result<(), InterpError> {
    let table = s.table.len() == 257 && s.table.iter().all(|t| (0..=1 << 15).contains(t));
    if valid_epilogue(&s.out) && table {
        return Ok(());
    }
    Err(invalid(
        op,
        "swish needs [|multiplier| < 2^24, shift in [1, 62], |bias| < 2^58] and a \
         257-entry Q15 sigmoid_table",
    ))
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
fn epilogue_input(acc: i64, op: &Requant, c: usize) -> i64 {
    apply_scale(acc, op.multiplier[c], op.shift[c]).clamp(-(1 << 20), 1 << 20)
}

/// Fused requantization of an accumulator of output channel `channel`, then clamp; a negative
/// accumulator uses the negative-side multipliers where there are some (PReLU).
pub(crate) fn requant(acc: i64, op: &Requant, channel: usize) -> i32 {
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
