//! 32-bit integer arithmetic of the TOSA export: broadcast splats, elementwise ops, and tile's
//! two-operand add (exact in 32 bits by a 16-bit split of its multipliers) and mul.

use super::{int, Exporter};
use nibble_ir::{Attr, Elem, Op, Type, ValueId};
use nibble_tile as tile;

impl Exporter<'_> {
    /// A constant of rank `rank` with every dimension 1 (it broadcasts).
    pub(super) fn splat(&mut self, value: i64, rank: usize, bits: u32) -> ValueId {
        let ty = int(&vec![1; rank], bits);
        self.constant(ty.clone(), Attr::Raw(format!("dense<{value}> : {ty}")))
    }

    /// The elementwise `name(x, y)` with its broadcast i32 result.
    pub(super) fn elementwise(
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
    pub(super) fn mul(&mut self, x: ValueId, y: ValueId) -> ValueId {
        let shift = self.ints(&[0], 8);
        let (sx, sy) = (
            self.out.ty(x).shape().unwrap_or(&[]),
            self.out.ty(y).shape().unwrap_or(&[]),
        );
        let dims: Vec<i64> = sx.iter().zip(sy).map(|(a, b)| *a.max(b)).collect();
        self.push("tosa.mul", &[x, y, shift], int(&dims, 32), vec![])
    }

    /// `x − zp` in i32.
    pub(super) fn centered(&mut self, x: ValueId, zp: i64) -> ValueId {
        let ty = self.out.ty(x).with_elem(Elem::Int(32));
        let rank = ty.shape().map_or(0, |s| s.len());
        let wide = self.push("tosa.cast", &[x], ty, vec![]);
        let zp = self.splat(zp, rank, 32);
        self.elementwise("tosa.sub", wide, zp, vec![])
    }

    /// `a·ma + b·mb` in i32 (the caller keeps both products within 32 bits).
    pub(super) fn dot(
        &mut self,
        a: ValueId,
        b: ValueId,
        [ma, mb]: [i64; 2],
        out: &[i64],
    ) -> ValueId {
        let (ca, cb) = (self.splat(ma, out.len(), 32), self.splat(mb, out.len(), 32));
        let (pa, pb) = (self.mul(a, ca), self.mul(b, cb));
        self.elementwise("tosa.add", pa, pb, vec![])
    }

    /// `clamp(zp + q, lo, hi)` of the i32 `q`, cast to `ty`.
    pub(super) fn narrow(&mut self, q: ValueId, zp: i64, lo: i64, hi: i64, ty: &Type) -> ValueId {
        let rank = ty.shape().map_or(0, |s| s.len());
        let zp = self.splat(zp, rank, 32);
        let v = self.elementwise("tosa.add", q, zp, vec![]);
        // TOSA clamps i8/i16 only: i32 takes maximum and minimum.
        let (lo, hi) = (self.splat(lo, rank, 32), self.splat(hi, rank, 32));
        let v = self.elementwise("tosa.maximum", v, lo, vec![]);
        let v = self.elementwise("tosa.minimum", v, hi, vec![]);
        self.push("tosa.cast", &[v], ty.clone(), vec![])
    }

    /// `tile.add`: `zp + ((a − za)·ma + (b − zb)·mb + 2^(s−1)) >> s`, clamped.
    pub(super) fn add(&mut self, op: &Op, ty: &Type) -> Result<ValueId, String> {
        let shape = ty.shape().unwrap_or(&[]).to_vec();
        let err = |e: tile::DialectError| e.to_string();
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
        Ok(self.narrow(q, p.io.output_zp, p.io.clamp_min, p.io.clamp_max, ty))
    }

    /// `tile.mul`: `zp + apply_scale((a − za)·(b − zb))`, clamped.
    pub(super) fn mul_op(&mut self, op: &Op, ty: &Type) -> Result<ValueId, String> {
        let err = |e: tile::DialectError| e.to_string();
        let p = tile::Mul::from_op(op).map_err(err)?;
        let a = self.centered(self.x(op, 0), p.io.input_zp[0]);
        let b = self.centered(self.x(op, 1), p.io.input_zp[1]);
        let product = self.mul(a, b);
        let y = self.rescale(
            product,
            ty,
            &[p.multiplier as i32],
            &[p.shift as i32],
            0,
            p.io.output_zp,
        );
        Ok(self.clamp(y, p.io.clamp_min, p.io.clamp_max))
    }
}
