//! The integer interpreter: the bit-exact definition of the tile level (and, through lowering,
//! of the qnt level). Every tensor is held as `i32` values whatever its storage width. The
//! generated C (runtime/c/nibble_runtime.c) implements the same arithmetic and must agree with
//! this file bit for bit; docs/numerics.md states the contract.

use crate::integer_layers as layers;
use crate::{concat, dims, loc_suffix, pool2d, slice, transpose, InterpError};
use nibble_ir::{model, Elem, Func, Op};

const SUPPORTED: &str = "tile.quantize, tile.dequantize, tile.const, tile.conv2d, tile.fully_connected, tile.requant, tile.clamp, tile.max_pool2d, tile.transpose, tile.reshape, tile.lut, tile.depthwise_conv2d, tile.avg_pool2d, tile.add, tile.mul, tile.softmax, tile.slice, tile.concat, tile.matmul, tile.layer_norm, tile.resize, tile.transpose_conv2d, tile.squeeze_excite";

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

/// A fused activation's fixed-point input: the accumulator rescaled by channel `c`'s
/// multiplier/shift, no zero point, within ±2^20 (hard-swish and swish epilogues).
fn epilogue_input(acc: i64, op: &Rq, c: usize) -> i64 {
    apply_scale(acc, op.multiplier[c], op.shift[c]).clamp(-(1 << 20), 1 << 20)
}

/// The Q15 sigmoid of `v` (units of 2^-12) from a 257-entry table over [-8, 8], interpolated
/// (`qnt.swish`, `qnt.squeeze_excite`).
pub(crate) fn interpolated_sigmoid<T: Copy + Into<i64>>(table: &[T], v: i64) -> i64 {
    let u = v.clamp(-(1 << 15), (1 << 15) - 1) + (1 << 15);
    let (k, r) = ((u >> 8) as usize, u & 255);
    let (t0, t1) = (table[k].into(), table[k + 1].into());
    t0 + (((t1 - t0) * r + 128) >> 8)
}

/// Fused requantization of an accumulator of output channel `channel`, then clamp; a negative
/// accumulator uses the negative-side multipliers where there are some (PReLU).
pub(crate) fn requant(acc: i64, op: &Rq, channel: usize) -> i32 {
    let c = if op.multiplier.len() == 1 { 0 } else { channel };
    if let Some(([m, s, bias], table)) = &op.swish {
        // Swish in fixed point: v = β·x in units of 2^-12, sigmoid interpolated from the table.
        let v = epilogue_input(acc, op, c);
        let sig = interpolated_sigmoid(table, v);
        let y = op.output_zp + floor_shift(v * sig * m + bias + (1i64 << (s - 1)), *s as u32);
        return y.clamp(op.clamp_min, op.clamp_max) as i32;
    }
    if let Some((three, six, out)) = &op.hswish {
        // Hard-swish in fixed point: v at the activation's input scale, v·clamp(v + 3, 0, 6).
        let [m, s, bias] = out[if out.len() == 1 { 0 } else { channel }];
        let v = epilogue_input(acc, op, c);
        let t = (v + three).clamp(0, *six);
        let y = op.output_zp + floor_shift(v * t * m + bias + (1i64 << (s - 1)), s as u32);
        return y.clamp(op.clamp_min, op.clamp_max) as i32;
    }
    let (m, s) = match &op.neg {
        Some((nm, ns)) if acc < 0 => (nm[c], ns[c]),
        _ => (op.multiplier[c], op.shift[c]),
    };
    let v = op.output_zp + apply_scale(acc, m, s);
    v.clamp(op.clamp_min, op.clamp_max) as i32
}

/// Requantization parameters: one multiplier/shift, or one per channel.
pub(crate) struct Rq {
    pub input_zp: i64,
    pub output_zp: i64,
    pub multiplier: Vec<i32>,
    pub shift: Vec<i32>,
    pub clamp_min: i64,
    pub clamp_max: i64,
    /// Signed multipliers and shifts for negative accumulators (`neg_multiplier`/`neg_shift`,
    /// as many as `multiplier`): PReLU fused into the requantization.
    pub neg: Option<(Vec<i32>, Vec<i32>)>,
    /// Hard-swish fused into the requantization: `three`, `six` and `[multiplier, shift, bias]`
    /// once or per output channel.
    pub hswish: Option<(i64, i64, Vec<[i64; 3]>)>,
    /// Swish fused into the requantization: `[multiplier, shift, bias]` and the sigmoid table.
    pub swish: Option<([i64; 3], Vec<i32>)>,
}

