//! The TOSA export of `tile.softmax`, the same integers in 32-bit TOSA ops.
//!
//! Per row: `m = max(x)`, `e_i = T[x_i − m + 255]` (`tosa.gather` from the table), `S = Σ e_i`,
//! `bl = 32 − clz(S)`, `R = floor(2^(30+bl) / S)`, `out = zp + floor((e_i·R + 2^(sh−1)) / 2^sh)`
//! with `sh = 30 + bl − frac_bits`. R is computed by long division in `tosa.intdiv` steps:
//! `Q = floor((2^(30+bl) − 1) / S)`, first over 30 one-bits, then over `bl` more in chunks of at
//! most `31 − bl` bits (each remainder shifted stays below 2^31), and `R = Q + [ρ = S − 1]` from
//! the last remainder ρ. The product `e·R` (up to 2^46) is split as in `tile.add`: `R = Rh·2^16 +
//! Rl`, and `(e·Rh + (e·Rl >> 16) + 2^(sh−17)) >> (sh − 16)` is the rounded quotient (the bits of
//! `e·Rl` below 2^16 cannot move the floor). Precondition ([`why_not`]): table entries in
//! [0, 2^15] and rows short enough that `S` has at most `16 + frac_bits` bits (fewer than
//! 2^(frac_bits+1) classes), which keeps every intermediate below 2^31.

use super::{int, Exporter};
use nibble_ir::{Attr, Op, Type, ValueId};
use nibble_tile as tile;

/// The bit length of the largest row sum of `c` classes (table entries at most 2^15).
fn max_sum_bits(c: i64) -> i64 {
    64 - ((c.max(1) as u64) << 15).leading_zeros() as i64
}

/// Why the softmax `op` over rows of `c` classes has no 32-bit form here, if it has none.
pub(super) fn why_not(op: &Op, c: i64) -> Option<String> {
    let p = match tile::Softmax::from_op(op) {
        Ok(p) => p,
        Err(e) => return Some(e.to_string()),
    };
    if p.exp_table.len() != 256 || p.exp_table.iter().any(|t| !(0..=1 << 15).contains(t)) {
        return Some("an exp table other than 256 entries in [0, 2^15]".into());
    }
    let bits = max_sum_bits(c);
    if !(0..=8).contains(&p.frac_bits) || bits > 16 + p.frac_bits {
        return Some(format!(
            "{c} classes: the row sum needs {bits} bits, the 32-bit form at most {}",
            16 + p.frac_bits
        ));
    }
    None
}

