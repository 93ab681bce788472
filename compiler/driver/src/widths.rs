//! The width step of a compile: weight layers at the widths `--weight-bits` gives, or chosen
//! by the width e-graph (`--weight-bits auto`, `--bits auto`) from the noise each choice adds at
//! the output, measured on the calibration vectors (`nibble_quantize::sensitivity`). The target
//! says which widths exist: a width it lacks is an error naming the layer and the target.

use crate::options::{BitWidths, CompileOptions};
use crate::{Driver, Error, Observer, Samples};
use nibble_graph::attrs;
use nibble_ir::{Attr, Func};
use nibble_passes::{WeightBudget, WidthOptions, Widths};
use nibble_quantize::sensitivity::{measure, weight_layers, SensitivityConfig};
use nibble_quantize::WeightWidth;

/// Calibration vectors the sensitivity is measured on (evenly spread over the given ones).
const SENSITIVITY_SAMPLES: usize = 16;

/// The weight widths and activation widths `target` has.
pub fn target_widths(target: &nibble_target::Target) -> (Vec<WeightWidth>, bool) {
    let widths = target.weight_widths();
    let has = |b: u32| widths.contains(&b);
    let weights = WeightWidth::ALL
        .into_iter()
        .filter(|w| match w {
            WeightWidth::W8 => true,
            WeightWidth::W4 => has(4),
            WeightWidth::W2 | WeightWidth::Ternary => has(2),
            WeightWidth::Binary => has(1),
        })
        .collect();
    (weights, target.activation_widths().contains(&16))
}

/// The op of the weight layer named `name` (its ONNX node), or an error listing close names.
fn layer_named(f: &Func, layers: &[usize], name: &str) -> Result<usize, Error> {
    if let Some(&i) = layers.iter().find(|&&i| f.ops[i].loc_name() == name) {
        return Ok(i);
    }
    let mut names: Vec<(f64, String)> = layers
        .iter()
        .map(|&i| f.ops[i].loc_name())
        .map(|n| (strsim::jaro_winkler(&n, name), n))
        .collect();
    names.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
    let close: Vec<String> = names.into_iter().take(5).map(|(_, n)| n).collect();
    Err(Error::Options(format!(
        "--weight-bits: no conv, depthwise, fully connected or squeeze-excite layer is named '{name}'; closest: {}",
        close.join(", ")
    )))
}

impl Driver {
    /// `f` annotated with the measured output noise of each weight layer at each grid and of
    /// each rounded tensor at 8 and 16 bits (with `activations`; `nibble_quantize::sensitivity`), on at most
    /// [`SENSITIVITY_SAMPLES`] of `samples` (evenly spread): what `nibble-choose-widths`
    /// reads. Measure once, then choose for as many budgets as wanted.
    pub fn measure_sensitivity(
        &self,
        f: &Func,
        samples: Samples,
        quant: &crate::QuantOptions,
        activations: bool,
        obs: &dyn Observer,
    ) -> Result<Func, Error> {
        let n = samples.len().min(SENSITIVITY_SAMPLES);
        let picked: Vec<&[f32]> = (0..n)
            .filter_map(|k| samples.iter().nth(k * samples.len() / n.max(1)))
            .collect();
        let cfg = quant.config();
        let scfg = SensitivityConfig {
            scheme: cfg.scheme,
            per_channel: cfg.per_channel,
            clamp_sigma: cfg.clamp_sigma,
            activations,
        };
        obs.begin(picked.len(), "measuring sensitivity");
        let measured = measure(f, &picked, &scfg, || obs.tick())?;
        obs.end();
        Ok(measured)
    }

    /// `f` with its weight layers' widths (and, with `--bits auto`, its 16-bit tensors) as
    /// `opts` asks; the e-graph's choice when it made one.
    pub fn decide_widths(
        &self,
        f: Func,
        samples: Samples,
        opts: &CompileOptions,
        obs: &dyn Observer,
    ) -> Result<(Func, Option<Widths>), Error> {
        let target = opts.target.load()?;
        let (allowed, wide_ok) = target_widths(&target);
        let layers = weight_layers(&f);
        let fixed = opts
            .weight_bits
            .names
            .iter()
            .map(|(n, w)| Ok((layer_named(&f, &layers, n)?, *w)))
            .collect::<Result<Vec<_>, Error>>()?;
        let names: Vec<String> = f.ops.iter().map(|o| o.loc_name()).collect();
        let lacks = |i: usize, w: WeightWidth| {
            Error::Options(format!(
                "layer '{}' cannot take weights on the {w} grid: target {} multiplies weights of {:?} bits only",
                names[i], target.name, target.weight_widths()
            ))
        };
        for &(i, w) in &fixed {
            if !allowed.contains(&w) {
                return Err(lacks(i, w));
            }
        }
        let auto_weights = opts.weight_bits.all.is_none();
        let auto_wide = matches!(opts.bits, Some(BitWidths::Auto));
        if !auto_weights && !auto_wide {
            if opts.weight_bits.is_default() {
                return Ok((f, None));
            }
            let all = opts.weight_bits.all.unwrap_or(WeightWidth::W8);
            let mut g = f;
            for &i in &layers {
                let w = fixed.iter().find(|(j, _)| *j == i).map_or(all, |&(_, w)| w);
                if !allowed.contains(&w) {
                    return Err(lacks(i, w));
                }
                g.ops[i]
                    .attrs
                    .insert(attrs::WEIGHT_BITS.into(), Attr::Str(w.name().into()));
            }
            return Ok((g, None));
        }
        let measured =
            self.measure_sensitivity(&f, samples, &opts.quant, auto_wide && wide_ok, obs)?;
        let cfg = opts.quant.config();
        let wo = WidthOptions {
            weights: match (opts.avg_weight_bits, opts.max_weight_bytes) {
                _ if !auto_weights => WeightBudget::None,
                (Some(b), _) => WeightBudget::AverageBits(b),
                (_, Some(n)) => WeightBudget::Bytes(n as f64),
                (None, None) => WeightBudget::None,
            },
            widths: match opts.weight_bits.all {
                Some(w) if allowed.contains(&w) => vec![w],
                Some(w) => return Err(lacks(layers.first().copied().unwrap_or(0), w)),
                None => allowed,
            },
            wide: auto_wide && wide_ok,
            act_budget: opts.int16_budget,
            macs_per_cycle: [1.0; 5],
            floor4: nibble_quantize::sensitivity::end_layers(&f),
            fixed,
        };
        let w = nibble_passes::choose_widths(&measured, &cfg, &wo)
            .map_err(|e| Error::Options(e.to_string()))?;
        Ok((w.graph.clone(), Some(w)))
    }
}
