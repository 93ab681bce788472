//! The data-movement ops of scheduled tile programs (npu targets): `tile.alloc`,
//! `tile.dma_load`, `tile.dma_store`, and the attributes the schedule adds to compute ops.
//! A scheduled program keeps whole tensors in external memory (DRAM, the arena at `offset`)
//! and computes on tiles in on-chip SRAM (at `sram_offset`); the op order is the schedule.
//! A compute op marked `resident` keeps its whole result in SRAM for the next layers, which
//! read it as their operand without a DMA.

use nibble_ir::{Attr, Func, Op, Type, ValueId};

pub const ALLOC: &str = "tile.alloc";
pub const DMA_LOAD: &str = "tile.dma_load";
pub const DMA_STORE: &str = "tile.dma_store";

/// Where an SRAM-resident value (a dma_load result or a compute op on tiles) lives: bytes from
/// the start of the SRAM.
pub const SRAM_OFFSET: &str = "sram_offset";
/// The layer (the unscheduled op's location name) a scheduled op belongs to.
pub const LAYER: &str = "layer";
/// A MAC-array op's dataflow (`"ws"`/`"os"`), chosen by the schedule.
pub const DATAFLOW: &str = "dataflow";
/// On a compute op on SRAM: its result stays resident in SRAM, where the next layers read it
/// (no store to DRAM, no reload), chosen by the memory plan of the schedule.
pub const RESIDENT: &str = "resident";
/// On a `tile.dma_load` of constants: the box stays in SRAM across runs of the program (loaded
/// once, before the first; no per-run DMA), chosen by the memory plan of the schedule.
pub const PRELOAD: &str = "preload";
/// The function attribute: bytes of SRAM the memory plan uses at its peak.
pub const SRAM_PEAK_ATTR: &str = "nibble.sram_peak_bytes";

/// Whether `op` is one of the data-movement ops.
pub fn is_dma(op: &Op) -> bool {
    matches!(op.name.as_str(), DMA_LOAD | DMA_STORE)
}

/// Whether `op` computes on SRAM tiles (it has an `sram_offset` and is not a DMA).
pub fn on_sram(op: &Op) -> bool {
    op.attrs.contains_key(SRAM_OFFSET) && op.name != DMA_LOAD
}

/// The SRAM peak of a planned scheduled program, if it has one.
pub fn sram_peak(f: &Func) -> Option<usize> {
    match f.attrs.get(SRAM_PEAK_ATTR) {
        Some(Attr::Int(n, _)) => Some(*n as usize),
        _ => None,
    }
}

/// An uninitialised DRAM tensor of type `ty`.
pub fn alloc(f: &mut Func, ty: Type) -> ValueId {
    f.push(ALLOC, &[], ty, vec![("offset", Attr::i64(0))])
}

/// The box of `source` at `start` with `ty`'s shape, copied into SRAM.
pub fn dma_load(f: &mut Func, source: ValueId, ty: Type, start: &[i64]) -> ValueId {
    let attrs = vec![
        ("start", Attr::I64s(start.to_vec())),
        (SRAM_OFFSET, Attr::i64(0)),
    ];
    f.push(DMA_LOAD, &[source], ty, attrs)
}

/// `dest` with the box at `start` replaced by `tile`.
pub fn dma_store(f: &mut Func, tile: ValueId, dest: ValueId, start: &[i64]) -> ValueId {
    let ty = f.ty(dest).clone();
    let attrs = vec![
        ("start", Attr::I64s(start.to_vec())),
        ("offset", Attr::i64(0)),
    ];
    f.push(DMA_STORE, &[tile, dest], ty, attrs)
}
