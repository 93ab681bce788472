//! Range collection: min/max of every graph-level value over calibration vectors, streamed one
//! sample at a time (bounded memory), and attached to the IR as `nibble.min`/`nibble.max` on
//! each op and `nibble.arg0_min`/`nibble.arg0_max` on the function.

use nibble_interp::float::FloatProgram;
use nibble_ir::{Attr, Func};

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

/// Runs the float program over `samples` (each one input), collecting min/max per value.
/// `tick` is called once per sample (for a progress bar).
pub fn calibrate<'a>(
    func: &Func,
    samples: impl Iterator<Item = &'a [f32]>,
    mut tick: impl FnMut(),
) -> Result<RangeTable, crate::QuantError> {
    let prog = FloatProgram::new(func)?;
    let mut table = RangeTable(vec![None; func.values.len()]);
    for s in samples {
        table.observe(func.args[0], s);
        prog.run(s, |v, d| table.observe(v, d))?;
        tick();
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
