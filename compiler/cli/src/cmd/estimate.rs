//! `nibble estimate OUT`: the static cycle estimate of a compiled program on its target (from
//! `OUT/model.tile.mlir` and `OUT/target.toml`, what the compile wrote): per layer the unit,
//! tiles, cycles, compute and DMA cycles, bytes moved and the roofline bound; in total the
//! cycles, latency and frames per second at the target's clock. The npu simulator's counts
//! (`OUT/model` on stderr) are the same numbers.

use crate::error::{CliError, Res};
use crate::files::read_text;
use nibble_lower::estimate::{estimate, Estimate};
use nibble_target::Target;
use std::path::PathBuf;

#[derive(clap::Args)]
pub struct Args {
    /// The output directory of `nibble compile`.
    out: PathBuf,
}

/// The estimate as a table.
pub fn render(e: &Estimate) -> String {
    let mut s = format!(
        "target {} at {} MHz, SRAM peak {} bytes\n{:<28} {:<22} {:<6} {:>5} {:>12} {:>12} {:>12} {:>12}  bound\n",
        e.target, e.clock_mhz, e.sram_peak_bytes, "layer", "op", "unit", "tiles", "cycles", "compute", "dma", "dma bytes"
    );
    for l in &e.layers {
        s.push_str(&format!(
            "{:<28} {:<22} {:<6} {:>5} {:>12} {:>12} {:>12} {:>12}  {}\n",
            l.name,
            l.op,
            l.engine,
            l.tiles,
            l.cycles,
            l.compute_cycles,
            l.dma_cycles,
            l.dma_bytes,
            l.bound
        ));
    }
    if e.preload_bytes > 0 {
        s.push_str(&format!(
            "preload {} bytes of weights kept in SRAM across runs: {} cycles once\n",
            e.preload_bytes, e.preload_cycles
        ));
    }
    s.push_str(&format!(
        "total {} cycles, latency {:.3} us, {:.1} FPS\n",
        e.total_cycles,
        e.latency_us(),
        e.fps()
    ));
    s
}

pub fn run(a: Args) -> Res<()> {
    let driver = crate::plugins::driver()?;
    let tile = a.out.join("model.tile.mlir");
    let f = driver.parse(&read_text(&tile)?, &tile.display().to_string())?;
    let toml = a.out.join("target.toml");
    let t = Target::parse(&read_text(&toml)?, &toml.display().to_string())
        .map_err(nibble_driver::Error::from)?;
    if t.is_host() {
        return Err(CliError::Input(format!(
            "{}: target '{}' is a host target: nibble has no cycle model for it",
            a.out.display(),
            t.name
        )));
    }
    let e = estimate(&f, &t).map_err(nibble_driver::Error::from)?;
    print!("{}", render(&e));
    Ok(())
}
