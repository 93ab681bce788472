//! The compile-time half of the runtime's int8 microkernels (`runtime/c/nibble_kernels.h`,
//! docs/kernels.md): a layer's weights, bias and requantization packed the way the kernels read
//! them. Weights go in blocks of 16 output channels × 4 consecutive k (one `vpdpbusd` operand a
//! 64-byte row), the input zero point is folded into the biases (`bias_s` for the signed
//! kernels, `bias_u` for VNNI's u8 activations), the requantization is expanded per channel and
//! padded to a multiple of 16 channels, `fast32` is chosen when every shift allows the 32-bit
//! epilogue and `wide` when the activation's bounds allow the 64-bit-first-rounding one,
//! hard-swish and swish output constants are also split into even/odd channels (rounding term
//! folded into the bias), and depthwise weights are written as `w32`, `w8` and the VBMI quads
//! `wq`.
//! The Rust twin of `pack_conv`/`pack_dw`/`pack_consts` in `runtime/c/tests/kernels_test.c`;
//! [`crate::kernels::micro`] writes the result as C. A layer whose requantization the kernels
//! do not implement (shifts outside [1, 62], a zero point outside int8, a malformed swish
//! table) gets an error saying why, and keeps its `nb_*` call.

use nibble_tile::Requant;

/// `NBK_PLAIN`, `NBK_PRELU`, `NBK_HSWISH`, `NBK_SWISH` of nibble_kernels.h.
pub(crate) const PLAIN: i32 = 0;
pub(crate) const PRELU: i32 = 1;
pub(crate) const HSWISH: i32 = 2;
pub(crate) const SWISH: i32 = 3;

/// Entries of a swish sigmoid table (`nb_swish.table`: 257 × Q15 over [−8, 8]).
const SIGMOID_ENTRIES: usize = 257;
/// The largest sigmoid table entry the vector epilogue takes (2^16: Q15 values are ≤ 2^15).
const SIGMOID_MAX: i64 = 1 << 16;

/// Padding channels' requantization (as the C twin): multiplier 2^30, shift 40.
const PAD_MULT: i32 = 1 << 30;
const PAD_SHIFT: i32 = 40;

/// `nbk_shape`: NHWC input h × w × c, oc output channels, kernel kh × kw, strides, pads (top,
/// left, bottom, right), dilations, output oh × ow.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Shape {
    pub h: i64,
    pub w: i64,
    pub c: i64,
    pub oc: i64,
    pub kh: i64,
    pub kw: i64,
    pub sh: i64,
    pub sw: i64,
    pub pt: i64,
    pub pl: i64,
    pub pb: i64,
    pub pr: i64,
    pub dh: i64,
    pub dw: i64,
    pub oh: i64,
    pub ow: i64,
}

impl Shape {
    /// The fields in `nbk_shape`'s order.
    pub(crate) fn fields(&self) -> [i64; 16] {
        let s = self;
        [
            s.h, s.w, s.c, s.oc, s.kh, s.kw, s.sh, s.sw, s.pt, s.pl, s.pb, s.pr, s.dh, s.dw, s.oh,
            s.ow,
        ]
    }

    /// Bytes of scratch the kernels need for this layer, 64-byte slack included
    /// (`scratch_bytes` of kernels_test.c, which runs every variant under ASan with exactly
    /// this much).
    pub(crate) fn scratch_bytes(&self) -> usize {
        let u = |v: i64| v.max(0) as usize;
        let kp = u((self.kh * self.kw * self.c + 3) & !3);
        let rows = (16384 / kp.max(1)).max(32);
        let plane = (u(self.oh - 1) * u(self.sh) + u(self.kh - 1) * u(self.dh) + 1)
            * (u(self.ow - 1) * u(self.sw) + u(self.kw) + 8)
            * 16
            + 128;
        let zprow = (u(self.w) + u(self.pl) + u(self.pr) + u(self.kw) * u(self.dw) + 1) * u(self.c);
        plane + (rows + 32) * kp * 2 + zprow + kp + 4096
    }
}

