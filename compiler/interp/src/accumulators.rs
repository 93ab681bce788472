//! The accumulator analysis of the tile level: for every tile op, a bound on the magnitude of
//! each sum and product that the C runtime (`runtime/c/nibble_runtime.c`) — and this crate's
//! integer interpreter — holds in a fixed-width integer, and the width of the C type holding
//! it. A bound is made from the operands' element types and zero points (|x − zp| ≤ 255 for
//! int8), the op's shape (taps, reduced length, channels) and its constant parameters (weights
//! per output channel, biases, multipliers, tables), so it holds for every input, not only the
//! calibration vectors.
//!
//! | op | accumulator (C type) | bound |
//! |---|---|---|
//! | conv / depthwise / transposed conv / fully connected | `acc` (int32) | per channel \|b\| + Σ\|w\|·max\|x − zp\| |
//! | every fused requantization | `acc · multiplier` (int64) | acc bound · max\|multiplier\|; hard-swish / swish products |
//! | average pool | window sum (int32, or int64 with `acc_bits = 64`) | taps · max\|x − zp\| |
//! | matmul | `acc` (int32) | k · max\|a − za\| · max\|b − zb\| |
//! | add / mul | the rescaled sum or product (int64) | operand spans · multipliers |
//! | softmax | denominator Σ exp (< 2^32, so the reciprocal's 2^(30 + bits) fits int64) | c · max exp |
//! | layer norm | Σ (c·x − Σx)² (uint64) | c³ · (range)² / 4; c ≤ 4096 (row buffer) |
//! | squeeze-excite | channel sums (int32), pooled, hidden and gate dot products (int64) | hw · 128, then through every stage |
//! | resize (bilinear) | interpolation sum · multiplier (int64) | max\|x − zp\| · nx · ny · multiplier |
//!
//! [`check`] returns every accumulator whose bound exceeds its type. `nibble-check-accumulators`
//! widens an average pool's window sum to int64 (`acc_bits = 64`, the runtime's
//! `nb_avg_pool2d_wide_s8`) where only the int32 sum overflows, and refuses the rest with the
//! op, its location and the bound; [`crate::integer::IntProgram::new`] refuses a program with
//! any of them, so the interpreter never wraps silently where the C would.

use crate::{loc_suffix, InterpError};
use nibble_ir::{model, Elem, Func, Op, ValueId};
use nibble_tile as tile;

const I32_MAX: u128 = i32::MAX as u128;
const I64_MAX: u128 = i64::MAX as u128;

/// The C type holding an accumulator, as the bound it must not exceed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Limit {
    I32,
    I64,
    U64,
    /// Below 2^32 (softmax's denominator: its reciprocal 2^(30 + bits) must fit int64).
    Below2To32,
    /// At most 4096 (the runtime's row and channel buffers).
    Buffer4096,
}

impl Limit {
    fn max(self) -> u128 {
        match self {
            Limit::I32 => I32_MAX,
            Limit::I64 => I64_MAX,
            Limit::U64 => u64::MAX as u128,
            Limit::Below2To32 => (1 << 32) - 1,
            Limit::Buffer4096 => 4096,
        }
    }

    fn name(self) -> &'static str {
        match self {
            Limit::I32 => "int32 (2^31 − 1)",
            Limit::I64 => "int64 (2^63 − 1)",
            Limit::U64 => "uint64 (2^64 − 1)",
            Limit::Below2To32 => "2^32 − 1",
            Limit::Buffer4096 => "the runtime's buffers (4096)",
        }
    }
}

/// One accumulator of a tile op that its C type cannot be proven to hold.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Overflow {
    /// The op's index in the function.
    pub op: usize,
    /// The op's name and location (`'tile.avg_pool2d' at loc("pool")`).
    pub at: String,
    /// Which accumulator (`int32 window sum`).
    pub what: String,
    /// How its bound is made (`8601600 taps × max|x − zp| 255`).
    pub how: String,
    pub bound: u128,
    pub limit: Limit,
    /// An int64 accumulator would hold it and the op has one (average pooling).
    pub widen: bool,
}

