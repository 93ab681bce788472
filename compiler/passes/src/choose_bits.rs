//! `nibble-choose-bits{scheme=… granularity=… max-sqnr=DB budget=FRACTION}`: the compiler's own
//! choice of 16-bit activations (the user's is `nibble compile --bits NAME=16`).
//!
//! A tensor needs 16 bits when the 8-bit grid of its calibrated range is coarse against its
//! typical values — an outlier-heavy tensor whose rare extremes stretch the grid. The measure is
//! the tensor's own 8-bit SQNR on the calibration vectors: its mean square (`nibble.rms`²)
//! against the grid's rounding noise Δ²/12 (Δ the 8-bit step of its range under the scheme;
//! clipping noise is not counted). Tensors below `max-sqnr` dB (default 40: a Gaussian tensor
//! whose range is ±4σ gets 10·log10(12·255²/8²) ≈ 40.9 dB from an 8-bit grid, so below 40 the
//! range is stretched by rarer extremes) are chosen, worst first (ties in program order), among
//! the tensors that can be 16-bit: written and read only by ops with 16-bit kernels and
//! overflow-safe (`nibble_lower::widths::wide_problem`, checked on the quantized program, again
//! after the choice). The budget: the activation arena may grow by at most `budget` (default 1,
//! i.e. double) — first estimated on the graph (the most bytes live at once, a cheap filter),
//! then measured on the tile level's memory plan (fusion decides what is stored), keeping the
//! longest worst-first prefix of the choice that fits (bisection, a lowering per step). The
//! decision is the attribute `nibble.bits = 16` that `nibble-quantize` reads.
//!
//! Before:
//! ```mlir
//! %5 = tosa.add %3, %4 {nibble.max = 41.0 : f64, nibble.min = -9.1 : f64, nibble.rms = 1.2 : f64}
//! ```
//! After:
//! ```mlir
//! %5 = tosa.add %3, %4 {nibble.bits = 16 : i64, nibble.max = 41.0 : f64, nibble.min = -9.1 : f64, nibble.rms = 1.2 : f64}
//! ```

use crate::{Options, PassInfo};
use nibble_graph::attrs;
use nibble_ir::{Attr, Func};
use nibble_lower::to_qnt::{to_qnt_mapped, QuantConfig};
use nibble_lower::widths::wide_problem;
use nibble_quantize::{activation_params, peak_activation_bytes};

/// Tensors whose 8-bit SQNR is below this many dB are candidates (see the module doc).
pub const DEFAULT_MAX_SQNR: f64 = 40.0;
/// The activation arena may grow by at most this fraction (1: double).
pub const DEFAULT_BUDGET: f64 = 1.0;

pub const PASS: PassInfo = PassInfo {
    name: "nibble-choose-bits",
    summary: "Choose 16-bit activations where the 8-bit grid is coarse (nibble.bits = 16)",
    run,
};

/// One tensor chosen for 16 bits: its producing op (index in the graph function), the ONNX
/// node it comes from, and its 8-bit SQNR on the calibration vectors.
#[derive(Clone, Debug)]
pub struct Choice {
    pub op: usize,
    pub name: String,
    pub sqnr8: f64,
}

#[tracing::instrument(skip_all, name = "nibble-choose-bits")]
fn run(f: &Func, opts: &Options) -> Result<Func, String> {
    let cfg = crate::quantize::config(opts)?;
    let number = |key: &str, default: f64| match opts.get(key) {
        None => Ok(default),
        Some(v) => v
            .parse::<f64>()
            .ok()
            .filter(|x| x.is_finite() && *x >= 0.0)
            .ok_or_else(|| format!("{key} must be a non-negative number, got '{v}'")),
    };
    let (g, _) = choose_bits(
        f,
        &cfg,
        number("max-sqnr", DEFAULT_MAX_SQNR)?,
        number("budget", DEFAULT_BUDGET)?,
    )?;
    Ok(g)
}

/// The 8-bit SQNR (dB) of `op`'s result from its range and root mean square, under `cfg`.
fn sqnr8(op: &nibble_ir::Op, cfg: &QuantConfig) -> Option<f64> {
    let (lo, hi, rms) = (
        op.float(attrs::MIN).ok()?,
        op.float(attrs::MAX).ok()?,
        op.float(attrs::RMS).ok()?,
    );
    let (step, _) = activation_params(lo, hi, 8, cfg.scheme);
    (rms > 0.0 && step > 0.0).then(|| 10.0 * (rms * rms / (step * step / 12.0)).log10())
}