/// Hard-swish (or swish) output constants per padded channel, and their even/odd split per
/// block of 16.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct HardSwish {
    pub shift: Vec<i32>,
    pub mult: Vec<i64>,
    pub bias: Vec<i64>,
    /// [8 even channels][8 odd channels] per block, as int64 lanes.
    pub mult_eo: Vec<i64>,
    /// With the rounding term 2^(shift − 1) folded in.
    pub bias_eo: Vec<i64>,
    pub shift_eo: Vec<i64>,
}

/// The per-channel constants of `nbk_packed`, padded to `ocp` channels.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Consts {
    pub oc: usize,
    pub ocp: usize,
    pub bias_s: Vec<i32>,
    pub bias_u: Vec<i32>,
    pub mult: Vec<i32>,
    pub shift: Vec<i32>,
    /// PReLU's negative side (mode [`PRELU`]).
    pub neg: Option<(Vec<i32>, Vec<i32>)>,
    /// Modes [`HSWISH`] and [`SWISH`] (swish: its one output triple on every channel).
    pub hswish: Option<HardSwish>,
    /// Mode [`SWISH`]: the sigmoid table.
    pub sigmoid: Option<Vec<i32>>,
    pub mode: i32,
    pub zp: i32,
    pub out_zp: i32,
    pub lo: i32,
    pub hi: i32,
    pub three: i64,
    pub six: i64,
    pub fast32: bool,
    /// The activation's bounds hold (as for fast32) and the mode is not PReLU: the AVX-512
    /// epilogue rounds first on 64-bit lanes (any shift), the rest in 32-bit lanes.
    pub wide: bool,
}

/// A conv2d or fully connected layer, packed.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Conv {
    pub k: usize,
    pub kp: usize,
    /// (ocp / 16) · kp bytes: `w[((b·kp/4 + q)·16 + j)·4 + t] = w[16b + j][4q + t]`.
    pub w: Vec<i8>,
    pub consts: Consts,
}

/// A depthwise layer (multiplier 1), packed.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Depthwise {
    pub taps: usize,
    /// [taps][cp]: w as the int16 pair (w, 0).
    pub w32: Vec<i32>,
    /// [taps][cp].
    pub w8: Vec<i8>,
    /// The VBMI quads [cp/16][kh][2][64] (3×3 and 5×5 only: the only kernels that read them).
    pub wq: Option<Vec<i8>>,
    pub consts: Consts,
}

/// `n` rounded up to a multiple of `m`.
fn round_up(n: usize, m: usize) -> usize {
    n.div_ceil(m) * m
}

/// Entry `o` of a per-tensor (one value) or per-channel list.
fn per_channel<T: Copy>(v: &[T], o: usize) -> T {
    v[if v.len() == 1 { 0 } else { o }]
}

/// `v` expanded to `oc` channels (from one or `oc` values) and padded with `fill` to `ocp`.
fn padded<T: Copy>(v: &[T], oc: usize, ocp: usize, fill: T) -> Vec<T> {
    (0..ocp)
        .map(|o| if o < oc { per_channel(v, o) } else { fill })
        .collect()
}

/// Whether a per-tensor-or-channel list fits `oc` channels.
fn fits(len: usize, oc: usize) -> bool {
    len == 1 || len == oc
}

/// Checks the requantization is one the kernels compute exactly as `nb_requant`.
fn check(rq: &Requant, oc: usize) -> Result<(), &'static str> {
    let shift_ok = |s: &[i32]| s.iter().all(|&s| (1..=62).contains(&s));
    if let Some(w) = &rq.swish {
        if w.table.len() != SIGMOID_ENTRIES || !(1..=62).contains(&w.out[1]) {
            return Err("swish constants");
        }
    }
    if !(-128..=127).contains(&rq.input_zp) {
        return Err("input zero point outside int8");
    }
    if !fits(rq.multiplier.len(), oc) || rq.multiplier.len() != rq.shift.len() {
        return Err("multiplier count");
    }
    if !shift_ok(&rq.shift) {
        return Err("shift outside [1, 62]");
    }
    if let Some(h) = &rq.hswish {
        if !fits(h.out.len(), oc) || h.out.iter().any(|t| !(1..=62).contains(&t[1])) {
            return Err("hard-swish constants");
        }
    } else if let Some(n) = &rq.neg {
        if !fits(n.multiplier.len(), oc) || n.multiplier.len() != n.shift.len() {
            return Err("negative-side multiplier count");
        }
        if !shift_ok(&n.shift) {
            return Err("negative-side shift outside [1, 62]");
        }
    }
    Ok(())
}