impl std::fmt::Display for Overflow {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}: its {} may overflow: {} = {} exceeds {}",
            self.at,
            self.what,
            self.how,
            self.bound,
            self.limit.name()
        )
    }
}

/// One accumulator of an op: what it is (`int32 window sum: 9 taps × …`, split at the first
/// ": "), its bound, its type.
struct Acc {
    what: String,
    bound: u128,
    limit: Limit,
    widen: bool,
}

fn acc(what: String, bound: u128, limit: Limit) -> Acc {
    Acc {
        what,
        bound,
        limit,
        widen: false,
    }
}

/// The accumulators of `f`'s ops that exceed their C types, in op order.
pub fn check(f: &Func) -> Result<Vec<Overflow>, InterpError> {
    let mut consts: Vec<Option<usize>> = vec![None; f.values.len()];
    for (i, op) in f.ops.iter().enumerate() {
        if op.name == tile::CONST {
            consts[op.results[0]] = Some(i);
        }
    }
    // A tile of a constant brought into SRAM by a DMA load: bounded by the whole constant
    // (every channel's bound holds for any slice of the channels).
    let mut sources: Vec<Option<ValueId>> = vec![None; f.values.len()];
    for op in f.ops.iter().filter(|o| o.name == tile::DMA_LOAD) {
        if let (Some(&dram), Some(&r)) = (op.operands.first(), op.results.first()) {
            if consts[dram].is_some() {
                sources[r] = Some(dram);
            }
        }
    }
    let cx = Cx { f, consts, sources };
    let mut out = Vec::new();
    for (i, op) in f.ops.iter().enumerate() {
        for a in cx.accumulators(op)? {
            if a.bound > a.limit.max() {
                let (what, how) = a.what.split_once(": ").unwrap_or((&a.what, ""));
                out.push(Overflow {
                    op: i,
                    at: format!("'{}'{}", op.name, loc_suffix(op)),
                    what: what.to_string(),
                    how: how.to_string(),
                    bound: a.bound,
                    limit: a.limit,
                    widen: a.widen,
                });
            }
        }
    }
    Ok(out)
}

/// The function analysed and its constants (value → `tile.const` op).
struct Cx<'f> {
    f: &'f Func,
    consts: Vec<Option<usize>>,
    /// Per value: the whole constant a DMA load brought it from.
    sources: Vec<Option<ValueId>>,
}