/// `f` with `nibble.bits = 16` on the tensors chosen (see the module doc), and the choices.
pub fn choose_bits(
    f: &Func,
    cfg: &QuantConfig,
    max_sqnr: f64,
    budget: f64,
) -> Result<(Func, Vec<Choice>), String> {
    let (q8, map) = to_qnt_mapped(f, cfg).map_err(|e| e.to_string())?;
    let mut candidates: Vec<Choice> = f
        .ops
        .iter()
        .enumerate()
        .filter(|(_, o)| !o.attrs.contains_key(attrs::BITS))
        .filter_map(|(i, o)| {
            let v = *map.get(o.results.first()?)?;
            let s = sqnr8(o, cfg)?;
            // A reshape shares its input's storage and type: it cannot be chosen on its own.
            let aliases = q8
                .ops
                .iter()
                .any(|q| q.results.contains(&v) && q.name == nibble_qnt::RESHAPE);
            (s < max_sqnr && !aliases && wide_problem(&q8, v).is_none()).then(|| Choice {
                op: i,
                name: o.loc_name(),
                sqnr8: s,
            })
        })
        .collect();
    candidates.sort_by(|a, b| a.sqnr8.total_cmp(&b.sqnr8).then(a.op.cmp(&b.op)));
    let mut wide = vec![false; f.values.len()];
    let limit = (1.0 + budget) * peak_activation_bytes(f, &wide) as f64;
    let mut chosen = Vec::new();
    for c in candidates {
        let v = f.ops[c.op].results[0];
        wide[v] = true;
        if peak_activation_bytes(f, &wide) as f64 <= limit {
            chosen.push(c);
        } else {
            wide[v] = false;
        }
    }
    // `f` with the given choices marked.
    let marked = |cs: &[Choice]| {
        let mut g = f.clone();
        for c in cs {
            g.ops[c.op].attrs.insert(attrs::BITS.into(), Attr::i64(16));
        }
        g
    };
    // Check the choice on the program it makes (a bias grows with a 16-bit input's finer
    // scale); drop what does not hold, until all do.
    loop {
        let g = marked(&chosen);
        let (q, map) = to_qnt_mapped(&g, cfg).map_err(|e| e.to_string())?;
        let before = chosen.len();
        chosen.retain(|c| {
            map.get(&g.ops[c.op].results[0]).is_some_and(|&v| {
                q.ty(v).quant().is_some_and(|t| t.bits == 16) && wide_problem(&q, v).is_none()
            })
        });
        if chosen.len() == before {
            break;
        }
    }
    // The budget on the arena the tile level plans (fusion decides which values are stored):
    // the longest worst-first prefix of the choice that fits, by bisection.
    let limit = (1.0 + budget) * arena_bytes(f, cfg)? as f64;
    let (mut lo, mut hi) = (0, chosen.len());
    if arena_bytes(&marked(&chosen), cfg)? as f64 > limit {
        while lo + 1 < hi {
            let mid = (lo + hi) / 2;
            if arena_bytes(&marked(&chosen[..mid]), cfg)? as f64 <= limit {
                lo = mid;
            } else {
                hi = mid;
            }
        }
        chosen.truncate(lo);
    }
    let g = marked(&chosen);
    chosen.sort_by_key(|c| c.op);
    Ok((g, chosen))
}

/// The activation arena of `f` quantized under `cfg`, requantizations folded and converted to
/// the tile level (its memory plan; tile sizes do not change it).
fn arena_bytes(f: &Func, cfg: &QuantConfig) -> Result<usize, String> {
    let q = nibble_lower::to_qnt::to_qnt(f, cfg).map_err(|e| e.to_string())?;
    let (q, _) = nibble_eqsat::fold_requant(&q).map_err(|e| e.to_string())?;
    let mut t = nibble_lower::to_tile::convert(&q).map_err(|e| e.to_string())?;
    nibble_lower::memory_plan::plan_memory(&mut t).map_err(|e| e.to_string())?;
    nibble_tile::arena_bytes(&t).ok_or_else(|| "the tile level planned no arena".into())
}
