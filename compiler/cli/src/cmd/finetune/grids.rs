//! nibble's own grids for the trainer: the weight grid of a width (`nibble_quantize::grids`,
//! symmetric, per output channel) and the default 8-bit symmetric activation grid. This file is
//! also compiled into the CLI integration tests (`tests/cli/finetune.rs`), which check it bit
//! for bit against `grid_scales`.

use nibble_quantize::{grids, Scheme, WeightWidth};

/// nibble's weight grid at one width (symmetric, per output channel; `grids::channel_scale`).
pub struct NibbleWeights(pub WeightWidth);

impl nibble_finetune::WeightGrid for NibbleWeights {
    fn channel_scale(&self, values: &[f32]) -> f64 {
        if self.0 == WeightWidth::W8 {
            let n = values.len() as i64;
            return nibble_quantize::weight_scales(
                values,
                &[1, n],
                0,
                true,
                None,
                Scheme::Symmetric,
            )[0];
        }
        grids::channel_scale(values, self.0, Scheme::Symmetric)
    }
    fn level(&self, x: f64, s: f64) -> i64 {
        self.0.quantize(x, s)
    }
    fn range(&self) -> (i64, i64) {
        self.0.range()
    }
}

/// nibble's default activation grid: 8-bit, symmetric, per tensor.
pub struct NibbleActs;

impl nibble_finetune::ActGrid for NibbleActs {
    fn params(&self, min: f64, max: f64) -> (f64, i64) {
        nibble_quantize::activation_params(min, max, 8, Scheme::Symmetric)
    }
    fn range(&self) -> (i64, i64) {
        (-128, 127)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use nibble_finetune::fake_quant::{quantize_weights, Channels};
    use nibble_quantize::grids;

    /// The fake-quantized weights are nibble's grid at every width, bit for bit: the same
    /// per-channel scales as `grid_scales` on the OHWI weight the graph level holds, the same
    /// integers.
    #[test]
    fn fake_quant_forward_is_nibbles_quantizer() {
        let (o, i, k) = (4usize, 3usize, 3usize);
        let mut state = 7u64;
        let w: Vec<f32> = (0..o * i * k * k)
            .map(|_| {
                state = state
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                ((state >> 40) as f32 / (1u64 << 24) as f32 - 0.5) * (1.0 + (state >> 62) as f32)
            })
            .collect();
        // OHWI copy, as the importer lays a conv weight out.
        let mut ohwi = vec![0f32; w.len()];
        for (oo, ii, y, x) in (0..o).flat_map(|a| {
            (0..i).flat_map(move |b| (0..k).flat_map(move |c| (0..k).map(move |d| (a, b, c, d))))
        }) {
            ohwi[((oo * k + y) * k + x) * i + ii] = w[((oo * i + ii) * k + y) * k + x];
        }
        for width in WeightWidth::ALL {
            let (fq, _) =
                quantize_weights(&w, &Channels::conv(&[o, i, k, k]), &NibbleWeights(width));
            let scales = grids::grid_scales(
                &ohwi,
                &[o as i64, k as i64, k as i64, i as i64],
                0,
                true,
                None,
                Scheme::Symmetric,
                width,
            );
            for (oo, ii, y, x) in (0..o).flat_map(|a| {
                (0..i)
                    .flat_map(move |b| (0..k).flat_map(move |c| (0..k).map(move |d| (a, b, c, d))))
            }) {
                let v = w[((oo * i + ii) * k + y) * k + x];
                let want = (scales[oo] * width.quantize(v as f64, scales[oo]) as f64) as f32;
                assert_eq!(
                    fq[((oo * i + ii) * k + y) * k + x].to_bits(),
                    want.to_bits(),
                    "{width}"
                );
            }
        }
    }

    /// Activations: `activation_params` at 8 bits, symmetric, integers [−128, 127].
    #[test]
    fn activation_grid_is_nibbles_default() {
        use nibble_finetune::ActGrid;
        let want = nibble_quantize::activation_params(-0.5, 2.54, 8, Scheme::Symmetric);
        assert_eq!(NibbleActs.params(-0.5, 2.54), want);
        assert_eq!((want.0, want.1), (2.54 / 127.0, 0));
        assert_eq!(NibbleActs.range(), (-128, 127));
    }
}
