//! The static memory plan of a tile-level function: every activation buffer gets an `offset`
//! into one arena whose size is the function's `nibble.arena_bytes`, buffers whose lifetimes
//! do not overlap sharing space (first fit over a size-sorted interval list, 16-byte aligned).
//! A reshape aliases its input; constants and host-boundary values live outside the arena.
//! In a scheduled program (accelerator targets) the arena is external memory (DRAM): a
//! `tile.alloc` is a buffer, its `tile.dma_store`s alias it, and the SRAM tiles (dma_load
//! results, compute ops with an `sram_offset`) are placed in the SRAM by [`crate::sram_plan`].

use crate::{require_tile_level, LowerError};
use nibble_ir::{Attr, Elem, Func, Op, ValueId};
use nibble_target::Target;
use nibble_tile as tile;
use std::collections::HashMap;

/// A buffer to place: its value, first and last op index, and size in bytes.
struct Buffer {
    value: ValueId,
    start: usize,
    end: usize,
    size: usize,
}

/// Whether `op`'s result has a buffer of its own in the arena.
fn in_arena(op: &Op) -> bool {
    !matches!(
        op.name.as_str(),
        tile::CONST
            | tile::QUANTIZE
            | tile::DEQUANTIZE
            | tile::RESHAPE
            | tile::DMA_LOAD
            | tile::DMA_STORE
    ) && !tile::on_sram(op)
        && !op.results.is_empty()
}

/// The live range of every arena buffer, by liveness over the op order; `root` maps each value
/// to the buffer it lives in.
fn buffers(f: &Func, root: &[ValueId]) -> Vec<Buffer> {
    let n = f.ops.len();
    let mut first = HashMap::new();
    let mut last: HashMap<ValueId, usize> = HashMap::new();
    for (i, op) in f.ops.iter().enumerate() {
        if in_arena(op) {
            first.insert(op.results[0], i);
            last.insert(op.results[0], i);
        }
        for &o in &op.operands {
            if let Some(l) = last.get_mut(&root[o]) {
                *l = i;
            }
        }
    }
    // Outputs are copied out after the last op: what a host-boundary dequantize reads (and any
    // returned value) stays live to the end.
    let outputs = (f.ops.iter())
        .filter(|o| o.name == tile::DEQUANTIZE)
        .filter_map(|o| o.operands.first().copied())
        .chain(f.returns.iter().copied());
    for r in outputs {
        if let Some(l) = last.get_mut(&root[r]) {
            *l = n;
        }
    }
    first
        .iter()
        .map(|(&v, &s)| {
            let bytes = f.ty(v).num_elements()
                * match f.ty(v).elem() {
                    Some(Elem::Int(32)) => 4,
                    Some(Elem::Int(16)) => 2,
                    _ => 1,
                };
            Buffer {
                value: v,
                start: s,
                end: last[&v],
                size: bytes.div_ceil(16) * 16,
            }
        })
        .collect()
}

/// First fit, largest buffers first: each buffer's offset, and the arena size.
fn place(mut bufs: Vec<Buffer>) -> (HashMap<ValueId, usize>, usize) {
    bufs.sort_by(|a, b| b.size.cmp(&a.size).then(a.start.cmp(&b.start)));
    let mut placed: Vec<(usize, usize, usize, usize)> = Vec::new(); // start, end, offset, size
    let mut offsets = HashMap::new();
    let mut total = 0;
    for b in bufs {
        let (s, e, size) = (b.start, b.end, b.size);
        let mut busy: Vec<(usize, usize)> = placed
            .iter()
            .filter(|p| !(p.1 < s || e < p.0))
            .map(|p| (p.2, p.2 + p.3))
            .collect();
        busy.sort();
        let mut off = 0;
        for (a, b) in busy {
            if off + size <= a {
                break;
            }
            off = off.max(b);
        }
        placed.push((s, e, off, size));
        offsets.insert(b.value, off);
        total = total.max(off + size);
    }
    (offsets, total)
}

/// Liveness-based arena offsets for every op of the tile-level function `f` that has an
/// `offset`, and the arena size as `nibble.arena_bytes`.
pub fn plan_memory(f: &mut Func) -> Result<(), LowerError> {
    plan_memory_for(f, None)
}

/// [`plan_memory`], and for a scheduled program the SRAM plan too, checked against `target`'s
/// SRAM when one is given.
pub fn plan_memory_for(f: &mut Func, target: Option<&Target>) -> Result<(), LowerError> {
    require_tile_level(f, "memory planning")?;
    tile::types::check_types(f)?;
    // The buffer each value lives in (a reshape aliases its input, a DMA store its
    // destination).
    let mut root: Vec<ValueId> = (0..f.values.len()).collect();
    for op in &f.ops {
        let alias = match op.name.as_str() {
            tile::RESHAPE => op.operands.first(),
            tile::DMA_STORE => op.operands.get(1),
            _ => None,
        };
        if let (Some(&x), Some(&r)) = (alias, op.results.first()) {
            root[r] = root[x];
        }
    }
    let (offsets, total) = place(buffers(f, &root));
    for op in &mut f.ops {
        if let (true, Some(&r)) = (tile::has_offset(op), op.results.first()) {
            let off = offsets.get(&root[r]).copied().unwrap_or(0);
            tile::set_offset(op, off as i64);
        }
    }
    f.attrs
        .insert(tile::ARENA_ATTR.into(), Attr::i64(total as i64));
    if crate::schedule::is_scheduled(f) {
        crate::sram_plan::plan_sram(f, target)?;
    }
    Ok(())
}
