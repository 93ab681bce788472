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

/// Decodes a tensor of float32, int32 or int64 (raw little-endian bytes or the typed fields).
/// Errors name the tensor; external data and other element types are refused.
pub(crate) fn tensor_data(t: &TensorProto) -> Result<Const, String> {
    let dims = t.dims.clone();
    if dims.iter().any(|&d| d < 0) {
        return Err(format!("tensor '{}' has a negative dimension", t.name()));
    }
    let n = dims
        .iter()
        .try_fold(1i64, |a, &d| a.checked_mul(d).filter(|&n| n <= 1 << 32))
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
        (other, _) => {
            return Err(format!(
                "tensor '{}' has data type {other}; supported: 1 (float32), 6 (int32), 7 (int64)",
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
