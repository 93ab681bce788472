//! Conversions between levels and the tile level's schedule:
//! - [`to_qnt`]: graph → qnt, the quantization decisions (one module per op family);
//! - [`to_tile`]: qnt → tile, fusing requantizations into the ops that produce accumulators;
//! - [`tile_size`]: tile sizes for a target (`nibble-tile-size`);
//! - [`schedule`]: the DMA schedule of an accelerator target (`nibble-schedule`): which unit
//!   computes each layer, tiles, loop order, double buffering, explicit loads and stores;
//! - [`memory_plan`]: the arena offsets (`nibble-plan-memory`), and with [`sram_plan`] the
//!   SRAM offsets of a scheduled program's tiles;
//! - [`estimate`]: the cycles of a scheduled program on its target (two timelines: DMA and
//!   compute), per layer, with the roofline bound;
//! - [`widths`]: which values may be 16-bit, and accumulator overflow checks.

pub mod estimate;
pub mod memory_plan;
pub mod schedule;
pub mod sram_plan;
pub mod tile_size;
pub mod to_qnt;
pub mod to_tile;
pub mod widths;

#[derive(Debug, thiserror::Error)]
pub enum LowerError {
    #[error("cannot quantize '{op}'{loc}: {msg}")]
    Quantize {
        op: String,
        loc: String,
        msg: String,
    },
    #[error("cannot lower '{op}'{loc} to the tile level: {msg}")]
    Tile {
        op: String,
        loc: String,
        msg: String,
    },
    #[error("cannot schedule '{op}'{loc}: {msg}")]
    Schedule {
        op: String,
        loc: String,
        msg: String,
    },
    #[error(transparent)]
    Ir(#[from] nibble_ir::IrError),
    #[error(transparent)]
    Quant(#[from] nibble_quantize::QuantError),
    #[error(transparent)]
    Dialect(#[from] nibble_qnt::DialectError),
}

pub(crate) fn loc(op: &nibble_ir::Op) -> String {
    op.loc
        .as_deref()
        .map(|l| format!(" at {l}"))
        .unwrap_or_default()
}

/// An error of tile sizing or memory planning at `op`.
pub(crate) fn schedule_err(op: &nibble_ir::Op, msg: impl Into<String>) -> LowerError {
    LowerError::Schedule {
        op: op.name.clone(),
        loc: loc(op),
        msg: msg.into(),
    }
}

/// Tile sizing and memory planning (`job`) run on the tile level: every op a tile op.
pub(crate) fn require_tile_level(f: &nibble_ir::Func, job: &str) -> Result<(), LowerError> {
    match f.ops.iter().find(|o| !o.name.starts_with("tile.")) {
        Some(op) => Err(schedule_err(
            op,
            format!("{job} runs on the tile level (lower it with nibble-lower-tile first)"),
        )),
        None => Ok(()),
    }
}
