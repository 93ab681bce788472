//! Fixed-point scales: a positive real ratio `r ≈ multiplier · 2^-shift` with a 31-bit
//! multiplier in [2^30, 2^31) and shift in [1, 62] (tosa.rescale with scale32).

use crate::QuantError;

/// `multiplier · 2^-shift`, exactly.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct FixedScale {
    pub multiplier: i32,
    pub shift: i32,
}

impl FixedScale {
    /// The real value (for reports and tests only; never used at inference time).
    pub fn value(&self) -> f64 {
        self.multiplier as f64 * (-(self.shift as f64)).exp2()
    }
}

/// Normalizes `m · 2^-s` (m ≥ 0, any width) into a [`FixedScale`] with one rounding (half up).
fn normalize(mut m: i128, mut s: i32) -> Option<FixedScale> {
    if m == 0 {
        return Some(FixedScale {
            multiplier: 0,
            shift: 1,
        });
    }
    let bits = 128 - m.leading_zeros() as i32;
    if bits > 31 {
        let k = bits - 31;
        m = (m + (1i128 << (k - 1))) >> k;
        s -= k;
        if m == 1i128 << 31 {
            m >>= 1;
            s -= 1;
        }
    } else {
        let k = 31 - bits;
        m <<= k;
        s += k;
    }
    if s > 62 {
        // Tiny ratio: drop low multiplier bits (rounding half up) to bring the shift to 62.
        let k = s - 62;
        if k >= 32 {
            return Some(FixedScale {
                multiplier: 0,
                shift: 1,
            });
        }
        m = (m + (1i128 << (k - 1))) >> k;
        s = 62;
    }
    if s < 1 {
        return None;
    }
    Some(FixedScale {
        multiplier: m as i32,
        shift: s,
    })
}

/// The fixed-point form of a positive ratio (one rounding of its binary mantissa).
pub fn fixed_multiplier(ratio: f64) -> Result<FixedScale, QuantError> {
    if !(ratio.is_finite() && ratio >= 0.0) {
        return Err(QuantError::Ratio(ratio));
    }
    if ratio == 0.0 {
        return Ok(FixedScale {
            multiplier: 0,
            shift: 1,
        });
    }
    // ratio = mantissa · 2^(exp) exactly, mantissa a 53-bit integer.
    let bits = ratio.to_bits();
    let raw_exp = ((bits >> 52) & 0x7ff) as i32;
    let (mant, exp) = if raw_exp == 0 {
        ((bits & ((1 << 52) - 1)) as i128, -1074)
    } else {
        (
            ((bits & ((1 << 52) - 1)) | (1 << 52)) as i128,
            raw_exp - 1075,
        )
    };
    normalize(mant, -exp).ok_or(QuantError::Ratio(ratio))
}

/// The composition `a ∘ b` (the product of the two ratios) with a single final rounding.
pub fn compose(a: FixedScale, b: FixedScale) -> Option<FixedScale> {
    normalize(
        a.multiplier as i128 * b.multiplier as i128,
        a.shift + b.shift,
    )
}

/// A signed ratio: the fixed-point form of `|ratio|` with the multiplier negated for a
/// negative ratio (apply_scale rounds half up either way).
pub fn signed_multiplier(ratio: f64) -> Result<FixedScale, QuantError> {
    let f = fixed_multiplier(ratio.abs())?;
    Ok(if ratio < 0.0 {
        FixedScale {
            multiplier: -f.multiplier,
            shift: f.shift,
        }
    } else {
        f
    })
}

/// Signed ratios over one shared shift, for a sum rescaled with a single rounding
/// (`Σ vᵢ·mᵢ >> shift`): the largest shift ≤ 62 at which every |mᵢ| < 2^31.
pub fn shared_shift(ratios: &[f64]) -> Result<(Vec<i32>, i32), QuantError> {
    let max = ratios.iter().fold(0.0f64, |m, r| m.max(r.abs()));
    if let Some(&bad) = ratios.iter().find(|r| !r.is_finite()) {
        return Err(QuantError::Ratio(bad));
    }
    if max == 0.0 {
        return Ok((vec![0; ratios.len()], 1));
    }
    let mut shift = (30 - max.log2().floor() as i32).min(62);
    while shift >= 1 && (max * (shift as f64).exp2()).round() >= 2f64.powi(31) {
        shift -= 1;
    }
    if shift < 1 {
        return Err(QuantError::Ratio(max));
    }
    let m = ratios
        .iter()
        .map(|r| (r * (shift as f64).exp2()).round() as i32)
        .collect();
    Ok((m, shift))
}

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn multipliers_are_normalized_and_close() {
        for r in [0.5, 1.0, 0.001234, 3.7e-7, 123.0, 0.999999999] {
            let f = fixed_multiplier(r).unwrap();
            assert!((1 << 30..=i32::MAX).contains(&f.multiplier), "{r}: {f:?}");
            assert!((f.value() - r).abs() <= r * 1e-9, "{r}: {}", f.value());
        }
        assert_eq!(
            fixed_multiplier(0.5).unwrap(),
            FixedScale {
                multiplier: 1 << 30,
                shift: 31
            }
        );
        assert!(fixed_multiplier(2f64.powi(40)).is_err());
    }
    #[test]
    fn composition_matches_the_product() {
        let (a, b) = (
            fixed_multiplier(0.013).unwrap(),
            fixed_multiplier(2.9).unwrap(),
        );
        let c = compose(a, b).unwrap();
        assert!((c.value() - 0.013 * 2.9).abs() < 1e-9);
        assert_eq!(compose(a, fixed_multiplier(1.0).unwrap()), Some(a));
    }
    #[test]
    fn shared_shifts_keep_every_multiplier_in_31_bits() {
        let (m, s) = shared_shift(&[0.75, -0.003]).unwrap();
        assert_eq!(s, 31);
        assert_eq!(m[0], (0.75 * 2f64.powi(31)).round() as i32);
        assert!((m[1] as f64 / 2f64.powi(31) + 0.003).abs() < 1e-9);
        assert_eq!(shared_shift(&[1e-30]).unwrap().1, 62);
        assert!(shared_shift(&[3e9]).is_err());
        assert_eq!(signed_multiplier(-0.5).unwrap().multiplier, -(1 << 30));
    }
}
