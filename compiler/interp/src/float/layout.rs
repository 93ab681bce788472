//! Data movement in f32: reshape, transpose, slice, concat, constant padding and resizing
//! (nearest or bilinear, over the shared tap tables).

use super::{Env, FloatProgram};
use crate::tensor::{advance, concat, dims, slice, transpose};
use crate::InterpError;
use nibble_graph::tosa;
use nibble_ir::Op;

/// tosa.reshape, transpose, slice, concat, pad and resize.
pub(super) fn eval(p: &FloatProgram, op: &Op, env: &Env) -> Result<Vec<f32>, InterpError> {
    let f = p.func;
    let (x, xs, os) = (
        env.read(op, 0)?,
        dims(f, op.operands[0]),
        dims(f, op.results[0]),
    );
    Ok(match op.name.as_str() {
        tosa::RESHAPE => x.to_vec(),
        tosa::TRANSPOSE => {
            let perms: Vec<usize> = op.ints("perms")?.iter().map(|&p| p as usize).collect();
            transpose(x, &xs, &perms)
        }
        tosa::SLICE => {
            let start = env.shape(op, 1, "tosa.slice start must be a tosa.const_shape")?;
            slice(x, &xs, start, &os)
        }
        tosa::CONCAT => {
            let parts = env
                .read_all(op)
                .map_err(|_| InterpError::Invalid("tosa.concat reads an undefined value".into()))?;
            let parts: Vec<_> = parts
                .into_iter()
                .zip(&op.operands)
                .map(|(d, &v)| (d, dims(f, v)))
                .collect();
            concat(&parts, op.int("axis")? as usize, &os)
        }
        tosa::PAD => {
            let pads = env.shape(op, 1, "tosa.pad padding must be a tosa.const_shape")?;
            let value = op.operands.get(2).and_then(|&v| p.consts[v].as_deref());
            let value = value.and_then(|c| c.first().copied()).unwrap_or(0.0);
            pad(x, &xs, pads, value, &os)
        }
        _ => {
            let msg = "tosa.resize parameters must be tosa.const_shape";
            let (scale, offset) = (env.shape(op, 1, msg)?, env.shape(op, 2, msg)?);
            let bilinear = matches!(
                op.attrs.get("mode"),
                Some(nibble_ir::Attr::Raw(m)) if m.contains("BILINEAR")
            );
            resize(x, &xs, &os, scale, offset, bilinear)?
        }
    })
}

/// Constant padding of a row-major tensor; `pads` is [begin0, end0, begin1, end1, …].
fn pad(x: &[f32], shape: &[usize], pads: &[i64], value: f32, out_shape: &[usize]) -> Vec<f32> {
    let rank = shape.len();
    let n: usize = out_shape.iter().product();
    let mut out = vec![value; n];
    let mut idx = vec![0usize; rank];
    for &v in x {
        let mut off = 0;
        for k in 0..rank {
            off = off * out_shape[k] + idx[k] + pads[2 * k] as usize;
        }
        out[off] = v;
        advance(&mut idx, shape);
    }
    out
}

/// tosa.resize on f32 NHWC: output row `oy` samples input `y = oy·d + offset` in units of 1/n;
/// nearest rounds half up, bilinear interpolates between clamped neighbours.
fn resize(
    x: &[f32],
    xs: &[usize],
    os: &[usize],
    scale: &[i64],
    offset: &[i64],
    bilinear: bool,
) -> Result<Vec<f32>, InterpError> {
    if xs.len() != 4 || os.len() != 4 || scale.len() != 4 || offset.len() != 2 {
        return Err(InterpError::Invalid(
            "tosa.resize: needs NHWC tensors, scale [ny, dy, nx, dx] and offset [oy, ox]".into(),
        ));
    }
    let (ih, iw, c) = (xs[1] as i64, xs[2] as i64, xs[3]);
    let (oh, ow) = (os[1], os[2]);
    let ty = crate::resize_taps(oh, ih, scale[0], scale[1], offset[0], bilinear);
    let tx = crate::resize_taps(ow, iw, scale[2], scale[3], offset[1], bilinear);
    let mut out = vec![0.0f32; oh * ow * c];
    for oy in 0..oh {
        let (y0, y1, fy) = ty[oy];
        let fy = fy as f32 / scale[0] as f32;
        for ox in 0..ow {
            let (x0, x1, fx) = tx[ox];
            let fx = fx as f32 / scale[2] as f32;
            let px = |y: usize, xx: usize| &x[(y * iw as usize + xx) * c..][..c];
            let o = &mut out[(oy * ow + ox) * c..][..c];
            let (a, b, cc, dd) = (px(y0, x0), px(y0, x1), px(y1, x0), px(y1, x1));
            for k in 0..c {
                let top = a[k] * (1.0 - fx) + b[k] * fx;
                let bottom = cc[k] * (1.0 - fx) + dd[k] * fx;
                o[k] = top * (1.0 - fy) + bottom * fy;
            }
        }
    }
    Ok(out)
}
