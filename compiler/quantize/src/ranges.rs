//! Range collection: the real range of every graph-level value over calibration vectors,
//! streamed one sample at a time (memory bounded by the model, not the data set), and attached
//! to the IR as `nibble.min`/`nibble.max` on each op and `nibble.arg0_min`/`nibble.arg0_max`
//! on the function.
//!
//! Methods: `minmax` (the observed extremes) and `percentile` (a second pass builds a
//! 2048-bin histogram of |x| per value; the range is clipped at the given percentile of |x|,
//! which ignores rare outliers); the model's outputs always keep their min/max range.

use nibble_interp::float::FloatProgram;
use nibble_ir::{Attr, Func};

/// How ranges are derived from the calibration vectors.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum RangeMethod {
    MinMax,
    /// Clip at this percentile of |x| (e.g. 99.99).
    Percentile(f64),
}

/// Observed `[min, max]` per value (None where never observed).
#[derive(Clone, Debug)]
pub struct RangeTable(pub Vec<Option<(f32, f32)>>);

impl RangeTable {
    fn observe(&mut self, v: usize, data: &[f32]) {
        let (mut lo, mut hi) = self.0[v].unwrap_or((f32::INFINITY, f32::NEG_INFINITY));
        for &x in data {
            if x.is_finite() {
                lo = lo.min(x);
                hi = hi.max(x);
            }
        }
        self.0[v] = Some((lo, hi));
    }
}

const BINS: usize = 2048;

/// |x| histograms over [0, max |x|] per value.
struct Histograms {
    top: Vec<f32>,
    counts: Vec<Vec<u64>>,
}

impl Histograms {
    fn new(table: &RangeTable) -> Histograms {
        let top = table
            .0
            .iter()
            .map(|r| r.map(|(lo, hi)| lo.abs().max(hi.abs())).unwrap_or(0.0))
            .collect::<Vec<_>>();
        Histograms {
            counts: vec![Vec::new(); top.len()],
            top,
        }
    }
    fn observe(&mut self, v: usize, data: &[f32]) {
        let top = self.top[v];
        if top <= 0.0 {
            return;
        }
        let c = &mut self.counts[v];
        if c.is_empty() {
            c.resize(BINS, 0);
        }
        let scale = BINS as f32 / top;
        for &x in data {
            if x.is_finite() {
                c[((x.abs() * scale) as usize).min(BINS - 1)] += 1;
            }
        }
    }
    /// The |x| below which `p` percent of the observations of value `v` lie (bin upper edge).
    fn clip(&self, v: usize, p: f64) -> Option<f32> {
        let c = &self.counts[v];
        let total: u64 = c.iter().sum();
        if total == 0 {
            return None;
        }
        let want = (total as f64 * p / 100.0).ceil() as u64;
        let mut seen = 0;
        for (i, &n) in c.iter().enumerate() {
            seen += n;
            if seen >= want {
                return Some(self.top[v] * (i + 1) as f32 / BINS as f32);
            }
        }
        Some(self.top[v])
    }
}

/// Runs the float program over the samples (twice for `percentile`), collecting a range per
/// value. `tick` is called once per sample and pass (for a progress bar).
pub fn calibrate<'a, I>(
    func: &Func,
    samples: I,
    method: RangeMethod,
    mut tick: impl FnMut(),
) -> Result<RangeTable, crate::QuantError>
where
    I: Iterator<Item = &'a [f32]> + Clone,
{
    let prog = FloatProgram::new(func)?;
    let mut table = RangeTable(vec![None; func.values.len()]);
    for s in samples.clone() {
        table.observe(func.args[0], s);
        prog.run(s, |v, d| table.observe(v, d))?;
        tick();
    }
    let RangeMethod::Percentile(p) = method else {
        return Ok(table);
    };
    let mut hist = Histograms::new(&table);
    for s in samples {
        hist.observe(func.args[0], s);
        prog.run(s, |v, d| hist.observe(v, d))?;
        tick();
    }
    // The model's outputs keep their full range: a clipped logit changes the answer.
    for (v, r) in table
        .0
        .iter_mut()
        .enumerate()
        .filter(|(v, _)| !func.returns.contains(v))
    {
        if let (Some((lo, hi)), Some(c)) = (*r, hist.clip(v, p)) {
            *r = Some((lo.max(-c), hi.min(c)));
        }
    }
    Ok(table)
}

/// Writes the range table into the function as attributes.
pub fn annotate(func: &mut Func, table: &RangeTable) {
    if let Some((lo, hi)) = table.0[func.args[0]] {
        func.attrs
            .insert("nibble.arg0_min".into(), Attr::f64(lo as f64));
        func.attrs
            .insert("nibble.arg0_max".into(), Attr::f64(hi as f64));
    }
    for op in &mut func.ops {
        if op.name == "tosa.const" || op.name == "tosa.const_shape" {
            continue;
        }
        if let Some((lo, hi)) = op.results.first().and_then(|&r| table.0[r]) {
            op.attrs.insert("nibble.min".into(), Attr::f64(lo as f64));
            op.attrs.insert("nibble.max".into(), Attr::f64(hi as f64));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use nibble_ir::{Elem, Type};

    /// y = clamp(clamp(x)) over samples with one outlier; the inner clamp is a hidden value.
    fn func() -> Func {
        let mut f = Func::new("main");
        let x = f.add_arg(Type::tensor(&[1, 1000], Elem::F32));
        let attrs = || {
            vec![
                ("min_val", Attr::Float(-1e30, "f32".into())),
                ("max_val", Attr::Float(1e30, "f32".into())),
            ]
        };
        let h = f.push(
            "tosa.clamp",
            &[x],
            Type::tensor(&[1, 1000], Elem::F32),
            attrs(),
        );
        let y = f.push(
            "tosa.clamp",
            &[h],
            Type::tensor(&[1, 1000], Elem::F32),
            attrs(),
        );
        f.returns.push(y);
        f
    }

    #[test]
    fn percentile_clips_outliers_and_minmax_keeps_them() {
        let mut data: Vec<f32> = (0..1000).map(|i| (i as f32 / 1000.0) - 0.5).collect();
        data[7] = 100.0; // one outlier in a thousand
        let f = func();
        let mm = calibrate(&f, data.chunks_exact(1000), RangeMethod::MinMax, || {}).unwrap();
        let pc = calibrate(
            &f,
            data.chunks_exact(1000),
            RangeMethod::Percentile(99.0),
            || {},
        )
        .unwrap();
        let (h, y) = (f.ops[0].results[0], f.returns[0]);
        assert_eq!(mm.0[h], Some((-0.5, 100.0)));
        let (lo, hi) = pc.0[h].unwrap();
        assert_eq!(lo, -0.5);
        assert!(hi > 0.45 && hi < 0.6, "clipped max {hi}");
        // The output keeps its full range.
        assert_eq!(pc.0[y], Some((-0.5, 100.0)));
    }
}