/// The even/odd split of per-channel values: per block of 16, lanes 0–7 hold channels 0, 2, …,
/// 14 and lanes 8–15 channels 1, 3, …, 15.
fn even_odd<T: Copy>(v: &[T], ocp: usize, f: impl Fn(usize, T) -> i64) -> Vec<i64> {
    (0..ocp)
        .map(|o| {
            let (g, j) = (o & !15, o & 15);
            let src = g + if j < 8 { 2 * j } else { 2 * (j - 8) + 1 };
            f(src, v[src])
        })
        .collect()
}

/// Hard-swish or swish output constants (`out`: one triple m, s, bias, or one per channel),
/// and whether the vector epilogue is exact for them: the activation factor t (clamp(v + 3, 0,
/// 6) or the sigmoid) is within [0, t_max] with t_max < 2^31 and |2^20 · t_max · m| + |bias| +
/// 2^(s−1) < 2^62 on every channel (then the folded rounding term cannot overflow).
fn activation(out: &[[i64; 3]], t_max: i64, oc: usize, ocp: usize) -> (HardSwish, bool) {
    let col = |k: usize| -> Vec<i64> { out.iter().map(|t| t[k]).collect() };
    let shift: Vec<i32> = padded(&col(1), oc, ocp, PAD_SHIFT as i64)
        .into_iter()
        .map(|s| s as i32)
        .collect();
    let mult = padded(&col(0), oc, ocp, 0);
    let bias = padded(&col(2), oc, ocp, 0);
    let mut fast = (0..1 << 31).contains(&t_max);
    for o in 0..ocp {
        let bound = ((1i128 << 20) * t_max as i128 * mult[o] as i128).abs()
            + (bias[o] as i128).abs()
            + (1i128 << (shift[o] - 1));
        fast &= bound < 1i128 << 62;
    }
    let hs = HardSwish {
        mult_eo: even_odd(&mult, ocp, |_, m| m),
        bias_eo: even_odd(&bias, ocp, |o, b| b.wrapping_add(1i64 << (shift[o] - 1))),
        shift_eo: even_odd(&shift, ocp, |_, s| s as i64),
        shift,
        mult,
        bias,
    };
    (hs, fast)
}

/// The per-channel constants (`pack_consts`): biases with the input zero point folded in (mod
/// 2^32, as the kernels' int32 sums), the requantization per channel padded to `ocp`, fast32.
/// `wsum[o]` is the sum of output channel o's weights.
pub(crate) fn consts(
    rq: &Requant,
    bias: &[i32],
    wsum: &[i64],
    ocp: usize,
) -> Result<Consts, &'static str> {
    let oc = wsum.len();
    check(rq, oc)?;
    if !fits(bias.len(), oc) {
        return Err("bias count");
    }
    let zp = rq.input_zp;
    let fold = |o: usize, z: i64| {
        if o < oc {
            (per_channel(bias, o) as i64).wrapping_sub(z.wrapping_mul(wsum[o])) as i32
        } else {
            0
        }
    };
    let mult = padded(&rq.multiplier, oc, ocp, PAD_MULT);
    let shift = padded(&rq.shift, oc, ocp, PAD_SHIFT);
    let in_fast = |s: &[i32]| s.iter().all(|s| (33..=62).contains(s));
    let mut fast32 = in_fast(&shift);
    let mut wide = true;
    let (mut mode, mut neg, mut hswish, mut sigmoid) = (PLAIN, None, None, None);
    let (mut three, mut six) = (0, 0);
    if let Some(w) = &rq.swish {
        // The sigmoid is within [0, 2^16] (Q15); fast32 stays off: kernels that only know the
        // 32-bit path take their scalar swish path.
        let (hs, ok) = activation(&[w.out], SIGMOID_MAX, oc, ocp);
        let in_range = w
            .table
            .iter()
            .all(|&t| (0..=SIGMOID_MAX).contains(&(t as i64)));
        mode = SWISH;
        (fast32, wide) = (false, ok && in_range);
        hswish = Some(hs);
        sigmoid = Some(w.table.clone());
    } else if let Some(h) = &rq.hswish {
        let (hs, ok) = activation(&h.out, h.six, oc, ocp);
        let ok = ok && h.three.abs() < 1 << 30;
        (mode, three, six) = (HSWISH, h.three, h.six);
        (fast32, wide) = (fast32 && ok, ok);
        hswish = Some(hs);
    } else if let Some(n) = &rq.neg {
        let nm = padded(&n.multiplier, oc, ocp, PAD_MULT);
        let ns = padded(&n.shift, oc, ocp, PAD_SHIFT);
        fast32 &= in_fast(&ns);
        wide = false;
        mode = PRELU;
        neg = Some((nm, ns));
    }
    Ok(Consts {
        oc,
        ocp,
        bias_s: (0..ocp).map(|o| fold(o, zp)).collect(),
        bias_u: (0..ocp).map(|o| fold(o, zp + 128)).collect(),
        mult,
        shift,
        neg,
        hswish,
        sigmoid,
        mode,
        zp: zp as i32,
        out_zp: rq.output_zp as i32,
        lo: rq.clamp_min as i32,
        hi: rq.clamp_max as i32,
        three,
        six,
        fast32,
        wide,
    })
}

