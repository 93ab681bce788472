//! A squeeze-excite op as a weight layer of the width choice (`sensitivity`): its two weight
//! matrices w1 [Cm,C] and w2 [C,Cm] share one grid, rounded as `to_qnt` rounds them (per output
//! channel; w2 with the gate's α folded in), and the change of its output a weight change
//! makes, x · (gate(w + δ) − gate(w)), exact in f64 (the gate is not linear in its weights,
//! so unlike a conv's the change is computed, not multiplied out).
//!
//! Precondition: the op is the `nibble` layer `squeeze_excite` with constant f32 weights and
//! biases of the shapes [`nibble_graph::SqueezeExcite::gate`] checks.

use crate::grids::{grid_scales, WeightWidth};
use crate::sensitivity::SensitivityConfig;
use nibble_graph::{tosa, SqueezeExcite};
use nibble_ir::{model, Elem, Func};

/// A squeeze-excite op's parameters and float weights [w1, b1, w2, b2].
pub(crate) struct SeWeights {
    params: SqueezeExcite,
    w: [Vec<f32>; 4],
}

/// The f32 data of constant `v` (a `tosa.const`), if it is one.
fn constant(f: &Func, v: usize) -> Option<Vec<f32>> {
    let p = f.producers()[v]?;
    let (ty, bytes) = f.ops[p].dense("values").ok()?;
    (f.ops[p].name == tosa::CONST && ty.elem() == Some(&Elem::F32)).then(|| model::dense_f32(bytes))
}

impl SeWeights {
    /// Op `i` of `f`, if it is a squeeze-excite with constant weights of consistent shapes.
    pub(crate) fn of(f: &Func, i: usize) -> Option<SeWeights> {
        let op = &f.ops[i];
        if nibble_graph::layers::Kind::of(op) != Some(nibble_graph::layers::Kind::SqueezeExcite)
            || op.operands.len() != 5
        {
            return None;
        }
        let params = SqueezeExcite::from_op(op).ok()?;
        let mut w = (1..5).map(|k| constant(f, op.operands[k]));
        let w = [w.next()??, w.next()??, w.next()??, w.next()??];
        let (cm, c) = (w[1].len(), w[3].len());
        (cm > 0 && c > 0 && w[0].len() == cm * c && w[2].len() == c * cm)
            .then_some(SeWeights { params, w })
    }

    /// Channels C and hidden channels Cm.
    fn dims(&self) -> (usize, usize) {
        (self.w[3].len(), self.w[1].len())
    }

    /// Q_W(w) − w of w1 then w2, for each width of [`WeightWidth::ALL`]: w2 is rounded as
    /// α·w2 (the gate's scale folded in, as `to_qnt` stores it) and the error taken back to w2.
    pub(crate) fn deltas(&self, cfg: &SensitivityConfig) -> Vec<Vec<f32>> {
        let (c, cm) = self.dims();
        let alpha = self.params.alpha;
        let w2: Vec<f32> = self.w[2]
            .iter()
            .map(|&v| (alpha * v as f64) as f32)
            .collect();
        let rounded = |w: &[f32], rows: usize, cols: usize, width: WeightWidth| {
            let shape = [rows as i64, cols as i64];
            let (pc, cs) = (cfg.per_channel, cfg.clamp_sigma);
            let s = grid_scales(w, &shape, 0, pc, cs, cfg.scheme, width);
            let ch = |j: usize| s[if s.len() == 1 { 0 } else { j / cols }];
            (w.iter().enumerate())
                .map(|(j, &x)| ch(j) * width.quantize(x as f64, ch(j)) as f64)
                .collect::<Vec<f64>>()
        };
        WeightWidth::ALL
            .iter()
            .map(|&width| {
                let d1 = (rounded(&self.w[0], cm, c, width).into_iter())
                    .zip(&self.w[0])
                    .map(|(q, &x)| (q - x as f64) as f32);
                let d2 = (rounded(&w2, c, cm, width).into_iter())
                    .zip(&self.w[2])
                    .map(|(q, &x)| (q / alpha - x as f64) as f32);
                d1.chain(d2).collect()
            })
            .collect()
    }

    /// The change of the op's output on input `x` (NHWC) when its weights change by `dw`
    /// (w1's change then w2's, as [`SeWeights::deltas`] gives them).
    pub(crate) fn output_change(&self, x: &[f32], dw: &[f32]) -> Vec<f32> {
        let (c, _) = self.dims();
        let mut sum = vec![0.0f64; c];
        for row in x.chunks_exact(c) {
            for (s, &v) in sum.iter_mut().zip(row) {
                *s += v as f64;
            }
        }
        let hw = (x.len() / c).max(1) as f64;
        let mean: Vec<f64> = sum.iter().map(|s| s / hw).collect();
        let n1 = self.w[0].len();
        let moved =
            |w: &[f32], d: &[f32]| -> Vec<f32> { w.iter().zip(d).map(|(a, b)| a + b).collect() };
        let (w1, w2) = (moved(&self.w[0], &dw[..n1]), moved(&self.w[2], &dw[n1..]));
        let [a1, b1, a2, b2] = &self.w;
        let gate = |w: [&[f32]; 4]| self.params.gate(w, &mean).unwrap_or_else(|_| vec![0.0; c]);
        let before = gate([a1, b1, a2, b2]);
        let after = gate([&w1, b1, &w2, b2]);
        let change: Vec<f64> = after.iter().zip(&before).map(|(a, b)| a - b).collect();
        x.chunks_exact(c)
            .flat_map(|row| {
                row.iter()
                    .zip(&change)
                    .map(|(&v, &g)| (v as f64 * g) as f32)
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn se() -> SeWeights {
        let params = SqueezeExcite {
            hidden_max: f64::INFINITY,
            silu: false,
            alpha: 1.0 / 6.0,
            beta: 0.5,
            sigmoid: false,
        };
        let (c, cm) = (8, 4);
        let wave = |n: usize, k: f32| (0..n).map(|j| ((j as f32 * k).sin()) * 0.7).collect();
        SeWeights {
            params,
            w: [
                wave(cm * c, 1.3),
                wave(cm, 0.4),
                wave(c * cm, 2.1),
                wave(c, 0.9),
            ],
        }
    }

    #[test]
    fn coarser_grids_change_the_output_more() {
        let se = se();
        let cfg = SensitivityConfig {
            scheme: crate::Scheme::Symmetric,
            per_channel: true,
            clamp_sigma: None,
            activations: false,
        };
        let x: Vec<f32> = (0..3 * 8).map(|j| (j as f32 * 0.37).cos() + 1.0).collect();
        let deltas = se.deltas(&cfg);
        assert_eq!(deltas.len(), WeightWidth::ALL.len());
        let power = |d: &[f32]| {
            let y = se.output_change(&x, d);
            assert_eq!(y.len(), x.len());
            y.iter().map(|&v| (v as f64).powi(2)).sum::<f64>()
        };
        let zero = vec![0.0; se.w[0].len() + se.w[2].len()];
        assert_eq!(power(&zero), 0.0);
        let (w8, w4, w2) = (power(&deltas[0]), power(&deltas[1]), power(&deltas[2]));
        assert!(w8 < w4 && w4 < w2, "{w8} {w4} {w2}");
    }
}
