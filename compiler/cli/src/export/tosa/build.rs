//! Building blocks of the TOSA export: constants, shapes, reshape, clamp, `tosa.rescale` with
//! nibble's requantization (PReLU's negative side included), convolutions and the windows TOSA
//! accepts.

use super::{bits, dense_text, int, Exporter};
use nibble_ir::{Attr, Elem, Op, Type, ValueId};
use nibble_tile::Requant;

impl Exporter<'_> {
    pub(super) fn x(&self, op: &Op, k: usize) -> ValueId {
        self.map[&op.operands[k]]
    }

    pub(super) fn push(
        &mut self,
        name: &str,
        operands: &[ValueId],
        ty: Type,
        attrs: Vec<(&str, Attr)>,
    ) -> ValueId {
        self.out.push(name, operands, ty, attrs)
    }

    pub(super) fn constant(&mut self, ty: Type, values: Attr) -> ValueId {
        self.push("tosa.const", &[], ty, vec![("values", values)])
    }

    pub(super) fn ints(&mut self, values: &[i64], bits: u32) -> ValueId {
        let ty = int(&[values.len() as i64], bits);
        let attr = dense_text(values, &ty);
        self.constant(ty, attr)
    }

    pub(super) fn shape(&mut self, dims: &[i64]) -> ValueId {
        let ty = Type::Other(format!("!tosa.shape<{}>", dims.len()));
        let tensor = Type::tensor(&[dims.len() as i64], Elem::Index);
        let attr = dense_text(dims, &tensor);
        self.push("tosa.const_shape", &[], ty, vec![("values", attr)])
    }

    pub(super) fn reshape(&mut self, x: ValueId, dims: &[i64]) -> ValueId {
        let elem = self.out.ty(x).elem().cloned().unwrap_or(Elem::Int(8));
        let ty = Type::tensor(dims, elem);
        let s = self.shape(dims);
        self.push("tosa.reshape", &[x, s], ty, vec![])
    }

    pub(super) fn clamp(&mut self, x: ValueId, lo: i64, hi: i64) -> ValueId {
        let ty = self.out.ty(x).clone();
        let b = bits(&ty);
        let (qmin, qmax) = (-(1i64 << (b - 1)), (1i64 << (b - 1)) - 1);
        if lo <= qmin && hi >= qmax {
            return x;
        }
        let attrs = vec![
            ("min_val", Attr::Int(lo.max(qmin), format!("i{b}"))),
            ("max_val", Attr::Int(hi.min(qmax), format!("i{b}"))),
        ];
        self.push("tosa.clamp", &[x], ty, attrs)
    }

    /// `tosa.rescale` of `x` (zero point `in_zp`) to `out` (zero point `out_zp`):
    /// `out_zp + ((x − in_zp)·m + 2^(s−1)) >> s`, per channel when there are several.
    pub(super) fn rescale(
        &mut self,
        x: ValueId,
        out: &Type,
        m: &[i32],
        s: &[i32],
        in_zp: i64,
        out_zp: i64,
    ) -> ValueId {
        let in_bits = bits(self.out.ty(x));
        let m: Vec<i64> = m.iter().map(|&v| v as i64).collect();
        let s: Vec<i64> = s.iter().map(|&v| v as i64).collect();
        let mv = self.ints(&m, 32);
        let sv = self.ints(&s, 8);
        let izp = self.ints(&[in_zp], in_bits);
        let ozp = self.ints(&[out_zp], bits(out));
        let attrs = vec![
            ("scale32", Attr::Bool(true)),
            (
                "rounding_mode",
                Attr::Raw("#tosa.rounding_mode<SINGLE_ROUND>".into()),
            ),
            ("per_channel", Attr::Bool(m.len() > 1)),
            ("input_unsigned", Attr::Bool(false)),
            ("output_unsigned", Attr::Bool(false)),
        ];
        self.push("tosa.rescale", &[x, mv, sv, izp, ozp], out.clone(), attrs)
    }

    /// The requantization `rq` of the i32 accumulator `acc` to `out`, its clamp included.
    pub(super) fn requant(&mut self, acc: ValueId, rq: &Requant, out: &Type) -> ValueId {
        let pos = self.rescale(acc, out, &rq.multiplier, &rq.shift, 0, rq.output_zp);
        let v = match &rq.neg {
            None => pos,
            Some(neg) => {
                // acc < 0 takes the negative side; a negative multiplier scales −acc by |m|
                // (the same integers: floor((acc·m + r) / 2^s) with acc·m = (−acc)·|m|), chosen
                // per channel by a mask when the slopes have both signs.
                let acc_ty = self.out.ty(acc).clone();
                let rank = acc_ty.shape().map_or(1, |s| s.len());
                let flips: Vec<bool> = neg.multiplier.iter().map(|m| *m < 0).collect();
                let src = if flips.iter().any(|f| *f) {
                    let zero = self.ints(&[0], 32);
                    let minus =
                        self.push("tosa.negate", &[acc, zero, zero], acc_ty.clone(), vec![]);
                    if flips.iter().all(|f| *f) {
                        minus
                    } else {
                        let mut dims = vec![1; rank];
                        dims[rank - 1] = flips.len() as i64;
                        let mask_ty = int(&dims, 1);
                        let list: Vec<&str> = flips
                            .iter()
                            .map(|f| if *f { "true" } else { "false" })
                            .collect();
                        let mask = self.constant(
                            mask_ty.clone(),
                            Attr::Raw(format!(
                                "dense<{}[{}]{}> : {mask_ty}",
                                "[".repeat(rank - 1),
                                list.join(", "),
                                "]".repeat(rank - 1)
                            )),
                        );
                        self.push("tosa.select", &[mask, minus, acc], acc_ty.clone(), vec![])
                    }
                } else {
                    acc
                };
                let m: Vec<i32> = neg.multiplier.iter().map(|m| m.wrapping_abs()).collect();
                let negative = self.rescale(src, out, &m, &neg.shift, 0, rq.output_zp);
                let zero_ty = int(&vec![1; rank], 32);
                let zero =
                    self.constant(zero_ty.clone(), Attr::Raw(format!("dense<0> : {zero_ty}")));
                let cond_ty = acc_ty.with_elem(Elem::Int(1));
                let cond = self.push("tosa.greater_equal", &[acc, zero], cond_ty, vec![]);
                self.push("tosa.select", &[cond, pos, negative], out.clone(), vec![])
            }
        };
        self.clamp(v, rq.clamp_min, rq.clamp_max)
    }

    /// `tosa.conv2d` / `tosa.depthwise_conv2d` with an i32 accumulator of shape `acc_shape`.
    pub(super) fn conv(
        &mut self,
        name: &str,
        xwb: [ValueId; 3],
        acc_shape: &[i64],
        input_zp: i64,
        window: &nibble_qnt::ConvWindow,
    ) -> ValueId {
        let w = self.out.ty(xwb[1]).shape().unwrap_or(&[]).to_vec();
        // OHWI weights; depthwise [KH, KW, C, M].
        let (kh, kw) = if name == "tosa.conv2d" {
            (w[1], w[2])
        } else {
            (w[0], w[1])
        };
        let extent = [
            (kh - 1) * window.dilation[0] + 1,
            (kw - 1) * window.dilation[1] + 1,
        ];
        let (x, pad) = self.fit_window(xwb[0], acc_shape, extent, window.stride, window.pad);
        let xwb = [x, xwb[1], xwb[2]];
        let window = &nibble_qnt::ConvWindow {
            pad,
            ..window.clone()
        };
        let zx = self.ints(&[input_zp], 8);
        let zw = self.ints(&[0], 8);
        let attrs = vec![
            ("acc_type", Attr::Raw("i32".into())),
            ("dilation", Attr::I64s(window.dilation.to_vec())),
            ("pad", Attr::I64s(window.pad.to_vec())),
            ("stride", Attr::I64s(window.stride.to_vec())),
        ];
        self.push(
            name,
            &[xwb[0], xwb[1], xwb[2], zx, zw],
            int(acc_shape, 32),
            attrs,
        )
    }

    /// TOSA wants every window to end at the padded input's end: a floor-mode window that
    /// drops trailing rows/columns gets its bottom/right padding reduced and, past that, the
    /// input sliced; a window running past the end (ceil mode) gets more bottom/right padding
    /// (skipped by max pooling as nibble skips it). `extent` is the [y, x] span of one window.
    pub(super) fn fit_window(
        &mut self,
        x: ValueId,
        out: &[i64],
        extent: [i64; 2],
        stride: [i64; 2],
        pad: [i64; 4],
    ) -> (ValueId, [i64; 4]) {
        let mut dims = self.out.ty(x).shape().unwrap_or(&[]).to_vec();
        let mut pad = pad;
        let mut cut = false;
        for a in 0..2 {
            let need = (out[1 + a] - 1) * stride[a] + extent[a];
            let have = dims[1 + a] + pad[2 * a] + pad[2 * a + 1];
            let end = &mut pad[2 * a + 1];
            if have < need {
                *end += need - have;
            } else if have > need {
                let excess = have - need;
                let from_pad = excess.min(*end);
                *end -= from_pad;
                if excess > from_pad {
                    dims[1 + a] -= excess - from_pad;
                    cut = true;
                }
            }
        }
        if !cut {
            return (x, pad);
        }
        let (start, size) = (self.shape(&[0, 0, 0, 0]), self.shape(&dims));
        let ty = Type::tensor(
            &dims,
            self.out.ty(x).elem().cloned().unwrap_or(Elem::Int(8)),
        );
        (self.push("tosa.slice", &[x, start, size], ty, vec![]), pad)
    }
}