impl Rq {
    /// Reads the parameters of `op`, whose output has `channels` channels.
    pub(crate) fn of(op: &Op, channels: usize) -> Result<Rq, InterpError> {
        Rq::with_keys(op, channels, "multiplier", "shift")
    }

    /// As [`Rq::of`], with the multipliers and shifts under the given attribute names (one
    /// entry, or `channels` of them: output channels, or an average pool's tap counts).
    pub(crate) fn with_keys(
        op: &Op,
        channels: usize,
        multiplier_key: &str,
        shift_key: &str,
    ) -> Result<Rq, InterpError> {
        let bad =
            |msg: String| InterpError::Invalid(format!("'{}'{}: {msg}", op.name, loc_suffix(op)));
        let ints = |key: &str| -> Result<Vec<i32>, InterpError> {
            Ok(op.int_list(key)?.iter().map(|&v| v as i32).collect())
        };
        let (multiplier, shift) = (ints(multiplier_key)?, ints(shift_key)?);
        let neg = match op.attrs.contains_key("neg_multiplier") {
            true => Some((ints("neg_multiplier")?, ints("neg_shift")?)),
            false => None,
        };
        if let Some((nm, ns)) = &neg {
            if nm.len() != multiplier.len() || ns.len() != multiplier.len() {
                return Err(bad(format!(
                    "{} negative-side multipliers and {} shifts for {} multipliers",
                    nm.len(),
                    ns.len(),
                    multiplier.len()
                )));
            }
        }
        let hswish = match op.attrs.contains_key("hswish") {
            true => {
                let h = op.int_list("hswish")?;
                let out: Vec<[i64; 3]> = h
                    .get(2..)
                    .unwrap_or(&[])
                    .chunks_exact(3)
                    .map(|t| [t[0], t[1], t[2]])
                    .collect();
                let valid = |&[m, s, bias]: &[i64; 3]| {
                    (1..=62).contains(&s) && m.abs() < 1 << 24 && bias.abs() < 1 << 58
                };
                match h[..] {
                    [three, six, ref rest @ ..]
                        if (0..=1 << 15).contains(&six)
                            && (rest.len() == 3 || rest.len() == 3 * channels)
                            && out.iter().all(valid) =>
                    {
                        Some((three, six, out))
                    }
                    _ => return Err(bad("hswish needs [three, six ≤ 2^15, then |multiplier| < 2^24, shift in [1, 62], |bias| < 2^58 once or per output channel]".into())),
                }
            }
            false => None,
        };
        let swish = match op.attrs.contains_key("swish") {
            true => {
                let (_, bytes) = op.dense("sigmoid_table")?;
                let table = model::dense_i32(bytes);
                match op.int_list("swish")?[..] {
                    [m, s, bias]
                        if (1..=62).contains(&s)
                            && m.abs() < 1 << 24
                            && bias.abs() < 1 << 58
                            && table.len() == 257
                            && table.iter().all(|t| (0..=1 << 15).contains(t)) =>
                    {
                        Some(([m, s, bias], table))
                    }
                    _ => return Err(bad("swish needs [|multiplier| < 2^24, shift in [1, 62], |bias| < 2^58] and a 257-entry Q15 sigmoid_table".into())),
                }
            }
            false => None,
        };
        let mut all_shifts = shift.iter().chain(neg.iter().flat_map(|n| n.1.iter()));
        if let Some(s) = all_shifts.find(|s| !(1..=62).contains(*s)) {
            return Err(bad(format!("shift {s} is outside [1, 62]")));
        }
        if multiplier.len() != shift.len()
            || (multiplier.len() != 1 && multiplier.len() != channels)
        {
            return Err(bad(format!(
                "{} multipliers and {} shifts for {channels} channels",
                multiplier.len(),
                shift.len()
            )));
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

/// Values of a run: integer tensors, or floats at the host boundary.
#[derive(Clone, Debug)]
enum Val {
    I(Vec<i32>),
    F(Vec<f32>),
}

/// A tile-level function prepared for repeated execution.
pub struct IntProgram<'f> {
    func: &'f Func,
    consts: Vec<Option<Vec<i32>>>,
}

impl<'f> IntProgram<'f> {
    pub fn new(func: &'f Func) -> Result<Self, InterpError> {
        let mut consts = vec![None; func.values.len()];
        for op in &func.ops {
            match op.name.as_str() {
                "tile.const" => {
                    let (ty, bytes) = op.dense("value")?;
                    let data = match ty.elem() {
                        Some(Elem::Int(8)) => bytes.iter().map(|&b| b as i8 as i32).collect(),
                        Some(Elem::Int(32)) => model::dense_i32(bytes),
                        _ => {
                            return Err(InterpError::Invalid(format!(
                                "tile.const{}: only i8 and i32 constants are supported",
                                loc_suffix(op)
                            )))
                        }
                    };
                    consts[op.results[0]] = Some(data);
                }
                "tile.quantize"
                | "tile.dequantize"
                | "tile.conv2d"
                | "tile.fully_connected"
                | "tile.requant"
                | "tile.clamp"
                | "tile.max_pool2d"
                | "tile.transpose"
                | "tile.reshape"
                | "tile.lut"
                | "tile.depthwise_conv2d"
                | "tile.avg_pool2d"
                | "tile.add"
                | "tile.mul"
                | "tile.softmax"
                | "tile.slice"
                | "tile.concat"
                | "tile.matmul"
                | "tile.layer_norm"
                | "tile.resize"
                | "tile.transpose_conv2d"
                | "tile.squeeze_excite" => {}
                _ => return Err(InterpError::unsupported("integer", op, SUPPORTED)),
            }
        }
        Ok(IntProgram { func, consts })
    }

    pub fn input_len(&self) -> usize {
        self.func.ty(self.func.args[0]).num_elements()
    }

    /// Runs one float sample through the host boundary and the integer ops.
    pub fn run(&self, input: &[f32]) -> Result<Vec<Vec<f32>>, InterpError> {
        self.run_observed(input, |_, _| {})
    }

    /// [`Self::run`], calling `observe(value, integers)` for every integer result.
    pub fn run_observed(
        &self,
        input: &[f32],
        mut observe: impl FnMut(usize, &[i32]),
    ) -> Result<Vec<Vec<f32>>, InterpError> {
        let f = self.func;
        let want = self.input_len();
        if input.len() != want {
            return Err(InterpError::InputSize {
                got: input.len(),
                want,
                shape: f.ty(f.args[0]).shape().unwrap_or(&[]).to_vec(),
            });
        }
        let mut vals: Vec<Option<Val>> = vec![None; f.values.len()];
        vals[f.args[0]] = Some(Val::F(input.to_vec()));
        for op in &f.ops {
            let r = op.results[0];
            let int = |i: usize| match vals[op.operands[i]].as_ref() {
                Some(Val::I(v)) => Ok(v.as_slice()),
                Some(Val::F(_)) => Err(InterpError::Invalid(format!(
                    "'{}'{} expects an integer operand",
                    op.name,
                    loc_suffix(op)
                ))),
                None => match self.consts[op.operands[i]].as_deref() {
                    Some(c) => Ok(c),
                    None => Err(InterpError::Invalid(format!(
                        "'{}' reads an undefined value",
                        op.name
                    ))),
                },
            };
            let out = match op.name.as_str() {
                "tile.const" => continue,
                "tile.quantize" => {
                    let Some(Val::F(x)) = vals[op.operands[0]].as_ref() else {
                        return Err(InterpError::Invalid(
                            "tile.quantize expects a float operand".into(),
                        ));
                    };
                    let (scale, zp) = (op.float("scale")?, op.int("zero_point")?);
                    let (lo, hi) = storage_range(f, r);
                    Val::I(
                        x.iter()
                            .map(|&v| quantize(v, scale, zp, lo, hi) as i32)
                            .collect(),
                    )
                }
                "tile.dequantize" => {
                    let (scale, zp) = (op.float("scale")?, op.int("zero_point")?);
                    Val::F(
                        int(0)?
                            .iter()
                            .map(|&q| dequantize(q as i64, scale, zp))
                            .collect(),
                    )
                }
                "tile.conv2d" => Val::I(conv2d(f, op, int(0)?, int(1)?, int(2)?)?),
                "tile.depthwise_conv2d" => {
                    Val::I(depthwise_conv2d(f, op, int(0)?, int(1)?, int(2)?)?)
                }
                "tile.fully_connected" => {
                    let (xs, ws) = (dims(f, op.operands[0]), dims(f, op.operands[1]));
                    let rq = Rq::of(op, ws[0])?;
                    let (x, w, b) = (int(0)?, int(1)?, int(2)?);
                    let (n, k, m) = (xs[0], xs[1], ws[0]);
                    let mut out = Vec::with_capacity(n * m);
                    for i in 0..n {
                        let xr = &x[i * k..][..k];
                        for o in 0..m {
                            let acc: i64 = b[o] as i64
                                + xr.iter()
                                    .zip(&w[o * k..][..k])
                                    .map(|(&a, &b)| (a as i64 - rq.input_zp) * b as i64)
                                    .sum::<i64>();
                            out.push(requant(acc, &rq, o));
                        }
                    }
                    Val::I(out)
                }
                "tile.requant" => {
                    let channels = *dims(f, r).last().unwrap_or(&1);
                    let rq = Rq::of(op, channels)?;
                    Val::I(
                        int(0)?
                            .iter()
                            .enumerate()
                            .map(|(i, &v)| {
                                requant(v as i64 - rq.input_zp, &rq, i % channels.max(1))
                            })
                            .collect(),
                    )
                }
                "tile.clamp" => {
                    let (lo, hi) = (op.int("min")? as i32, op.int("max")? as i32);
                    Val::I(int(0)?.iter().map(|&v| v.clamp(lo, hi)).collect())
                }
                "tile.max_pool2d" => Val::I(pool2d(
                    op,
                    int(0)?,
                    &dims(f, op.operands[0]),
                    &dims(f, r),
                    -128,
                    i32::max,
                    |a, _| a,
                )?),
                "tile.transpose" => {
                    let perms: Vec<usize> = op.ints("perms")?.iter().map(|&p| p as usize).collect();
                    Val::I(transpose(int(0)?, &dims(f, op.operands[0]), &perms))
                }
                "tile.reshape" => Val::I(int(0)?.to_vec()),
                "tile.avg_pool2d" => Val::I(layers::avg_pool2d(f, op, int(0)?)?),
                "tile.add" | "tile.mul" => Val::I(layers::binary(f, op, int(0)?, int(1)?)?),
                "tile.softmax" => Val::I(layers::softmax(f, op, int(0)?)?),
                "tile.matmul" => Val::I(layers::matmul(f, op, int(0)?, int(1)?)?),
                "tile.layer_norm" => Val::I(layers::layer_norm(f, op, int(0)?)?),
                "tile.squeeze_excite" => Val::I(layers::squeeze_excite(
                    f,
                    op,
                    int(0)?,
                    [int(1)?, int(2)?, int(3)?, int(4)?],
                )?),
                "tile.resize" => Val::I(layers::resize(f, op, int(0)?)?),
                "tile.transpose_conv2d" => {
                    Val::I(layers::transpose_conv2d(f, op, int(0)?, int(1)?, int(2)?)?)
                }
                "tile.slice" => Val::I(slice(
                    int(0)?,
                    &dims(f, op.operands[0]),
                    &op.ints("start")?,
                    &dims(f, r),
                )),
                "tile.concat" => {
                    let parts = (0..op.operands.len())
                        .map(|k| Ok((int(k)?, dims(f, op.operands[k]))))
                        .collect::<Result<Vec<_>, InterpError>>()?;
                    Val::I(concat(&parts, op.int("axis")? as usize, &dims(f, r)))
                }
                "tile.lut" => {
                    let (_, table) = op.dense("table")?;
                    if table.len() != 256 {
                        return Err(InterpError::Invalid(format!(
                            "tile.lut{}: the table needs 256 entries",
                            loc_suffix(op)
                        )));
                    }
                    Val::I(
                        int(0)?
                            .iter()
                            .map(|&v| table[(v + 128).clamp(0, 255) as usize] as i8 as i32)
                            .collect(),
                    )
                }
                _ => return Err(InterpError::unsupported("integer", op, SUPPORTED)),
            };
            if let Val::I(v) = &out {
                observe(r, v);
            }
            vals[r] = Some(out);
        }
        f.returns
            .iter()
            .map(|&r| match vals[r].take() {
                Some(Val::F(v)) => Ok(v),
                _ => Err(InterpError::Invalid(
                    "tile functions must return dequantized (f32) values".into(),
                )),
            })
            .collect()
    }
}

fn storage_range(f: &Func, v: usize) -> (i64, i64) {
    match f.ty(v).elem() {
        Some(Elem::Int(b)) => (-(1i64 << (b - 1)), (1i64 << (b - 1)) - 1),
        _ => (-128, 127),
    }
}

fn conv2d(f: &Func, op: &Op, x: &[i32], w: &[i32], b: &[i32]) -> Result<Vec<i32>, InterpError> {
    let (xs, ws, os) = (
        dims(f, op.operands[0]),
        dims(f, op.operands[1]),
        dims(f, op.results[0]),
    );
    let rq = Rq::of(op, ws[0])?;
    let pad = op.ints("pad")?;
    let stride = op.ints("stride")?;
    let dil = op.ints("dilation")?;
    let (h, wd, c) = (xs[1] as i64, xs[2] as i64, xs[3]);
    let (oc, kh, kw) = (ws[0], ws[1], ws[2]);
    let (oh, ow) = (os[1], os[2]);
    let mut out = vec![0i32; oh * ow * oc];
    let mut acc = vec![0i64; oc];
    for oy in 0..oh {
        for ox in 0..ow {
            for (a, &bias) in acc.iter_mut().zip(b) {
                *a = bias as i64;
            }
            for ky in 0..kh {
                let iy = oy as i64 * stride[0] - pad[0] + ky as i64 * dil[0];
                if iy < 0 || iy >= h {
                    continue;
                }
                for kx in 0..kw {
                    let ix = ox as i64 * stride[1] - pad[2] + kx as i64 * dil[1];
                    if ix < 0 || ix >= wd {
                        continue;
                    }
                    let xv = &x[((iy * wd + ix) as usize) * c..][..c];
                    for (o, a) in acc.iter_mut().enumerate() {
                        let wv = &w[((o * kh + ky) * kw + kx) * c..][..c];
                        let s: i32 = xv
                            .iter()
                            .zip(wv)
                            .map(|(&p, &q)| (p - rq.input_zp as i32) * q)
                            .sum();
                        *a += s as i64;
                    }
                }
            }
            for (o, &a) in acc.iter().enumerate() {
                out[(oy * ow + ox) * oc + o] = requant(a, &rq, o);
            }
        }
    }
    Ok(out)
}

/// NHWC depthwise convolution, weights [KH, KW, C, 1]: output channel c sums input channel c.
fn depthwise_conv2d(
    f: &Func,
    op: &Op,
    x: &[i32],
    w: &[i32],
    b: &[i32],
) -> Result<Vec<i32>, InterpError> {
    let (xs, ws, os) = (
        dims(f, op.operands[0]),
        dims(f, op.operands[1]),
        dims(f, op.results[0]),
    );
    let rq = Rq::of(op, os[3])?;
    let (pad, stride, dil) = (op.ints("pad")?, op.ints("stride")?, op.ints("dilation")?);
    let (h, wd, c) = (xs[1] as i64, xs[2] as i64, xs[3]);
    let (kh, kw) = (ws[0], ws[1]);
    let (oh, ow) = (os[1], os[2]);
    let mut out = vec![0i32; oh * ow * c];
    for oy in 0..oh {
        for ox in 0..ow {
            for ch in 0..c {
                let mut acc = b[ch] as i64;
                for ky in 0..kh {
                    let iy = oy as i64 * stride[0] - pad[0] + ky as i64 * dil[0];
                    for kx in 0..kw {
                        let ix = ox as i64 * stride[1] - pad[2] + kx as i64 * dil[1];
                        if iy < 0 || iy >= h || ix < 0 || ix >= wd {
                            continue;
                        }
                        let xv = x[((iy * wd + ix) as usize) * c + ch] as i64 - rq.input_zp;
                        acc += xv * w[(ky * kw + kx) * c + ch] as i64;
                    }
                }
                out[(oy * ow + ox) * c + ch] = requant(acc, &rq, ch);
            }
        }
    }
    Ok(out)
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
}
