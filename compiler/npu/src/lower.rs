//! `nibble-lower-npu{target=NAME|PATH.toml}`: a scheduled, memory-planned tile program → the
//! `npu` dialect. Each tile op becomes one command with a program-unique `id` (its index):
//! `tile.dma_load`/`tile.dma_store` → `npu.dma_load`/`npu.dma_store` with `after`, the compute
//! command whose end the transfer must wait for (the last one reading or writing an
//! overlapping SRAM range, or producing the stored tile; -1 for none); a tile op on SRAM →
//! the npu op of its unit (`npu.conv2d`/`npu.fully_connected` on the MAC array, the others on
//! the vector unit), preceded by `npu.dma_wait` of the last DMA it depends on; ops the
//! accelerator lacks stay tile ops (the controller CPU runs them) and get an `id`. The
//! dependencies are those of `nibble_lower::estimate`, so the simulator counts the cycles the
//! estimate predicts.
//!
//! Precondition: tile level after `nibble-schedule` and `nibble-plan-memory` for an npu target.
//! Postcondition: npu commands, constants and CPU tile ops; values unchanged.
//!
//! Before:
//! ```mlir
//! %6 = "tile.dma_load"(%1) {layer = "conv1", sram_offset = 0 : i64, start = array<i64: 0, 0, 0, 0>} : …
//! %9 = "tile.conv2d"(%6, %7, %8) {dataflow = "ws", layer = "conv1", sram_offset = 896 : i64, …} : …
//! %10 = "tile.dma_store"(%9, %5) {layer = "conv1", offset = 0 : i64, start = array<i64: 0, 0, 0, 0>} : …
//! ```
//! After:
//! ```mlir
//! %6 = "npu.dma_load"(%1) {after = -1 : i64, id = 6 : i64, layer = "conv1", sram_offset = 0 : i64, start = …} : …
//! "npu.dma_wait"() {id = 8 : i64} : () -> ()
//! %9 = "npu.conv2d"(%6, %7, %8) {dataflow = "ws", id = 9 : i64, layer = "conv1", sram_offset = 896 : i64, …} : …
//! %10 = "npu.dma_store"(%9, %5) {after = 9 : i64, id = 10 : i64, layer = "conv1", offset = 0 : i64, start = …} : …
//! ```

use nibble_ir::{Attr, Func, Op};
use nibble_lower::estimate::{commands, Unit};
use nibble_npu_dialect as npu;
use nibble_passes::{Options, PassInfo};
use nibble_target::Target;
use nibble_tile as tile;

pub const PASS: PassInfo = PassInfo {
    name: "nibble-lower-npu",
    summary: "Convert a scheduled tile program to npu commands (option: target=NAME|PATH.toml)",
    run,
};

#[tracing::instrument(skip_all, name = "nibble-lower-npu")]
fn run(f: &Func, opts: &Options) -> Result<Func, String> {
    let target =
        Target::load(opts.get("target").unwrap_or("generic-npu")).map_err(|e| e.to_string())?;
    lower(f, &target)
}

/// The npu program of the scheduled tile program `f`.
pub fn lower(f: &Func, t: &Target) -> Result<Func, String> {
    if t.is_host() {
        return Err(format!(
            "target '{}' is a host target: it has no npu",
            t.name
        ));
    }
    if tile::sram_peak(f).is_none() {
        return Err(
            "needs a scheduled, memory-planned tile program (nibble-schedule, \
                    nibble-plan-memory first)"
                .into(),
        );
    }
    if let Some(op) = f.ops.iter().find(|o| !o.name.starts_with("tile.")) {
        return Err(format!("'{}' is not a tile op: already lowered?", op.name));
    }
    let cmds = commands(f, t);
    let mut g = f.clone();
    g.ops.clear();
    for (i, op) in f.ops.iter().enumerate() {
        let c = &cmds[i];
        let mut new = op.clone();
        let after = c.after.map_or(-1, |a| a as i64);
        match (op.name.as_str(), c.unit) {
            (tile::DMA_LOAD, _) => new.name = npu::DMA_LOAD.into(),
            (tile::DMA_STORE, _) => new.name = npu::DMA_STORE.into(),
            (name, Unit::Compute) => {
                let Some(&(_, to)) = npu::COMPUTE.iter().find(|(from, _)| *from == name) else {
                    return Err(format!("'{name}' has no npu op"));
                };
                if let Some(a) = c.after {
                    g.ops.push(Op {
                        name: npu::DMA_WAIT.into(),
                        operands: vec![],
                        results: vec![],
                        attrs: [(npu::ID.to_string(), Attr::i64(a as i64))].into(),
                        loc: op.loc.clone(),
                    });
                }
                new.name = to.into();
                if matches!(to, npu::CONV2D | npu::FULLY_CONNECTED)
                    && !new.attrs.contains_key(tile::DATAFLOW)
                {
                    let df = nibble_lower::schedule::cost::dataflow(op, t);
                    new.attrs
                        .insert(tile::DATAFLOW.into(), Attr::Str(df.name().into()));
                }
            }
            (_, Unit::Cpu) => {}
            _ => {
                g.ops.push(new);
                continue;
            }
        }
        new.attrs.insert(npu::ID.into(), Attr::i64(i as i64));
        if matches!(new.name.as_str(), npu::DMA_LOAD | npu::DMA_STORE) {
            new.attrs.insert(npu::AFTER.into(), Attr::i64(after));
        }
        g.ops.push(new);
    }
    g.attrs
        .insert("npu.commands".into(), Attr::i64(f.ops.len() as i64));
    Ok(g)
}