impl Cx<'_> {
    /// max |x − zp| over the values of `v`'s element type (int8, int16; wider is taken as
    /// int32, which no tile activation is).
    fn span(&self, v: ValueId, zp: i64) -> u128 {
        let bits = match self.f.ty(v).elem() {
            Some(Elem::Int(b)) if *b <= 32 => *b,
            _ => 32,
        };
        let (lo, hi) = (-(1i128 << (bits - 1)), (1i128 << (bits - 1)) - 1);
        (hi - zp as i128).max(zp as i128 - lo).unsigned_abs()
    }

    /// The integer data of a constant operand (i8 or i32), if it is one.
    fn data(&self, v: ValueId) -> Option<Vec<i64>> {
        let op = &self.f.ops[(*self.consts.get(v)?)?];
        let nibble_qnt::Const { ty, bytes } = tile::const_data(op).ok()?;
        match ty.elem() {
            Some(Elem::Int(8)) => Some(bytes.iter().map(|&b| b as i8 as i64).collect()),
            Some(Elem::Int(32)) => {
                Some(model::dense_i32(bytes).into_iter().map(i64::from).collect())
            }
            _ => None,
        }
    }

    fn dims(&self, v: ValueId) -> Vec<u128> {
        let shape = self.f.ty(v).shape().unwrap_or(&[]);
        shape.iter().map(|&d| d.max(0) as u128).collect()
    }

    fn accumulators(&self, op: &Op) -> Result<Vec<Acc>, InterpError> {
        Ok(match op.name.as_str() {
            tile::CONV2D
            | tile::DEPTHWISE_CONV2D
            | tile::FULLY_CONNECTED
            | tile::TRANSPOSE_CONV2D => self.layer(op)?,
            tile::AVG_POOL2D => self.avg_pool(op)?,
            tile::MATMUL => self.matmul(op)?,
            tile::ADD | tile::MUL => self.binary(op)?,
            tile::REQUANT => {
                let rq = tile::Requant::from_op(op)?;
                requant(&rq, self.span(op.operands[0], rq.input_zp), &[])
            }
            tile::RESIZE => self.resize(op)?,
            tile::SOFTMAX => self.softmax(op)?,
            tile::LAYER_NORM => self.layer_norm(op)?,
            tile::SQUEEZE_EXCITE => self.squeeze_excite(op)?,
            _ => Vec::new(),
        })
    }

    /// Conv, depthwise, transposed conv, fully connected: |bias| + Σ|w|·max|x − zp| per output
    /// channel in int32 (every weight of the channel taken as a tap: a transposed conv's
    /// outputs read fewer), then the requantization.
    fn layer(&self, op: &Op) -> Result<Vec<Acc>, InterpError> {
        let rq = tile::Requant::from_op(op)?;
        let (x, w, b) = match op.operands[..] {
            [x, w, b, ..] => (x, w, b),
            _ => return Ok(Vec::new()),
        };
        let source = |v: ValueId| self.sources[v].unwrap_or(v);
        let (w, b) = (source(w), source(b));
        let d = self.span(x, rq.input_zp);
        let wd = self.dims(w);
        let total: u128 = wd.iter().product();
        // Weights per output channel: [KH, KW, C, 1] for a depthwise conv, else channel-first.
        let (channels, depthwise) = if op.name == tile::DEPTHWISE_CONV2D {
            (*wd.get(2).unwrap_or(&1), true)
        } else {
            (*wd.first().unwrap_or(&1), false)
        };
        let channels = channels.max(1) as usize;
        let per = total / channels as u128;
        let mut abs_w = vec![per * 128; channels];
        if let Some(data) = self.data(w) {
            abs_w = vec![0; channels];
            for (j, v) in data.iter().enumerate() {
                let c = if depthwise {
                    j % channels
                } else {
                    j / per.max(1) as usize
                };
                if let Some(s) = abs_w.get_mut(c) {
                    *s += v.unsigned_abs() as u128;
                }
            }
        }
        let bias = self.data(b).unwrap_or_default();
        let (mut worst, mut at) = (0u128, 0usize);
        for (c, sw) in abs_w.iter().enumerate() {
            let bc = bias
                .get(c)
                .or(bias.first())
                .map_or(I32_MAX, |v| v.unsigned_abs() as u128);
            let v = bc + sw * d;
            if v > worst {
                (worst, at) = (v, c);
            }
        }
        let what = format!(
            "int32 accumulator: output channel {at}: |bias| + Σ|w| {} × max|x − zp| {d}",
            abs_w.get(at).copied().unwrap_or(0)
        );
        let mut out = vec![acc(what, worst, Limit::I32)];
        out.extend(requant(&rq, worst.min(I32_MAX + 1), &[]));
        Ok(out)
    }

    /// Average pool: the window sum (taps × max|x − zp|) in int32 unless `acc_bits = 64`, then
    /// each tap count's sum times its multiplier in int64.
    fn avg_pool(&self, op: &Op) -> Result<Vec<Acc>, InterpError> {
        let p = tile::AvgPool2d::from_op(op)?;
        let taps: u128 = p.window.kernel.iter().map(|&k| k.max(0) as u128).product();
        let d = self.span(op.operands[0], p.rq.input_zp);
        let wide = p.acc_bits == Some(64);
        let sum = taps * d;
        let mut a = acc(
            format!(
                "{} window sum: {taps} taps × max|x − zp| {d}",
                if wide { "int64" } else { "int32" }
            ),
            sum,
            if wide { Limit::I64 } else { Limit::I32 },
        );
        a.widen = !wide && sum <= I64_MAX;
        // Entry j of a per-tap-count table requantizes sums of j + 1 taps.
        let per_taps: Vec<u128> = if p.rq.multiplier.len() == 1 {
            vec![sum]
        } else {
            (1..=p.rq.multiplier.len() as u128)
                .map(|t| t.min(taps) * d)
                .collect()
        };
        let mut out = vec![a];
        out.extend(requant(&p.rq, 0, &per_taps));
        Ok(out)
    }

    /// Matmul of two activations: k products of the zero-point-free operands in int32.
    fn matmul(&self, op: &Op) -> Result<Vec<Acc>, InterpError> {
        let p = tile::Matmul::from_op(op)?;
        let [a, b] = match op.operands[..] {
            [a, b] => [a, b],
            _ => return Ok(Vec::new()),
        };
        let k = self.dims(a).last().copied().unwrap_or(0);
        let (da, db) = (self.span(a, p.rq.input_zp), self.span(b, p.rhs_zp));
        let sum = k * da * db;
        let what = format!("int32 accumulator: {k} products × max|a − za| {da} × max|b − zb| {db}");
        let mut out = vec![acc(what, sum, Limit::I32)];
        out.extend(requant(&p.rq, sum.min(I32_MAX + 1), &[]));
        Ok(out)
    }

    /// Add: (a − za)·ma + (b − zb)·mb + rounding; mul: (a − za)(b − zb)·m + rounding; int64.
    fn binary(&self, op: &Op) -> Result<Vec<Acc>, InterpError> {
        let [a, b] = match op.operands[..] {
            [a, b] => [a, b],
            _ => return Ok(Vec::new()),
        };
        let (io, ms, shift) = if op.name == tile::ADD {
            let p = tile::Add::from_op(op)?;
            (
                p.io,
                p.multiplier.iter().map(|&m| m as i64).collect(),
                p.shift,
            )
        } else {
            let p = tile::Mul::from_op(op)?;
            (p.io, vec![p.multiplier], p.shift)
        };
        let (da, db) = (self.span(a, io.input_zp[0]), self.span(b, io.input_zp[1]));
        let m = |i: usize| ms.get(i).map_or(0, |v: &i64| v.unsigned_abs() as u128);
        let round = 1u128 << shift.clamp(1, 64).saturating_sub(1);
        let (what, v) = if op.name == tile::ADD {
            (
                format!(
                    "int64 sum: max|a − za| {da} × |ma| {} + max|b − zb| {db} × |mb| {}",
                    m(0),
                    m(1)
                ),
                da * m(0) + db * m(1) + round,
            )
        } else {
            (
                format!(
                    "int64 product: max|a − za| {da} × max|b − zb| {db} × |m| {}",
                    m(0)
                ),
                da * db * m(0) + round,
            )
        };
        Ok(vec![acc(what, v, Limit::I64)])
    }

    /// Bilinear resize: the four weighted taps (weights nx, ny) times the multiplier.
    fn resize(&self, op: &Op) -> Result<Vec<Acc>, InterpError> {
        let p = tile::Resize::from_op(op)?;
        let d = self.span(op.operands[0], p.rq.input_zp);
        let [ny, _, nx, _] = p.geometry.scale;
        let sum = d * ny.unsigned_abs() as u128 * nx.unsigned_abs() as u128;
        Ok(requant(&p.rq, sum, &[]))
    }

    /// Softmax: the denominator, c table entries, below 2^32.
    fn softmax(&self, op: &Op) -> Result<Vec<Acc>, InterpError> {
        let p = tile::Softmax::from_op(op)?;
        let c = self.dims(op.operands[0]).last().copied().unwrap_or(0);
        let e = p
            .exp_table
            .iter()
            .map(|v| v.unsigned_abs() as u128)
            .max()
            .unwrap_or(0);
        let what = format!("denominator: {c} terms × max exp {e}");
        Ok(vec![acc(what, c * e, Limit::Below2To32)])
    }

    /// LayerNorm: Σ (c·x − Σx)² ≤ c³·range²/4 in uint64 (plus eps), c within the row buffer,
    /// then the normalised value (≤ 2^30) times each multiplier plus bias in int64.
    fn layer_norm(&self, op: &Op) -> Result<Vec<Acc>, InterpError> {
        let p = tile::LayerNorm::from_op(op)?;
        let x = op.operands[0];
        let c = self.dims(x).last().copied().unwrap_or(0);
        let range = self.span(x, 0) * 2 - 1;
        let q = c * c * c * range * range / 4 + p.params.eps_term.unsigned_abs() as u128;
        let m = p
            .params
            .multiplier
            .iter()
            .map(|v| v.unsigned_abs() as u128)
            .max()
            .unwrap_or(0);
        let bias = p
            .params
            .bias
            .iter()
            .map(|v| v.unsigned_abs() as u128)
            .max()
            .unwrap_or(0);
        Ok(vec![
            acc(
                format!("row buffer: {c} channels (the runtime's is 4096)"),
                c,
                Limit::Buffer4096,
            ),
            acc(
                format!("uint64 sum of squares: {c}³ × range {range}² / 4 + eps"),
                q,
                Limit::U64,
            ),
            acc(
                format!("int64 output: 2^30 × |multiplier| {m} + |bias| {bias}"),
                (m << 30) + bias,
                Limit::I64,
            ),
        ])
    }

    /// Squeeze-excite: channel sums of raw int8 values (int32), then every fixed-point stage of
    /// the gate (int64), each bound from the one before; c and the hidden width within the
    /// runtime's buffers.
    fn squeeze_excite(&self, op: &Op) -> Result<Vec<Acc>, InterpError> {
        let tile::SqueezeExcite { params: p, io, .. } = tile::SqueezeExcite::from_op(op)?;
        let [x, w1, b1, w2, b2] = match op.operands[..] {
            [x, w1, b1, w2, b2] => [x, w1, b1, w2, b2],
            _ => return Ok(Vec::new()),
        };
        let xd = self.dims(x);
        let c = xd.last().copied().unwrap_or(1).max(1);
        let hw = xd.iter().product::<u128>() / c;
        let cm = p.hidden_multiplier.len() as u128;
        let d = self.span(x, io.input_zp);
        let max = |v: &[i32]| {
            v.iter()
                .map(|m| m.unsigned_abs() as u128)
                .max()
                .unwrap_or(0)
        };
        // max over rows of |bias| + Σ|w|·v, for `rows` rows of weights `w`.
        let dot = |w: ValueId, b: ValueId, rows: u128, v: u128| {
            let bias = self.data(b).unwrap_or_default();
            let bmax = bias
                .iter()
                .map(|b| b.unsigned_abs() as u128)
                .max()
                .unwrap_or(I32_MAX);
            let row_sum = match self.data(w) {
                Some(data) => {
                    let len = (data.len() as u128 / rows.max(1)).max(1) as usize;
                    let sums = data
                        .chunks(len)
                        .map(|r| r.iter().map(|w| w.unsigned_abs() as u128).sum());
                    sums.max().unwrap_or(0)
                }
                None => 128 * self.dims(w).iter().product::<u128>() / rows.max(1),
            };
            bmax.saturating_add(row_sum.saturating_mul(v))
        };
        let shifted = |v: u128, s: i32| (v >> s.clamp(0, 127)) + 1;
        let pooled = (hw * d).saturating_mul(p.pool.0.unsigned_abs() as u128);
        let pooled_v = shifted(pooled, p.pool.1);
        let hidden_dot = dot(w1, b1, cm, pooled_v);
        let hidden_rescaled = hidden_dot.saturating_mul(max(&p.hidden_multiplier));
        let h = shifted(
            hidden_rescaled,
            p.hidden_shift.iter().copied().min().unwrap_or(0),
        );
        let (silu, hidden) = if p.hidden_table.is_empty() {
            (0, (p.hidden_max.unsigned_abs() as u128).min(h))
        } else {
            let v = h.saturating_mul(max(&p.hidden_table));
            (v, shifted(v, p.hidden_out_shift))
        };
        let gate_dot = dot(w2, b2, c, hidden);
        let gate = gate_dot.saturating_mul(max(&p.gate_multiplier));
        let out = d.saturating_mul(32768 * p.output.0.unsigned_abs() as u128);
        let i64s = [
            (
                format!("int64 pooled sum: {hw} × max|x − zp| {d} × pool multiplier"),
                pooled,
            ),
            (
                "int64 hidden dot product: |b1| + Σ|w1| × pooled".into(),
                hidden_dot,
            ),
            (
                "int64 hidden rescaling: dot product × multiplier".into(),
                hidden_rescaled,
            ),
            ("int64 hidden SiLU product: hidden × sigmoid".into(), silu),
            (
                "int64 gate dot product: |b2| + Σ|w2| × hidden".into(),
                gate_dot,
            ),
            (
                "int64 gate rescaling: dot product × multiplier".into(),
                gate,
            ),
            (
                format!("int64 output product: max|x − zp| {d} × gate 32768 × multiplier"),
                out,
            ),
        ];
        let mut accs = vec![
            acc(
                format!("channel buffer: {c} channels"),
                c,
                Limit::Buffer4096,
            ),
            acc(
                format!("hidden buffer: {cm} channels"),
                cm,
                Limit::Buffer4096,
            ),
            acc(
                format!("int32 channel sum: {hw} pixels × 128"),
                hw * 128,
                Limit::I32,
            ),
        ];
        accs.extend(i64s.into_iter().map(|(w, b)| acc(w, b, Limit::I64)));
        Ok(accs)
    }
}

