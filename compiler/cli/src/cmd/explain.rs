//! `nibble explain OUT`: why each weight layer got its width, from `OUT/manifest.json`.
//!
//! The width e-graph (`nibble-choose-widths`) picks the grids of least predicted output noise
//! whose weight bytes fit the budget; the noise of each layer at each grid was measured on the
//! calibration vectors (`sensitivity_db`). Under a budget that binds, the choice has a marginal
//! price λ (noise per byte): every upgrade the budget did not buy removes less noise per byte
//! than λ, every downgrade it did not make would add more. This command shows, per layer, its
//! grid, bytes and SQNR, the trade to the next wider and next narrower grid (noise removed or
//! added per byte), and λ — estimated as the best noise-per-byte upgrade left on the table.
//! Without measurements (widths given by `--weight-bits`, or 8 bits by default) it says so.

use crate::error::{CliError, Res};
use crate::files::read_text;
use serde_json::Value;
use std::path::PathBuf;

#[derive(clap::Args)]
pub struct Args {
    /// The output directory of `nibble compile`.
    out: PathBuf,
}

/// The grids from widest to narrowest, with their stored bits.
const GRIDS: [(&str, u64); 5] = [("8", 8), ("4", 4), ("2", 2), ("ternary", 2), ("binary", 1)];

/// One weight layer of the manifest.
struct Layer {
    name: String,
    grid: String,
    values: u64,
    bytes: u64,
    /// Relative output noise per grid of [`GRIDS`] (None: not measured).
    noise: [Option<f64>; 5],
}

impl Layer {
    fn read(l: &Value) -> Option<Layer> {
        let values = l["weight_values"].as_u64().filter(|&v| v > 0)?;
        let db = |g: &str| l["sensitivity_db"][g].as_f64().map(|d| 10f64.powf(-d / 10.0));
        Some(Layer {
            name: l["name"].as_str()?.into(),
            grid: l["weight_grid"].as_str()?.into(),
            values,
            bytes: l["weight_bytes"].as_u64()?,
            noise: GRIDS.map(|(g, _)| db(g)),
        })
    }
    fn at(&self) -> usize {
        GRIDS.iter().position(|(g, _)| *g == self.grid).unwrap_or(0)
    }
    /// Weight bytes at grid `k`.
    fn bytes_at(&self, k: usize) -> u64 {
        (self.values * GRIDS[k].1).div_ceil(8)
    }
    /// (noise change, byte change) of moving to grid `k`.
    fn trade(&self, k: usize) -> Option<(f64, i64)> {
        let (now, then) = (self.noise[self.at()]?, self.noise[k]?);
        Some((then - now, self.bytes_at(k) as i64 - self.bytes_at(self.at()) as i64))
    }
    /// The next measured grid wider (`dir` = −1) or narrower (+1) with a different byte count.
    fn next(&self, dir: isize) -> Option<usize> {
        let mut k = self.at() as isize + dir;
        while (0..5).contains(&k) {
            let i = k as usize;
            if self.noise[i].is_some() && self.bytes_at(i) != self.bytes_at(self.at()) {
                return Some(i);
            }
            k += dir;
        }
        None
    }
}

fn sqnr(noise: f64) -> String {
    format!("{:.1} dB", -10.0 * noise.log10())
}

pub fn run(a: Args) -> Res<()> {
    let path = a.out.join("manifest.json");
    let m: Value = serde_json::from_str(&read_text(&path)?)
        .map_err(|e| CliError::Input(format!("{}: not a nibble manifest: {e}", path.display())))?;
    let layers: Vec<Layer> = (m["layers"].as_array())
        .ok_or_else(|| CliError::Input(format!("{}: no \"layers\" array", path.display())))?
        .iter()
        .filter_map(Layer::read)
        .collect();
    let t = &m["totals"];
    println!(
        "{}: target {}, {} weight values at {} average bits, {} bytes of constants",
        a.out.display(),
        m["target"].as_str().unwrap_or("?"),
        t["weight_values"],
        t["avg_weight_bits"],
        t["weight_bytes"]
    );
    if layers.iter().all(|l| l.noise[0].is_none()) {
        println!("the widths were not chosen from measurements (--weight-bits gave them, or the default 8 bits): nothing to explain");
        for l in &layers {
            println!("  {:<28} {:>8}  {:>9} B", l.name, l.grid, l.bytes);
        }
        return Ok(());
    }
    // λ: the most noise per byte an upgrade the budget did not buy would remove.
    let price = (layers.iter())
        .filter_map(|l| l.trade(l.next(-1)?))
        .map(|(dn, db)| -dn / db as f64)
        .fold(0.0f64, f64::max);
    println!("budget price λ = {price:.3e} output noise per byte (the best upgrade not bought)");
    println!(
        "{:<28} {:>8} {:>9} {:>9}  {:<34} {:<34}",
        "layer", "grid", "bytes", "SQNR", "wider: noise removed per byte", "narrower: noise added per byte"
    );
    for l in &layers {
        let side = |dir: isize| match l.next(dir).and_then(|k| Some((k, l.trade(k)?))) {
            Some((k, (dn, db))) => {
                let r = -dn / db as f64;
                let vs = if r > price { "> λ" } else { "≤ λ" };
                format!("{}: {r:.2e} {vs}", GRIDS[k].0)
            }
            None => "—".into(),
        };
        let noise = l.noise[l.at()].map_or("?".into(), sqnr);
        println!(
            "{:<28} {:>8} {:>9} {:>9}  {:<34} {:<34}",
            l.name,
            l.grid,
            l.bytes,
            noise,
            side(-1),
            side(1)
        );
    }
    println!("a layer stays wide when narrowing it adds more noise per byte saved than λ; it is narrowed when widening it would remove less than λ");
    Ok(())
}
