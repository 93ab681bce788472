//! The graph-level steps between import and quantization that need calibration vectors and
//! so are not passes (their data is too large for attributes): channel ranges for
//! equalization, range calibration, GPTQ weight rounding, the 16-bit choice; and the unfolded
//! lowering `nibble report` measures layers on.

use crate::options::{QuantOptions, Scheme, TargetOption};
use crate::{Driver, Error, Observer, Stage};
use nibble_ir::{Func, ValueId};
use nibble_quantize::RangeMethod;
use std::collections::HashMap;

/// Calibration (or evaluation) vectors: `per` floats per sample, one after the other.
#[derive(Clone, Copy, Debug)]
pub struct Samples<'a> {
    data: &'a [f32],
    per: usize,
}

impl<'a> Samples<'a> {
    /// The samples of `per` values each in `data` (a trailing partial sample is ignored).
    pub fn new(data: &'a [f32], per: usize) -> Samples<'a> {
        Samples {
            data,
            per: per.max(1),
        }
    }
    pub fn len(&self) -> usize {
        self.data.len() / self.per
    }
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
    pub fn iter(&self) -> std::slice::ChunksExact<'a, f32> {
        self.data.chunks_exact(self.per)
    }
}

/// The graph of [`Driver::to_tile_unfolded`]: the qnt and tile levels before requant folding,
/// and which qnt value holds each graph value and which tile value each qnt value.
pub struct Unfolded {
    pub qnt: Func,
    pub graph_to_qnt: HashMap<ValueId, ValueId>,
    pub tile: Func,
    pub qnt_to_tile: HashMap<ValueId, ValueId>,
}

impl Driver {
    /// Cross-layer equalization for `scheme` (after high-bias absorption with `absorb_bias`)
    /// on the channel ranges observed on `samples` (none: from BatchNorm statistics).
    pub fn equalize(
        &self,
        f: &Func,
        scheme: Scheme,
        samples: Samples,
        absorb_bias: bool,
        obs: &dyn Observer,
    ) -> Result<Func, Error> {
        let mut g = f.clone();
        if !samples.is_empty() {
            obs.begin(samples.len(), "channel ranges");
            nibble_quantize::annotate_channel_ranges(&mut g, samples.iter(), || obs.tick())?;
            obs.end();
        }
        self.run_stage(
            &g,
            Stage::Equalize {
                scheme,
                absorb_bias,
            },
        )
    }

    /// `f` with the ranges `method` finds on `samples` (`nibble.min`, `nibble.max`, …);
    /// `tick` once per sample and pass over the samples.
    pub fn calibrate(
        &self,
        f: &Func,
        samples: Samples,
        method: RangeMethod,
        tick: impl FnMut(),
    ) -> Result<Func, Error> {
        let table = nibble_quantize::calibrate(f, samples.iter(), method, tick)?;
        let mut g = f.clone();
        nibble_quantize::annotate(&mut g, &table);
        Ok(g)
    }

    /// Rounds the conv / fully connected weights of `f` by GPTQ for the grid `quant` gives,
    /// from the layers' inputs on `samples`; returns each layer's errors.
    pub fn round_weights(
        &self,
        f: &mut Func,
        samples: Samples,
        quant: &QuantOptions,
        tick: impl FnMut(),
    ) -> Result<Vec<nibble_quantize::Rounded>, Error> {
        let hs = nibble_quantize::hessians(f, samples.iter(), tick)?;
        let cfg = quant.config();
        Ok(nibble_quantize::round_weights(
            f,
            &hs,
            cfg.scheme,
            cfg.per_channel,
            cfg.clamp_sigma,
        )?)
    }

    /// `f` with the compiler's choice of 16-bit activations under `quant` (tensors whose
    /// 8-bit SQNR is below `max_sqnr` dB, the arena grown by at most `budget`), and the choice.
    pub fn choose_bits(
        &self,
        f: &Func,
        quant: &QuantOptions,
        max_sqnr: f64,
        budget: f64,
    ) -> Result<(Func, Vec<nibble_passes::Choice>), Error> {
        Ok(nibble_passes::choose_bits(
            f,
            &quant.config(),
            max_sqnr,
            budget,
        )?)
    }

    /// The qnt and tile levels of a calibrated graph before requant folding, with the value
    /// maps between levels: every layer's own output stays observable (`nibble report`'s
    /// per-layer SQNR). The same conversions as [`Driver::to_tile`] without the fold, for the
    /// same target.
    pub fn to_tile_unfolded(
        &self,
        graph: &Func,
        quant: &QuantOptions,
        target: &TargetOption,
    ) -> Result<Unfolded, Error> {
        let (qnt, graph_to_qnt) = nibble_lower::to_qnt::to_qnt_mapped(graph, &quant.config())?;
        let (tile, qnt_to_tile) = nibble_lower::to_tile::to_tile_mapped(&qnt, &target.load()?)?;
        Ok(Unfolded {
            qnt,
            graph_to_qnt,
            tile,
            qnt_to_tile,
        })
    }
}