/// The fused requantization of an accumulator bounded by `acc` (or, for an average pool's
/// table, by `per_entry[j]` for entry j): `acc · multiplier` in int64, and the products of a
/// fused hard-swish or swish.
fn requant(rq: &tile::Requant, acc: u128, per_entry: &[u128]) -> Vec<Acc> {
    let abs = |v: &i32| v.unsigned_abs() as u128;
    let mut m: Vec<u128> = rq.multiplier.iter().map(abs).collect();
    if let Some(neg) = &rq.neg {
        m.extend(neg.multiplier.iter().map(abs));
    }
    let product = if per_entry.is_empty() {
        acc * m.iter().copied().max().unwrap_or(0)
    } else {
        per_entry
            .iter()
            .zip(&m)
            .map(|(a, m)| a * m)
            .max()
            .unwrap_or(0)
    };
    let mut out = vec![acc_of("int64 rescaling: accumulator × multiplier", product)];
    // The activation's input is clamped to ±2^20 before these products.
    let v = 1u128 << 20;
    if let Some(h) = &rq.hswish {
        let worst = h.out.iter().map(|[m, _, b]| {
            v * h.six.unsigned_abs() as u128 * m.unsigned_abs() as u128 + b.unsigned_abs() as u128
        });
        out.push(acc_of(
            "int64 hard-swish product: 2^20 × six × multiplier + bias",
            worst.max().unwrap_or(0),
        ));
    }
    if let Some(s) = &rq.swish {
        let sig = s.table.iter().map(abs).max().unwrap_or(0);
        let [m, _, b] = s.out;
        let worst = v * sig * m.unsigned_abs() as u128 + b.unsigned_abs() as u128;
        out.push(acc_of(
            "int64 swish product: 2^20 × sigmoid × multiplier + bias",
            worst,
        ));
    }
    out
}

fn acc_of(what: &str, bound: u128) -> Acc {
    acc(what.to_string(), bound, Limit::I64)
}
