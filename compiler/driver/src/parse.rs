//! Value parsers of the options (clap `value_parser`s): each refuses what the compiler cannot
//! use — non-finite numbers, empty ranges, percentiles outside (0, 100], bit widths other than
//! 8 and 16 — as a usage error naming the value.

use crate::options::{BitWidths, InputShape, WeightBits};
use nibble_quantize::WeightWidth;

/// `LO,HI` with LO < HI, both finite.
pub fn pair(s: &str) -> Result<(f64, f64), String> {
    let bad = || format!("'{s}' is not LO,HI with LO < HI");
    let (a, b) = s.split_once(',').ok_or_else(bad)?;
    match (a.trim().parse::<f64>(), b.trim().parse::<f64>()) {
        (Ok(a), Ok(b)) if a < b && a.is_finite() && b.is_finite() => Ok((a, b)),
        _ => Err(bad()),
    }
}

/// `auto`, or `NAME=BITS[,NAME=BITS…]` with BITS 8 or 16.
pub fn bits(s: &str) -> Result<BitWidths, String> {
    if s == "auto" {
        return Ok(BitWidths::Auto);
    }
    s.split(',')
        .map(|item| match item.rsplit_once('=') {
            Some((name, b)) if !name.is_empty() => match b.trim().parse::<u32>() {
                Ok(bits @ (8 | 16)) => Ok((name.trim().to_string(), bits)),
                _ => Err(format!("'{item}': activations are 8 or 16 bits")),
            },
            _ => Err(format!("'{item}' is not NAME=BITS (e.g. conv1=16)")),
        })
        .collect::<Result<_, _>>()
        .map(BitWidths::Names)
}

/// `W`, `auto`, `NAME=W` entries, comma-separated (at most one of `W` and `auto`); W is 8, 4, 2,
/// ternary or binary.
pub fn weight_bits(s: &str) -> Result<WeightBits, String> {
    let mut all: Option<Option<WeightWidth>> = None;
    let mut names = Vec::new();
    for item in s.split(',').map(str::trim) {
        let whole = match item {
            "auto" => Some(None),
            _ if !item.contains('=') => Some(Some(item.parse::<WeightWidth>()?)),
            _ => None,
        };
        match (whole, item.rsplit_once('=')) {
            (Some(w), _) if all.is_none() => all = Some(w),
            (Some(_), _) => return Err(format!("'{s}': give one width for all layers, or auto")),
            (None, Some((name, w))) if !name.trim().is_empty() => {
                names.push((name.trim().to_string(), w.trim().parse::<WeightWidth>()?))
            }
            _ => {
                return Err(format!(
                    "'{item}' is not a width or NAME=WIDTH (e.g. conv1=4)"
                ))
            }
        }
    }
    Ok(WeightBits {
        all: all.unwrap_or(Some(WeightWidth::W8)),
        names,
    })
}

/// An average weight width in bits: a finite number from 1 to 8.
pub fn average_bits(s: &str) -> Result<f64, String> {
    match s.parse::<f64>() {
        Ok(v) if (1.0..=8.0).contains(&v) => Ok(v),
        _ => Err(format!("'{s}' is not an average width from 1 to 8 bits")),
    }
}

/// Any finite number.
pub fn finite(s: &str) -> Result<f64, String> {
    match s.parse::<f64>() {
        Ok(v) if v.is_finite() => Ok(v),
        _ => Err(format!("'{s}' is not a finite number")),
    }
}

/// A finite number ≥ 0.
pub fn fraction(s: &str) -> Result<f64, String> {
    match s.parse::<f64>() {
        Ok(v) if v.is_finite() && v >= 0.0 => Ok(v),
        _ => Err(format!("'{s}' is not a non-negative number")),
    }
}

/// A finite number of standard deviations > 0.
pub fn sigma(s: &str) -> Result<f64, String> {
    match s.parse::<f64>() {
        Ok(k) if k > 0.0 && k.is_finite() => Ok(k),
        _ => Err(format!(
            "'{s}' is not a positive number of standard deviations"
        )),
    }
}

/// A percentile in (0, 100].
pub fn percentile(s: &str) -> Result<f64, String> {
    let p: f64 = s.parse().map_err(|_| format!("'{s}' is not a number"))?;
    if p > 0.0 && p <= 100.0 {
        Ok(p)
    } else {
        Err(format!("{p} is not in (0, 100]"))
    }
}

/// `NAME=D0,D1,…`.
pub fn input_shape(s: &str) -> Result<InputShape, String> {
    let (name, dims) = s.split_once('=').ok_or("expected NAME=D0,D1,…")?;
    let dims = dims
        .split(',')
        .map(|d| {
            d.trim()
                .parse::<i64>()
                .map_err(|_| format!("'{d}' is not a dimension"))
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok(InputShape {
        name: name.to_string(),
        dims,
    })
}