impl Exporter<'_> {
    /// `name(x, y)` elementwise with an i32 result broadcast from both.
    fn i32op(&mut self, name: &str, x: ValueId, y: ValueId) -> ValueId {
        self.elementwise(name, x, y, vec![])
    }

    fn shr(&mut self, x: ValueId, by: ValueId) -> ValueId {
        let round = vec![("round", Attr::Bool(false))];
        self.elementwise("tosa.arithmetic_right_shift", x, by, round)
    }

    /// `tile.softmax` over the last axis.
    pub(super) fn softmax(&mut self, op: &Op, ty: &Type) -> Result<ValueId, String> {
        let p = tile::Softmax::from_op(op).map_err(|e| e.to_string())?;
        let shape = ty.shape().unwrap_or(&[]).to_vec();
        let (rank, axis) = (shape.len(), shape.len() as i64 - 1);
        let c = shape[rank - 1];
        let mut row = shape.clone();
        row[rank - 1] = 1;
        let x = self.x(op, 0);
        let on_axis = || vec![("axis", Attr::i32(axis))];

        // e = T[x − max(x) + 255], gathered from the table as [1, 256, 1].
        let m = self.push("tosa.reduce_max", &[x], int(&row, 8), on_axis());
        let xi = self.push("tosa.cast", &[x], int(&shape, 32), vec![]);
        let mi = self.push("tosa.cast", &[m], int(&row, 32), vec![]);
        let d = self.i32op("tosa.sub", xi, mi);
        let k255 = self.splat(255, rank, 32);
        let idx = self.i32op("tosa.add", d, k255);
        let total: i64 = shape.iter().product();
        let tty = int(&[1, 256, 1], 32);
        let entries: Vec<String> = p.exp_table.iter().map(|v| format!("[{v}]")).collect();
        let table = self.constant(
            tty.clone(),
            Attr::Raw(format!("dense<[[{}]]> : {tty}", entries.join(", "))),
        );
        let flat = self.reshape(idx, &[1, total]);
        let gathered = self.push(
            "tosa.gather",
            &[table, flat],
            int(&[1, total, 1], 32),
            vec![],
        );
        let e = self.reshape(gathered, &shape);
        let s = self.push("tosa.reduce_sum", &[e], int(&row, 32), on_axis());
        let clz = self.push("tosa.clz", &[s], int(&row, 32), vec![]);
        let k32 = self.splat(32, rank, 32);
        let bl = self.i32op("tosa.sub", k32, clz);

        // Q = floor((2^(30+bl) − 1) / S) and its remainder, chunk by chunk.
        let one = self.splat(1, rank, 32);
        let top = self.splat((1 << 30) - 1, rank, 32);
        let mut q = self.i32op("tosa.intdiv", top, s);
        let qs = self.mul(q, s);
        let mut r = self.i32op("tosa.sub", top, qs);
        let k31 = self.splat(31, rank, 32);
        let room = self.i32op("tosa.sub", k31, bl);
        let mut left = bl;
        // Chunks of at least 31 − most bits cover the most bits a row sum can have.
        let (most, least_room) = (max_sum_bits(c), 31 - max_sum_bits(c));
        for _ in 0..(most + least_room - 1) / least_room {
            let t = self.i32op("tosa.minimum", left, room);
            left = self.i32op("tosa.sub", left, t);
            let pow = self.i32op("tosa.logical_left_shift", one, t);
            let ones = self.i32op("tosa.sub", pow, one);
            let shifted = self.i32op("tosa.logical_left_shift", r, t);
            let rr = self.i32op("tosa.add", shifted, ones);
            let qk = self.i32op("tosa.intdiv", rr, s);
            let qks = self.mul(qk, s);
            r = self.i32op("tosa.sub", rr, qks);
            let qt = self.i32op("tosa.logical_left_shift", q, t);
            q = self.i32op("tosa.add", qt, qk);
        }
        // R = Q + [ρ = S − 1] as Rh·2^16 + Rl.
        let s1 = self.i32op("tosa.sub", s, one);
        let hit = self.push("tosa.equal", &[r, s1], int(&row, 1), vec![]);
        let z = self.push("tosa.cast", &[hit], int(&row, 32), vec![]);
        let (mask, k16) = (self.splat(0xffff, rank, 32), self.splat(16, rank, 32));
        let ql = self.i32op("tosa.bitwise_and", q, mask);
        let qh = self.shr(q, k16);
        let rl = self.i32op("tosa.add", ql, z);
        let carry = self.shr(rl, k16);
        let rl = self.i32op("tosa.bitwise_and", rl, mask);
        let rh = self.i32op("tosa.add", qh, carry);

        // out = (e·Rh + (e·Rl >> 16) + 2^(sh−17)) >> (sh − 16), sh = 30 + bl − frac_bits.
        let (h, l) = (self.mul(e, rh), self.mul(e, rl));
        let lh = self.shr(l, k16);
        let sum = self.i32op("tosa.add", h, lh);
        let c13 = self.splat(13 - p.frac_bits, rank, 32);
        let half_at = self.i32op("tosa.add", bl, c13);
        let half = self.i32op("tosa.logical_left_shift", one, half_at);
        let sum = self.i32op("tosa.add", sum, half);
        let c14 = self.splat(14 - p.frac_bits, rank, 32);
        let by = self.i32op("tosa.add", bl, c14);
        let out = self.shr(sum, by);
        Ok(self.narrow(out, p.output_zp, p.clamp_min, p.clamp_max, ty))
    }
}
