//! Tensors known at import time: decoding an ONNX `TensorProto` (an initializer or a Constant's
//! value) into a float [`Const`], whatever its stored element type.

use crate::onnx::{self, TensorProto};

/// A float tensor known at import time (an initializer, a Constant, or a folded shape
/// computation). Integer tensors (shapes, indices) are held as floats too.
#[derive(Clone)]
pub(crate) struct Const {
    pub dims: Vec<i64>,
    pub data: Vec<f32>,
}

impl Const {
    /// The values as integers (shapes, axes, indices), truncated toward zero.
    pub fn ints(&self) -> Vec<i64> {
        self.data.iter().map(|&v| v as i64).collect()
    }
}

/// The number of elements of `dims`, or None if a dimension is negative or the count passes
/// 2^32 (no tensor nibble handles is that large; the bound keeps every later product in i64).
pub(crate) fn element_count(dims: &[i64]) -> Option<i64> {
    dims.iter().try_fold(1i64, |a, &d| {
        a.checked_mul(d).filter(|&n| d >= 0 && n <= 1 << 32)
    })
}

/// Decodes a tensor of float32, int32, int64 or a narrow integer type of quantized data (raw little-endian bytes or the typed fields).
/// Errors name the tensor; external data and other element types are refused.
pub(crate) fn tensor_data(t: &TensorProto) -> Result<Const, String> {
    let dims = t.dims.clone();
    if dims.iter().any(|&d| d < 0) {
        return Err(format!("tensor '{}' has a negative dimension", t.name()));
    }
    let n = element_count(&dims)
        .ok_or_else(|| format!("tensor '{}' of shape {dims:?} is too large", t.name()))?;
    if t.data_location == Some(onnx::tensor_proto::DataLocation::External as i32) {
        return Err(format!(
            "tensor '{}' uses external data files, which nibble does not read",
            t.name()
        ));
    }
    let raw = t.raw_data.as_ref().filter(|r| !r.is_empty());
    let data: Vec<f32> = match (t.data_type(), raw) {
        (1, Some(raw)) => from_raw(t, raw, n, "float", f32::from_le_bytes)?,
        (1, None) => t.float_data.clone(),
        (7, Some(raw)) => from_raw(t, raw, n, "int64", |b| i64::from_le_bytes(b) as f32)?,
        (7, None) => t.int64_data.iter().map(|&v| v as f32).collect(),
        (6, Some(raw)) => from_raw(t, raw, n, "int32", |b| i32::from_le_bytes(b) as f32)?,
        (6, None) => t.int32_data.iter().map(|&v| v as f32).collect(),
        (2, Some(raw)) => from_raw(t, raw, n, "uint8", |b: [u8; 1]| b[0] as f32)?,
        (3, Some(raw)) => from_raw(t, raw, n, "int8", |b: [u8; 1]| b[0] as i8 as f32)?,
        (4, Some(raw)) => from_raw(t, raw, n, "uint16", |b| u16::from_le_bytes(b) as f32)?,
        (5, Some(raw)) => from_raw(t, raw, n, "int16", |b| i16::from_le_bytes(b) as f32)?,
        (21 | 22, Some(raw)) => nibbles(t, raw, n, t.data_type() == 22)?,
        // Narrow integers' typed field is int32_data (4-bit ones two to an element, low first).
        (2..=5, None) => t.int32_data.iter().map(|&v| v as f32).collect(),
        (21 | 22, None) => {
            let bytes: Vec<u8> = t.int32_data.iter().map(|&v| v as u8).collect();
            nibbles(t, &bytes, n, t.data_type() == 22)?
        }
        (other, _) => {
            return Err(format!(
                "tensor '{}' has data type {other}; supported: 1 (float32), 2 (uint8), 3 (int8), 4 (uint16), 5 (int16), 6 (int32), 7 (int64), 21 (uint4), 22 (int4)",
                t.name()
            ))
        }
    };
    if data.len() as i64 != n {
        return Err(format!(
            "tensor '{}' has {} elements, its shape {:?} needs {}",
            t.name(),
            data.len(),
            dims,
            n
        ));
    }
    Ok(Const { dims, data })
}

/// `n` 4-bit integers packed two to a byte, the first in the low nibble (ONNX int4/uint4).
fn nibbles(t: &TensorProto, raw: &[u8], n: i64, signed: bool) -> Result<Vec<f32>, String> {
    if raw.len() as i64 != (n + 1) / 2 {
        return Err(format!(
            "tensor '{}' has {} bytes of data for {n} 4-bit elements",
            t.name(),
            raw.len()
        ));
    }
    let value = |v: u8| {
        if signed {
            ((v << 4) as i8 >> 4) as f32
        } else {
            v as f32
        }
    };
    Ok((0..n as usize)
        .map(|i| value((raw[i / 2] >> (4 * (i % 2))) & 0xf))
        .collect())
}

/// The element type of an integer tensor on a quantization grid: (bits, signed), or None.
pub(crate) fn grid_type(data_type: i32) -> Option<(u32, bool)> {
    match data_type {
        2 => Some((8, false)),
        3 => Some((8, true)),
        4 => Some((16, false)),
        5 => Some((16, true)),
        6 => Some((32, true)),
        21 => Some((4, false)),
        22 => Some((4, true)),
        _ => None,
    }
}

/// `n` elements of `W` little-endian bytes each, converted by `value`.
fn from_raw<const W: usize>(
    t: &TensorProto,
    raw: &[u8],
    n: i64,
    what: &str,
    value: fn([u8; W]) -> f32,
) -> Result<Vec<f32>, String> {
    if raw.len() as i64 != W as i64 * n {
        return Err(format!(
            "tensor '{}' has {} bytes of data for {} {what} elements",
            t.name(),
            raw.len(),
            n
        ));
    }
    Ok(raw
        .chunks_exact(W)
        .map(|c| value(c.try_into().unwrap_or([0; W])))
        .collect())
}
