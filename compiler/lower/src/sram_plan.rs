//! The SRAM plan of a scheduled program: every SRAM tile (a `tile.dma_load` result or a
//! compute op's result with an `sram_offset`) gets an offset in the accelerator's SRAM.
//! Tiles interfere when their live ranges overlap; the interference graph (petgraph) is
//! coloured with offsets, largest tiles first, each at the lowest 16-byte-aligned offset
//! free of its already placed neighbours. The live range of a tile that a `tile.dma_store`
//! reads lasts until the next compute op has run: the store runs on the DMA engine while
//! that compute writes its own output, which so gets the other buffer (double buffering).
//! The peak is the function's `nibble.sram_peak_bytes`; above the target's SRAM it is an
//! error naming the layer.

use crate::{schedule_err, LowerError};
use nibble_ir::{Attr, Func};
use nibble_target::Target;
use nibble_tile as tile;
use petgraph::graph::{NodeIndex, UnGraph};

/// Alignment of every SRAM buffer.
const ALIGN: usize = 16;

/// An SRAM tile: its defining op, live range (op indices) and size in bytes.
#[derive(Clone, Debug)]
struct Buffer {
    op: usize,
    start: usize,
    end: usize,
    size: usize,
}

/// The SRAM tiles of `f` with their live ranges.
fn buffers(f: &Func) -> Vec<Buffer> {
    let mut def: Vec<Option<usize>> = vec![None; f.values.len()];
    let mut bufs: Vec<Buffer> = Vec::new();
    for (i, op) in f.ops.iter().enumerate() {
        if op.name == tile::DMA_LOAD || tile::on_sram(op) {
            if let Some(&r) = op.results.first() {
                def[r] = Some(bufs.len());
                let bytes =
                    f.ty(r).num_elements() * crate::schedule::cost::elem_bytes(f, r) as usize;
                bufs.push(Buffer {
                    op: i,
                    start: i,
                    end: i,
                    size: bytes.div_ceil(ALIGN).max(1) * ALIGN,
                });
            }
        }
    }
    // The index of the first compute op after each op (where a store's source may be freed).
    let mut next_compute = vec![f.ops.len(); f.ops.len() + 1];
    for i in (0..f.ops.len()).rev() {
        next_compute[i] = if tile::on_sram(&f.ops[i]) {
            i
        } else {
            next_compute[i + 1]
        };
    }
    for (i, op) in f.ops.iter().enumerate() {
        for &v in &op.operands {
            if let Some(b) = def[v] {
                let end = if op.name == tile::DMA_STORE {
                    next_compute[i + 1]
                        .min(f.ops.len().saturating_sub(1))
                        .max(i)
                } else {
                    i
                };
                bufs[b].end = bufs[b].end.max(end);
            }
        }
    }
    bufs
}

/// Offsets for `bufs` colouring their interference graph; and the peak.
fn colour(bufs: &[Buffer]) -> (Vec<usize>, usize) {
    let mut g: UnGraph<usize, ()> = UnGraph::with_capacity(bufs.len(), bufs.len() * 4);
    let nodes: Vec<NodeIndex> = (0..bufs.len()).map(|i| g.add_node(i)).collect();
    // Live ranges sorted by start: each interferes with the ranges that start before it ends.
    let mut by_start: Vec<usize> = (0..bufs.len()).collect();
    by_start.sort_by_key(|&i| bufs[i].start);
    for (a, &i) in by_start.iter().enumerate() {
        for &j in &by_start[a + 1..] {
            if bufs[j].start > bufs[i].end {
                break;
            }
            g.add_edge(nodes[i], nodes[j], ());
        }
    }
    let mut order: Vec<usize> = (0..bufs.len()).collect();
    order.sort_by(|&a, &b| {
        bufs[b]
            .size
            .cmp(&bufs[a].size)
            .then(bufs[a].start.cmp(&bufs[b].start))
    });
    let mut offset: Vec<Option<usize>> = vec![None; bufs.len()];
    let mut peak = 0;
    for i in order {
        let mut busy: Vec<(usize, usize)> = g
            .neighbors(nodes[i])
            .filter_map(|n| offset[g[n]].map(|o| (o, o + bufs[g[n]].size)))
            .collect();
        busy.sort_unstable();
        let mut off = 0;
        for (a, b) in busy {
            if off + bufs[i].size <= a {
                break;
            }
            off = off.max(b);
        }
        offset[i] = Some(off);
        peak = peak.max(off + bufs[i].size);
    }
    (offset.into_iter().map(|o| o.unwrap_or(0)).collect(), peak)
}

/// Sets every SRAM tile's `sram_offset` and `nibble.sram_peak_bytes`; with a target, refuses a
/// plan whose peak exceeds its SRAM, naming the layer where it is reached.
pub fn plan_sram(f: &mut Func, target: Option<&Target>) -> Result<(), LowerError> {
    let bufs = buffers(f);
    let (offsets, peak) = colour(&bufs);
    for (b, &off) in bufs.iter().zip(&offsets) {
        f.ops[b.op]
            .attrs
            .insert(tile::SRAM_OFFSET.into(), Attr::i64(off as i64));
    }
    f.attrs
        .insert(tile::SRAM_PEAK_ATTR.into(), Attr::i64(peak as i64));
    if let Some(t) = target {
        if peak as u64 > t.sram_bytes() {
            let (b, _) = (bufs.iter().zip(&offsets))
                .max_by_key(|(b, &o)| o + b.size)
                .unwrap_or((&bufs[0], &0));
            let op = &f.ops[b.op];
            let layer = match op.attrs.get(tile::LAYER) {
                Some(Attr::Str(s)) => s.clone(),
                _ => op.name.clone(),
            };
            return Err(schedule_err(
                op,
                format!(
                    "layer '{layer}' needs {peak} bytes of SRAM as planned; target '{}' has {}",
                    t.name,
                    t.sram_bytes()
                ),
            ));
        }
    }
    Ok(())
}
