//! Fixed-point arithmetic of the tile level: rounding shifts and rescaling (tosa.rescale),
//! host-boundary quantization, the interpolated Q15 sigmoid, and division and square root by
//! shifts and subtractions. The C runtime implements the same functions.

/// Floor of `v / 2^s` (an arithmetic right shift, written portably).
pub fn floor_shift(v: i64, s: u32) -> i64 {
    if v >= 0 {
        v >> s
    } else {
        !((!v) >> s)
    }
}

/// tosa.rescale SINGLE_ROUND: `(v * multiplier + 2^(shift-1)) >> shift`, i.e. round half up.
pub fn apply_scale(v: i64, multiplier: i32, shift: i32) -> i64 {
    floor_shift(v * multiplier as i64 + (1i64 << (shift - 1)), shift as u32)
}

/// Host-boundary quantization (what main.c does): round half away from zero, then clamp.
pub fn quantize(x: f32, scale: f64, zp: i64, qmin: i64, qmax: i64) -> i64 {
    let mut t = x as f64 / scale;
    if t.is_nan() {
        t = 0.0;
    }
    t += if t >= 0.0 { 0.5 } else { -0.5 };
    let lo = (qmin - zp) as f64;
    let hi = (qmax - zp) as f64;
    let t = if t < lo {
        lo
    } else if t > hi {
        hi
    } else {
        t
    };
    t as i64 + zp
}

/// Host-boundary dequantization (what main.c does).
pub fn dequantize(q: i64, scale: f64, zp: i64) -> f32 {
    (scale * (q - zp) as f64) as f32
}

/// The Q15 sigmoid of `v` (units of 2^-12) from a 257-entry table over [-8, 8], interpolated
/// (`qnt.swish`, `qnt.squeeze_excite`).
pub(crate) fn interpolated_sigmoid<T: Copy + Into<i64>>(table: &[T], v: i64) -> i64 {
    let u = v.clamp(-(1 << 15), (1 << 15) - 1) + (1 << 15);
    let (k, r) = ((u >> 8) as usize, u & 255);
    let (t0, t1) = (table[k].into(), table[k + 1].into());
    t0 + (((t1 - t0) * r + 128) >> 8)
}

/// `floor(2^k / s)` for s > 0, k ≤ 62, by restoring division: one shift, compare and
/// subtraction per quotient bit, as hardware without a divider computes it.
pub fn reciprocal(s: i64, k: u32) -> i64 {
    let (mut q, mut rem) = (0i64, 0i64);
    for i in (0..=k).rev() {
        rem = (rem << 1) | (i == k) as i64;
        q <<= 1;
        if rem >= s {
            rem -= s;
            q |= 1;
        }
    }
    q
}

/// `floor(sqrt(v))` bit by bit (shifts, compares and subtractions only).
pub fn isqrt(v: u64) -> u64 {
    let (mut x, mut r) = (v, 0u64);
    let mut bit = 1u64 << 62;
    while bit > v {
        bit >>= 2;
    }
    while bit != 0 {
        if x >= r + bit {
            x -= r + bit;
            r = (r >> 1) + bit;
        } else {
            r >>= 1;
        }
        bit >>= 2;
    }
    r
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rounding_is_half_up_and_floor_shift_is_floor() {
        assert_eq!(floor_shift(-1, 1), -1);
        assert_eq!(floor_shift(-3, 1), -2);
        assert_eq!(floor_shift(5, 1), 2);
        // 1/2 * 3 = 1.5 -> 2 ; 1/2 * -3 = -1.5 -> -1 (half up)
        assert_eq!(apply_scale(3, 1 << 30, 31), 2);
        assert_eq!(apply_scale(-3, 1 << 30, 31), -1);
        assert_eq!(quantize(-0.5, 1.0, 0, -128, 127), -1);
        assert_eq!(quantize(1e9, 1.0, 0, -128, 127), 127);
        assert_eq!(quantize(f32::NAN, 1.0, 3, -128, 127), 3);
    }

    #[test]
    fn isqrt_is_floor_sqrt() {
        for v in [
            0u64,
            1,
            2,
            3,
            4,
            15,
            16,
            17,
            99,
            100,
            1 << 40,
            (1 << 62) + 12345,
            u64::MAX >> 1,
        ] {
            let r = isqrt(v);
            assert!(r * r <= v && (r + 1) * (r + 1) > v, "{v}");
        }
    }

    #[test]
    fn reciprocal_is_floor_division() {
        for (s, k) in [
            (3i64, 10u32),
            (32768, 46),
            (123_456_789, 57),
            (1, 20),
            (7, 3),
        ] {
            assert_eq!(reciprocal(s, k), (1i64 << k) / s, "{s} {k}");
        }
    }
}