/// A conv2d / fully connected layer (`pack_conv`): weights `[oc][k]` (OHWI: k = (ky·kw + kx)·c
/// + ci), bias and requantization.
pub(crate) fn conv(w: &[i8], oc: usize, bias: &[i32], rq: &Requant) -> Result<Conv, &'static str> {
    if oc == 0 || w.is_empty() || !w.len().is_multiple_of(oc) {
        return Err("weights are not [oc][k]");
    }
    let k = w.len() / oc;
    let (kp, ocp) = (round_up(k, 4), round_up(oc, 16));
    let mut packed = vec![0i8; ocp * kp];
    let mut wsum = vec![0i64; oc];
    for (o, row) in w.chunks_exact(k).enumerate() {
        for (kk, &v) in row.iter().enumerate() {
            packed[((o >> 4) * (kp / 4) + kk / 4) * 64 + (o & 15) * 4 + (kk & 3)] = v;
            wsum[o] += v as i64;
        }
    }
    Ok(Conv {
        k,
        kp,
        w: packed,
        consts: consts(rq, bias, &wsum, ocp)?,
    })
}

/// A depthwise layer (`pack_dw`): weights `[kh][kw][c]` (multiplier 1).
pub(crate) fn depthwise(
    w: &[i8],
    kh: usize,
    kw: usize,
    bias: &[i32],
    rq: &Requant,
) -> Result<Depthwise, &'static str> {
    let taps = kh * kw;
    if taps == 0 || w.is_empty() || !w.len().is_multiple_of(taps) {
        return Err("weights are not [kh][kw][c]");
    }
    let c = w.len() / taps;
    let cp = round_up(c, 16);
    let (mut w32, mut w8) = (vec![0i32; taps * cp], vec![0i8; taps * cp]);
    let mut wsum = vec![0i64; c];
    for t in 0..taps {
        for ch in 0..c {
            let v = w[t * c + ch];
            w32[t * cp + ch] = v as i16 as u16 as i32;
            w8[t * cp + ch] = v;
            wsum[ch] += v as i64;
        }
    }
    let wq = (kh == kw && (kw == 3 || kw == 5)).then(|| {
        let mut q = vec![0i8; cp / 16 * kh * 128];
        for ch in 0..c {
            for ky in 0..kh {
                let row = ((ch >> 4) * kh + ky) * 128;
                for kx in 0..kw {
                    let v = w[(ky * kw + kx) * c + ch];
                    let at = if kx < 4 {
                        (ch & 15) * 4 + kx
                    } else {
                        64 + (ch & 15) * 4 + 3
                    };
                    q[row + at] = v;
                }
            }
        }
        q
    });
    Ok(Depthwise {
        taps,
        w32,
        w8,
        wq,
        consts: consts(rq, bias, &wsum, cp)?,
    })
}
